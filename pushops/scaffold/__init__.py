"""The files ``pushops init`` writes into a new push repository.

The templates live beside this module; a path component ``dot-x`` becomes ``.x`` (so the
package holds no ``.gitignore`` or ``.github`` of its own). The JSON Schemas are copied from
pushops' own ``schemas/`` so the editor settings and ``$schema`` lines resolve in the new repo.

Two kinds of file: the team's own (``pushops.yaml`` and ``campaigns/``), written once and never
touched again, and generated ones (workflows, the hashed dependency lock, schemas, editor
settings), which ``pushops init --upgrade`` rewrites for the running pushops. The workflows
take two values: where pushops is installed from (:mod:`pushops.scaffold.source`) and the
pushops environment they plan and apply, which an upgrade keeps.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from pushops.diagnostics import LocatedError
from pushops.tables import schemas_dir
from pushops.yamlsource import load_file

HERE = Path(__file__).resolve().parent
SOURCE_SLOT = "__PUSHOPS_SOURCE__"
ENVIRONMENT_SLOT = "__PUSHOPS_ENVIRONMENT__"
DEFAULT_ENVIRONMENT = "production"
GITIGNORE = ".gitignore"
LOCK = ".github/pushops/requirements.txt"
WORKFLOWS = ".github/workflows"
# The team's files: init writes them once; --upgrade never touches them.
OWN = ("pushops.yaml", "campaigns/")
ENVIRONMENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


@dataclass(frozen=True)
class File:
    path: PurePosixPath  # relative to the new repo
    text: str

    @property
    def generated(self) -> bool:
        """Rewritten by ``init --upgrade`` (everything but the team's config and campaigns)."""
        name = str(self.path)
        return not any(name == own or name.startswith(own) for own in OWN)


def _target(relative: PurePosixPath) -> PurePosixPath:
    return PurePosixPath(
        *("." + part[4:] if part.startswith("dot-") else part for part in relative.parts)
    )


def files(source: str | None = None, environment: str = DEFAULT_ENVIRONMENT) -> list[File]:
    """Every file of the scaffold, sorted by path. The workflows install pushops from
    ``source`` (None: their install step fails, saying how to set it) and plan and apply
    ``environment``."""
    if not ENVIRONMENT_NAME.fullmatch(environment):
        raise ValueError(f"{environment!r} is not a pushops environment name")
    out = []
    for source_file in sorted(HERE.rglob("*")):
        if (
            not source_file.is_file()
            or source_file.suffix in (".py", ".pyc")
            or "__pycache__" in source_file.parts
        ):
            continue
        relative = PurePosixPath(source_file.relative_to(HERE).as_posix())
        text = source_file.read_text(encoding="utf-8")
        text = text.replace(SOURCE_SLOT, source or "").replace(ENVIRONMENT_SLOT, environment)
        out.append(File(_target(relative), text))
    for schema in sorted(schemas_dir().glob("*.schema.json")):
        out.append(File(PurePosixPath("schemas", schema.name), schema.read_text(encoding="utf-8")))
    return sorted(out, key=lambda f: str(f.path))


def workflow_settings(root: Path) -> tuple[str | None, str | None]:
    """The pushops source and environment the repository's scaffolded workflows use now
    (None where no workflow says), so an upgrade can keep them."""
    sources: set[str] = set()
    environments: set[str] = set()
    for path in sorted((root / WORKFLOWS).glob("pushops-*.yml")):
        # As GitHub and every other pushops reader do: YAML 1.2 (an environment named `no`
        # or `on` is that text, not a boolean), and only a file inside the repository.
        try:
            workflow = load_file(path.relative_to(root), root=root).data
        except LocatedError:
            continue
        if not isinstance(workflow, dict):
            continue
        value = (workflow.get("env") or {}).get("PUSHOPS_ENVIRONMENT")
        if isinstance(value, str):
            environments.add(value)
        for job in (workflow.get("jobs") or {}).values():
            for step in (job or {}).get("steps") or []:
                found = ((step or {}).get("env") or {}).get("PUSHOPS_SOURCE")
                if isinstance(found, str) and found:
                    sources.add(found)
    return (
        sources.pop() if len(sources) == 1 else None,
        environments.pop() if len(environments) == 1 else None,
    )


def merge_gitignore(existing: str, wanted: str) -> str | None:
    """``existing`` with the lines of ``wanted`` it lacks appended; None when none lack."""
    have = {line.strip() for line in existing.splitlines()}
    missing = [line for line in wanted.splitlines() if line.strip() and line.strip() not in have]
    if not any(not line.startswith("#") for line in missing):
        return None
    head = existing if existing.endswith("\n") or not existing else existing + "\n"
    return head + ("\n" if head else "") + "\n".join(missing) + "\n"
