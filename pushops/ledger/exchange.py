"""Export and import: a ledger as a versioned JSON Lines stream, to move it between backends.

The stream is, one JSON object per line::

    {"kind": "pushops-ledger", "format_version": 1, "schema_version": 1, "lineage": ...,
     "serial": ..., "created_at": ...}
    {"kind": "call", <every Call field>}                       ordered by call_id
    {"kind": "delivery", <every Delivery field>}               ordered by key, generation
    {"kind": "override", <every policy override column>}       ordered by override_id
    {"kind": "event", <every delivery event column; its kind as "event">}  by serial, position
    {"kind": "end", "calls": N, "deliveries": M, "overrides": K, "events": E}

(An export from before policy overrides or delivery events has no such lines and no such
count; it imports as a ledger without them. The cached provider statistics do not move: the
next ``pushops report`` reads them again.)

Everything is read in one snapshot. Times are ISO 8601 UTC text and requests/responses JSON
values, exactly as stored, so export -> import -> export gives the same bytes on any backend.
The trailing ``end`` line makes a truncated file fail instead of importing half a ledger.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from pushops.ledger import sql
from pushops.ledger.codec import (
    CALL_COLUMNS,
    DELIVERY_COLUMNS,
    IN_CALL,
    json_text,
    text_json,
    time_text,
)
from pushops.ledger.errors import ImportFormatError, LedgerConflictError
from pushops.ledger.events import ALL_EVENTS, EVENT_COLUMNS
from pushops.ledger.migrations import latest_version
from pushops.ledger.records import (
    ACTIONS,
    CALL_STATUSES,
    DELIVERY_STATUSES,
    EVENT_KINDS,
    LINEAGE,
    PROVIDERS,
    key_problem,
)
from pushops.ledger.storage import Storage, Tx, insert_calls, select_calls

FORMAT = "pushops-ledger"
FORMAT_VERSION = 1
BATCH = 1000

_JSON_FIELDS = {"request", "response", "findings", "evidence"}
_NULLABLE_JSON = {"response", "evidence"}
_TIME_FIELDS = {"created_at", "sent_at", "updated_at", "due_at", "expires_at", "at"}
# Export field names: the record's, so ``is_current`` travels as ``current``.
_CALL_FIELDS = CALL_COLUMNS
_DELIVERY_FIELDS = tuple("current" if c == "is_current" else c for c in DELIVERY_COLUMNS)
_OVERRIDE_FIELDS = sql.OVERRIDE_COLUMNS
# An event's own kind (resolved, abandoned...) travels as ``event``: ``kind`` names the record.
_EVENT_FIELDS = tuple("event" if c == "kind" else c for c in EVENT_COLUMNS)
_REQUEST_AT = DELIVERY_COLUMNS.index("request")
_CALL_AT = DELIVERY_COLUMNS.index("call_id")
_COLUMNS = {
    "call": CALL_COLUMNS,
    "delivery": DELIVERY_COLUMNS,
    "override": _OVERRIDE_FIELDS,
    "event": EVENT_COLUMNS,
}


def _line(obj: dict[str, Any]) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False) + "\n"


def _record(kind: str, fields: tuple[str, ...], row: tuple[Any, ...]) -> str:
    obj: dict[str, Any] = {"kind": kind}
    for name, value in zip(fields, row, strict=True):
        if name in _JSON_FIELDS and not (value is None and name in _NULLABLE_JSON):
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
        for row in ledger.stream_rows(tx, select_calls(ledger, sql.ALL_CALLS), ()):
            counts["calls"] += 1
            yield _record("call", _CALL_FIELDS, row)
        packs = ledger.call_packs(tx)
        for row in ledger.stream_rows(tx, sql.ALL_DELIVERIES, ()):
            counts["deliveries"] += 1
            if row[_REQUEST_AT] == IN_CALL:  # kept with its call (schema version 6)
                row = (
                    *row[:_REQUEST_AT],
                    packs.text(row[_CALL_AT], row[0]),
                    *row[_REQUEST_AT + 1 :],
                )
            yield _record("delivery", _DELIVERY_FIELDS, row)
        counts["overrides"] = 0
        overrides = ledger.has_table("policy_overrides")  # an older ledger, read as it is
        for row in ledger.stream_rows(tx, sql.ALL_OVERRIDES, ()) if overrides else ():
            counts["overrides"] += 1
            yield _record("override", _OVERRIDE_FIELDS, row)
        counts["events"] = 0
        if ledger.has_events:
            for row in ledger.stream_rows(tx, ALL_EVENTS, ()):
                counts["events"] += 1
                yield _record("event", _EVENT_FIELDS, row)
        yield _line({"kind": "end", **counts})


# ---------------------------------------------------------------- reading an export
#
# Nothing of a stream is trusted: every value is checked for what both backends store alike
# (PostgreSQL's INTEGER is 32 bits and its text holds no NUL; SQLite would take anything),
# so a bad file is a clear error naming its line, and nothing of it is imported.

_INT32 = 2**31 - 1
_INT64 = 2**63 - 1
MAX_DEPTH = 64  # a request pushops writes is 3 or 4 levels deep


def _text(value: Any) -> str | None:
    if not isinstance(value, str):
        return "is not text"
    return "holds a NUL character" if "\x00" in value else None


def _optional(check: Any) -> Any:
    return lambda value: None if value is None else check(value)


def _key(value: Any) -> str | None:
    return _text(value) or key_problem(value)


def _count(value: Any, low: int = 0) -> str | None:
    if not isinstance(value, int) or isinstance(value, bool):
        return "is not a whole number"
    return None if low <= value <= _INT32 else f"is out of range ({low} to {_INT32:,})"


def _serial(value: Any) -> str | None:
    if not isinstance(value, int) or isinstance(value, bool):
        return "is not a whole number"
    return None if 0 <= value <= _INT64 else f"is out of range (0 to {_INT64:,})"


def _time(value: Any) -> str | None:
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return "is not an ISO 8601 time"
    return None if moment.tzinfo is not None else "has no time zone"


def _one_of(values: tuple[str, ...]) -> Any:
    return lambda value: None if value in values else f"is not one of {', '.join(values)}"


def _depth(value: Any) -> int:
    deepest, level = 0, [(value, 1)]
    while level:
        item, depth = level.pop()
        deepest = max(deepest, depth)
        if depth > MAX_DEPTH:
            return depth
        children = (
            item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        )
        level.extend((child, depth + 1) for child in children)
    return deepest


def _json(value: Any) -> str | None:
    return f"is nested deeper than {MAX_DEPTH} levels" if _depth(value) > MAX_DEPTH else None


def _boolean(value: Any) -> str | None:
    return None if isinstance(value, bool) else "is not true or false"


_OPTIONAL_TEXT = _optional(_text)
_CHECKS: dict[str, dict[str, Any]] = {
    "call": {
        "call_id": _key,
        "environment": _text,
        "provider": _one_of(PROVIDERS),
        "app": _text,
        "action": _one_of(ACTIONS),
        "token": _text,
        "request": _json,
        "status": _one_of(CALL_STATUSES),
        "attempts": _count,
        "response": _json,
        "error_code": _OPTIONAL_TEXT,
        "error_message": _OPTIONAL_TEXT,
        "request_id": _OPTIONAL_TEXT,
        "created_at": _time,
        "sent_at": _optional(_time),
        "updated_at": _time,
        "git_commit": _OPTIONAL_TEXT,
        "actor": _OPTIONAL_TEXT,
    },
    "delivery": {
        "key": _key,
        "environment": _text,
        "campaign": _text,
        "task": _text,
        "fingerprint": _text,
        "request": _json,
        "call_id": _key,
        "position": _count,
        "status": _one_of(DELIVERY_STATUSES),
        "message_id": _OPTIONAL_TEXT,
        "due_at": _optional(_time),
        "expires_at": _optional(_time),
        "created_at": _time,
        "updated_at": _time,
        "git_commit": _OPTIONAL_TEXT,
        "actor": _OPTIONAL_TEXT,
        "cancelled_by": _OPTIONAL_TEXT,
        "generation": lambda value: _count(value, 1),
        "current": _boolean,
    },
    "override": {
        "override_id": _key,
        "environment": _text,
        "policy": _text,
        "level": _text,
        "reason": _text,
        "actor": _text,
        "created_at": _time,
        "git_commit": _OPTIONAL_TEXT,
        "findings": _json,
    },
    "event": {
        "serial": _serial,
        "position": _count,
        "environment": _text,
        "key": _optional(_key),
        "call_id": _optional(_key),
        "at": _time,
        "actor": _OPTIONAL_TEXT,
        "event": _one_of(EVENT_KINDS),
        "status_from": _optional(_one_of(DELIVERY_STATUSES)),
        "status_to": _optional(_one_of(DELIVERY_STATUSES)),
        "evidence": _json,
    },
}


def _checked(number: int, kind: str, name: str, value: Any) -> None:
    problem = _CHECKS[kind][name](value)
    if problem is not None:
        raise ImportFormatError(f"line {number}: {kind} field {name!r} {problem}; nothing imported")


def _row(number: int, obj: dict[str, Any], fields: tuple[str, ...]) -> tuple[Any, ...]:
    kind = obj["kind"]
    given = set(obj) - {"kind"}
    if given != set(fields):
        missing, extra = set(fields) - given, given - set(fields)
        raise ImportFormatError(
            f"line {number}: {kind} fields differ from this format "
            f"(missing {sorted(missing)}, unexpected {sorted(extra, key=str)[:10]})"
        )
    row = []
    for name in fields:
        value = obj[name]
        _checked(number, kind, name, value)
        if name in _JSON_FIELDS:
            value = None if value is None and name in _NULLABLE_JSON else json_text(value)
        elif name in _TIME_FIELDS and value is not None:
            value = time_text(datetime.fromisoformat(value))
        elif name == "current":
            value = 1 if value else 0
        row.append(value)
    return tuple(row)


def _decoded(number: int, raw: str | bytes) -> str:
    if isinstance(raw, str):
        return raw
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ImportFormatError(
            f"line {number}: not UTF-8 text (byte {exc.start + 1} of the line); nothing imported"
        ) from None


def _parse(lines: Iterable[str | bytes]) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, raw in enumerate(lines, 1):
        text = _decoded(number, raw)
        if not text.strip():
            continue
        try:
            obj = json.loads(text)
        except RecursionError:
            raise ImportFormatError(
                f"line {number}: JSON nested too deeply to read; nothing imported"
            ) from None
        except ValueError as exc:  # JSONDecodeError, or an integer of thousands of digits
            why = "a number with too many digits" if "digits" in str(exc) else str(exc)
            raise ImportFormatError(f"line {number}: not JSON: {why}; nothing imported") from None
        if not isinstance(obj, dict) or "kind" not in obj:
            raise ImportFormatError(f"line {number}: not a ledger export record")
        yield number, obj


def check_header(header: dict[str, Any]) -> None:
    """Refuse a header that is not this format's (before any ledger is opened or created)."""
    if header.get("kind") != FORMAT:
        raise ImportFormatError("not a pushops ledger export (no header line); nothing imported")
    if header.get("format_version") != FORMAT_VERSION:
        raise ImportFormatError(
            f"export format version {str(header.get('format_version'))[:20]} is not the version "
            f"{FORMAT_VERSION} this pushops reads; nothing imported"
        )
    lineage, serial, version = (
        header.get("lineage"),
        header.get("serial"),
        header.get("schema_version"),
    )
    problems = []
    if not isinstance(lineage, str) or not LINEAGE.fullmatch(lineage):
        problems.append("no lineage" if lineage is None else "a lineage that is not an id")
    if not isinstance(serial, int) or isinstance(serial, bool) or not 0 <= serial <= _INT64:
        problems.append("no serial" if serial is None else "a serial that is not a whole number")
    if _time(header.get("created_at")) is not None:
        problems.append("no created_at time")
    if version is None:
        pass  # informational: the ledger it goes into has its own
    elif not isinstance(version, int) or isinstance(version, bool) or version < 1:
        problems.append("a schema_version that is not a whole number")
    elif version > latest_version():
        problems.append(
            f"schema version {version}, newer than the {latest_version()} this pushops knows"
        )
    if problems:
        raise ImportFormatError(f"line 1: the header has {', '.join(problems)}; nothing imported")


