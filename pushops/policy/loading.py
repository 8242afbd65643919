"""Read the team's policies: the ``policies`` section of ``pushops.yaml`` and every file
under ``policies/`` (``*.yaml``/``*.yml``, each ``{policies: [...]}``), in that order.

Each policy is checked against the JSON Schema editors use (``schemas/policies.schema.json``,
the same ``$defs/policy`` as ``pushops.yaml``'s), then for what a schema cannot say: names
unique across files, environments that exist, time zones pushops knows, durations it can
read. Every problem is a located diagnostic (file, line, column, field); a policy with a
problem is left out, and plan refuses to plan while any is reported.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from pushops.check.explain import iter_explained
from pushops.config import Config
from pushops.diagnostics import Diagnostic, LocatedError
from pushops.policy.model import FREQUENCY_CAP, QUIET_HOURS, VENDOR_RULES, Policy, Window
from pushops.schemas import POLICY_COMMON, policies_schema
from pushops.timeutil import DURATION_UNITS, parse_zone
from pushops.yamlsource import SourceDocument, load_file

POLICY_DIR = "policies"
SUFFIXES = (".yaml", ".yml")
DEFAULT_ZONE = "Asia/Shanghai"  # where the China vendors' users are, unless told otherwise
_DURATION = re.compile(r"^([0-9]+)([smhd])$")
MAX_WINDOW_S = 366 * 86400


@cache
def _file_validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(policies_schema())


def policy_files(root: Path) -> list[Path]:
    """The policy files under ``policies/``, sorted. Symlinks are listed too: reading them
    (:func:`~pushops.yamlsource.load_file`, through :mod:`pushops.repofile`) refuses one that
    leads out of the repository, located at itself."""
    folder = root / POLICY_DIR
    if not folder.is_dir():
        return []
    return [
        path
        for path in sorted(folder.rglob("*"))
        if path.suffix in SUFFIXES and (path.is_file() or path.is_symlink())
    ]


def load_policies(config: Config) -> tuple[list[Policy], list[Diagnostic]]:
    """Every policy of the repository, and the problems that kept any out."""
    problems: list[Diagnostic] = []
    written: list[tuple[SourceDocument, tuple[str | int, ...], dict[str, Any]]] = []
    doc = config.source
    if doc is not None and isinstance(doc.data, dict):
        # pushops.yaml's section was checked against the same schema when it was loaded.
        for index, item in enumerate(doc.data.get("policies") or []):
            if isinstance(item, dict):
                written.append((doc, ("policies", index), item))
    for path in policy_files(config.root):
        try:
            file_doc = load_file(path, path.relative_to(config.root).as_posix(), root=config.root)
        except LocatedError as exc:
            problems.append(exc.diagnostic)
            continue
        problems.extend(file_doc.warnings)  # values YAML 1.1 would read differently
        found = list(_schema_problems(file_doc))
        problems.extend(found)
        if found:
            continue
        for index, item in enumerate(file_doc.data["policies"]):
            written.append((file_doc, ("policies", index), item))
    policies: list[Policy] = []
    names: dict[str, tuple[SourceDocument, tuple[str | int, ...]]] = {}
    for source, path, item in written:
        name = item["name"]
        if name in names:
            first, first_path = names[name]
            line = first.position((*first_path, "name"))[0]
            problems.append(
                source.diagnostic(
                    (*path, "name"),
                    f"policy name {name!r} is also used at {first.file}:{line}; names must be "
                    "unique (--override NAME refers to one policy)",
                    "policy.duplicate-name",
                )
            )
            continue
        names[name] = (source, path)
        policy, found = _policy(config, source, path, item)
        problems.extend(found)
        if policy is not None:
            policies.append(policy)
    return policies, problems


def _schema_problems(doc: SourceDocument) -> Iterator[Diagnostic]:
    if not isinstance(doc.data, dict):
        yield doc.diagnostic((), "a policies file is a mapping: policies: [...]", "policy.schema")
        return
    known = ("policies", *POLICY_COMMON)
    for path, message, _rule, key in iter_explained(_file_validator(), doc.data, "policy", known):
        yield doc.diagnostic(path, message, "policy.schema", key=key)


def _policy(
    config: Config, doc: SourceDocument, path: tuple[str | int, ...], item: dict[str, Any]
) -> tuple[Policy | None, list[Diagnostic]]:
    problems: list[Diagnostic] = []

    def problem(field: tuple[str | int, ...], message: str) -> None:
        problems.append(doc.diagnostic((*path, *field), message, "policy.invalid"))

    for index, env in enumerate(item.get("environments") or []):
        if env not in config.environments:
            known = ", ".join(config.environments)
            problem(("environments", index), f"no environment {env!r} in pushops.yaml ({known})")
    kind = item["kind"]
    params = {k: v for k, v in item.items() if k not in POLICY_COMMON}
    for field in ("time_zone",):
        if isinstance(params.get(field), str):
            try:
                parse_zone(params[field])
            except ValueError as exc:
                problem((field,), str(exc))
    if kind == QUIET_HOURS and params.get("start") == params.get("end"):
        problem(("end",), "quiet hours that start and end at the same time are never quiet")
    if kind == FREQUENCY_CAP:
        try:
            params["window"] = parse_window(params["window"], params.get("time_zone"))
        except ValueError as exc:
            problem(("window",), str(exc))
    if kind == VENDOR_RULES:
        params.setdefault("action", "block")
    if problems:
        return None, problems
    return (
        Policy(
            name=item["name"],
            kind=kind,
            level=item["level"],
            params=params,
            description=item.get("description", ""),
            environments=tuple(item["environments"]) if "environments" in item else None,
            campaigns=tuple(item["campaigns"]) if "campaigns" in item else None,
            categories=tuple(item["categories"]) if "categories" in item else None,
            source=doc,
            path=path,
        ),
        [],
    )


def parse_window(text: str, zone: str | None) -> Window:
    """``24h``, ``7d``, ``90m`` (rolling), or ``day`` (the calendar day in ``zone``)."""
    if text == "day":
        return Window(None, zone or DEFAULT_ZONE)
    match = _DURATION.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a window such as 24h, 7d, 90m or day")
    seconds = int(match.group(1)) * DURATION_UNITS[match.group(2)]
    if not 0 < seconds <= MAX_WINDOW_S:
        raise ValueError(f"a window of {text} is not between 1 second and 366 days")
    return Window(seconds, text=text)
