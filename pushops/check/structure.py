"""A campaign file against the authoring schema, before anything is rendered.

Messages are checked here only for being mappings with a valid id, vars and fan_out: their
fields are checked per provider after rendering (pushops.check.schema), so each problem is
reported once.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import Any

import jsonschema

from pushops.check.explain import iter_explained
from pushops.check.schema import surely_valid
from pushops.config import known_zone
from pushops.diagnostics import Diagnostic
from pushops.schemas import MESSAGE_LIST, MESSAGE_META, campaign_schema
from pushops.tables import PROVIDERS, load_table
from pushops.yamlsource import SourceDocument

_ID = re.compile(MESSAGE_META["id"]["pattern"])
CAMPAIGN_KEYS = (
    "id",
    "revision",
    "app",
    "description",
    "environments",
    "vars",
    "time_zone",
    "category",
    "owner",
    "labels",
    *MESSAGE_LIST.values(),
)


@cache
def _skeleton_validator() -> jsonschema.Draft202012Validator:
    """The campaign schema with messages checked only for being mappings: their fields are
    checked per provider (after rendering), so each problem is reported once."""
    schema = campaign_schema({p: load_table(p) for p in PROVIDERS})
    for provider, key in MESSAGE_LIST.items():
        schema["properties"][key]["items"] = {"type": "object"}
        del schema["$defs"][f"{provider}Message"]
    return jsonschema.Draft202012Validator(schema)


@cache
def _meta_validator() -> jsonschema.Draft202012Validator:
    schema = {
        "type": "object",
        "required": ["id"],
        "properties": MESSAGE_META,
        "$defs": {"fanOut": campaign_schema({})["$defs"]["fanOut"]},
    }
    return jsonschema.Draft202012Validator(schema)


@cache
def _skeleton_surely_valid() -> Callable[[Any], bool]:
    check = surely_valid(_skeleton_validator().schema)
    return check if check is not None else lambda data: False


def check_structure(doc: SourceDocument) -> list[Diagnostic]:
    problems: list[Diagnostic] = []
    # Most files are well formed: jsonschema (and its explanations) only for the rest.
    verdicts = (
        ()
        if _skeleton_surely_valid()(doc.data)
        else iter_explained(_skeleton_validator(), doc.data, "campaign", CAMPAIGN_KEYS)
    )
    for path, message, rule, key in verdicts:
        if rule == "campaign.structure":
            message = (
                "a campaign has either `tasks` (EMAS MassPush) or `broadcasts` (mPaaS), "
                "not both or neither"
            )
        problems.append(doc.diagnostic(path, message, rule, key=key))
    zone = doc.data.get("time_zone")
    if isinstance(zone, str) and not known_zone(zone):
        problems.append(
            doc.diagnostic(
                ("time_zone",),
                f"{zone!r} is not a time zone: use an IANA name such as Asia/Shanghai or "
                "Europe/Berlin",
                "campaign.time-zone",
            )
        )
    for key in MESSAGE_LIST.values():
        items = doc.data.get(key)
        for index, item in enumerate(items if isinstance(items, list) else []):
            if not isinstance(item, dict):
                continue
            meta = {k: v for k, v in item.items() if k in MESSAGE_META}
            if len(meta) == 1 and isinstance(meta.get("id"), str) and _ID.match(meta["id"]):
                continue  # the common case, decided without jsonschema's per-call overhead
            for path, message, rule, is_key in iter_explained(
                _meta_validator(), meta, "campaign", MESSAGE_META
            ):
                problems.append(doc.diagnostic((key, index, *path), message, rule, key=is_key))
    return problems


def duplicate_message_ids(doc: SourceDocument, key: str, items: list[Any]) -> list[Diagnostic]:
    seen: dict[str, int] = {}
    problems = []
    for index, item in enumerate(items):
        ident = item.get("id") if isinstance(item, dict) else None
        if not isinstance(ident, str):
            continue
        if ident in seen:
            first = doc.position((key, seen[ident], "id"))[0]
            problems.append(
                doc.diagnostic(
                    (key, index, "id"),
                    f"message id {ident!r} is used twice in this campaign (first at line {first})",
                    "campaign.duplicate-message-id",
                )
            )
        else:
            seen[ident] = index
    return problems