def read_header(lines: Iterable[str | bytes]) -> tuple[dict[str, Any], Iterator[str | bytes]]:
    """The checked header of an export, and its lines (all of them, header included)."""
    stream = iter(lines)
    for raw in stream:
        first = raw
        records = _parse([first])
        found = next(records, None)
        if found is None:
            continue  # a blank line
        check_header(found[1])
        return found[1], itertools.chain([first], stream)
    raise ImportFormatError("the export is empty; nothing imported")


_CALL_OF_DELIVERY = DELIVERY_COLUMNS.index("call_id")
_TABLES = {
    "call": "calls",
    "delivery": "deliveries",
    "override": "policy_overrides",
    "event": "delivery_events",
}


def _insert(ledger: Storage, tx: Tx, kind: str, rows: list[tuple[Any, ...]]) -> None:
    if kind == "call":
        insert_calls(ledger, tx, rows)
    else:
        ledger.insert_rows(tx, _TABLES[kind], _COLUMNS[kind], rows)


def import_lines(ledger: Storage, lines: Iterable[str | bytes]) -> None:
    records = _parse(lines)
    first = next(records, None)
    if first is None:
        raise ImportFormatError("the export is empty; nothing imported")
    header = first[1]
    check_header(header)
    # Lock rows and schema history are local to a store; lineage, serial and records move.
    with ledger.bulk_load() as tx:
        existing = tx.one(sql.COUNT_RECORDS)
        if existing is not None and existing[0]:
            raise LedgerConflictError(
                f"ledger {ledger.location} already has {existing[0]} records; "
                "import only into an empty ledger"
            )
        counts = {"call": 0, "delivery": 0, "override": 0, "event": 0}
        batch: list[tuple[Any, ...]] = []
        batch_kind = ""
        fields = {**_COLUMNS, "delivery": _DELIVERY_FIELDS, "event": _EVENT_FIELDS}
        end = None
        call_ids: set[str] = set()
        for number, obj in records:
            kind = obj["kind"]
            if not isinstance(kind, str):
                raise ImportFormatError(f"line {number}: a record kind that is not text")
            if end is not None:
                raise ImportFormatError(f"line {number}: records after the end line")
            if kind == "end":
                end = (number, obj)
                continue
            if kind not in _TABLES:
                raise ImportFormatError(f"line {number}: unknown record kind {kind[:40]!r}")
            if batch and (kind != batch_kind or len(batch) >= BATCH):
                _insert(ledger, tx, batch_kind, batch)
                batch = []
            batch_kind = kind
            row = _row(number, obj, fields[kind])
            if kind == "call":
                call_ids.add(row[0])
            elif kind == "delivery" and row[_CALL_OF_DELIVERY] not in call_ids:
                # Checked here, alike on both backends: since schema 4 PostgreSQL has
                # no foreign key from deliveries to calls that would refuse it.
                raise ImportFormatError(
                    f"line {number}: delivery {row[0][:200]!r} names call "
                    f"{row[_CALL_OF_DELIVERY][:200]!r}, which no line before it holds; "
                    "nothing imported"
                )
            batch.append(row)
            counts[kind] += 1
        if batch:
            _insert(ledger, tx, batch_kind, batch)
        if end is None:
            raise ImportFormatError("the export is truncated: no end line; nothing imported")
        said = (
            end[1].get("calls"),
            end[1].get("deliveries"),
            end[1].get("overrides", 0),
            end[1].get("events", 0),
        )
        had = (counts["call"], counts["delivery"], counts["override"], counts["event"])
        if said != had:
            raise ImportFormatError(
                f"line {end[0]}: the end line counts {said[0]} calls, {said[1]} deliveries, "
                f"{said[2]} overrides and {said[3]} events, the stream had {had[0]}, {had[1]}, "
                f"{had[2]} and {had[3]}; nothing imported"
            )
        tx.execute(sql.SET_SERIAL, (header["lineage"], header["serial"], header["created_at"]))
