"""Check one message's typed parameters against its provider schema, fast.

Validating a whole message with jsonschema costs about 1 ms (every ``if`` of every condition
is evaluated, every property descends). Campaigns repeat values heavily (DeviceType, PushType,
channels...), so each field's value is checked by jsonschema against that field's own schema
once and the outcome memoised; a table condition is evaluated only when its trigger field is
present (its ``if`` requires the trigger, so this changes no outcome). Unknown and missing
fields are set operations. The verdicts are jsonschema's; only the bookkeeping is ours.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from typing import Any

import jsonschema

from pushops.schema_errors import Explained, iter_explained, suggest
from pushops.schemabuild import MANAGED_FIELDS, MESSAGE_META, message_schema
from pushops.tables import load_table

MEMO_LIMIT = 200_000  # memoised field outcomes kept before the memo is cleared


def _memo_key(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return (type(value).__name__, value)
    try:
        return ("json", json.dumps(value, sort_keys=True, ensure_ascii=False))
    except (TypeError, ValueError):
        return None


def _then_fields(then: dict[str, Any]) -> set[str]:
    """Every field a condition's ``then`` mentions (it tests presence only)."""
    fields = set(then.get("required", []))
    for branch in then.get("anyOf", []):
        fields.update(branch.get("required", []))
    for branch in then.get("not", {}).get("anyOf", []):
        fields.update(branch.get("required", []))
    return fields


class MessageChecker:
    """The provider schema of one message (less the fields pushops fills in), split up."""

    def __init__(self, provider: str) -> None:
        schema = message_schema(load_table(provider), authoring=False)
        managed = MANAGED_FIELDS[provider]
        self.scope = provider
        self.known = (*MESSAGE_META, *schema["properties"])
        self.required = [f for f in schema["required"] if f not in managed]
        self.fields = {
            name: jsonschema.Draft202012Validator(sub) for name, sub in schema["properties"].items()
        }
        self.conditions = [
            (
                cond["if"]["required"][0],
                sorted(_then_fields(cond["then"])),
                jsonschema.Draft202012Validator({"allOf": [cond]}),
            )
            for cond in schema.get("allOf", [])
        ]
        self.memo: dict[tuple[str, Any], tuple[Explained, ...]] = {}

    def _field(self, name: str, value: Any) -> tuple[Explained, ...]:
        key = _memo_key(value)
        if key is not None and (name, key) in self.memo:
            return self.memo[(name, key)]
        found = tuple(
            iter_explained(self.fields[name], value, self.scope, self.known, prefix=(name,))
        )
        if key is not None:
            if len(self.memo) >= MEMO_LIMIT:
                self.memo.clear()
            self.memo[(name, key)] = found
        return found

    def errors(self, params: dict[str, Any]) -> Iterator[Explained]:
        for name in params:
            if name not in self.fields:
                hint = suggest(name, self.known)
                message = f"unknown field {name!r}" + (f"; did you mean {hint!r}?" if hint else "")
                yield (name,), message, f"{self.scope}.unknown-field", True
        for name in self.required:
            if name not in params:
                yield (), f"missing required field {name!r}", f"{self.scope}.required", False
        for name, value in params.items():
            if name in self.fields:
                yield from self._field(name, value)
        for index, (trigger, needs, validator) in enumerate(self.conditions):
            if trigger not in params:
                continue
            # A condition reads its trigger's value and only the presence of the others.
            value_key = _memo_key(params[trigger])
            memo = (f"#{index}", (value_key, tuple(n in params for n in needs)))
            if value_key is not None and memo in self.memo:
                yield from self.memo[memo]
                continue
            found = tuple(iter_explained(validator, params, self.scope, self.known))
            if value_key is not None:
                self.memo[memo] = found
            yield from found


@cache
def checker(provider: str) -> MessageChecker:
    return MessageChecker(provider)
