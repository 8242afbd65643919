"""Fan-out data files: CSV with a header row, or JSON Lines (one JSON object per line).

Rows are streamed, never loaded whole, so a file of a million rows costs the memory of one.
The path is relative to the repo root and must stay inside it: ``..``, absolute paths and
symlinks that lead out are refused. A bad row is a :class:`LocatedError` at the data file's
line.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any, NamedTuple

from pushops.diagnostics import Diagnostic, LocatedError

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
    if ".." in posix.parts or ".." in windows.parts:
        raise ValueError(f"{relative!r} leads outside the repo ('..')")
    base = root.resolve()
    path = (base / relative).resolve()
    if not path.is_relative_to(base):
        raise ValueError(f"{relative!r} leads outside the repo (a symlink)")
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


def _text(path: Path, file: str) -> Iterator[str]:
    """The file's lines as text; bad UTF-8 is an error at its line."""
    with path.open("rb") as raw:
        line_number = 0
        for line_number, data in enumerate(raw, 1):
            if len(data) > MAX_LINE:
                raise _error(file, line_number, f"line longer than {MAX_LINE} bytes")
            try:
                text = data.decode("utf-8-sig" if line_number == 1 else "utf-8")
            except UnicodeDecodeError:
                raise _error(file, line_number, "not valid UTF-8 text") from None
            yield text


def read_rows(path: Path, file: str, fmt: str) -> Iterator[Row]:
    """The rows of a data file; ``file`` is the name used in messages."""
    if fmt == "jsonl":
        yield from _jsonl(path, file)
    else:
        yield from _csv(path, file)


def _jsonl(path: Path, file: str) -> Iterator[Row]:
    number = 0
    for line, text in enumerate(_text(path, file), 1):
        if not text.strip():
            continue
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise _error(file, line, f"not a JSON object: {exc}") from None
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


def _csv(path: Path, file: str) -> Iterator[Row]:
    counter = _LineCounter(_text(path, file))
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
