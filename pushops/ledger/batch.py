"""Batched writes: many calls written ahead, or settled, in one transaction.

Apply at the provider quota makes 500 calls a second; one transaction (and one fsync) per
call and per settlement cannot keep up. These functions do the work of
``record_pending_many``, ``record_sent_many`` and ``record_failed_many`` inside the one write
transaction :class:`~pushops.ledger.base.Ledger` opens (which bumps the serial once), with a
few set-based statements per batch rather than a few per call. They check everything before
writing anything, and any failure rolls the whole batch back, so a batch is all or nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from pushops.ledger import sql
from pushops.ledger.codec import (
    DELIVERY_COLUMNS,
    IN_CALL,
    call_row,
    json_text,
    packed_deliveries,
    pending_delivery_row,
    planned_delivery_row,
    time_text,
)
from pushops.ledger.errors import LedgerConflictError, NotFoundError
from pushops.ledger.records import (
    ACTIONS,
    FAILED,
    PENDING,
    PROVIDERS,
    REPLACEABLE,
    UNSETTLED,
    Call,
    Delivery,
    FailedResult,
    PendingDelivery,
    SentResult,
)
from pushops.ledger.storage import Storage, Tx, chunks, insert_calls

# A call and its deliveries: ledger records, or (apply) the plan's tuples as they are.
PendingItem = tuple[Call, Sequence[Delivery] | Sequence[PendingDelivery]]
SHOWN = 5  # offending keys or calls named in a message; the count says how many in all


def _shown(names: list[str]) -> str:
    more = f", and {len(names) - SHOWN} more" if len(names) > SHOWN else ""
    return ", ".join(names[:SHOWN]) + more


# ---------------------------------------------------------------- checks before any write


def check_pending(items: Sequence[PendingItem]) -> None:
    """Refuse what is a caller's mistake rather than a state of the ledger (ValueError)."""
    seen_calls: set[str] = set()
    owner: dict[str, str] = {}
    for call, deliveries in items:
        if call.status != PENDING:
            raise ValueError(f"record_pending takes a pending call, not {call.status}")
        if call.provider not in PROVIDERS:
            raise ValueError(f"unknown provider {call.provider!r}")
        if call.action not in ACTIONS:
            raise ValueError(f"unknown action {call.action!r}")
        if call.call_id in seen_calls:
            raise ValueError(f"call {call.call_id} appears twice in one batch")
        seen_calls.add(call.call_id)
        for d in deliveries:
            if type(d) is Delivery and d.call_id not in (None, call.call_id):
                raise ValueError(f"delivery {d.key} names call {d.call_id}, not {call.call_id}")
    keys = [d.key for _, deliveries in items for d in deliveries]
    if len(set(keys)) == len(keys):
        return  # every key once in the batch (apply writes 10,000 at a time)
    for call, deliveries in items:
        for d in deliveries:
            first = owner.setdefault(d.key, call.call_id)
            if first != call.call_id:
                raise ValueError(
                    f"key {d.key} is carried by calls {first} and {call.call_id} of one batch"
                )
        if len({d.key for d in deliveries}) != len(deliveries):
            raise ValueError(f"call {call.call_id} carries a key twice")


def _unique_ids(call_ids: list[str], doing: str) -> None:
    if len(set(call_ids)) != len(call_ids):
        raise ValueError(f"a call appears twice in one batch to {doing}")


