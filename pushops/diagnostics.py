"""Located problems, reported the way a compiler does: ``FILE:LINE:COL: PATH: MESSAGE [RULE]``.

Every stage (load, check, render, compile) reports through :class:`Diagnostic` so the command
line can sort, print and serialise them the same way whichever stage found them.

A diagnostic is one line whatever it quotes: file names, keys and values come from the user
(a campaign file may be named ``x\n::error file=README.md::…``), so control characters are
printed as escapes. Otherwise the next line would be read by a terminal or by the GitHub Actions
runner (which takes a line starting with ``::`` as a workflow command) as something pushops
never said. :meth:`Diagnostic.annotation` is the same problem as a GitHub annotation.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

from pushops.workflowcmd import command as workflow_command

ERROR = "error"
WARNING = "warning"
# C0 and C1 controls (tab aside), DEL, and the Unicode line and paragraph separators.
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = {"\n": "\\n", "\r": "\\r"}


def printable(text: str) -> str:
    """``text`` on one line: control characters as ``\\n``, ``\\r``, ``\\x1b``, ``\\u2028``."""

    def escape(match: re.Match[str]) -> str:
        char = match.group()
        if char in _NAMED:
            return _NAMED[char]
        code = ord(char)
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    return _CONTROL.sub(escape, text)


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One problem at one place. Line and column are 1-based; column counts characters."""

    file: str
    line: int
    column: int
    path: str
    message: str
    rule: str
    severity: str = ERROR

    def format(self) -> str:
        where = f"{printable(self.file)}:{self.line}:{self.column}"
        what = f"{self.path}: {self.message}" if self.path else self.message
        prefix = "warning: " if self.severity == WARNING else ""
        return f"{where}: {prefix}{printable(what)} [{printable(self.rule)}]"

    def annotation(self) -> str:
        """The diagnostic as a GitHub Actions annotation on its file and line (shown on the
        pull request's diff); the message keeps the whole located line for the log."""
        kind = "warning" if self.severity == WARNING else "error"
        where = {"file": self.file, "line": self.line, "col": self.column, "title": self.rule}
        return workflow_command(kind, self.format(), where)

    def to_json(self) -> dict[str, object]:
        return asdict(self)


@dataclass
class Report:
    """Diagnostics gathered across files, in the order a person reads them."""

    diagnostics: list[Diagnostic] = field(default_factory=list)
    # Errors among diagnostics[:_counted]: plan asks ``ok`` once per delivery it sends, and
    # counting the whole list each time made a campaign whose every row is refused take
    # hours at a million rows (quadratic), instead of failing in the time a plan takes.
    _errors: int = field(default=0, init=False, repr=False, compare=False)
    _counted: int = field(default=0, init=False, repr=False, compare=False)

    def add(self, diagnostic: Diagnostic) -> None:
        self.diagnostics.append(diagnostic)

    def extend(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics.extend(diagnostics)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == ERROR]

    def error_count(self) -> int:
        """How many of the diagnostics are errors, counting only those added since asked."""
        found = self.diagnostics
        if len(found) == self._counted:  # nothing new: plan's usual case, once a delivery
            return self._errors
        if len(found) < self._counted:  # the list was cut from outside: count it again
            self._errors = self._counted = 0
        for diagnostic in found[self._counted :]:
            self._errors += diagnostic.severity == ERROR
        self._counted = len(found)
        return self._errors

    @property
    def ok(self) -> bool:
        return self.error_count() == 0

    def sorted(self) -> list[Diagnostic]:
        # Unique and sorted so output is deterministic whatever order stages ran in; numbers
        # in a message by value, so rows of a data file read 5, 12, 103, not 103, 12, 5.
        return sorted(set(self.diagnostics), key=_reading_order)


_DIGITS = re.compile(r"([0-9]+)")  # ASCII digits only, as everywhere in pushops


def _reading_order(d: Diagnostic) -> tuple[object, ...]:
    parts = _DIGITS.split(d.message)  # text, number, text, ...: comparable part by part
    message = tuple((0, int(p), "") if i % 2 else (1, 0, p) for i, p in enumerate(parts))
    return (d.file, d.line, d.column, d.path, message, d.rule, d.severity)


class PushopsError(Exception):
    """A failure the user can act on. The CLI prints it without a traceback and exits 1.

    It may carry located diagnostics; ``str()`` is the one-line summary.
    """

    def __init__(self, message: str, diagnostics: Iterable[Diagnostic] = ()) -> None:
        super().__init__(message)
        self.diagnostics = list(diagnostics)


class LocatedError(PushopsError):
    """A single located problem raised from deep inside a stage."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.format(), [diagnostic])
        self.diagnostic = diagnostic
