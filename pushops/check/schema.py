"""Check one message's typed parameters against its provider schema, fast.

Validating a whole message with jsonschema costs about 1 ms (every ``if`` of every condition
is evaluated, every property descends). Campaigns repeat values heavily (DeviceType, PushType,
channels...), so each field's value is checked by jsonschema against that field's own schema
once and the outcome memoised; a table condition is evaluated only when its trigger field is
present (its ``if`` requires the trigger, so this changes no outcome). Unknown and missing
fields are set operations. The verdicts are jsonschema's; only the bookkeeping is ours.

Values seen once (titles, bodies, targets, URLs) cannot use the memo. For a field whose schema
uses only simple keywords (type, enum of strings, lengths, bounds, pattern, anyOf of such),
:func:`surely_valid` decides "valid" directly, with jsonschema's own comparisons; whenever it
is not sure (or the value is invalid) jsonschema checks the value and explains what is wrong.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any

import jsonschema

from pushops.check.explain import Explained, iter_explained, suggest
from pushops.schemas import MANAGED_FIELDS, MESSAGE_META, message_schema
from pushops.tables import load_table

MEMO_LIMIT = 200_000  # memoised field outcomes kept before the memo is cleared
_ABSENT = ("absent",)  # the memo key of a condition's trigger field left out (no type is named so)


def _memo_key(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return (type(value).__name__, value)
    try:
        return ("json", json.dumps(value, sort_keys=True, ensure_ascii=False))
    except (TypeError, ValueError):
        return None


# Keywords that assert nothing (jsonschema here has no format checker).
_ANNOTATIONS = frozenset(
    {"description", "examples", "default", "deprecated", "title", "$comment", "format"}
    | {"$schema", "$id", "$defs"}  # "$defs" only matters through "$ref", which is not known
    # What editors read (pushops.schemas): help and messages, never a verdict.
    | {"enumDescriptions", "markdownEnumDescriptions", "markdownDescription"}
    | {"deprecationMessage", "patternErrorMessage", "errorMessage"}
)
_TYPES: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: type(v) is str,
    "integer": lambda v: type(v) is int,
    "number": lambda v: type(v) is int or type(v) is float,
    "boolean": lambda v: type(v) is bool,
    "object": lambda v: type(v) is dict,
    "array": lambda v: type(v) is list,
}


def _all_of(checks: list[Callable[[Any], bool]]) -> Callable[[Any], bool]:
    """``checks`` joined with ``and``: chained closures, not a generator per value."""
    if not checks:
        return lambda v: True
    joined = checks[0]
    for check in checks[1:]:
        joined = (lambda a, b: lambda v: a(v) and b(v))(joined, check)
    return joined


def _required_only(branch: Any) -> list[str] | None:
    if isinstance(branch, dict) and set(branch) == {"required"}:
        return list(branch["required"])
    return None


def surely_valid(schema: dict[str, Any]) -> Callable[[Any], bool] | None:
    """A predicate that is True only for values ``schema`` accepts (False: not sure), or None
    when the schema uses a keyword this does not know."""
    if "anyOf" in schema:
        rest = {k: v for k, v in schema.items() if k != "anyOf"}
        branches = [surely_valid(b) for b in schema["anyOf"]]
        outer = surely_valid(rest)
        if outer is None or any(b is None for b in branches):
            return None
        known = [b for b in branches if b is not None]
        return lambda v: outer(v) and any(b(v) for b in known)
    checks: list[Callable[[Any], bool]] = []
    for key, arg in schema.items():
        if key in _ANNOTATIONS or key.startswith("x-"):
            continue
        if key == "type" and isinstance(arg, str) and arg in _TYPES:
            checks.append(_TYPES[arg])
        elif key == "enum" and all(type(e) is str for e in arg):
            options = frozenset(arg)
            checks.append(lambda v, o=options: type(v) is str and v in o)
        elif key == "minLength":
            checks.append(lambda v, n=arg: type(v) is not str or not len(v) < n)
        elif key == "maxLength":
            checks.append(lambda v, n=arg: type(v) is not str or not len(v) > n)
        elif key == "minimum":
            checks.append(lambda v, n=arg: type(v) in (int, float) and not v < n)
        elif key == "maximum":
            checks.append(lambda v, n=arg: type(v) in (int, float) and not v > n)
        elif key == "pattern":
            checks.append(lambda v, p=arg: type(v) is not str or re.search(p, v) is not None)
        elif key == "minItems":
            checks.append(lambda v, n=arg: type(v) is not list or not len(v) < n)
        elif key == "maxItems":
            checks.append(lambda v, n=arg: type(v) is not list or not len(v) > n)
        elif key == "required":
            names = tuple(arg)
            checks.append(lambda v, r=names: type(v) is not dict or all(k in v for k in r))
        elif key == "additionalProperties" and arg is False:
            allowed = frozenset(schema.get("properties", {}))
            checks.append(lambda v, a=allowed: type(v) is not dict or a.issuperset(v))
        elif key == "additionalProperties" and isinstance(arg, dict):
            rest = surely_valid(arg)
            if rest is None:
                return None
            named = frozenset(schema.get("properties", {}))
            checks.append(
                lambda v, s=rest, n=named: (
                    type(v) is not dict or all(s(item) for k, item in v.items() if k not in n)
                )  # type: ignore[misc]
            )
        elif key == "properties":
            subs = {name: surely_valid(sub) for name, sub in arg.items()}
            if any(sub is None for sub in subs.values()):
                return None
            checks.append(
                lambda v, s=subs: (
                    type(v) is not dict or all(s[k](item) for k, item in v.items() if k in s)
                )  # type: ignore[misc]
            )
        elif key == "items" and isinstance(arg, dict):
            sub = surely_valid(arg)
            if sub is None:
                return None
            checks.append(lambda v, s=sub: type(v) is not list or all(s(item) for item in v))
        elif key == "oneOf" and all(_required_only(b) is not None for b in arg):
            # Exactly one branch holds; "required" holds trivially for a non-object.
            wanted = [tuple(_required_only(b) or ()) for b in arg]
            checks.append(
                lambda v, w=wanted: (
                    sum(all(k in v for k in r) for r in w) == 1 if type(v) is dict else len(w) == 1
                )
            )
        else:
            return None
    return _all_of(checks)


class MessageChecker:
    """The provider schema of one message (less the fields pushops fills in), split up."""

    def __init__(self, provider: str) -> None:
        table = load_table(provider)
        schema = message_schema(table, authoring=False)
        managed = MANAGED_FIELDS[provider]
        self.scope = provider
        self.known = (*MESSAGE_META, *schema["properties"])
        self.required = [f for f in schema["required"] if f not in managed]
        self.fields = {
            name: jsonschema.Draft202012Validator(sub) for name, sub in schema["properties"].items()
        }
        self.quick = {
            name: check
            for name, sub in schema["properties"].items()
            if (check := surely_valid(sub)) is not None
        }
        # A condition reads its trigger's value and only the presence of the fields it needs.
        self.conditions = [
            (
                cond["x-field"],
                bool(cond["x-when-absent"]),
                sorted({f for fields in condition.then.values() for f in fields}),
                jsonschema.Draft202012Validator({"allOf": [cond]}),
            )
            for condition, cond in zip(table.conditions, schema.get("allOf", []), strict=True)
        ]
        self.memo: dict[tuple[Any, ...], tuple[Explained, ...]] = {}
        self._layouts: dict[tuple[str, ...], _Layout] = {}

    def _field(self, name: str, value: Any) -> tuple[Explained, ...]:
        quick = self.quick.get(name)
        if quick is not None and quick(value):
            return ()
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

    def _layout(self, names: tuple[str, ...]) -> _Layout:
        """What depends only on which fields a message sets (the rows of a fan-out all set
        the same ones): unknown and missing fields, and the conditions that apply, with the
        presence of the fields they test."""
        layout = self._layouts.get(names)
        if layout is None:
            present = set(names)
            unknown = []
            for name in names:
                if name not in self.fields:
                    hint = suggest(name, self.known)
                    text = f"unknown field {name!r}" + (f"; did you mean {hint!r}?" if hint else "")
                    unknown.append(((name,), text, f"{self.scope}.unknown-field", True))
            missing = [
                ((), f"missing required field {name!r}", f"{self.scope}.required", False)
                for name in self.required
                if name not in present
            ]
            conditions = [
                (index, trigger, trigger in present, tuple(n in present for n in needs), check)
                for index, (trigger, when_absent, needs, check) in enumerate(self.conditions)
                if trigger in present or when_absent
            ]
            if len(self._layouts) >= 1024:
                self._layouts.clear()
            layout = self._layouts[names] = (
                tuple(unknown),
                tuple(missing),
                tuple(n for n in names if n in self.fields),
                tuple(conditions),
            )
        return layout

    def errors(self, params: dict[str, Any]) -> Iterator[Explained]:
        unknown, missing, known, conditions = self._layout(tuple(params))
        yield from unknown
        yield from missing
        field = self._field
        for name in known:
            found = field(name, params[name])
            if found:
                yield from found
        memo = self.memo
        for index, trigger, has_trigger, present, validator in conditions:
            # A condition reads its trigger's value and only the presence of the others.
            value_key = _memo_key(params[trigger]) if has_trigger else _ABSENT
            key = ("#", index, value_key, present)
            if value_key is not None:
                found = memo.get(key)
                if found is not None:
                    if found:
                        yield from found
                    continue
            found = tuple(iter_explained(validator, params, self.scope, self.known))
            if value_key is not None:
                memo[key] = found
            yield from found


# Unknown fields, missing ones, the known ones set, and the conditions that apply.
_Layout = tuple[
    tuple[Explained, ...],
    tuple[Explained, ...],
    tuple[str, ...],
    tuple[tuple[int, str, bool, tuple[bool, ...], Any], ...],
]


@cache
def checker(provider: str) -> MessageChecker:
    return MessageChecker(provider)
