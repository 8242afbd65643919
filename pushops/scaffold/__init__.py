"""The files ``pushops init`` writes into a new push repository.

The templates live beside this module; a path component ``dot-x`` becomes ``.x`` (so the
package holds no ``.gitignore`` or ``.github`` of its own). The JSON Schemas are copied from
pushops' own ``schemas/`` so the editor settings and ``$schema`` lines resolve in the new repo.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from pushops import __version__
from pushops.tables import schemas_dir

HERE = Path(__file__).resolve().parent
REQUIREMENT_SLOT = "__PUSHOPS_REQUIREMENT__"
# What the scaffolded workflows install: this very version, with the PostgreSQL driver the
# shared ledger needs.
REQUIREMENT = f"pushops[postgres]=={__version__}"
GITIGNORE = ".gitignore"


@dataclass(frozen=True)
class File:
    path: PurePosixPath  # relative to the new repo
    text: str


def _target(relative: PurePosixPath) -> PurePosixPath:
    return PurePosixPath(
        *("." + part[4:] if part.startswith("dot-") else part for part in relative.parts)
    )


def files(requirement: str = REQUIREMENT) -> list[File]:
    """Every file of the scaffold, sorted by path; workflows install ``requirement``."""
    out = []
    for source in sorted(HERE.rglob("*")):
        if (
            not source.is_file()
            or source.suffix in (".py", ".pyc")
            or "__pycache__" in source.parts
        ):
            continue
        relative = PurePosixPath(source.relative_to(HERE).as_posix())
        text = source.read_text(encoding="utf-8").replace(REQUIREMENT_SLOT, requirement)
        out.append(File(_target(relative), text))
    for schema in sorted(schemas_dir().glob("*.schema.json")):
        out.append(File(PurePosixPath("schemas", schema.name), schema.read_text(encoding="utf-8")))
    return sorted(out, key=lambda f: str(f.path))


def merge_gitignore(existing: str, wanted: str) -> str | None:
    """``existing`` with the lines of ``wanted`` it lacks appended; None when none lack."""
    have = {line.strip() for line in existing.splitlines()}
    missing = [line for line in wanted.splitlines() if line.strip() and line.strip() not in have]
    if not any(not line.startswith("#") for line in missing):
        return None
    head = existing if existing.endswith("\n") or not existing else existing + "\n"
    return head + ("\n" if head else "") + "\n".join(missing) + "\n"
