"""Located problems, reported the way a compiler does: ``FILE:LINE:COL: PATH: MESSAGE [RULE]``.

Every stage (load, check, render, compile) reports through :class:`Diagnostic` so the command
line can sort, print and serialise them the same way whichever stage found them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

ERROR = "error"
WARNING = "warning"


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
        where = f"{self.file}:{self.line}:{self.column}"
        what = f"{self.path}: {self.message}" if self.path else self.message
        prefix = "warning: " if self.severity == WARNING else ""
        return f"{where}: {prefix}{what} [{self.rule}]"

    def to_json(self) -> dict[str, object]:
        return asdict(self)


@dataclass
class Report:
    """Diagnostics gathered across files, in the order a person reads them."""

    diagnostics: list[Diagnostic] = field(default_factory=list)

    def add(self, diagnostic: Diagnostic) -> None:
        self.diagnostics.append(diagnostic)

    def extend(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics.extend(diagnostics)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == ERROR]

    @property
    def ok(self) -> bool:
        return not self.errors

    def sorted(self) -> list[Diagnostic]:
        # Unique and sorted so output is deterministic whatever order stages ran in.
        return sorted(set(self.diagnostics))


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
