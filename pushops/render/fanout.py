"""Fan-out data files: CSV with a header row, or JSON Lines (one JSON object per line).

Rows are streamed, never loaded whole, so a file of a million rows costs the memory of one,
and a line is never read past :data:`MAX_LINE`. The path is relative to the repo root and
must stay inside it: ``..``, absolute paths and symlinks that lead out are refused, and the
file is opened as every repository file is (:mod:`pushops.repofile`). A bad row is a
:class:`LocatedError` at the data file's line.
"""

from __future__ import annotations

import csv
import difflib
import json
from collections.abc import Iterator
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any, NamedTuple

from pushops.diagnostics import Diagnostic, LocatedError
from pushops.repofile import RepoFileError, inside, open_in
from pushops.wording import plural

# A line longer than this is a broken file, not a row.
MAX_LINE = 1024 * 1024


class Row(NamedTuple):  # a tuple: a million of them are made
    number: int  # 1-based among the data rows
    line: int  # 1-based line of the data file where the row starts
    values: dict[str, Any]


def resolve_data_path(root: Path, relative: str) -> Path:
    """``relative`` under ``root``, or a :class:`ValueError` saying why not."""
    if not relative or "\x00" in relative:
        raise ValueError("the data path is empty")
    posix, windows = PurePosixPath(relative), PureWindowsPath(relative)
    if posix.is_absolute() or windows.is_absolute() or windows.drive:
        raise ValueError(f"{relative!r} is an absolute path; give a path inside the repo")
    try:
        path = inside(root, relative)
    except RepoFileError as exc:
        raise ValueError(f"{relative!r} {exc}") from None
    if not path.is_file():
        raise ValueError(f"no data file {relative!r}")
    return path


def data_format(relative: str, declared: str | None) -> str:
    if declared:
        return declared
    lowered = relative.lower()
    if lowered.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    if lowered.endswith(".csv"):
        return "csv"
    raise ValueError(f"cannot tell the format of {relative!r}; set fan_out.format: csv or jsonl")


def _error(file: str, line: int, message: str, rule: str = "fan-out.bad-row") -> LocatedError:
    return LocatedError(Diagnostic(file, line, 1, "", message, rule))


def _text(root: Path, path: Path, file: str) -> Iterator[str]:
    """The file's lines as text; a line is never read further than :data:`MAX_LINE` bytes
    (a 400 MB line costs 1 MB, not 800), and bad UTF-8 is an error at its line."""
    try:
        raw = open_in(root, path)
    except RepoFileError as exc:
        raise _error(file, 1, str(exc), "fan-out.path") from None
    with raw:
        line_number = 0
        readline = raw.readline
        while True:
            data = readline(MAX_LINE + 1)
            if not data:
                return
            line_number += 1
            if len(data) > MAX_LINE:
                raise _error(file, line_number, f"line longer than {MAX_LINE} bytes")
            try:
                text = data.decode("utf-8-sig" if line_number == 1 else "utf-8")
            except UnicodeDecodeError:
                raise _error(file, line_number, "not valid UTF-8 text") from None
            yield text


def read_rows(root: Path, path: Path, file: str, fmt: str) -> Iterator[Row]:
    """The rows of a data file of the repository at ``root``; ``file`` is the name used in
    messages."""
    if fmt == "jsonl":
        yield from _jsonl(_text(root, path, file), file)
    else:
        yield from _csv(_text(root, path, file), file)


def _jsonl(lines: Iterator[str], file: str) -> Iterator[Row]:
    number = 0
    for line, text in enumerate(lines, 1):
        if not text.strip():
            continue
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise _error(file, line, f"not a JSON object: {exc}") from None
        except RecursionError:
            raise _error(file, line, "the JSON is nested too deeply") from None
        if not isinstance(value, dict):
            raise _error(file, line, f"each line must be a JSON object, not {type(value).__name__}")
        number += 1
        yield Row(number, line, value)


class _LineCounter:
    """Feeds csv line by line while remembering which physical line it is on (a quoted field
    may span lines, so csv's own count is not the row's start)."""

    def __init__(self, lines: Iterator[str]) -> None:
        self.lines = lines
        self.line = 0

    def __iter__(self) -> Iterator[str]:
        for text in self.lines:
            self.line += 1
            yield text


def _csv(lines: Iterator[str], file: str) -> Iterator[Row]:
    counter = _LineCounter(lines)
    reader = csv.reader(iter(counter), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise _error(file, 1, "the data file is empty (a CSV needs a header row)")
        names = [h.strip() for h in header]
        if any(not n for n in names) or len(set(names)) != len(names):
            raise _error(file, 1, "the header row needs distinct, non-empty column names")
        number = 0
        start = counter.line + 1
        for fields in reader:
            if fields:
                number += 1
                if len(fields) != len(names):
                    raise _error(
                        file,
                        start,
                        f"{len(fields)} fields, the header has {len(names)} ({', '.join(names)})",
                    )
                yield Row(number, start, dict(zip(names, fields, strict=True)))
            start = counter.line + 1
    except csv.Error as exc:
        raise _error(file, counter.line or 1, f"bad CSV: {exc}") from None


class MissingColumns:
    """Rows whose templates read a column the row lacks (``row.nmae``), by template and
    column: each pair becomes one problem naming how many rows, the first few in row order,
    and the column probably meant."""

    SHOWN = 5

    def __init__(self) -> None:
        # (where the template is, column) -> [rows lacking it, the first few, that row's columns]
        self.found: dict[tuple[tuple[str | int, ...], str], list[Any]] = {}

    def add(self, path: tuple[str | int, ...], column: str, row: Row) -> None:
        entry = self.found.get((path, column))
        if entry is None:
            entry = self.found[(path, column)] = [0, [], list(row.values)]
        entry[0] += 1
        if len(entry[1]) < self.SHOWN:
            entry[1].append(row.number)

    def problems(self, file: str) -> Iterator[tuple[tuple[str | int, ...], str]]:
        for (path, column), (count, first, columns) in self.found.items():
            rows = ", ".join(map(str, first)) + (", …" if count > len(first) else "")
            which = "row" if count == 1 else "rows"
            yield (
                path,
                f"no column {column!r} in {plural(count, 'row')} of {file} ({which} {rows})"
                f"{_did_you_mean(column, columns)}",
            )


def _did_you_mean(column: str, columns: list[str]) -> str:
    same_case = [c for c in columns if c.lower() == column.lower()]
    close = same_case or difflib.get_close_matches(column, columns, n=1, cutoff=0.6)
    if close:
        return f"; did you mean {close[0]!r}?"
    shown = ", ".join(columns[:12]) + (", …" if len(columns) > 12 else "")
    return f"; its columns: {shown}" if columns else ""
