"""Export and import: a ledger as a versioned JSON Lines stream, to move it between backends.

The stream is, one JSON object per line::

    {"kind": "pushops-ledger", "format_version": 1, "schema_version": 1, "lineage": ...,
     "serial": ..., "created_at": ...}
    {"kind": "call", <every Call field>}                       ordered by call_id
    {"kind": "delivery", <every Delivery field>}               ordered by key, generation
    {"kind": "override", <every policy override column>}       ordered by override_id
    {"kind": "end", "calls": N, "deliveries": M, "overrides": K}

(An export from before policy overrides has no ``override`` lines and no ``overrides``
count; it imports as a ledger without overrides.)

Everything is read in one snapshot. Times are ISO 8601 UTC text and requests/responses JSON
values, exactly as stored, so export -> import -> export gives the same bytes on any backend.
The trailing ``end`` line makes a truncated file fail instead of importing half a ledger.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from pushops.ledger import sql
from pushops.ledger.codec import CALL_COLUMNS, DELIVERY_COLUMNS, json_text, text_json, time_text
from pushops.ledger.errors import ImportFormatError, LedgerConflictError
from pushops.ledger.storage import Storage

FORMAT = "pushops-ledger"
FORMAT_VERSION = 1
BATCH = 1000

_JSON_FIELDS = {"request", "response", "findings"}
_TIME_FIELDS = {"created_at", "sent_at", "updated_at", "due_at", "expires_at"}
# Export field names: the record's, so ``is_current`` travels as ``current``.
_CALL_FIELDS = CALL_COLUMNS
_DELIVERY_FIELDS = tuple("current" if c == "is_current" else c for c in DELIVERY_COLUMNS)
_OVERRIDE_FIELDS = sql.OVERRIDE_COLUMNS
_COLUMNS = {"call": CALL_COLUMNS, "delivery": DELIVERY_COLUMNS, "override": _OVERRIDE_FIELDS}


def _line(obj: dict[str, Any]) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False) + "\n"


def _record(kind: str, fields: tuple[str, ...], row: tuple[Any, ...]) -> str:
    obj: dict[str, Any] = {"kind": kind}
    for name, value in zip(fields, row, strict=True):
        if name in _JSON_FIELDS:
            value = text_json(value)
        elif name == "current":
            value = bool(value)
        obj[name] = value
    return _line(obj)


def export_lines(ledger: Storage) -> Iterator[str]:
    with ledger.snapshot() as tx:
        meta = tx.one(sql.META)
        version = tx.one(sql.SCHEMA_VERSION)
        assert meta is not None and version is not None
        yield _line(
            {
                "kind": FORMAT,
                "format_version": FORMAT_VERSION,
                "schema_version": version[0],
                "lineage": meta[0],
                "serial": meta[1],
                "created_at": meta[2],
            }
        )
        counts = {"calls": 0, "deliveries": 0}
        for row in ledger.stream_rows(tx, sql.ALL_CALLS, ()):
            counts["calls"] += 1
            yield _record("call", _CALL_FIELDS, row)
        for row in ledger.stream_rows(tx, sql.ALL_DELIVERIES, ()):
            counts["deliveries"] += 1
            yield _record("delivery", _DELIVERY_FIELDS, row)
        counts["overrides"] = 0
        for row in ledger.stream_rows(tx, sql.ALL_OVERRIDES, ()):
            counts["overrides"] += 1
            yield _record("override", _OVERRIDE_FIELDS, row)
        yield _line({"kind": "end", **counts})


def _row(number: int, obj: dict[str, Any], fields: tuple[str, ...]) -> tuple[Any, ...]:
    given = set(obj) - {"kind"}
    if given != set(fields):
        missing, extra = set(fields) - given, given - set(fields)
        raise ImportFormatError(
            f"line {number}: {obj['kind']} fields differ from this format "
            f"(missing {sorted(missing)}, unexpected {sorted(extra)})"
        )
    row = []
    for name in fields:
        value = obj[name]
        if name in _JSON_FIELDS:
            value = None if value is None and name == "response" else json_text(value)
        elif name in _TIME_FIELDS and value is not None:
            try:
                value = time_text(datetime.fromisoformat(value))
            except (TypeError, ValueError) as exc:
                raise ImportFormatError(f"line {number}: {name}: {exc}") from exc
        elif name == "current":
            value = 1 if value else 0
        row.append(value)
    return tuple(row)


def _parse(lines: Iterable[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, text in enumerate(lines, 1):
        if not text.strip():
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ImportFormatError(f"line {number}: not JSON: {exc}") from exc
        if not isinstance(obj, dict) or "kind" not in obj:
            raise ImportFormatError(f"line {number}: not a ledger export record")
        yield number, obj


def import_lines(ledger: Storage, lines: Iterable[str]) -> None:
    records = _parse(lines)
    first = next(records, None)
    if first is None or first[1].get("kind") != FORMAT:
        raise ImportFormatError("not a pushops ledger export (no header line)")
    header = first[1]
    if header.get("format_version") != FORMAT_VERSION:
        raise ImportFormatError(
            f"export format version {header.get('format_version')} is not the version "
            f"{FORMAT_VERSION} this pushops reads"
        )
    # Lock rows and schema history are local to a store; lineage, serial and records move.
    with ledger.bulk_load() as tx:
        existing = tx.one(sql.COUNT_RECORDS)
        if existing is not None and existing[0]:
            raise LedgerConflictError(
                f"ledger {ledger.location} already has {existing[0]} records; "
                "import only into an empty ledger"
            )
        counts = {"call": 0, "delivery": 0, "override": 0}
        batch: list[tuple[Any, ...]] = []
        batch_kind = ""
        tables = {"call": "calls", "delivery": "deliveries", "override": "policy_overrides"}
        fields = {"call": _CALL_FIELDS, "delivery": _DELIVERY_FIELDS, "override": _OVERRIDE_FIELDS}
        end = None
        for number, obj in records:
            kind = obj["kind"]
            if end is not None:
                raise ImportFormatError(f"line {number}: records after the end line")
            if kind == "end":
                end = (number, obj)
                continue
            if kind not in tables:
                raise ImportFormatError(f"line {number}: unknown record kind {kind!r}")
            if batch and (kind != batch_kind or len(batch) >= BATCH):
                ledger.insert_rows(tx, tables[batch_kind], _COLUMNS[batch_kind], batch)
                batch = []
            batch_kind = kind
            batch.append(_row(number, obj, fields[kind]))
            counts[kind] += 1
        if batch:
            ledger.insert_rows(tx, tables[batch_kind], _COLUMNS[batch_kind], batch)
        if end is None:
            raise ImportFormatError("the export is truncated: no end line; nothing imported")
        said = (end[1].get("calls"), end[1].get("deliveries"), end[1].get("overrides", 0))
        if said != (counts["call"], counts["delivery"], counts["override"]):
            raise ImportFormatError(
                f"line {end[0]}: the end line counts {said[0]} calls, {said[1]} deliveries and "
                f"{said[2]} overrides, the stream had {counts['call']}, {counts['delivery']} "
                f"and {counts['override']}; nothing imported"
            )
        tx.execute(sql.SET_SERIAL, (header["lineage"], header["serial"], header["created_at"]))