def call_statuses(ledger: Storage, tx: Tx, call_ids: Sequence[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for test, params in ledger.member_tests(call_ids):
        for call_id, status in tx.all(sql.CALL_STATUSES_OF.format(test), params):
            found[call_id] = status
    return found


def check_unsettled(ledger: Storage, tx: Tx, call_ids: list[str], doing: str) -> None:
    """Every call exists and may still be settled: pending, or unknown (recovery learnt)."""
    found = call_statuses(ledger, tx, call_ids)
    missing = [c for c in call_ids if c not in found]
    if missing:
        raise NotFoundError(f"no call {_shown(missing)} in the ledger; nothing was recorded")
    settled = [f"{c} (already {found[c]})" for c in call_ids if found[c] not in UNSETTLED]
    if settled:
        raise LedgerConflictError(
            f"cannot {doing} call {_shown(settled)}: it is already settled; nothing was recorded"
        )


def current_generations(ledger: Storage, tx: Tx, keys: Sequence[str]) -> dict[str, tuple[int, str]]:
    """The current generation and status of each key that has one."""
    found: dict[str, tuple[int, str]] = {}
    for query, params in ledger.current_of_keys(keys):
        for key, generation, status in tx.all(query, params):
            found[key] = (int(generation), status)
    return found


# ---------------------------------------------------------------- the writes


def write_pending(ledger: Storage, tx: Tx, items: Sequence[PendingItem], now: datetime) -> None:
    """Write calls and their deliveries ahead of sending them (see record_pending_many).

    Apply's batches are new calls carrying keys the ledger has never seen, so the batch is
    first written as it would be then (every key its generation 1) without looking: the
    unique indexes refuse it if that was wrong, since an id already there is in the calls'
    primary key and every key the ledger ever saw has its generation 1 (or a current one).
    Then nothing of that try is left, and the batch is written the checked way, which names
    the conflict or gives each key its next generation. Looking first cost PostgreSQL an
    index probe per key: about 1 ms of the ~7 ms of CPU the ledger took a call.
    """
    stamp = time_text(now)
    if ledger.first_try(tx, lambda: _insert_pending(ledger, tx, items, now, stamp, {})):
        return
    call_ids = [c.call_id for c, _ in items]
    existing = call_statuses(ledger, tx, call_ids)
    if existing:
        shown = _shown([f"{c} ({s})" for c, s in sorted(existing.items())])
        raise LedgerConflictError(
            f"call {shown} is already in the ledger; a retry of it is record_attempt, "
            "not record_pending; nothing was recorded"
        )
    keys = [d.key for _, deliveries in items for d in deliveries]
    previous = current_generations(ledger, tx, keys)
    # A key gets a new generation only if nothing of it is out there (failed, cancelled);
    # anything else (sent, scheduled, pending, unknown) would be a second send.
    blocked = sorted(f"{k} ({s})" for k, (_, s) in previous.items() if s not in REPLACEABLE)
    if blocked:
        raise LedgerConflictError(
            f"{len(blocked)} key(s) already have a live record, refusing a second send: "
            f"{_shown(blocked)}; nothing was recorded"
        )
    _insert_pending(ledger, tx, items, now, stamp, previous)


def _insert_pending(
    ledger: Storage,
    tx: Tx,
    items: Sequence[PendingItem],
    now: datetime,
    stamp: str | None,
    previous: dict[str, tuple[int, str]],
) -> None:
    """The rows of a write-ahead; ``previous``: the current generation of each key that has
    one (it is retired, and the key's new record is the next). Since schema version 6 the
    deliveries' requests go once with their call (codec.packed_deliveries)."""
    call_rows = []
    delivery_rows = []
    packs: list[bytes] | None = [] if ledger.packs_deliveries else None
    for call, deliveries in items:
        call_rows.append(call_row(replace(call, created_at=call.created_at or now, updated_at=now)))
        texts = [json_text(d.request) for d in deliveries]
        if packs is not None:
            packs.append(packed_deliveries(zip([d.key for d in deliveries], texts, strict=True)))
            texts = [IN_CALL] * len(texts)
        for index, (d, text) in enumerate(zip(deliveries, texts, strict=True)):
            generation = previous[d.key][0] + 1 if d.key in previous else 1
            if type(d) is Delivery:
                delivery_rows.append(pending_delivery_row(d, call, index, stamp, generation, text))
            else:
                delivery_rows.append(planned_delivery_row(d, call, stamp, generation, text))
    insert_calls(ledger, tx, call_rows, packs)
    if previous:
        for test, params in ledger.member_tests(list(previous)):
            tx.execute(sql.RETIRE_CURRENT.format(test), params)
    ledger.insert_rows(tx, "deliveries", DELIVERY_COLUMNS, delivery_rows)


def _update_from(
    tx: Tx, columns: tuple[str, ...], rows: list[tuple[Any, ...]], update: str, tail: Sequence[Any]
) -> None:
    for chunk in chunks(rows, sql.VALUES_CHUNK):
        query = sql.with_values("v", columns, len(chunk)) + update
        tx.execute(query, [*(value for row in chunk for value in row), *tail])


def write_sent(ledger: Storage, tx: Tx, results: Sequence[SentResult], now: datetime) -> None:
    """Settle calls as sent (see record_sent_many)."""
    call_ids = [r.call_id for r in results]
    _unique_ids(call_ids, "record as sent")
    check_unsettled(ledger, tx, call_ids, "record as sent")
    stamp = time_text(now)
    calls = [
        (r.call_id, None if r.response is None else json_text(r.response), r.request_id)
        for r in results
    ]
    _update_from(tx, sql.SENT_VALUES, calls, sql.CALLS_SENT_FROM, (stamp, stamp))
    # A delivery's position is never negative; an answer for one is dropped here, once, as
    # an answer for a position the call does not have changes nothing.
    answers = [(r.call_id, {p: m for p, m in r.message_ids.items() if p >= 0}) for r in results]
    ledger.settle_sent(tx, answers, stamp)


def write_failed(ledger: Storage, tx: Tx, results: Sequence[FailedResult], now: datetime) -> None:
    """Settle calls as failed (see record_failed_many)."""
    call_ids = [r.call_id for r in results]
    _unique_ids(call_ids, "record as failed")
    check_unsettled(ledger, tx, call_ids, "record as failed")
    stamp = time_text(now)
    rows = [(r.call_id, r.code, r.message, r.request_id) for r in results]
    _update_from(tx, sql.FAILED_VALUES, rows, sql.CALLS_FAILED_FROM, (stamp,))
    ledger.settle_rest(tx, call_ids, "?", (FAILED, stamp))
