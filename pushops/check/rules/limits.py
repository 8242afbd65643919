"""Rules generated from the tables' limits: bytes, characters, entries, JSON content, deprecation.

One rule per limited field (``emas.title-bytes``), so an error names exactly what to look up.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from typing import Any

from pushops.check.rules.registry import Finding, RuleContext, rule
from pushops.tables import PROVIDERS, Param, load_table


def kebab(name: str) -> str:
    """``AndroidBigTitle`` -> ``android-big-title``; ``iOSBadge`` -> ``ios-badge``."""
    name = name.replace("iOS", "Ios")
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", name).lower()


def _register_bytes(provider: str, param: Param) -> None:
    limit = param.limits["max_bytes"]

    @rule(
        f"{provider}.{kebab(param.name)}-bytes",
        provider,
        f"{param.name}: at most {limit} UTF-8 bytes",
        reads=(param.name,),
    )
    def check(params: dict[str, Any], ctx: RuleContext) -> Iterator[Finding]:
        value = params.get(param.name)
        if isinstance(value, str):
            size = len(value.encode("utf-8"))
            if size > limit:
                yield Finding(
                    (param.name,),
                    f"{size} bytes, the limit is {limit} UTF-8 bytes",
                    f"{provider}.{kebab(param.name)}-bytes",
                )


def _register_chars(provider: str, param: Param) -> None:
    limit = param.limits["max_chars"]
    rule_id = f"{provider}.{kebab(param.name)}-chars"

    @rule(rule_id, provider, f"{param.name}: at most {limit} characters", reads=(param.name,))
    def check(params: dict[str, Any], ctx: RuleContext) -> Iterator[Finding]:
        value = params.get(param.name)
        if isinstance(value, str) and len(value) > limit:
            yield Finding(
                (param.name,), f"{len(value)} characters, the limit is {limit} characters", rule_id
            )


def _register_entries(provider: str, param: Param) -> None:
    limit = param.limits["max_entries"]
    rule_id = f"{provider}.{kebab(param.name)}-entries"

    @rule(
        rule_id,
        provider,
        f"{param.name}: at most {limit} comma-separated entries",
        reads=(param.name,),
    )
    def check(params: dict[str, Any], ctx: RuleContext) -> Iterator[Finding]:
        value = params.get(param.name)
        if isinstance(value, str):
            entries = [e for e in value.split(",") if e.strip()]
            if len(entries) > limit:
                yield Finding(
                    (param.name,),
                    f"{len(entries)} entries, the limit is {limit}; split the targets over more "
                    "messages (fan-out does this for you)",
                    rule_id,
                )
            if len(entries) != len(value.split(",")):
                yield Finding((param.name,), "empty entry in the comma-separated list", rule_id)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _register_json(provider: str, param: Param) -> None:
    kind = param.json
    rule_id = f"{provider}.{kebab(param.name)}-json"
    limit = param.limits.get("max_items") if kind == "array" else param.limits.get("max_keys")

    @rule(rule_id, provider, f"{param.name}: a JSON {kind}", reads=(param.name,))
    def check(params: dict[str, Any], ctx: RuleContext) -> Iterator[Finding]:
        value = params.get(param.name)
        if isinstance(value, str):
            try:
                # Python's json reads NaN and Infinity; JSON (and the provider) does not.
                value = json.loads(value, parse_constant=_no_constant)
            except ValueError as exc:
                yield Finding((param.name,), f"must hold a JSON {kind}: {exc}", rule_id)
                return
        if value is None:
            return
        expected = dict if kind == "object" else list
        if not isinstance(value, expected):
            yield Finding(
                (param.name,), f"must hold a JSON {kind}, got {type(value).__name__}", rule_id
            )
            return
        if limit is not None and len(value) > limit:
            what = "elements" if kind == "array" else "keys"
            yield Finding((param.name,), f"{len(value)} {what}, the limit is {limit}", rule_id)


def _non_finite(value: Any, path: tuple[str | int, ...]) -> Iterator[tuple[str | int, ...]]:
    if type(value) is float and not math.isfinite(value):
        yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _non_finite(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _non_finite(item, (*path, index))


def _register_finite(provider: str) -> None:
    rule_id = f"{provider}.json-number"
    # Only these can hold a float: a number field, or a map or list written in YAML.
    names = tuple(
        p.name
        for p in load_table(provider).message_params.values()
        if p.type in ("number", "map") or p.json
    )

    @rule(rule_id, provider, "numbers are finite: NaN and Infinity are not JSON", reads=names)
    def check(params: dict[str, Any], ctx: RuleContext) -> Iterator[Finding]:
        for name in names:
            if name in params:
                for path in _non_finite(params[name], (name,)):
                    yield Finding(
                        path,
                        "NaN and Infinity are not JSON numbers and no API takes them; "
                        "write a number (or quote the text)",
                        rule_id,
                    )


def _register_deprecated(provider: str) -> None:
    rule_id = f"{provider}.deprecated"
    names = tuple(p.name for p in load_table(provider).message_params.values() if p.deprecated)

    @rule(rule_id, provider, "deprecated parameters still work but should be replaced", reads=names)
    def check(params: dict[str, Any], ctx: RuleContext) -> Iterator[Finding]:
        for name in params:
            param = ctx.table.message_params.get(name)
            if param is not None and param.deprecated:
                reason = param.deprecated if isinstance(param.deprecated, str) else ""
                yield Finding((name,), f"deprecated: {reason}".rstrip(": "), rule_id, "warning")


def _register_all() -> None:
    for provider in PROVIDERS:
        for param in load_table(provider).message_params.values():
            if "max_bytes" in param.limits:
                _register_bytes(provider, param)
            if "max_chars" in param.limits:
                _register_chars(provider, param)
            if "max_entries" in param.limits:
                _register_entries(provider, param)
            if param.type == "string" and param.json in ("object", "array"):
                _register_json(provider, param)
        _register_finite(provider)
        if any(p.deprecated for p in load_table(provider).message_params.values()):
            _register_deprecated(provider)


_register_all()
