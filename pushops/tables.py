"""The providers' parameter tables, read from ``schemas/tables/*.yaml`` (format in its README).

Plain frozen data: the schema builder, the rule registry, the renderer's type coercion, the
emulator and the docs generator all read the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import yaml

PROVIDERS = ("emas", "mpaas")
TABLE_FILES = {"emas": "emas-masspush.yaml", "mpaas": "mpaas-pushbroadcast.yaml"}

# The API metadata types integers as int32 (Java Integer) unless a field is a Long, which the
# tables mark ``format: int64`` (epoch milliseconds are always Longs).
INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)
INT64_FORMATS = frozenset({"int64", "epoch-ms"})


def schemas_dir() -> Path:
    """The ``schemas/`` folder: the repository's in a checkout, the packaged copy in a wheel."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "schemas", here / "_schemas"):
        if (candidate / "tables").is_dir():
            return candidate
    raise FileNotFoundError("pushops schemas/ folder not found next to the package")


@dataclass(frozen=True)
class Value:
    value: Any
    meaning: str = ""


@dataclass(frozen=True)
class VendorKey:
    key: str
    values: tuple[Value, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class Param:
    """One row of a parameter table."""

    name: str
    type: str
    description: str = ""
    required: bool = False
    json: str | None = None
    wire: str | None = None
    format: str | None = None
    values: tuple[Value, ...] = ()
    limits: dict[str, Any] = field(default_factory=dict)
    default: Any = None
    deprecated: str | bool = False
    placement: str = "body"
    sources: tuple[str, ...] = ()
    group: str = ""
    example: Any = None
    fields: tuple[Param, ...] = ()
    items: str | None = None
    keys: tuple[VendorKey, ...] = ()
    versions: tuple[str, ...] = ()
    uncertain: str = ""
    # Inside a JSON object's ``fields``: this field must be present when another one has one of
    # these values (a sibling in the same object, else a field of the message).
    required_when: dict[str, tuple[Any, ...]] = field(default_factory=dict)

    @property
    def allowed(self) -> tuple[Any, ...]:
        return tuple(v.value for v in self.values)

    def limit_phrases(self) -> list[str]:
        """The size limits in words ("at most 200 UTF-8 bytes"), for help text and docs."""
        units = (
            ("max_bytes", "UTF-8 bytes"),
            ("max_chars", "characters"),
            ("max_entries", "comma-separated entries"),
            ("max_items", "JSON array elements"),
            ("max_keys", "keys"),
        )
        return [f"at most {self.limits[k]} {unit}" for k, unit in units if k in self.limits]

    def integer_bounds(self) -> tuple[int, int]:
        """The least and greatest value of an integer field: its own limits, inside the API's
        integer width (int32, or int64 for a Long)."""
        low, high = INT64 if self.format in INT64_FORMATS else INT32
        return max(low, self.limits.get("minimum", low)), min(
            high, self.limits.get("maximum", high)
        )

    def __hash__(self) -> int:  # limits is a dict; rows are identified by name
        return hash(self.name)


@dataclass(frozen=True)
class Condition:
    id: str
    when: dict[str, Any]
    then: dict[str, tuple[str, ...]]
    message: str
    # The field's documented default meets ``when``: the provider applies the condition to a
    # message that leaves the field out (mPaaS PushStatus defaults to 0, which needs BindPeriod).
    on_default: bool = False

    @property
    def fires_when_absent(self) -> bool:
        return self.on_default or self.when.get("present", True) is False


@dataclass(frozen=True)
class ParameterTable:
    provider: str
    product: str
    action: str
    version: str
    versions: tuple[str, ...]
    item: str | None
    max_items: int | None
    parameters: tuple[Param, ...]
    item_parameters: tuple[Param, ...]
    conditions: tuple[Condition, ...]
    path: Path
    # Limits across fields or calls (time windows, call size): the one place rules, the
    # emulator and compile read them from.
    limits: dict[str, Any] = field(default_factory=dict)

    # Cached: rules and coercion look these up for every message.
    @cached_property
    def request_params(self) -> dict[str, Param]:
        return {p.name: p for p in self.parameters}

    @cached_property
    def item_params(self) -> dict[str, Param]:
        return {p.name: p for p in self.item_parameters}

    @cached_property
    def message_params(self) -> dict[str, Param]:
        """The parameters a campaign author writes for one message (PushTask or broadcast)."""
        return self.item_params if self.item else self.request_params


def _param(row: dict[str, Any]) -> Param:
    return Param(
        name=row["name"],
        type=row["type"],
        description=row.get("description", ""),
        required=bool(row.get("required", False)),
        json=row.get("json"),
        wire=row.get("wire"),
        format=row.get("format"),
        values=tuple(Value(v["value"], v.get("meaning", "")) for v in row.get("values") or ()),
        limits=dict(row.get("limits") or {}),
        default=row.get("default"),
        deprecated=row.get("deprecated", False) or False,
        placement=row.get("placement", "body"),
        sources=tuple(row.get("sources") or ()),
        group=row.get("group", ""),
        example=row.get("example"),
        fields=tuple(_param(f) for f in row.get("fields") or ()),
        items=row.get("items"),
        keys=tuple(
            VendorKey(
                k["key"],
                tuple(Value(v["value"], v.get("meaning", "")) for v in k.get("values") or ()),
                k.get("description", ""),
            )
            for k in row.get("keys") or ()
        ),
        versions=tuple(row.get("versions") or ()),
        uncertain=row.get("uncertain", ""),
        required_when={k: tuple(v) for k, v in (row.get("required_when") or {}).items()},
    )


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b  # 0 is not False, "1" is not 1


def _meets(when: dict[str, Any], value: Any) -> bool:
    if "equals" in when:
        return _same(when["equals"], value)
    return "in" in when and any(_same(option, value) for option in when["in"])


def _condition(row: dict[str, Any], params: dict[str, Param]) -> Condition:
    then = {k: tuple(v) for k, v in (row.get("then") or {}).items()}
    when = dict(row["when"])
    field_param = params.get(when.get("field", ""))
    default = field_param.default if field_param is not None else None
    on_default = default is not None and _meets(when, default)
    return Condition(row["id"], when, then, row.get("message", ""), on_default)


def parse_table(path: Path) -> ParameterTable:
    with path.open("rb") as fh:
        doc = yaml.load(fh, Loader=yaml.CSafeLoader)
    parameters = tuple(_param(r) for r in doc.get("parameters") or ())
    item_parameters = tuple(_param(r) for r in doc.get("item_parameters") or ())
    # Conditions speak of one message's fields: a PushTask's, or an mPaaS request's.
    message_params = {p.name: p for p in (item_parameters if doc.get("item") else parameters)}
    return ParameterTable(
        provider=doc["provider"],
        product=doc["product"],
        action=doc["action"],
        version=str(doc["version"]),
        versions=tuple(str(v) for v in doc.get("versions") or (doc["version"],)),
        item=doc.get("item"),
        max_items=doc.get("max_items"),
        parameters=parameters,
        item_parameters=item_parameters,
        conditions=tuple(_condition(c, message_params) for c in doc.get("conditions") or ()),
        path=path,
        limits=dict(doc.get("limits") or {}),
    )


def __getattr__(name: str) -> int:
    """``MASS_PUSH_MAX_TASKS`` (PushTasks per call) and ``CALL_SIZE_LIMIT`` (tasks x the widest
    TargetValue list, "parent x child <= 10000", read as the stricter of its two readings),
    from the EMAS table, for code that wants them as constants."""
    if name == "MASS_PUSH_MAX_TASKS":
        return int(load_table("emas").max_items or 0)
    if name == "CALL_SIZE_LIMIT":
        return int(load_table("emas").limits["call_size"])
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@cache
def load_table(provider: str) -> ParameterTable:
    """The parameter table of a provider id (``emas`` or ``mpaas``), read once per process."""
    if provider not in TABLE_FILES:
        raise KeyError(f"unknown provider {provider!r}; known: {', '.join(PROVIDERS)}")
    return parse_table(schemas_dir() / "tables" / TABLE_FILES[provider])
