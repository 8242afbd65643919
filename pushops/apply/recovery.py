"""Settle the calls an interrupted run left pending, before anything new is sent.

Never a blind resend, and never one resting on a provider behaviour no document confirms
(docs/plan-and-apply.md lists the facts each path relies on):

- EMAS, inside the idempotency window (an IdempotentToken is deduplicated for 15 minutes,
  documented; we count from when the call was written ahead, which is before the provider
  first saw it, and keep a minute for clock skew): the call is sent again with the same
  token; if it went out the first time, the provider answers with the first result;
- EMAS beyond it: QueryPushRecords, every task of the call matched by its content and time,
  each to exactly one record no other key of the ledger owns;
- mPaaS, at any age: never the same Msgkey again before a query API has said the broadcast
  was not made (the documents say only that a Msgkey must be unique, not what a repeat gets;
  it may be sent twice). A scheduled or loop broadcast is looked up in QueryPushSchedulerList
  (the documented list of every scheduled task created), an immediate one in
  QueryPushAnalysisTaskList (the 2020-10-28 official model) by TaskName, TemplateName and
  creation time: found once, it is settled as sent; found nowhere, as not sent (as EMAS's
  records settle it), so the next plan may send it;
- where the provider cannot tell (several candidates, a query refused), the call is marked
  unknown: its keys stay blocked until a person runs ``pushops state resolve``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from pushops.apply.gateway import FAILED, INTERRUPTED, SENT, Gateway, Outcome, push_tasks
from pushops.apply.records import recorded_form
from pushops.ledger import Call, Ledger
from pushops.ledger import Delivery as Record
from pushops.providers.errors import ProviderError
from pushops.timeutil import parse_api_time

IDEMPOTENCY_WINDOW = timedelta(minutes=15)
SKEW = timedelta(minutes=1)
# How old a call may be for QueryPushRecords' silence to mean "not sent". No window limit or
# record retention is documented: this is our caution, not the provider's limit.
QUERY_MAX = timedelta(days=7)
MATCHED = ("Title", "Body", "DeviceType", "PushType", "Target")


@dataclass
class Recovery:
    resent: int = 0  # settled by sending again with the same token
    found: int = 0  # the provider said it went out
    not_sent: int = 0  # the provider said it did not
    unknown: list[str] = field(default_factory=list)  # call ids nobody could settle
    still_pending: list[str] = field(default_factory=list)  # resend's answer lost again
    # The deliveries those calls carry, by what settling found.
    deliveries_sent: int = 0
    deliveries_not_sent: int = 0

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

    async def run(
        self, only: Collection[str] | None = None, tick: Callable[[int], None] | None = None
    ) -> Recovery:
        """Settle the pending calls (``only``: those the approved plan lists); ``tick`` is
        told of each call settled."""
        result = Recovery()
        for call in self.ledger.pending_calls(self.environment):
            if call.action not in ("MassPush", "PushBroadcast"):
                continue
            if only is not None and call.call_id not in only:
                continue
            deliveries = self.ledger.call_deliveries(call.call_id)
            sent, not_sent = result.resent + result.found, result.not_sent
            now = self.clock()
            created = call.created_at or now
            if call.provider != "emas":
                await self.ask_mpaas(call, deliveries, now, result)
            elif now - created < self.window:
                await self.resend(call, result)
            else:
                await self.ask_emas(call, deliveries, now, result)
            if result.resent + result.found > sent:
                result.deliveries_sent += len(deliveries)
            elif result.not_sent > not_sent:
                result.deliveries_not_sent += len(deliveries)
            if tick is not None:
                tick(1)
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
        body = request.get("body")
        outcome = await self.gateway.send(
            call.provider, call.app, request.get("query") or {}, recorded_form(request),
            body=body if isinstance(body, str) else None,
        )  # fmt: skip
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
        tasks = push_tasks(recorded_form(call.request))
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
        form = recorded_form(call.request)
        created = call.created_at or now
        made = (_ms(created - SKEW), _ms(now + SKEW))  # when the broadcast can have been made
        try:
            if form.get("StrategyType", "0") in ("1", "2"):
                ids = await self.scheduled_broadcasts(call.app, form, made)
            else:
                ids = await self.immediate_broadcasts(call.app, form, made)
        except ProviderError:
            self.unknown(call, result)
            return
        if len(ids) == 1:
            (found,) = ids
            self.settle(call, Outcome(SENT, {0: found}), result, counted="found")
            self._owned = None if self._owned is None else self._owned | ids
        elif not ids:
            outcome = Outcome(
                FAILED,
                code="NotSent",
                message="the provider's task lists have no broadcast of this call",
            )
            self.settle(call, outcome, result, counted="found")
        else:
            self.unknown(call, result)

    async def scheduled_broadcasts(
        self, app: str, form: dict[str, str], made: tuple[int, int]
    ) -> set[str]:
        """Ids of the scheduled (or loop) tasks that can be this broadcast: its trigger time,
        strategy and platform, made while the call was pending, not owned by another key."""
        try:
            content = json.loads(form.get("StrategyContent") or "{}")
        except ValueError:
            content = {}
        if not isinstance(content, dict):
            content = {}
        loop = form.get("StrategyType") == "2"
        if loop:  # occurrences fall on the loop's days, at its time of day
            start_ms = int(content.get("startTime", 0)) - DAY_MS
            end_ms = int(content.get("endTime", 0)) + DAY_MS
        else:
            start_ms = end_ms = int(content.get("fixedTime", 0))
        entries = await self.gateway.schedules(app, start_ms, end_ms)
        ids = set()
        for entry in entries:
            if (
                str(entry.get("StrategyType")) != form.get("StrategyType")
                or str(entry.get("DeliveryType")) != form.get("DeliveryType")
                or not made[0] <= int(entry.get("GmtCreate") or 0) <= made[1]
                or (not loop and int(entry.get("PushTime") or 0) != start_ms)
            ):
                continue
            # A loop's occurrences share their parent, the id PushBroadcast answered with.
            ids.add(str((loop and entry.get("ParentId")) or entry.get("UniqueId")))
        return ids - self.owned()

    async def immediate_broadcasts(
        self, app: str, form: dict[str, str], made: tuple[int, int]
    ) -> set[str]:
        """Ids of the push tasks that can be this broadcast: its TaskName and TemplateName,
        made while the call was pending, not owned by another key."""
        entries = await self.gateway.push_tasks(app, made[0], form.get("TaskName", ""))
        return {
            str(entry.get("TaskId"))
            for entry in entries
            if entry.get("TaskName") == form.get("TaskName")
            and entry.get("TemplateName") == form.get("TemplateName")
            and made[0] <= int(entry.get("GmtCreate") or 0) <= made[1]
        } - self.owned()


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


DAY_MS = 86_400_000


def task_signature(task: dict[str, Any]) -> tuple[str, ...]:
    """What a PushTask and a QueryPushRecords entry are matched on (their shared fields)."""
    return tuple(str(task.get(name, "")) for name in MATCHED)


def _when(value: Any) -> datetime | None:
    return parse_api_time(value) if isinstance(value, str) and value else None


def match_tasks(
    tasks: list[dict[str, str]], records: list[dict[str, Any]], start: datetime, end: datetime
) -> list[str] | None:
    """MessageIds for ``tasks`` in order if each matches exactly one record; ``[]`` if none
    of them matches any record; None when the records cannot tell (some match, or several)."""
    wanted = Counter(task_signature(t) for t in tasks)
    candidates: dict[tuple[str, ...], list[str]] = {}
    for task in tasks:
        signature = task_signature(task)
        if signature in candidates:
            continue
        push_at = _when(task.get("PushTime"))
        hits = []
        for record in records:
            if task_signature(record) != signature:
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
        signature = task_signature(task)
        ids.append(candidates[signature][taken[signature]])
        taken[signature] += 1
    return ids
