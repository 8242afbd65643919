"""Every write that touched one delivery, oldest first: what ``pushops state history`` shows.

Apply's own writes are read from where apply keeps them (no event rows on its hot path):
each generation was written ahead as ``pending`` with its call (created_at, call id, actor,
git commit), and its call's settlement says what came of it (sent with its MessageId and
RequestId, failed with the provider's code, unknown). Every other write (resolve, abandon,
rm, cancel, override, refresh) is a delivery event. A call settled by one (resolve,
abandon, refresh) shows as that event, not a second time as the call's status.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from pushops.ledger.records import (
    PENDING,
    SCHEDULED,
    SENT,
    UNSETTLED,
    Call,
    Delivery,
    DeliveryEvent,
    KeyHistory,
    outcome_words,
)


@dataclass(frozen=True, slots=True)
class Step:
    """One write: when, what (pending, sent, scheduled, failed, not sent (why), unknown, or an
    event kind), by whom, and the facts it recorded."""

    at: datetime | None
    what: str
    generation: int | None = None
    call_id: str | None = None
    actor: str | None = None
    status_from: str | None = None
    status_to: str | None = None
    facts: dict[str, object] = field(default_factory=dict)


def _written_ahead(d: Delivery, call: Call | None) -> Step:
    return Step(
        at=call.created_at if call and call.created_at else d.created_at,
        what=PENDING,
        generation=d.generation,
        call_id=d.call_id,
        actor=(call.actor if call else None) or d.actor,
        status_to=PENDING,
        facts={"git_commit": d.git_commit or (call.git_commit if call else None)},
    )


def _settled(d: Delivery, call: Call) -> Step | None:
    """What came of the generation's call, when apply (not a person) settled it."""
    if call.status == PENDING:
        return None
    if call.status == SENT:
        what = SCHEDULED if d.due_at is not None else SENT
        facts: dict[str, object] = {"message_id": d.message_id, "request_id": call.request_id}
        if d.due_at is not None:
            facts["due_at"] = d.due_at
        at = call.sent_at or call.updated_at
    else:
        what = outcome_words(call.status, call.error_code)
        facts = {
            "error_code": call.error_code,
            "error_message": call.error_message,
            "request_id": call.request_id,
        }
        at = call.updated_at
    return Step(
        at=at,
        what=what,
        generation=d.generation,
        call_id=call.call_id,
        actor=call.actor,
        status_from=PENDING,
        status_to=what if call.status == SENT else call.status,
        facts={k: v for k, v in facts.items() if v is not None},
    )


def _event(e: DeliveryEvent, generation: int | None) -> Step:
    facts: dict[str, object] = {} if e.evidence is None else {"evidence": e.evidence}
    return Step(
        at=e.at,
        what=e.kind,
        generation=generation,
        call_id=e.call_id,
        actor=e.actor,
        status_from=e.status_from,
        status_to=e.status_to,
        facts=facts,
    )


def steps(
    history: KeyHistory, calls: Sequence[Call], events: Sequence[DeliveryEvent]
) -> list[Step]:
    """The writes of ``history``'s key, oldest first: by generation, each written ahead,
    then settled, then its events (in the ledger's order), by time within."""
    by_id = {c.call_id: c for c in calls}
    generation_of = {d.call_id: d.generation for d in history.generations if d.call_id}
    # A call settled by an event (resolve, abandon, refresh) shows as that event only.
    settled_by_event = {e.call_id for e in events if e.status_from in UNSETTLED}
    found: list[tuple[int, int, Step]] = []
    for d in history.generations:
        call = by_id.get(d.call_id or "")
        found.append((d.generation, 0, _written_ahead(d, call)))
        if call is not None and call.call_id not in settled_by_event:
            step = _settled(d, call)
            if step is not None:
                found.append((d.generation, 1, step))
    last = history.generations[-1].generation if history.generations else 0
    for order, e in enumerate(events, start=2):
        generation = generation_of.get(e.call_id)
        found.append((generation if generation is not None else last, order, _event(e, generation)))
    return [step for _, _, step in sorted(found, key=lambda item: (item[0], item[1]))]
