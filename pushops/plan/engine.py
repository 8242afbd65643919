"""Compare the desired deliveries with the ledger and decide what apply does with each.

The rules (docs/plan-and-apply.md), one clock (``now``):

- not in the ledger, or its last attempt failed or was cancelled: ``send``, unless its due
  time or expiry is already past: ``skip`` (a warning; never sent late);
- in the ledger with the same fingerprint: ``no-op``;
- in the ledger, sent or scheduled, with another fingerprint: a scheduled one whose due time
  is more than the safety margin away is ``replace``d (cancel, then send); anything else is
  ``blocked`` (a push cannot be unsent; bump the campaign's revision);
- pending (an interrupted run): ``resolve``, settled by apply first, with a send of the
  campaign's current version planned for when settling finds it never went out; pending
  while another run holds the ledger lock: ``in-flight`` (that run records it); unknown
  (nobody could tell): ``blocked`` until ``pushops state resolve``;
- in the ledger, scheduled and not yet due (or an mPaaS loop with occurrences still to come),
  but no longer in the campaigns (removed, or replaced by a new revision): ``cancel``, while
  the next time it goes out is more than the safety margin away (apply sends the new
  revision only once the cancel succeeded).

Templates may read ``now``: a message that expires "24 hours from now" renders differently
every run. A delivery that was sent is compared as its campaign renders at the time it was
planned (recorded with its call), so an unchanged campaign stays unchanged.

Deliveries stream from the renderer; only the ones to send are compiled (merging happens at
compile time), so a row added to a data file later sends only that row.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

from pushops.campaign import Campaign
from pushops.compile import Call, Compiler, Delivery
from pushops.config import Config
from pushops.diagnostics import Diagnostic, Report
from pushops.ledger import Call as LedgerCall
from pushops.ledger import Delivery as Record
from pushops.ledger import Ledger
from pushops.ledger.records import NOT_SENT_WHY, forgotten
from pushops.loops import loop_end, loop_of
from pushops.params import is_digits
from pushops.plan.checks import RowProblems
from pushops.plan.diff import request_diff
from pushops.plan.findings import Finding
from pushops.plan.identity import for_generation
from pushops.plan.model import (
    BLOCKED,
    CANCEL,
    INFLIGHT,
    NEW_KEY,
    NOOP,
    REPLACE,
    RESOLVE,
    SEND,
    SKIP,
    Action,
    ActionListener,
    Actions,
    InProgress,
    Plan,
    PlannedCancel,
    encode_call,
)
from pushops.plan.renderproc import RenderingProcess, wanted
from pushops.plan.spool import Spool
from pushops.render import render_deliveries
from pushops.wording import duration

DEFAULT_MARGIN_S = 300.0  # replace/cancel a scheduled push only until 5 minutes before it
PROGRESS_EVERY = 1024  # rendered deliveries between two progress reports
MAX_DIFFS = 1000  # field-level diffs computed per plan (each reads one ledger record)
RENDERED_AT = "rendered_at"  # where a call's request records the clock it was rendered with

# Checks one delivery the plan would send (provider schema, rules): located problems.
Checker = Callable[[Campaign, Delivery], list[Diagnostic]]
# Checks one call the plan would send (call-scope rules): located problems.
CallChecker = Callable[[Campaign, Call], list[Diagnostic]]


class SendPolicies(Protocol):
    """The team's policies over what the plan sends (pushops.policy.evaluate.Evaluator):
    every delivery to send, in order, then the ledger; they may drop some and find things."""

    def observe(self, campaign: Campaign, delivery: Delivery, action: str) -> int: ...

    def conclude(
        self, ledger: Ledger | None, campaigns: dict[str, Campaign], leaving: set[str]
    ) -> None: ...

    def dropped(self, index: int) -> str | None: ...

    def findings(self) -> list[Finding]: ...


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def too_late(delivery: Delivery, now: datetime) -> str | None:
    """Why ``delivery`` can no longer go out (a skip), or None."""
    end = loop_end(delivery.params) if delivery.provider == "mpaas" else None
    if end is not None:
        # A loop goes out until its end, whatever its first occurrence or message expiry.
        return f"its loop ended at {iso(end)}; never sent late" if end <= now else None
    if delivery.expires_at is not None and delivery.expires_at <= now:
        return f"expired at {iso(delivery.expires_at)}; never sent late"
    if delivery.due_at is not None and delivery.due_at <= now:
        return f"due at {iso(delivery.due_at)}, already past; never sent late"
    return None


def without_revision(key: str) -> str:
    """``env/campaign/r3/message[/row]`` -> ``env/campaign/message[/row]``: the same delivery
    across revisions (a revision bump replaces the old revision's keys with new ones)."""
    parts = key.split("/", 3)
    if len(parts) == 4 and parts[2][:1] == "r" and is_digits(parts[2][1:]):
        return "/".join((parts[0], parts[1], parts[3]))
    return key


@dataclass
class _Send:
    delivery: Delivery
    action: str  # send or replace; resolve: sent only if its pending call settles not sent
    reason: str
    generation: int
    before: str | None = None
    diff: list[dict[str, Any]] | None = None


@dataclass
class _State:
    """What the engine knows of the ledger, and what it has decided so far."""

    records: dict[str, Record]
    now: datetime
    margin: timedelta
    plan: Plan
    # Sends decided but not yet in a compiled call (the compiler holds their deliveries).
    sending: dict[str, _Send] = field(default_factory=dict)
    cancels: dict[str, list[tuple[str, Record]]] = field(default_factory=lambda: defaultdict(list))
    # Scheduled, unchanged deliveries by MessageId: sent again if a sibling is cancelled,
    # otherwise no-ops (their actions are added once that is known, after the leftovers).
    waiting: dict[str, list[tuple[Delivery, Record, Action]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    diffs: int = 0
    # The next time each cancelled push goes out (a loop's next occurrence): the cancel's
    # safety margin counts from it.
    upcoming: dict[str, datetime] = field(default_factory=dict)


class Planner:
    def __init__(
        self,
        config: Config,
        environment: str,
        ledger: Ledger,
        now: datetime,
        *,
        margin_s: float = DEFAULT_MARGIN_S,
        check: Checker | None = None,
        check_call: CallChecker | None = None,
        policies: SendPolicies | None = None,
        in_progress: InProgress | None = None,
        progress: Callable[[int], None] | None = None,
        render_mode: str = "never",
        on_call: Callable[[Call], None] | None = None,
        on_action: ActionListener | None = None,
        keep_actions: bool = True,
    ) -> None:
        self.in_progress = in_progress
        self.on_call = on_call  # told each call as it is compiled (plan's one pass over them)
        self.on_action = on_action  # told each action as it is added (the view's)
        self.keep_actions = keep_actions  # spool every action, for a view that lists them
        # Large fan-outs may render in a process of their own (pushops.plan.renderproc).
        self.render_mode = render_mode
        self._rendering: RenderingProcess | None = None
        self.progress = progress  # told how many more deliveries were rendered
        self.check = check
        self.check_call = check_call
        self.policies = policies
        self._campaigns: dict[str, Campaign] = {}
        self.config = config
        self.environment = config.environment(environment).name
        self.ledger = ledger
        self.now = now
        self.margin_s = margin_s
        self._rendered_at: dict[str, datetime | None] = {}
        self._providers: dict[str, str | None] = {}
        self._compiler = Compiler(config)
        # Sends that wait for a pending call to settle are compiled apart, so that a call
        # never mixes them with ones that go out whatever recovery finds.
        self._contingent = Compiler(config)
        self._pending_calls: dict[str, LedgerCall | None] = {}
        self._not_sent: dict[str, str] | None = None  # read at the first failed record
        self._report = Report()
        self._row_problems = RowProblems()
        # Sends held back while a ``drop`` cap may still leave them out (on disk).
        self._may_drop = policies is not None and bool(getattr(policies, "may_drop", True))
        self._deferred: Spool[_Send] = Spool()

    # ------------------------------------------------------------------ ledger reads

    def rendered_at(self, call_id: str | None) -> datetime | None:
        if call_id is None:
            return None
        if call_id not in self._rendered_at:
            call = self.ledger.get_call(call_id)
            request = call.request if call is not None else None
            stamp = request.get(RENDERED_AT) if isinstance(request, dict) else None
            self._rendered_at[call_id] = parse_iso(stamp) if isinstance(stamp, str) else None
        return self._rendered_at[call_id]

    def provider_of(self, call_id: str | None) -> str | None:
        """The provider a call went to: its app's (call ids are ``env/app/token``), else as
        the ledger recorded it (an app since removed from pushops.yaml)."""
        if call_id is None:
            return None
        if call_id not in self._providers:
            parts = call_id.split("/")
            env = self.config.environments.get(parts[0]) if len(parts) >= 3 else None
            app = env.apps.get(parts[1]) if env is not None else None
            if app is not None:
                self._providers[call_id] = app.provider
            else:
                call = self.ledger.get_call(call_id)
                self._providers[call_id] = call.provider if call is not None else None
        return self._providers[call_id]

    def upcoming(self, record: Record, now: datetime) -> datetime | None:
        """When a scheduled record next goes out: its due time while that is ahead; for an
        mPaaS loop already running, its next occurrence (None once its end has passed).

        Only mPaaS records whose due time is past are read in full (their request says
        whether they are loops); a ledger written before loops recorded their end has no
        end time on them, so the request is read for those too.
        """
        if record.status != "scheduled":
            return None
        if record.due_at is not None and record.due_at > now:
            return record.due_at
        if record.expires_at is not None and record.expires_at <= now:
            return None
        if self.provider_of(record.call_id) != "mpaas":
            return None
        history = self.ledger.get(record.key)
        current = history.current if history is not None else None
        request = current.request if current is not None else None
        loop = loop_of(request) if isinstance(request, dict) else None
        return loop.next_after(now) if loop is not None else None

    def again(self, record: Record) -> str:
        """Why a key whose last attempt failed or was cancelled is sent again. A failed call
        that never reached the provider (an interrupted run) was not sent, not refused."""
        if record.status == "cancelled":
            return "its last attempt was cancelled; sending it again"
        if self._not_sent is None:
            self._not_sent = self.ledger.not_sent_calls(self.environment)
        code = self._not_sent.get(record.call_id or "")
        if code is not None:
            return f"not sent ({NOT_SENT_WHY[code]}); sending it again"
        return "its last attempt failed; sending it again"

    def old_request(self, state: _State, key: str) -> dict[str, Any] | None:
        if state.diffs >= MAX_DIFFS:
            return None
        state.diffs += 1
        history = self.ledger.get(key)
        current = history.current if history is not None else None
        request = current.request if current is not None else None
        return request if isinstance(request, dict) else None

    def diff(self, state: _State, key: str, new: dict[str, Any]) -> list[dict[str, Any]] | None:
        old = self.old_request(state, key)
        return None if old is None else request_diff(old, new)

    # ------------------------------------------------------------------ the rules

    def build(
        self,
        campaigns: Iterable[Campaign],
        report: Report,
        *,
        git_commit: str | None = None,
        sandbox: bool = False,
    ) -> Plan:
        # Meta first: a write between this and the read below makes the plan look older than
        # what it saw, so apply refuses it as stale rather than trusting it.
        meta = self.ledger.meta()
        records = {
            r.key: r for r in self.ledger.current_deliveries(self.environment, with_request=False)
        }
        plan = Plan(
            environment=self.environment,
            lineage=meta.lineage,
            serial=meta.serial,
            git_commit=git_commit,
            created_at=datetime.now(timezone.utc).replace(microsecond=0),
            now=self.now,
            margin_s=self.margin_s,
            sandbox=sandbox,
            actions=Actions(kept=self.keep_actions, listener=self.on_action),
        )
        self._report = report
        self._row_problems = RowProblems()
        state = _State(records, self.now, timedelta(seconds=self.margin_s), plan)
        for campaign in campaigns:
            self._campaigns[campaign.id] = campaign
            self.plan_campaign(campaign, state, report)
        report.extend(self._row_problems.summaries(self._campaigns))
        if not report.ok:
            return plan
        self.plan_leftovers(state)
        self.plan_siblings(state)
        plan.in_progress = self.in_progress
        if self.in_progress is None:
            plan.resolves = [c.call_id for c in self.ledger.pending_calls(self.environment)]
        plan.cancels = self.cancels(state)
        if self.policies is not None:
            leaving = {key for items in state.cancels.values() for key, _ in items}
            self.policies.conclude(self.ledger, self._campaigns, leaving)
            self.compile_deferred(state)
            plan.findings = self.policies.findings()
        for compiler in (self._compiler, self._contingent):
            for call in compiler.finish():
                self.emit(call, state)
        plan.created_at = datetime.now(timezone.utc).replace(microsecond=0)
        return plan

    def compile_deferred(self, state: _State) -> None:
        """The sends a ``drop`` cap could leave out, held back until the policies had seen
        every one and the ledger: those it drops become skips with its reason, the rest are
        compiled."""
        assert self.policies is not None
        for index, send in enumerate(self._deferred):
            reason = self.policies.dropped(index)
            if reason is None:
                self.compile_send(send, state)
                continue
            delivery = send.delivery
            state.plan.actions.add(
                delivery.key, SKIP, reason, send.before, delivery.fingerprint, None, None, None,
                delivery.due_at,
            )  # fmt: skip
        self._deferred.close()

    def plan_campaign(self, campaign: Campaign, state: _State, report: Report) -> None:
        deferred: list[tuple[Delivery, Record]] = []
        rendered = 0
        for delivery in self.rendered(campaign, state, report):
            rendered += 1
            if rendered == PROGRESS_EVERY and self.progress is not None:
                self.progress(rendered)  # in steps: a call per delivery would cost more
                rendered = 0
            record = state.records.pop(delivery.key, None)
            if (
                record is not None
                and record.fingerprint != delivery.fingerprint
                and record.status in ("sent", "scheduled", "pending")
                and not (record.status == "pending" and self.in_progress is not None)
            ):
                deferred.append((delivery, record))
                continue
            self.decide(delivery, record, state)
        if rendered and self.progress is not None:
            self.progress(rendered)
        if deferred:
            self.changed(campaign, deferred, state, report)

    def rendered(self, campaign: Campaign, state: _State, report: Report) -> Iterator[Delivery]:
        """``campaign``'s deliveries, rendered here or, for a large fan-out, in a process of
        its own while this one decides (the same deliveries, diagnostics and order)."""
        if not wanted(self.render_mode, campaign, self.config):
            here = render_deliveries([campaign], self.config, self.environment, self.now, report)
            yield from here
            return
        # The child checks every delivery only when all of them are sent (nothing of this
        # revision is in the ledger): else most are unchanged, and checking them is waste.
        prefix = f"{self.environment}/{campaign.id}/r{campaign.revision}/"
        check_all = self.check is not None and not any(
            key.startswith(prefix) for key in state.records
        )
        self._rendering = RenderingProcess(
            self.config, self.environment, self.now, check_all=check_all
        )
        try:
            yield from self._rendering.deliveries(campaign, report)
        finally:
            self._rendering = None

    def send(self, send: _Send, state: _State) -> None:
        """A delivery the plan sends: checked (only what goes out is, see
        pushops.plan.checks), then compiled with the others as they come."""
        delivery = send.delivery
        if self.check is not None:
            problems = self._rendering.problems(delivery) if self._rendering else None
            if problems is None:
                problems = self.check(self._campaigns[delivery.campaign], delivery)
            if problems:
                self._report.extend(self._row_problems.admit(delivery, problems))
        if not self._report.ok:
            return  # no plan comes of it: nothing more to compile
        if self.policies is not None:
            # The policies see every send, in the plan's order.
            self.policies.observe(self._campaigns[delivery.campaign], delivery, send.action)
            if self._may_drop:
                self._deferred.append(send)  # compiled once they have seen them all
                return
        self.compile_send(send, state)

    def compile_send(self, send: _Send, state: _State) -> None:
        delivery = send.delivery
        if delivery.key in state.sending:
            return  # a repeated fan-out key: reported as an error, no plan comes of it
        state.sending[delivery.key] = send
        compiler = self._contingent if send.action == RESOLVE else self._compiler
        for call in compiler.add(delivery):
            self.emit(call, state)

    def decide(self, delivery: Delivery, record: Record | None, state: _State) -> None:
        key, fp = delivery.key, delivery.fingerprint
        actions = state.plan.actions
        if record is None or record.status in ("failed", "cancelled"):
            late = too_late(delivery, state.now)
            if late is not None:
                before = record.fingerprint if record is not None else None
                actions.append(Action(key, SKIP, late, before, fp, due_at=delivery.due_at))
                return
            if record is None:
                reason, generation = NEW_KEY, 1
            else:
                reason = self.again(record)
                if forgotten(record):
                    reason = f"forgotten by {record.cancelled_by}; sending it again"
                generation = record.generation + 1
            self.send(
                _Send(delivery, SEND, reason, generation, record and record.fingerprint), state
            )
            return
        if record.status == "pending":
            self.pending(delivery, record, state)
            return
        if record.status == "unknown":
            actions.append(
                Action(key, BLOCKED, _unknown(key, record), record.fingerprint, fp, held=True)
            )
            return
        # sent or scheduled, same fingerprint
        reason = "unchanged"
        noop = Action(key, NOOP, reason, record.fingerprint, fp, due_at=delivery.due_at)
        if record.status == "scheduled" and record.due_at and record.due_at > state.now:
            reason = f"unchanged; scheduled for {iso(record.due_at)}"
            noop = Action(key, NOOP, reason, record.fingerprint, fp, due_at=delivery.due_at)
            if record.message_id:
                state.waiting[record.message_id].append((delivery, record, noop))
                return
        elif record.status == "scheduled" and delivery.provider == "mpaas":
            loop = loop_of(delivery.params)
            upcoming = loop.next_after(state.now) if loop is not None else None
            if loop is not None and upcoming is not None:
                reason = f"unchanged; a loop running until {iso(loop.end)}, next {iso(upcoming)}"
                noop = Action(key, NOOP, reason, record.fingerprint, fp, due_at=delivery.due_at)
        actions.append(noop)

    def changed(
        self,
        campaign: Campaign,
        deferred: list[tuple[Delivery, Record]],
        state: _State,
        report: Report,
    ) -> None:
        """Sent or scheduled deliveries whose fingerprint differs now: unchanged after all if
        the campaign renders the same at the time they were planned, else replace/blocked."""
        by_time: dict[datetime, list[tuple[Delivery, Record]]] = defaultdict(list)
        for delivery, record in deferred:
            then = self.rendered_at(record.call_id)
            if then is not None and then != self.now:
                by_time[then].append((delivery, record))
        same: set[str] = set()
        for then, items in by_time.items():
            wanted = {d.key: r.fingerprint for d, r in items}
            quiet = Report()  # the campaign rendered fine just now; old-clock errors are moot
            for old in render_deliveries([campaign], self.config, self.environment, then, quiet):
                if wanted.get(old.key) == old.fingerprint:
                    same.add(old.key)
        for delivery, record in deferred:
            if record.status == "pending":
                # Left pending with content the campaign no longer renders: say so, with the
                # difference, before apply is approved to settle it.
                edited = delivery.key not in same
                diff = self.diff(state, delivery.key, delivery.params) if edited else None
                self.pending(delivery, record, state, diff=diff)
                continue
            if delivery.key in same:
                state.plan.actions.append(
                    Action(
                        delivery.key,
                        NOOP,
                        f"unchanged (as rendered at {iso(self.rendered_at(record.call_id))}, "
                        "when it was planned)",
                        record.fingerprint,
                        record.fingerprint,
                        due_at=delivery.due_at,
                    )
                )
                continue
            self.edited(delivery, record, state)

    def edited(self, delivery: Delivery, record: Record, state: _State) -> None:
        key, now = delivery.key, state.now
        diff = self.diff(state, key, delivery.params)
        due = record.due_at
        if record.status == "scheduled" and due is not None and due - state.margin > now:
            late = too_late(delivery, now)
            if late is not None:
                state.plan.actions.append(
                    Action(
                        key,
                        BLOCKED,
                        f"scheduled for {iso(due)} and changed, but the new "
                        f"version {late.split(';')[0]}; remove the campaign to cancel it",
                        record.fingerprint,
                        delivery.fingerprint,
                        diff,
                    )
                )
                return
            self.send(
                _Send(
                    delivery,
                    REPLACE,
                    f"scheduled for {iso(due)} and changed: cancel it, then send the new version",
                    record.generation + 1,
                    record.fingerprint,
                    diff,
                ),
                state,
            )
            if record.message_id:
                state.cancels[record.message_id].append((key, record))
            return
        upcoming = self.upcoming(record, now) if due is not None and due <= now else None
        if record.status == "scheduled" and due is not None and due > now:
            reason = (
                f"scheduled for {iso(due)}, within the {_margin(state)} safety margin: too late "
                "to replace it; it goes out as it was. Bump the campaign's revision to send the "
                "new version as a new push"
            )
        elif upcoming is not None:
            reason = (
                f"a loop already running (next at {iso(upcoming)}) and its definition changed: "
                "what went out cannot be unsent. Bump the campaign's revision to cancel the "
                "rest of this loop and start the new one, or remove the campaign to stop it"
            )
        else:
            reason = (
                "already delivered and its definition changed: a push cannot be unsent. Revert "
                "the change, or bump the campaign's revision to send it as a new push"
            )
        state.plan.actions.append(
            Action(key, BLOCKED, reason, record.fingerprint, delivery.fingerprint, diff)
        )

    def pending(
        self,
        delivery: Delivery,
        record: Record,
        state: _State,
        *,
        diff: list[dict[str, Any]] | None = None,
    ) -> None:
        """A key an earlier run left pending: settled first; if that finds it did not go out,
        its current version is sent in the same apply (calls of their own, planned here so
        the approval covers them)."""
        action = self.unsettled(delivery.key, record, delivery.fingerprint, diff=diff)
        if action.action != RESOLVE:
            state.plan.actions.append(action)
            return
        late = too_late(delivery, state.now)
        if late is not None:
            reason = f"{action.reason}; if it did not go out, it is not sent again: {late}"
            state.plan.actions.append(replace(action, reason=reason))
            return
        version = "the current version" if diff else "it"
        reason = f"{action.reason}; if it did not go out, apply sends {version} right after"
        self.send(
            _Send(delivery, RESOLVE, reason, record.generation + 1, record.fingerprint, diff),
            state,
        )

    def unsettled(
        self,
        key: str,
        record: Record,
        after: str | None,
        *,
        gone: bool = False,
        diff: list[dict[str, Any]] | None = None,
    ) -> Action:
        """A pending key: in flight with the run that holds the lock, or left by a run that
        died. Settling the latter is part of what apply is approved to do, so the reason says
        how it is settled and whether the campaign has changed since."""
        if self.in_progress is not None:
            return Action(
                key,
                INFLIGHT,
                f"written ahead by the run in progress (call {record.call_id}): "
                f"{self.in_progress.describe()}; it records the outcome",
                record.fingerprint,
                after,
            )
        settle = self.how_settled(record)
        reason = [f"left pending by an interrupted run (call {record.call_id}); {settle}"]
        if gone:
            reason.append(
                "its campaign is gone, but settling it may still send it as it was planned then"
            )
        elif diff:
            reason.append(
                "the campaign has changed since: settling it may send the version planned then "
                "(below), not the current one"
            )
        if gone or diff:
            reason.append(
                f"to give it up instead (only if it did not go out): `pushops state abandon "
                f"--call {record.call_id}`"
            )
        return Action(key, RESOLVE, "; ".join(reason), record.fingerprint, after, diff)

    def how_settled(self, record: Record) -> str:
        call_id = record.call_id
        if call_id is not None and call_id not in self._pending_calls:
            self._pending_calls[call_id] = self.ledger.get_call(call_id)
        call = self._pending_calls.get(call_id) if call_id is not None else None
        if call is None:
            return "apply settles it first"
        written = ""
        if call.created_at is not None:
            written = f" (written ahead {duration(self.now - call.created_at)} before this plan)"
        if call.provider == "emas":
            return (
                f"apply settles it first{written}: within 14 minutes of writing it, by repeating "
                "it with the same IdempotentToken (EMAS sends a token at most once in 15 "
                "minutes); later, by asking EMAS (QueryPushRecords) whether it went out"
            )
        return f"apply settles it first{written}, asking mPaaS whether it went out"

    def plan_leftovers(self, state: _State) -> None:
        """Ledger records no campaign renders any more (removed campaign, message or row)."""
        now = state.now
        actions = state.plan.actions
        for key, record in state.records.items():
            if record.status == "pending":
                actions.append(self.unsettled(key, record, None, gone=True))
            elif record.status == "unknown":
                actions.append(
                    Action(key, BLOCKED, _unknown(key, record), record.fingerprint, held=True)
                )
            elif record.status == "scheduled":
                upcoming = self.upcoming(record, now)
                if upcoming is not None:
                    self.leftover_schedule(key, record, upcoming, state)

    def leftover_schedule(
        self, key: str, record: Record, upcoming: datetime, state: _State
    ) -> None:
        """A scheduled push or a running loop no campaign renders any more: cancel what is
        still to come, unless that is within the safety margin."""
        running = record.due_at is None or record.due_at <= state.now
        what = (
            f"a loop running, next at {iso(upcoming)}"
            if running
            else (f"scheduled for {iso(upcoming)}")
        )
        if upcoming - state.margin > state.now and record.message_id:
            rest = "cancel the occurrences still to come" if running else "cancel it"
            campaign = self._campaigns.get(record.campaign)
            if campaign is not None and f"/r{campaign.revision}/" not in key:
                rest += (
                    f"; revision {campaign.revision} is sent only once this is cancelled "
                    "(never both)"
                )
            state.plan.actions.append(
                Action(
                    key,
                    CANCEL,
                    f"no longer in the campaigns; {what}: {rest}",
                    record.fingerprint,
                    due_at=upcoming,
                )
            )
            state.cancels[record.message_id].append((key, record))
            state.upcoming[record.message_id] = upcoming
            return
        state.plan.actions.append(
            Action(
                key,
                BLOCKED,
                f"no longer in the campaigns, but {what}, within the {_margin(state)} safety "
                "margin: too late to cancel it safely; plan again once it has gone out",
                record.fingerprint,
            )
        )

    def plan_siblings(self, state: _State) -> None:
        """Unchanged deliveries that share a cancelled MessageId (one merged PushTask) are
        cancelled with it, so they are sent again; the other waiting ones are no-ops."""
        for message_id, siblings in state.waiting.items():
            if message_id not in state.cancels:
                state.plan.actions.extend(noop for _, _, noop in siblings)
                continue
            for delivery, record, _ in siblings:
                state.cancels[message_id].append((delivery.key, record))
                self.send(
                    _Send(
                        delivery,
                        REPLACE,
                        f"unchanged, but it shares its push (MessageId {message_id}) with a "
                        "changed or removed delivery that is cancelled: sent again with it",
                        record.generation + 1,
                        record.fingerprint,
                        [],
                    ),
                    state,
                )
        state.waiting.clear()

    def cancels(self, state: _State) -> list[PlannedCancel]:
        out = []
        for message_id, items in sorted(state.cancels.items()):
            first = items[0][1]
            call = self.ledger.get_call(first.call_id) if first.call_id else None
            provider = call.provider if call is not None else "emas"
            app = call.app if call is not None else ""
            keys = tuple(sorted({k for k, _ in items}))
            due = state.upcoming.get(message_id, first.due_at)
            out.append(PlannedCancel(provider, app, message_id, keys, due))
        return out

    def emit(self, call: Call, state: _State) -> None:
        """One compiled call: its token for the generation it sends, into the plan."""
        if self.check_call is not None:
            # The calls as they will go out; only these exist now (sends only).
            campaign = self._campaigns[call.deliveries[0].campaign]
            self._report.extend(self.check_call(campaign, call))
        sends = [state.sending.pop(d.key) for d in call.deliveries]
        call = for_generation(call, max(s.generation for s in sends))
        if self.on_call is not None:
            self.on_call(call)
        positions = _positions(call)
        call_id = call.call_id
        add = state.plan.actions.add
        for d, send in zip(call.deliveries, sends, strict=True):
            add(d.key, send.action, send.reason, send.before, d.fingerprint, send.diff,
                d.params, call_id, d.due_at)  # fmt: skip
        record = encode_call(
            (call_id, call.provider, call.app, call.action, call.token, dict(call.query),
             call.body),
            [(d.key, d.campaign, d.message, d.fingerprint, d.params, positions[d.key],
              d.due_at, d.expires_at) for d in call.deliveries],
        )  # fmt: skip
        sends = [(d.campaign, d.params, d.due_at) for d in call.deliveries]
        state.plan.calls.append_record(record, call.provider, sends)


def _positions(call: Any) -> dict[str, int]:
    if call.provider != "emas":
        return {d.key: 0 for d in call.deliveries}
    return {d.key: index for index, task in enumerate(call.tasks) for d in task.deliveries}


def _unknown(key: str, record: Record) -> str:
    return (
        f"nobody could tell whether call {record.call_id} went out; check with the provider, "
        f"then run `pushops state resolve {key} --sent` or `--not-sent`"
    )


def _margin(state: _State) -> str:
    seconds = int(state.margin.total_seconds())
    return f"{seconds // 60} min" if seconds % 60 == 0 else f"{seconds} s"


def build_plan(
    config: Config,
    environment: str | None,
    ledger: Ledger,
    campaigns: Iterable[Campaign],
    now: datetime,
    report: Report,
    *,
    margin_s: float = DEFAULT_MARGIN_S,
    git_commit: str | None = None,
    sandbox: bool = False,
    check: Checker | None = None,
    check_call: CallChecker | None = None,
    policies: SendPolicies | None = None,
    in_progress: InProgress | None = None,
    progress: Callable[[int], None] | None = None,
    render_mode: str = "never",
    on_call: Callable[[Call], None] | None = None,
    on_action: ActionListener | None = None,
    keep_actions: bool = True,
) -> Plan:
    """The plan for ``environment`` (default: the config's); check ``report.ok`` after.

    ``render_mode``: whether large fan-outs render in a process of their own
    (:mod:`pushops.plan.renderproc`; plan and apply pass ``PUSHOPS_RENDER_PROCESS``).
    ``on_call``: told each call the plan sends, as it is compiled, in the plan's order.
    ``on_action``: told each action's row as it is added (any order; see
    :class:`~pushops.plan.model.Actions`). ``keep_actions=False``: the plan's actions are
    counted, not kept, and cannot be iterated (nothing that reads the plan lists them).

    ``in_progress``: another run holds the ledger lock (see :func:`running_elsewhere`); its
    pending calls are shown as in flight, not as left by an interrupted run.
    """
    planner = Planner(
        config, config.environment(environment).name, ledger, now, margin_s=margin_s,
        check=check, check_call=check_call, policies=policies, in_progress=in_progress,
        progress=progress, render_mode=render_mode, on_call=on_call, on_action=on_action,
        keep_actions=keep_actions,
    )  # fmt: skip
    return planner.build(campaigns, report, git_commit=git_commit, sandbox=sandbox)


def running_elsewhere(ledger: Ledger) -> InProgress | None:
    """The live holder of the ledger's write lock, if any (the lock tells a live holder from
    one that died: that one's pending calls are an interrupted run's)."""
    live = [info for info in ledger.lock_info() if not info.stale]
    if not live:
        return None
    info = live[-1]
    return InProgress(info.operation, info.holder, info.started_at, info.lock_id)
