"""Compare one environment's ledger with what its provider says, over a recent window.

Read-only on both sides: the provider is only asked (QueryPushRecords, QueryPushSchedulerList,
QueryPushAnalysisTaskList, through apply's gateway and its rate limiters, every page), and
the ledger only read. The provider's queries and the matching of an unsettled call to what
the provider holds are recovery's (pushops/apply/recovery.py), so refresh proves exactly what
apply's recovery would.

What is compared, per app of the environment:

- every push the provider lists in the window: one whose id no ledger record owns (any key,
  environment or generation) is drift, unless it is an unsettled call's (matched as recovery
  matches it: exactly one candidate proves the call sent; several are ambiguous);
- every current ledger record holding a provider id: cancelled at the provider while the
  ledger says scheduled; sent while the ledger says scheduled for later; missing at the
  provider although it lands well inside the window.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from pushops.apply.gateway import Gateway, push_tasks
from pushops.apply.records import recorded_form
from pushops.apply.recovery import SKEW, Recoverer, match_tasks, task_signature
from pushops.config import Environment
from pushops.ledger import Call, Ledger
from pushops.ledger import Delivery as Record
from pushops.ledger.records import CANCELLED, SCHEDULED, SENT, UNSETTLED, forgotten
from pushops.refresh import model
from pushops.refresh.model import Change, Drift, Refresh

# How far ahead a push can be scheduled: EMAS PushTime at most 7 days (the MassPush table's
# limit); an mPaaS loop may end 180 days ahead, so its schedule is looked for up to then.
EMAS_AHEAD = timedelta(days=7)
MPAAS_AHEAD = timedelta(days=181)
# The widest window refresh asks about. No retention of push records is documented; the
# official QueryPushRecords example spans 14 days, the widest span known to be answered.
MAX_SINCE = timedelta(days=14)
SENDS = ("MassPush", "PushBroadcast")
# mPaaS QueryPushSchedulerList ExecutedStatus: 1 executed, 2 cancelled (emulator README).
EXECUTED, WITHDRAWN = 1, 2


def _utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


@dataclass
class _Ledger:
    """The ledger side of one app: its unsettled calls, and the current records that can
    show in the window (unsettled, scheduled, or landing in it)."""

    unsettled: list[Call] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)

    def of_call(self, call_id: str) -> list[Record]:
        return sorted(
            (r for r in self.records if r.call_id == call_id), key=lambda r: r.position or 0
        )

    @staticmethod
    def landed(record: Record) -> datetime | None:
        """The earliest the record's push can have landed: its due time, else when it was
        written ahead (its call went out after that)."""
        return record.due_at or record.created_at


@dataclass
class _Provider:
    """What the provider answered for one app: EMAS records, or mPaaS tasks and schedules."""

    records: list[dict[str, Any]] = field(default_factory=list)
    tasks: list[dict[str, Any]] = field(default_factory=list)
    schedules: list[dict[str, Any]] = field(default_factory=list)

    def ids(self) -> set[str]:
        return (
            {str(r.get("MessageId")) for r in self.records}
            | {str(t.get("TaskId")) for t in self.tasks}
            | {str(e.get("ParentId") or e.get("UniqueId")) for e in self.schedules}
        )


class Comparer:
    def __init__(
        self,
        ledger: Ledger,
        environment: Environment,
        gateway: Gateway,
        now: datetime,
        since: timedelta,
    ) -> None:
        self.ledger = ledger
        self.environment = environment
        self.gateway = gateway
        self.now = now
        self.result = Refresh(environment.name, since, now - since, now + EMAS_AHEAD, now)
        self.owned: set[str] = set()
        self.recoverer = Recoverer(ledger, environment.name, gateway, clock=lambda: now)

    async def run(self) -> Refresh:
        apps = sorted(self.environment.apps.items())
        answers = {name: await self._ask(name, app.provider) for name, app in apps}
        # The provider's side first: which of its ids the ledger owns is then one scan that
        # keeps only those, however many the ledger holds.
        self.owned = self.ledger.owned_message_ids(
            set().union(*(a.ids() for a in answers.values()))
        )
        sides = self._ledger_by_app()
        for name, app in apps:
            side = sides.get(name, _Ledger())
            if app.provider == "emas":
                await self.emas(name, side, answers[name].records)
            else:
                await self.mpaas(name, side, answers[name])
            self.result.apps.append(name)
        return self.result

    async def _ask(self, app: str, provider: str) -> _Provider:
        if provider == "emas":
            end = self.now + EMAS_AHEAD + SKEW
            return _Provider(
                records=await self.gateway.push_records(app, _utc(self.result.start), _utc(end))
            )
        start_ms = _ms(self.result.start)
        return _Provider(
            tasks=await self.gateway.push_tasks(app, start_ms),
            schedules=await self.gateway.schedules(app, start_ms, _ms(self.now + MPAAS_AHEAD)),
        )

    def _ledger_by_app(self) -> dict[str, _Ledger]:
        env = self.environment.name
        sides: dict[str, _Ledger] = {}
        for call in self.ledger.pending_calls(env, include_unknown=True):
            if call.action in SENDS:
                sides.setdefault(call.app, _Ledger()).unsettled.append(call)
        apps = self.ledger.call_apps(env)
        early = self.result.start - SKEW
        for record in self.ledger.current_deliveries(env, with_request=False):
            app = apps.get(record.call_id or "")
            landed = _Ledger.landed(record)
            if app is not None and (
                record.status in UNSETTLED
                or (record.message_id and record.status == SCHEDULED)
                or (record.message_id and landed is not None and landed >= early)
            ):
                sides.setdefault(app, _Ledger()).records.append(record)
        return sides

    def _inside(self, moment: datetime | None, end: datetime) -> bool:
        """Well inside the window (a skew from either end): the provider must list it."""
        return moment is not None and self.result.start + SKEW <= moment <= end - SKEW

    def add(self, drift: Drift) -> None:
        self.result.drift.append(drift)

    # ------------------------------------------------------------------ EMAS

    async def emas(self, app: str, side: _Ledger, records: list[dict[str, Any]]) -> None:
        by_id = {str(r.get("MessageId")): r for r in records}
        free = [r for r in records if str(r.get("MessageId")) not in self.owned]
        claimed = self._emas_unsettled(app, side, free)
        for record in side.records:
            if record.message_id:
                self._emas_record(app, record, by_id.get(record.message_id))
        for r in free:
            mid = str(r.get("MessageId"))
            if mid not in claimed:
                what = f"{r.get('PushType', '')} {r.get('Title', '')!r}".strip()
                self.add(Drift(
                    model.UNMANAGED, app, "emas",
                    f"{what} to {r.get('Target', '')} at {r.get('PushTime', '')}, "
                    f"source {r.get('Source', '')}",
                    message_id=mid, provider_status=str(r.get("Status", "")), evidence=[r],
                ))  # fmt: skip

    def _emas_unsettled(self, app: str, side: _Ledger, free: list[dict[str, Any]]) -> set[str]:
        """Match each unsettled call to the free records, as recovery does; the ids taken."""
        claimed: set[str] = set()
        for call in side.unsettled:
            created = call.created_at or self.now
            if created < self.result.start:
                continue  # older than the window: apply's recovery or state resolve settle it
            tasks = push_tasks(recorded_form(call.request))
            open_ = [r for r in free if str(r.get("MessageId")) not in claimed]
            ids = match_tasks(tasks, open_, created - SKEW, self.now + SKEW)
            if ids:
                found = [r for r in open_ if str(r.get("MessageId")) in set(ids)]
                by_position = dict(enumerate(ids))
                self._found(app, "emas", side, call, by_position, found)
                claimed.update(ids)
            elif ids is None:
                wanted = {task_signature(t) for t in tasks}
                hits = [r for r in open_ if task_signature(r) in wanted]
                self._ambiguous(app, "emas", side, call, hits, "MessageId")
                claimed.update(str(r.get("MessageId")) for r in hits)
        return claimed

    def _emas_record(self, app: str, record: Record, found: dict[str, Any] | None) -> None:
        if found is None:
            if record.status in (SENT, SCHEDULED, CANCELLED):
                self._missing(app, "emas", record, self.now + EMAS_AHEAD)
            return
        status = str(found.get("Status", "")).upper()
        self._compare_status(
            app, "emas", record, found, status,
            cancelled=status == "CANCELLED", executed=status == "SENT", fixed=True,
        )  # fmt: skip

    # ------------------------------------------------------------------ mPaaS

    async def mpaas(self, app: str, side: _Ledger, answer: _Provider) -> None:
        tasks, schedules = answer.tasks, answer.schedules
        by_task = {str(t.get("TaskId")): t for t in tasks}
        # A loop's occurrences share their parent, the id PushBroadcast answered with.
        by_schedule = {str(e.get("ParentId") or e.get("UniqueId")): e for e in schedules}
        claimed = await self._mpaas_unsettled(app, side)
        for record in side.records:
            if record.message_id:
                self._mpaas_record(app, record, by_task, by_schedule)
        for mid, entry in {**by_task, **by_schedule}.items():
            if mid in self.owned or mid in claimed:
                continue
            name = entry.get("TaskName") or entry.get("PushTitle") or ""
            self.add(Drift(
                model.UNMANAGED, app, "mpaas", f"broadcast {name!r} (task {mid})",
                message_id=mid, provider_status=_executed(entry), evidence=[entry],
            ))  # fmt: skip

    async def _mpaas_unsettled(self, app: str, side: _Ledger) -> set[str]:
        claimed: set[str] = set()
        for call in side.unsettled:
            created = call.created_at or self.now
            if created < self.result.start:
                continue
            form = recorded_form(call.request)
            made = (_ms(created - SKEW), _ms(self.now + SKEW))
            if form.get("StrategyType", "0") in ("1", "2"):
                ids = await self.recoverer.scheduled_broadcasts(app, form, made)
            else:
                ids = await self.recoverer.immediate_broadcasts(app, form, made)
            ids -= claimed
            evidence = [{"TaskId": i, "TaskName": form.get("TaskName", "")} for i in sorted(ids)]
            if len(ids) == 1:
                self._found(app, "mpaas", side, call, {0: next(iter(ids))}, evidence)
            elif ids:
                self._ambiguous(app, "mpaas", side, call, evidence, "TaskId")
            claimed |= ids
        return claimed

    def _mpaas_record(
        self,
        app: str,
        record: Record,
        by_task: dict[str, dict[str, Any]],
        by_schedule: dict[str, dict[str, Any]],
    ) -> None:
        mid = record.message_id or ""
        entry = by_schedule.get(mid)
        if entry is None:
            if mid not in by_task and record.status in (SENT, SCHEDULED, CANCELLED):
                self._missing(app, "mpaas", record, self.now)
            return
        executed = int(entry.get("ExecutedStatus") or 0)
        self._compare_status(
            app, "mpaas", record, entry, _executed(entry),
            cancelled=executed == WITHDRAWN, executed=executed == EXECUTED,
            fixed=str(entry.get("StrategyType")) == "1",
        )  # fmt: skip

    # ------------------------------------------------------------------ both

    def _compare_status(
        self,
        app: str,
        provider: str,
        record: Record,
        found: dict[str, Any],
        shown: str,
        *,
        cancelled: bool,
        executed: bool,
        fixed: bool,
    ) -> None:
        """A record the provider lists: do their statuses agree?"""
        common = {
            "message_id": record.message_id, "key": record.key, "campaign": record.campaign,
            "call_id": record.call_id, "ledger_status": record.status, "provider_status": shown,
            "evidence": [found],
        }  # fmt: skip
        if record.status == SCHEDULED and cancelled:
            change = Change(record.key, SCHEDULED, CANCELLED, record.message_id)
            self.add(Drift(model.CANCELLED, app, provider,
                           f"{record.key} was cancelled at the provider",
                           changes=[change], **common))  # fmt: skip
        elif record.status == SCHEDULED and executed and fixed and self._later(record):
            change = Change(record.key, SCHEDULED, SENT, record.message_id)
            due = record.due_at.isoformat() if record.due_at else ""
            self.add(Drift(model.SENT, app, provider,
                           f"{record.key} went out already, before its due time {due}",
                           changes=[change], **common))  # fmt: skip
        elif record.status == CANCELLED and executed and not forgotten(record):
            self.add(Drift(model.STATUS, app, provider,
                           f"{record.key} is cancelled in the ledger but went out",
                           **common))  # fmt: skip
        elif record.status == SENT and cancelled:
            self.add(Drift(model.STATUS, app, provider,
                           f"{record.key} is sent in the ledger but cancelled at the provider",
                           **common))  # fmt: skip

    def _later(self, record: Record) -> bool:
        return record.due_at is not None and record.due_at > self.now + SKEW

    def _missing(self, app: str, provider: str, record: Record, end: datetime) -> None:
        if not self._inside(_Ledger.landed(record), end):
            return  # near or outside the window's edge: the provider may list it elsewhere
        self.add(Drift(
            model.MISSING, app, provider,
            f"{record.key} has provider id {record.message_id}, which the provider does not "
            "list",
            message_id=record.message_id, key=record.key, campaign=record.campaign,
            call_id=record.call_id, ledger_status=record.status,
        ))  # fmt: skip

    def _found(
        self,
        app: str,
        provider: str,
        side: _Ledger,
        call: Call,
        by_position: dict[int, str],
        evidence: list[dict[str, Any]],
    ) -> None:
        records = side.of_call(call.call_id)
        changes = []
        for n, record in enumerate(records):
            position = record.position if record.position is not None else n
            mid = by_position.get(position)
            status_to = SCHEDULED if record.due_at else SENT
            changes.append(
                Change(record.key, record.status, status_to, mid, call.call_id, position)
            )
        first = records[0] if records else None
        self.add(Drift(
            model.SENT, app, provider,
            f"call {call.call_id} is {call.status} in the ledger; the provider has it "
            f"({', '.join(sorted({m for m in by_position.values() if m}))})",
            message_id=by_position.get(0), key=first.key if first else None,
            campaign=first.campaign if first else None, call_id=call.call_id,
            ledger_status=call.status, provider_status="SENT", changes=changes,
            evidence=evidence,
        ))  # fmt: skip

    def _ambiguous(
        self,
        app: str,
        provider: str,
        side: _Ledger,
        call: Call,
        hits: Iterable[dict[str, Any]],
        id_field: str,
    ) -> None:
        hits = list(hits)
        records = side.of_call(call.call_id)
        first = records[0] if records else None
        ids = [str(h.get(id_field)) for h in hits]
        self.add(Drift(
            model.AMBIGUOUS, app, provider,
            f"call {call.call_id} is {call.status} in the ledger and {len(ids)} provider "
            "pushes could be it; settle it by hand (`pushops state resolve`)",
            key=first.key if first else None, campaign=first.campaign if first else None,
            call_id=call.call_id, ledger_status=call.status, candidates=ids, evidence=hits,
        ))  # fmt: skip


def _executed(entry: dict[str, Any]) -> str:
    """A scheduler entry's status as QueryPushRecords words it; a task list entry (no
    ExecutedStatus: an immediate push) went out."""
    if "ExecutedStatus" not in entry:
        return "SENT"
    return {0: "SCHEDULED", 1: "SENT", 2: "CANCELLED"}.get(int(entry["ExecutedStatus"] or 0), "")


async def compare(
    ledger: Ledger, environment: Environment, gateway: Gateway, now: datetime, since: timedelta
) -> Refresh:
    """The drift between ``ledger`` and the provider of ``environment`` since ``now - since``."""
    return await Comparer(ledger, environment, gateway, now, since).run()
