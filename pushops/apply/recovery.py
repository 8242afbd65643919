"""Settle the calls an interrupted run left pending, before anything new is sent.

Never a blind resend:

- inside the provider's idempotency window (EMAS dedupes an IdempotentToken for 15 minutes;
  we count from when the call was written ahead, which is before the provider first saw it,
  and keep a minute for clock skew) the call is sent again with the same token: if it went
  out the first time, the provider answers with the first result and pushes nothing;
- beyond it, EMAS is asked (QueryPushRecords: every task of the call matched by its content
  and time, each to exactly one record no other key of the ledger owns), mPaaS scheduled
  broadcasts are looked up in QueryPushSchedulerList by TaskName and time, and an mPaaS
  broadcast still in time is sent again with the same Msgkey, which mPaaS refuses as a
  duplicate (naming the first task) if it went out;
- where the provider cannot tell, the call is marked unknown: its keys stay blocked until a
  person runs ``pushops state resolve``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from pushops.apply.gateway import FAILED, INTERRUPTED, SENT, Gateway, Outcome, push_tasks
from pushops.ledger import Call, Ledger
from pushops.ledger import Delivery as Record
from pushops.providers.errors import ProviderError
from pushops.timeutil import parse_api_time

IDEMPOTENCY_WINDOW = timedelta(minutes=15)
SKEW = timedelta(minutes=1)
QUERY_MAX = timedelta(days=7)  # QueryPushRecords looks at most 7 days wide
MATCHED = ("Title", "Body", "DeviceType", "PushType", "Target")


@dataclass
class Recovery:
    resent: int = 0  # settled by sending again with the same token
    found: int = 0  # the provider said it went out
    not_sent: int = 0  # the provider said it did not
    unknown: list[str] = field(default_factory=list)  # call ids nobody could settle
    still_pending: list[str] = field(default_factory=list)  # resend's answer lost again

    @property
    def settled(self) -> int:
        return self.resent + self.found + self.not_sent


def _utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Recoverer:
    def __init__(
        self,
        ledger: Ledger,
        environment: str,
        gateway: Gateway,
        *,
        clock: Callable[[], datetime] | None = None,
        window: timedelta = IDEMPOTENCY_WINDOW - SKEW,
    ) -> None:
        self.ledger = ledger
        self.environment = environment
        self.gateway = gateway
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.window = window
        self._owned: set[str] | None = None

    async def run(self) -> Recovery:
        result = Recovery()
        for call in self.ledger.pending_calls(self.environment):
            if call.action not in ("MassPush", "PushBroadcast"):
                continue
            deliveries = self.ledger.call_deliveries(call.call_id)
            now = self.clock()
            created = call.created_at or now
            if now - created < self.window:
                await self.resend(call, result)
            elif call.provider == "emas":
                await self.ask_emas(call, deliveries, now, result)
            else:
                await self.ask_mpaas(call, deliveries, now, result)
        return result

    def settle(self, call: Call, outcome: Outcome, result: Recovery, *, counted: str) -> None:
        if outcome.status == SENT:
            self.ledger.record_sent(
                call.call_id, outcome.message_ids, outcome.response, outcome.request_id
            )
            setattr(result, counted, getattr(result, counted) + 1)
        elif outcome.status == FAILED and outcome.code == INTERRUPTED:
            # This resend never left, but the first attempt may have: still unsettled.
            result.still_pending.append(call.call_id)
        elif outcome.status == FAILED:
            self.ledger.record_failed(
                call.call_id, outcome.code, outcome.message, outcome.request_id
            )
            result.not_sent += 1
        else:
            result.still_pending.append(call.call_id)

    async def resend(self, call: Call, result: Recovery) -> None:
        request = call.request if isinstance(call.request, dict) else {}
        self.ledger.record_attempt(call.call_id)
        outcome = await self.gateway.send(
            call.provider, call.app, request.get("query") or {}, request.get("form") or {}
        )
        self.settle(call, outcome, result, counted="resent")

    def unknown(self, call: Call, result: Recovery) -> None:
        self.ledger.record_unknown(call.call_id)
        result.unknown.append(call.call_id)

    # ------------------------------------------------------------------ EMAS

    def owned(self) -> set[str]:
        """MessageIds the ledger already gives to some key: not ours to claim."""
        if self._owned is None:
            self._owned = {
                d.message_id
                for d in self.ledger.current_deliveries(self.environment, with_request=False)
                if d.message_id
            }
        return self._owned

    async def ask_emas(
        self, call: Call, deliveries: list[Record], now: datetime, result: Recovery
    ) -> None:
        created = call.created_at or now
        if now - created > QUERY_MAX:
            self.unknown(call, result)
            return
        request = call.request if isinstance(call.request, dict) else {}
        tasks = push_tasks(request.get("form") or {})
        start = created - SKEW
        end = max([now + SKEW, *(d.due_at + SKEW for d in deliveries if d.due_at)])
        end = min(end, start + QUERY_MAX)
        try:
            records = await self.gateway.push_records(call.app, _utc(start), _utc(end))
        except ProviderError:
            self.unknown(call, result)
            return
        owned = self.owned()
        free = [r for r in records if str(r.get("MessageId")) not in owned]
        ids = match_tasks(tasks, free, start, now + SKEW)
        if ids is None:
            self.unknown(call, result)
        elif ids:
            self.settle(call, Outcome(SENT, dict(enumerate(ids))), result, counted="found")
            self._owned = None if self._owned is None else self._owned | set(ids)
        else:
            self.settle(
                call,
                Outcome(
                    FAILED,
                    code="NotSent",
                    message="beyond the idempotency window, QueryPushRecords has no record "
                    "of this call",
                ),
                result,
                counted="found",
            )

    # ------------------------------------------------------------------ mPaaS

    async def ask_mpaas(
        self, call: Call, deliveries: list[Record], now: datetime, result: Recovery
    ) -> None:
        request = call.request if isinstance(call.request, dict) else {}
        form: dict[str, str] = request.get("form") or {}
        due = next((d.due_at for d in deliveries if d.due_at), None)
        if due is not None:
            created = call.created_at or now
            start_ms = int((created - SKEW).timestamp() * 1000)
            end_ms = int((max(due, now) + SKEW).timestamp() * 1000)
            try:
                entries = await self.gateway.schedules(call.app, 0, end_ms)
            except ProviderError:
                entries = None
            if entries is not None:
                name = form.get("TaskName")
                hits = [
                    e
                    for e in entries
                    if e.get("PushTitle") == name
                    and int(e.get("GmtCreate") or 0) >= start_ms
                    and str(e.get("UniqueId")) not in self.owned()
                ]
                if len(hits) == 1:
                    ids = {0: str(hits[0].get("UniqueId"))}
                    self.settle(call, Outcome(SENT, ids), result, counted="found")
                    return
        # The Msgkey answer: a repeat is refused as a duplicate if the first one went out.
        # Only while the broadcast is still in time: if it did not go out, this sends it.
        late = any(
            (d.expires_at and d.expires_at <= now) or (d.due_at and d.due_at <= now)
            for d in deliveries
        )
        if late:
            self.unknown(call, result)
            return
        await self.resend(call, result)


def _signature(task: dict[str, Any]) -> tuple[str, ...]:
    return tuple(str(task.get(name, "")) for name in MATCHED)


def _when(value: Any) -> datetime | None:
    return parse_api_time(value) if isinstance(value, str) and value else None


def match_tasks(
    tasks: list[dict[str, str]], records: list[dict[str, Any]], start: datetime, end: datetime
) -> list[str] | None:
    """MessageIds for ``tasks`` in order if each matches exactly one record; ``[]`` if none
    of them matches any record; None when the records cannot tell (some match, or several)."""
    wanted = Counter(_signature(t) for t in tasks)
    candidates: dict[tuple[str, ...], list[str]] = {}
    for task in tasks:
        signature = _signature(task)
        if signature in candidates:
            continue
        push_at = _when(task.get("PushTime"))
        hits = []
        for record in records:
            if _signature(record) != signature:
                continue
            at = _when(record.get("PushTime"))
            if at is None:
                continue
            if push_at is not None and at != push_at:
                continue
            if push_at is None and not start <= at <= end:
                continue
            hits.append(str(record.get("MessageId")))
        candidates[signature] = hits
    if all(not hits for hits in candidates.values()):
        return []
    if any(len(candidates[s]) != n for s, n in wanted.items()):
        return None
    taken: Counter[tuple[str, ...]] = Counter()
    ids = []
    for task in tasks:
        signature = _signature(task)
        ids.append(candidates[signature][taken[signature]])
        taken[signature] += 1
    return ids
