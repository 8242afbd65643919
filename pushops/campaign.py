"""Campaign files: find them, read them into Campaigns (their structure checked on the way by
pushops.check.structure against the authoring schema).

A campaign is plain data with its source document kept alongside, so every later stage can
point back at the line and column a value came from.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pushops.check.structure import check_structure, duplicate_message_ids
from pushops.diagnostics import Diagnostic, LocatedError, Report
from pushops.schemas import MANAGED_FIELDS, MESSAGE_LIST, MESSAGE_META
from pushops.yamlsource import SourceDocument, load_file

CAMPAIGN_DIR = "campaigns"
SUFFIXES = (".yaml", ".yml")


TEMPLATE_MARKERS = ("{{", "{%", "{#")
LeafPath = tuple[str | int, ...]


def is_template(value: Any) -> bool:
    """Whether ``value`` is a string Jinja would treat as a template."""
    # Most values hold no brace at all, and one scan for "{" says so.
    return isinstance(value, str) and "{" in value and any(m in value for m in TEMPLATE_MARKERS)


def template_leaves(value: Any) -> list[tuple[LeafPath, str]]:
    """Every template string inside ``value`` with its path, in document order."""
    if is_template(value):
        return [((), value)]
    found: list[tuple[LeafPath, str]] = []

    def walk(node: dict[Any, Any] | list[Any], path: LeafPath) -> None:
        # Paths are built only for templates and containers: most leaves are neither.
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, item in items:
            if type(item) is str:
                if "{" in item and any(m in item for m in TEMPLATE_MARKERS):
                    found.append(((*path, key), item))
            elif isinstance(item, (dict, list)):
                walk(item, (*path, key))

    if isinstance(value, (dict, list)):
        walk(value, ())
    return found


@dataclass
class Message:
    """One message as authored: an EMAS PushTask or one mPaaS broadcast."""

    id: str
    index: int
    params: dict[str, Any]  # the API's own field names, values possibly templates
    vars: dict[str, Any] = field(default_factory=dict)
    fan_out: dict[str, Any] | None = None
    path: tuple[str | int, ...] = ()  # where it sits in the source document

    # Found once (params are not changed after loading): validate reads them per environment.
    templates: tuple[tuple[LeafPath, str], ...] = field(init=False, repr=False, compare=False)
    templated_fields: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.templates = tuple(template_leaves(self.params))
        self.templated_fields = frozenset(str(path[0]) for path, _ in self.templates)


@dataclass
class Campaign:
    id: str
    app: str
    provider: str
    revision: int
    messages: list[Message]
    source: SourceDocument
    vars: dict[str, Any] = field(default_factory=dict)
    environments: list[str] | None = None
    description: str = ""
    time_zone: str | None = None  # IANA name plan shows send times in (besides UTC)
    category: str | None = None  # marketing or service, as declared
    owner: str | None = None
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def file(self) -> str:
        return self.source.file


def display_name(path: Path) -> str:
    """The name used in messages: relative to the working directory when under it."""
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)


def discover(paths: Iterable[Path], root: Path) -> list[Path]:
    """Campaign files under ``paths`` (default ``campaigns/``), sorted, as absolute paths (a
    path given on the command line is relative to the working directory). A missing path,
    a symlink and anything else that is not a folder is kept, so loading reports it if it
    cannot be read."""
    chosen = [p.absolute() for p in paths] or [root / CAMPAIGN_DIR]
    found: list[Path] = []
    for path in chosen:
        if path.is_dir():
            found.extend(p for p in path.rglob("*") if p.suffix in SUFFIXES and not p.is_dir())
        else:
            found.append(path)
    return sorted(set(found))


def load_campaign(path: Path, root: Path) -> tuple[Campaign | None, list[Diagnostic]]:
    """Read one campaign file of the repository at ``root`` (never one outside it, symlinks
    included). Structural problems come back as diagnostics; the campaign is None when it is
    too broken to go further."""
    name = display_name(path)
    try:
        doc = load_file(path, name, root=root)
    except LocatedError as exc:
        return None, [exc.diagnostic]
    if not isinstance(doc.data, dict):
        return None, [
            *doc.warnings,
            doc.diagnostic(
                (), "a campaign file must be a mapping (id, app, tasks ...)", "campaign.structure"
            ),
        ]
    # Values YAML 1.1 would read differently (pushops reads YAML 1.2, as editors do).
    problems = [*doc.warnings, *check_structure(doc)]
    problems.extend(_schema_link(doc, path))
    data = doc.data
    provider = next((p for p, key in MESSAGE_LIST.items() if key in data), None)
    if provider is None or any(
        d.rule
        in ("campaign.required", "campaign.structure", "campaign.id-type", "campaign.app-type")
        for d in problems
    ):
        return None, problems
    list_key = MESSAGE_LIST[provider]
    items = data.get(list_key)
    if not isinstance(items, list):
        return None, problems
    problems.extend(duplicate_message_ids(doc, list_key, items))
    managed = MANAGED_FIELDS[provider]
    messages = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        params = {k: v for k, v in item.items() if k not in MESSAGE_META}
        for name_ in list(params):
            if name_ in managed:
                problems.append(
                    doc.diagnostic(
                        (list_key, index, name_),
                        f"{name_} is set by pushops ({managed[name_]}); remove it",
                        "campaign.managed-field",
                        key=True,
                    )
                )
                del params[name_]
        messages.append(
            Message(
                id=str(item.get("id", index)),
                index=index,
                params=params,
                vars=dict(item.get("vars") or {}),
                fan_out=item.get("fan_out"),
                path=(list_key, index),
            )
        )
    campaign = Campaign(
        id=data["id"],
        app=data["app"],
        provider=provider,
        revision=int(data.get("revision", 1)) if isinstance(data.get("revision", 1), int) else 1,
        messages=messages,
        source=doc,
        vars=dict(data.get("vars") or {}) if isinstance(data.get("vars"), dict) else {},
        environments=data.get("environments"),
        description=str(data.get("description", "")),
        time_zone=data["time_zone"] if isinstance(data.get("time_zone"), str) else None,
        category=_text(data.get("category")),
        owner=_text(data.get("owner")),
        labels=dict(data["labels"]) if isinstance(data.get("labels"), dict) else {},
    )
    return campaign, problems


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _schema_link(doc: SourceDocument, path: Path) -> list[Diagnostic]:
    """A modeline naming a schema file that is not there: the editor would check nothing
    ("Unable to load schema"), and the modeline wins over the editor's settings."""
    if doc.schema_link is None:
        return []
    target, line, column = doc.schema_link
    if "://" in target or (path.parent / target).is_file():
        return []
    schemas = next(
        (folder / "schemas" for folder in path.resolve().parents if (folder / "schemas").is_dir()),
        None,
    )
    hint = ""
    if schemas is not None and (schemas / "campaign.schema.json").is_file():
        relative = os.path.relpath(schemas / "campaign.schema.json", path.resolve().parent)
        hint = f"write $schema={Path(relative).as_posix()}, or "
    return [
        Diagnostic(
            doc.file,
            line,
            column,
            "",
            f"the editor finds no schema at {target} (a path from this file's folder), so it "
            f"checks nothing here; {hint}leave the line out: .vscode/settings.json maps "
            "campaigns/** to the schema",
            "campaign.schema-link",
            "warning",
        )
    ]


def duplicate_ids(campaigns: list[Campaign]) -> Iterator[Diagnostic]:
    """The same campaign id in two files: an error on the later file naming the earlier one."""
    first: dict[str, Campaign] = {}
    for campaign in sorted(campaigns, key=lambda c: c.file):
        if campaign.id in first:
            other = first[campaign.id]
            line = other.source.position(("id",))[0]
            yield campaign.source.diagnostic(
                ("id",),
                f"campaign id {campaign.id!r} is also used by {other.file}:{line}; "
                "ids must be unique",
                "campaign.duplicate-id",
            )
        else:
            first[campaign.id] = campaign


def load_campaigns(paths: Iterable[Path], root: Path, report: Report) -> list[Campaign]:
    """The campaigns under ``paths`` (default ``campaigns/``), in file order; problems go to
    ``report``."""
    out = []
    for path in discover(paths, root):
        campaign, problems = load_campaign(path, root)
        report.extend(problems)
        if campaign is not None:
            out.append(campaign)
    return out
