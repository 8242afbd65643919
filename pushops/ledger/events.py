"""Delivery events and cached provider statistics: their SQL, rows and writing.

Both tables arrived with schema version 3 (:data:`~pushops.ledger.migrations.EVENTS_VERSION`).
An event is written inside the transaction of the change it records (resolve, abandon, rm,
cancel, override, refresh), under that write's serial, so the record of a change and the
change are never apart. Apply's sending writes none: its history is the generations of
``deliveries`` and the ``calls`` rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pushops.ledger.codec import json_text, text_json, text_time, time_text
from pushops.ledger.records import EVENT_KINDS, PROVIDERS, DeliveryEvent, ProviderStats
from pushops.ledger.storage import Tx

EVENT_COLUMNS = (
    "serial",
    "position",
    "environment",
    "key",
    "call_id",
    "at",
    "actor",
    "kind",
    "status_from",
    "status_to",
    "evidence",
)
_EVENT_SELECT = f"SELECT {', '.join(EVENT_COLUMNS)} FROM delivery_events"
INSERT_EVENT = (
    f"INSERT INTO delivery_events ({', '.join(EVENT_COLUMNS)}) "
    f"VALUES ({', '.join('?' * len(EVENT_COLUMNS))})"
)
_SERIAL = "SELECT serial FROM meta WHERE id = 1"
_NEXT_POSITION = "SELECT COALESCE(MAX(position), -1) + 1 FROM delivery_events WHERE serial = ?"
# A key's own events, and those of the calls that carried it naming no key (a whole call).
EVENTS_OF_KEY = (
    f"{_EVENT_SELECT} WHERE key = ? OR (key IS NULL AND call_id IN "
    "(SELECT call_id FROM deliveries WHERE key = ?)) ORDER BY serial, position"
)
EVENTS_BY_ENV = f"{_EVENT_SELECT} WHERE environment = ? ORDER BY serial, position"
ALL_EVENTS = f"{_EVENT_SELECT} ORDER BY serial, position"

STATS_COLUMNS = ("environment", "provider", "app", "message_id", "counts", "fetched_at", "final")
STATS_BY_ENV = f"SELECT {', '.join(STATS_COLUMNS)} FROM provider_stats WHERE environment = ?"
# Both backends speak this upsert (SQLite 3.24+, PostgreSQL 9.5+).
UPSERT_STATS = (
    f"INSERT INTO provider_stats ({', '.join(STATS_COLUMNS)}) "
    f"VALUES ({', '.join('?' * len(STATS_COLUMNS))}) "
    "ON CONFLICT (environment, provider, app, message_id) DO UPDATE SET "
    "counts = excluded.counts, fetched_at = excluded.fetched_at, final = excluded.final"
)


def check_events(events: Sequence[DeliveryEvent]) -> None:
    """A caller's mistake (ValueError) before anything is written."""
    for e in events:
        if e.kind not in EVENT_KINDS:
            raise ValueError(f"unknown delivery event kind {e.kind!r}")
        if not e.environment:
            raise ValueError("a delivery event names its environment")


def add_events(tx: Tx, events: Sequence[DeliveryEvent], now: datetime) -> None:
    """Write ``events`` in the current write transaction, after its serial was bumped."""
    if not events:
        return
    check_events(events)
    row = tx.one(_SERIAL)
    assert row is not None
    serial = int(row[0])
    start = tx.one(_NEXT_POSITION, (serial,))
    first = int(start[0]) if start else 0
    tx.executemany(
        INSERT_EVENT,
        [
            (
                serial,
                first + i,
                e.environment,
                e.key,
                e.call_id,
                time_text(e.at or now),
                e.actor,
                e.kind,
                e.status_from,
                e.status_to,
                None if e.evidence is None else json_text(e.evidence),
            )
            for i, e in enumerate(events)
        ],
    )


def row_event(r: tuple[Any, ...]) -> DeliveryEvent:
    return DeliveryEvent(
        serial=int(r[0]),
        position=int(r[1]),
        environment=r[2],
        key=r[3],
        call_id=r[4],
        at=text_time(r[5]),
        actor=r[6],
        kind=r[7],
        status_from=r[8],
        status_to=r[9],
        evidence=None if r[10] is None else text_json(r[10]),
    )


def stats_row(s: ProviderStats) -> tuple[Any, ...]:
    if s.provider not in PROVIDERS:
        raise ValueError(f"unknown provider {s.provider!r}")
    return (
        s.environment,
        s.provider,
        s.app,
        s.message_id,
        json_text(dict(s.counts)),
        time_text(s.fetched_at),
        1 if s.final else 0,
    )


def row_stats(r: tuple[Any, ...]) -> ProviderStats:
    fetched = text_time(r[5])
    assert fetched is not None
    counts = text_json(r[4])
    if not isinstance(counts, dict):
        raise ValueError(f"counts {counts!r} are not an object")
    return ProviderStats(
        environment=r[0],
        provider=r[1],
        app=r[2],
        message_id=r[3],
        counts=counts,
        fetched_at=fetched,
        final=bool(r[6]),
    )
