"""Which ledger each environment uses, by lineage: ``pushops.ledgers.yaml``, committed.

A ledger's lineage is a random id it gets when it is created (export/import keeps it). The
repository records, per environment, the lineage of the ledger that holds what was sent
there; plan and apply refuse any other ledger, a new empty one included. So a mistyped DSN,
a missing secret in CI or a copied file can never pass for "nothing was sent yet".

The file is written by ``pushops state init`` only, never by plan or apply, and is meant to
be reviewed and committed like ``pushops.yaml``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pushops.diagnostics import Diagnostic, PushopsError
from pushops.ledger.records import LINEAGE
from pushops.repofile import RepoFileError, write_in
from pushops.yamlsource import load_file

BINDING_FILE = "pushops.ledgers.yaml"
RULE = "state.binding"

HEADER = """\
# Which ledger each environment's deliveries are recorded in, by the ledger's lineage.
# Written by `pushops state init`; commit it. plan and apply refuse a ledger of any other
# lineage (a new, empty one included), so a wrong PUSHOPS_STATE_DSN never looks like a
# ledger where nothing was sent yet. See docs/state.md.
"""


@dataclass(frozen=True)
class Bindings:
    """The environments' lineages as the repository records them."""

    path: Path
    lineages: dict[str, str] = field(default_factory=dict)

    def get(self, environment: str) -> str | None:
        return self.lineages.get(environment)

    def bound(self, environments: list[str], lineage: str) -> Bindings:
        return Bindings(self.path, {**self.lineages, **dict.fromkeys(environments, lineage)})

    def write(self, order: list[str]) -> None:
        """Write the file atomically, environments in ``order`` (``pushops.yaml``'s) first."""
        names = [e for e in order if e in self.lineages]
        names += sorted(e for e in self.lineages if e not in names)
        lines = [HEADER, "version: 1\n", "environments:\n"]
        lines += [f'  "{name}": "{self.lineages[name]}"\n' for name in names]
        try:
            write_in(self.path.parent, self.path.name, "".join(lines))
        except RepoFileError as exc:
            raise PushopsError(f"{BINDING_FILE}: {exc}") from None


def load_bindings(root: Path) -> Bindings:
    """The bindings of the repository at ``root`` (none when it has no binding file)."""
    path = root / BINDING_FILE
    if not path.exists() and not path.is_symlink():
        return Bindings(path)
    doc = load_file(path, BINDING_FILE, root=root)  # refuses a link out of the repository
    data = doc.data
    problems: list[Diagnostic] = []
    lineages: dict[str, str] = {}
    if not isinstance(data, dict) or not isinstance(data.get("environments"), dict):
        problems.append(
            doc.diagnostic((), "expected `version: 1` and an `environments:` mapping", RULE)
        )
    else:
        if data.get("version") != 1:
            problems.append(doc.diagnostic(("version",), "the version must be 1", RULE))
        for extra in sorted(set(data) - {"version", "environments"}, key=str):
            problems.append(doc.diagnostic((extra,), f"unknown key {extra!r}", RULE, key=True))
        for name, lineage in data["environments"].items():
            if not isinstance(lineage, str) or not LINEAGE.fullmatch(lineage):
                problems.append(
                    doc.diagnostic(
                        ("environments", name),
                        "a lineage is the ledger's id as `pushops state list --format json` "
                        "shows it (letters, digits, '-', '_', '.', ':')",
                        RULE,
                    )
                )
                continue
            lineages[str(name)] = lineage
    if problems:
        # The located problems in the message itself: every command prints it as is.
        raise PushopsError("\n".join(d.format() for d in sorted(problems)), problems)
    return Bindings(path, lineages)
