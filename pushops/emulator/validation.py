"""Parameter checks compiled from the parameter tables (schemas/tables/*.yaml).

Each row with something to check (a type other than string, allowed values, a format, JSON,
limits) becomes one small closure; rows without constraints cost nothing per call. A failed
check is reported as ``(name, kind, detail)``, kind one of Format, LengthExceed, BytesExceed,
Empty, Missing (for LengthExceed and BytesExceed the detail is the limit itself, which the
documented messages quote); the product handlers turn that into their own error (EMAS
``Invalid{Name}.*`` codes, mPaaS ResultCodes). Integers are bounded by the API's width (int32,
or int64 for Longs) and JSON never holds NaN or Infinity, as the tables say.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pushops.emulator.clock import parse_iso_utc
from pushops.params import INT_TEXT, NUMBER_TEXT
from pushops.tables import Condition, Param

Problem = tuple[str, str, str]  # (parameter name, kind, detail)
Check = Callable[[str], "tuple[str, str] | None"]  # value -> (kind, detail) or None
# values -> True when every one of them surely passes the row's Check (False: ask the Check)
BulkCheck = Callable[[Collection[str]], bool]

# The same forms the client reads (ASCII digits only: ``\d`` would take any script's digits).
_INT = re.compile(INT_TEXT).fullmatch
_NUMBER = re.compile(NUMBER_TEXT).fullmatch
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_TIME = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]").fullmatch


def is_true(value: str) -> bool:
    """Booleans arrive as ``true``/``True``/``TRUE`` (Tea sends Python's ``str(True)``)."""
    return value.lower() == "true"


def _typed(kind: str, value: str) -> Any:
    """The value as the row's type, or None when it is not one."""
    if kind == "integer":
        return int(value) if _INT(value) else None
    if kind == "number":
        return float(value) if _NUMBER(value) else None
    if kind == "boolean":
        low = value.lower()
        return True if low == "true" else False if low == "false" else None
    return value


_BOOLEANS = frozenset({"true", "false"})


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _json(value: str) -> Any:
    """The JSON document ``value`` holds; ValueError for invalid JSON, NaN and Infinity
    included (Python's json reads them, JSON does not)."""
    return json.loads(value, parse_constant=_refuse_constant)


def _fast_check(
    kind: str, allowed: set[str], limits: dict[str, Any], fmt: str | None, json_kind: str | None
) -> tuple[Check, BulkCheck] | None:
    """Specialised checks for the shapes most rows have: they run for every field of every
    PushTask, so each is one or two C-level operations when the value is fine. Each comes
    with its bulk form, which clears a whole column of a MassPush (100 values, most of them
    unique: device ids, bodies) in one C-level pass instead of one call per value."""
    plain = not limits and not fmt and not json_kind
    if kind == "string" and allowed and plain:
        choices = frozenset(allowed)
        shown = sorted(allowed)
        return (
            lambda v: None if v in choices else ("Format", f"{v!r} is not one of {shown}"),
            choices.issuperset,
        )
    if kind == "boolean" and not allowed and plain:
        return (
            lambda v: None if v.lower() in _BOOLEANS else ("Format", f"not a boolean: {v!r}"),
            lambda values: _BOOLEANS.issuperset(map(str.lower, values)),
        )
    if (
        kind == "string"
        and not allowed
        and not fmt
        and not json_kind
        and set(limits) == {"max_bytes"}
    ):
        most = limits["max_bytes"]

        def check_bytes(v: str) -> tuple[str, str] | None:
            # A character is at most 4 bytes in UTF-8: only long values need encoding.
            if len(v) * 4 <= most or len(v.encode()) <= most:
                return None
            return "BytesExceed", str(most)

        return check_bytes, lambda values: not values or max(map(len, values)) * 4 <= most
    if kind == "string" and fmt == "csv" and not allowed and set(limits) == {"max_entries"}:
        most = limits["max_entries"]
        # Fewer commas in all the values together than the limit: fewer in each.
        return (
            lambda v: None if v.count(",") < most else ("LengthExceed", str(most)),
            lambda values: "".join(values).count(",") < most,
        )
    return None


def _compile(param: Param) -> tuple[Check, BulkCheck | None] | None:
    kind = param.type
    allowed = {str(v).lower() if isinstance(v, bool) else str(v) for v in param.allowed}
    limits = param.limits
    fmt = param.format
    json_kind = param.json or ("object" if kind == "map" and param.wire == "json" else None)
    if kind == "map" and param.wire == "flatten":
        json_kind = "object"  # when sent as one field rather than flattened (api-facts §4.6)
    if kind == "string" and not allowed and not limits and not fmt and not json_kind:
        return None
    if kind == "integer":
        low, high = param.integer_bounds()
        limits = {**limits, "minimum": low, "maximum": high}
    fast = _fast_check(kind, allowed, limits, fmt, json_kind)
    if fast is not None:
        return fast

    def check(value: str) -> tuple[str, str] | None:
        if kind in ("integer", "number", "boolean"):
            typed = _typed(kind, value)
            if typed is None:
                return "Format", f"expected {kind}, got {value!r}"
            if allowed and (value.lower() if kind == "boolean" else str(typed)) not in allowed:
                return "Format", f"{value!r} is not one of {sorted(allowed)}"
            if "minimum" in limits and typed < limits["minimum"]:
                return "Format", f"below the minimum {limits['minimum']}"
            if "maximum" in limits and typed > limits["maximum"]:
                return "Format", f"above the maximum {limits['maximum']}"
            return None
        if fmt == "csv":
            entries = value.split(",")
            if allowed and any(e not in allowed for e in entries):
                return "Format", f"{value!r} has an entry outside {sorted(allowed)}"
            if len(entries) > limits.get("max_entries", len(entries)):
                return "LengthExceed", str(limits["max_entries"])
        elif allowed and value not in allowed:
            return "Format", f"{value!r} is not one of {sorted(allowed)}"
        if fmt == "utc-datetime" and parse_iso_utc(value) is None:
            return "Format", "expected YYYY-MM-DDThh:mm:ssZ"
        if fmt == "uuid" and not _UUID.fullmatch(value):
            return "Format", "expected a UUID"
        if fmt == "time" and not _TIME(value):
            return "Format", "expected HH:mm:ss"
        if fmt == "epoch-ms" and not _INT(value):
            return "Format", "expected epoch milliseconds"
        if "max_chars" in limits and len(value) > limits["max_chars"]:
            return "LengthExceed", str(limits["max_chars"])
        if "max_bytes" in limits and len(value.encode()) > limits["max_bytes"]:
            return "BytesExceed", str(limits["max_bytes"])
        if json_kind:
            try:
                doc = _json(value)
            except ValueError:
                return "Format", f"expected a JSON {json_kind}"
            if not isinstance(doc, dict if json_kind == "object" else list):
                return "Format", f"expected a JSON {json_kind}"
            most = limits.get("max_keys", limits.get("max_items"))
            if most is not None and len(doc) > most:
                return "LengthExceed", str(most)
        return None

    return check, None


def _trigger(cond: Condition) -> Callable[[str], bool]:
    """A test of the condition's field value (present, non-None), built once per table."""
    when = cond.when

    def norm(expected: Any) -> str:
        return str(expected).lower() if isinstance(expected, bool) else str(expected)

    if "present" in when:
        wanted = bool(when["present"])
        return lambda value: bool(value) == wanted
    options = {norm(e) for e in (when["in"] if "in" in when else [when.get("equals")])}
    if any(isinstance(e, bool) for e in (when.get("in") or [when.get("equals")])):
        return lambda value: value.lower() in options
    return lambda value: value in options


@dataclass(frozen=True)
class Validator:
    """Checks one message's parameters (an EMAS PushTask or an mPaaS request)."""

    params: Mapping[str, Param]
    checks: Mapping[str, Check]
    bulk_checks: Mapping[str, BulkCheck]  # the rows whose checks have a bulk form
    checked: frozenset[str]
    required: tuple[str, ...]
    conditions: tuple[tuple[str, Callable[[str], bool], Condition], ...]
    condition_fields: frozenset[str]
    fire_on_absence: bool  # some condition fires on an absent field

    @classmethod
    def build(cls, params: Iterable[Param], conditions: Iterable[Condition]) -> Validator:
        rows = {p.name: p for p in params}
        compiled = {name: c for name, p in rows.items() if (c := _compile(p)) is not None}
        checks = {name: check for name, (check, _) in compiled.items()}
        bulk = {name: b for name, (_, b) in compiled.items() if b is not None}
        required = tuple(name for name, p in rows.items() if p.required)
        # A condition can only demand fields the API version has (2019-08-21 has no
        # BindPeriod, which PushStatus 0 needs in 2020-10-28).
        known = tuple(
            (c.when["field"], _trigger(c), c)
            for c in conditions
            if c.when.get("field") in rows and all(f in rows for v in c.then.values() for f in v)
        )
        fields = frozenset(f for f, _, _ in known)
        on_absence = any(c.fires_when_absent for _, _, c in known)
        return cls(rows, checks, bulk, frozenset(checks), required, known, fields, on_absence)

    def problems(self, values: Mapping[str, str]) -> Problem | None:
        """The first problem in ``values`` (decoded wire strings), or None."""
        for name in self.required:
            value = values.get(name)
            if value is None:
                return name, "Missing", ""
            if value == "":
                return name, "Empty", ""
        checks = self.checks
        # Set operations run in C (iterating the few fields given, not the table's many rows);
        # most fields of a PushTask have nothing to check.
        for name in self.checked.intersection(values):
            value = values[name]
            # An empty optional field is how SDKs say "unset"; nothing to check.
            if value != "":
                found = checks[name](value)
                if found is not None:
                    return name, found[0], found[1]
        if self.fire_on_absence:
            candidates = self.conditions  # a condition firing on absence needs them all
        else:
            fields = self.condition_fields.intersection(values)
            if not fields:
                return None
            candidates = tuple(c for c in self.conditions if c[0] in fields)
        for field, triggered, cond in candidates:
            value = values.get(field)
            # Absent fields fire only "present: false" conditions and those the field's
            # default meets (the provider applies the default).
            if value is None:
                if not cond.fires_when_absent:
                    continue
            elif not triggered(value):
                continue
            problem = _unmet(cond, values)
            if problem is not None:
                return problem
        return None

    def all_clear(
        self, n: int, counts: Mapping[str, int], column: Callable[[str], Sequence[str]]
    ) -> bool:
        """True only when :meth:`problems` finds nothing in any of ``n`` messages, given per
        field how many messages have it (``counts``) and their values (``column``).

        Each distinct value is checked once for the whole batch (a 100-task call repeats most
        of them). Conservative: False means "look message by message", which may then find
        nothing after all; the errors themselves always come from :meth:`problems`.
        """
        for name in self.required:
            if counts.get(name) != n or "" in column(name):
                return False
        checks, bulk_checks = self.checks, self.bulk_checks
        for name in self.checked.intersection(counts):
            values = column(name)
            bulk = bulk_checks.get(name)
            if bulk is not None and bulk(values):
                continue
            check = checks[name]
            for value in set(values):
                if value != "" and check(value) is not None:
                    return False
        for field, triggered, cond in self.conditions:
            count = counts.get(field, 0)
            # As in problems(): absent fields fire only the conditions that fire on absence.
            fires = count < n and cond.fires_when_absent
            if not fires and count:
                fires = any(triggered(value) for value in set(column(field)))
            if fires and not self._met_by_all(n, counts, column, cond):
                return False
        return True

    @staticmethod
    def _met_by_all(
        n: int,
        counts: Mapping[str, int],
        column: Callable[[str], Sequence[str]],
        cond: Condition,
    ) -> bool:
        """Whether every message, triggered or not, meets ``cond``'s demands (stricter than
        needed, which only sends the batch to the per-message check)."""

        def all_set(name: str) -> bool:
            return counts.get(name) == n and "" not in column(name)

        then = cond.then
        if not all(all_set(name) for name in then.get("require", ())):
            return False
        any_of = then.get("require_any", ())
        if any_of and not any(all_set(name) for name in any_of):
            return False
        return all(not counts.get(name) or not any(column(name)) for name in then.get("forbid", ()))


def _unmet(cond: Condition, values: Mapping[str, str]) -> Problem | None:
    then = cond.then
    for name in then.get("require", ()):
        if not values.get(name):
            return name, "Missing", cond.message
    any_of = then.get("require_any", ())
    if any_of and not any(values.get(n) for n in any_of):
        return any_of[0], "Missing", cond.message
    for name in then.get("forbid", ()):
        if values.get(name):
            return name, "Format", cond.message
    return None


def unflatten(values: Mapping[str, str], params: Mapping[str, Param]) -> dict[str, str]:
    """Fold flattened map fields (``Name.key=value``) back into one JSON field ``Name``.

    Tea flattens dict-typed fields (api-facts §0.2); checking and recording them as one JSON
    object keeps both wire forms equal.
    """
    if "." not in "\0".join(values):  # one C-level scan instead of a generator
        return dict(values)
    out: dict[str, str] = {}
    maps: dict[str, dict[str, Any]] = {}
    for key, value in values.items():
        head, dot, rest = key.partition(".")
        if dot and head in params and params[head].type == "map":
            node = maps.setdefault(head, {})
            *path, last = rest.split(".")
            for part in path:
                node = node.setdefault(part, {})
            node[last] = value
        else:
            out[key] = value
    for name, doc in maps.items():
        out[name] = json.dumps(doc, separators=(",", ":"), ensure_ascii=False)
    return out
