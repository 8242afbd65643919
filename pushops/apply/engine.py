"""Apply a plan: settle, cancel, then send, writing every call to the ledger before it goes.

Order of work, under the ledger lock the caller holds:

1. settle what an interrupted run left pending (:mod:`pushops.apply.recovery`);
2. cancel the scheduled pushes of ``cancel`` and ``replace`` actions (a replacement is sent
   only once its old push is cancelled);
3. send the planned calls: in batches, each batch written ahead as ``pending`` in one
   transaction, then sent concurrently (the client bounds calls in flight and paces them to
   the account's quota), results recorded in batches as they come back.

A failure of one call is recorded (code, message, RequestId) and the run goes on with the
independent ones; an error that is fatal for the run stops sending; a stop request (SIGINT,
SIGTERM) stops taking new calls and halts the gateway, so the calls still queued behind the
rate limit give up at once (recorded as not sent: certainly not out there). Either way the
calls on the wire are awaited and recorded, so what is left pending is only what may truly be
out there (the next run settles it).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone

from pushops.apply.gateway import (
    FAILED,
    INTERRUPTED,
    NOT_SENT,
    RUN_STOPPED,
    SENT,
    Gateway,
    Outcome,
)
from pushops.apply.progress import Progress
from pushops.apply.recovery import Recovery
from pushops.apply.sender import SendingProcess, Spawned, wanted
from pushops.apply.writer import FLUSH_EVERY_S, LedgerWriter
from pushops.ledger import FailedResult, Ledger, LedgerConflictError, LedgerError, SentResult
from pushops.ledger.records import FAILED as FAILED_STATUS
from pushops.ledger.records import NOT_SENT_WHY
from pushops.plan.engine import without_revision
from pushops.plan.model import Plan, PlannedCall, PlannedCancel, PlannedDelivery, planned_delivery

BATCH = 100  # calls written ahead per transaction: a fifth of a second of the EMAS quota
STOP_GRACE_S = 20.0  # how long a stop waits for the calls in flight before leaving them


@dataclass
class Failure:
    """A call that did not end as sent: what the provider (or pushops) said about it."""

    call_id: str
    keys: tuple[str, ...]
    code: str | None
    message: str | None
    request_id: str | None = None


@dataclass
class Summary:
    """What a run did, counted in deliveries (``calls``: the calls accepted)."""

    sent: int = 0
    scheduled: int = 0
    calls: int = 0
    failed: int = 0  # refused by the provider (or its cancel was): certainly not out there
    cancelled: int = 0
    # Answer lost, or an error that does not say whether it went out: left pending, the next
    # run settles them. ``unanswered`` names each call with what came back, if anything.
    pending: int = 0
    not_sent: int = 0  # never sent because the run stopped first: certainly not out there
    not_sent_why: str | None = None  # why, in words (interrupted, or the run stopped)
    failures: list[Failure] = field(default_factory=list)
    unanswered: list[Failure] = field(default_factory=list)
    recovery: Recovery = field(default_factory=Recovery)
    stopped: str | None = None  # why sending stopped early
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return (
            not self.failed
            and not self.pending
            and not self.not_sent
            and not self.recovery.unknown
            and not self.recovery.still_pending
            and self.stopped is None
        )


class Applier:
    def __init__(
        self,
        plan: Plan,
        ledger: Ledger,
        gateway: Gateway,
        *,
        actor: str | None = None,
        stop: asyncio.Event | None = None,
        progress: Progress | None = None,
        clock: Callable[[], datetime] | None = None,
        batch: int = BATCH,
        send_mode: str = "never",
        early: Spawned | None = None,
    ) -> None:
        """``send_mode``: whether the calls go out from a process of their own
        (:mod:`pushops.apply.sender`): auto, always or never; ``early``: that process, started
        ahead (see :func:`~pushops.apply.sender.start_early`), ended here if unused."""
        self.plan = plan
        self.ledger = ledger
        self.gateway = gateway
        self.actor = actor
        self.stop = stop or asyncio.Event()
        self.progress = progress
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.batch = batch
        self.summary = Summary()
        self._fatal: str | None = None
        self._writer: LedgerWriter | None = None
        self.send_mode = send_mode
        self._early = early
        self._sending: SendingProcess | None = None
        self._settled_elsewhere = 0  # deliveries of calls left out: their pending call went out

    # ------------------------------------------------------------------ cancels

    async def cancel_all(self) -> set[str]:
        """Cancel what the plan cancels; the keys not to send because their cancel failed
        (the replacements, and new revisions of what could not be withdrawn)."""
        refused: set[str] = set()
        margin = timedelta(seconds=self.plan.margin_s)
        for cancel in self.plan.cancels:
            if self.stop.is_set() or self._fatal:
                refused.update(cancel.keys)
                continue
            now = self.clock()
            if cancel.due_at is not None and cancel.due_at - margin <= now:
                # The plan was made earlier; by now it is too close to its due time.
                self._cancel_failed(cancel, "TooLate", "within the safety margin of its due time")
                refused.update(cancel.keys)
                continue
            outcome = await self.gateway.cancel(cancel.provider, cancel.app, cancel.message_id)
            if outcome.status != SENT:
                if outcome.fatal:
                    self._fatal = f"{outcome.code}: {outcome.message}"
                self._cancel_failed(cancel, outcome.code, outcome.message, outcome.request_id)
                refused.update(cancel.keys)
                continue
            by = f"{cancel_action(cancel)}:{cancel.message_id}"
            for key in cancel.keys:
                # A conflict: already settled otherwise (e.g. cancelled by an earlier run).
                with contextlib.suppress(LedgerConflictError):
                    self.ledger.mark_cancelled(key, actor=self.actor, cancel_call_id=by)
                self.summary.cancelled += 1
        return refused

    def _cancel_failed(
        self, cancel: PlannedCancel, code: str | None, message: str | None, rid: str | None = None
    ) -> None:
        self.summary.failed += len(cancel.keys)
        self.summary.failures.append(
            Failure(f"{cancel_action(cancel)}:{cancel.message_id}", cancel.keys, code, message, rid)
        )

    # ------------------------------------------------------------------ sends

    async def send_all(self, calls: Iterable[PlannedCall]) -> None:
        """Send ``calls``: the ledger writer (its own thread) writes each batch ahead and
        hands it here; each call is sent, its outcome handed back to be recorded."""
        loop = asyncio.get_running_loop()
        batches: asyncio.Queue[list[PlannedCall] | None] = asyncio.Queue()
        if wanted(self.send_mode, len(self.plan.calls)) and not self.stop.is_set():
            # Before anything is written ahead: a child that cannot start stops the run
            # with nothing written, nothing sent.
            self._sending = await SendingProcess.start(self.gateway, self._early)
        elif self._early is not None:
            # Not needed after all: ended now, not when the run is over (it would idle).
            await asyncio.to_thread(self._early.abandon)
        second = self._second_writer()
        writer = self._writer = LedgerWriter(
            self.ledger, self.plan, iter(calls), actor=self.actor,
            deliver=lambda chunk: loop.call_soon_threadsafe(batches.put_nowait, chunk),
            failed=lambda exc: loop.call_soon_threadsafe(self._ledger_failed, exc),
            batch=self.batch, settle_on=second,
        )  # fmt: skip
        if self.stop.is_set():
            writer.stop()
        writer.start()
        in_flight: set[asyncio.Task[None]] = set()
        try:
            while True:
                chunk = await batches.get()
                if chunk is None:
                    break
                for call in chunk:
                    task = asyncio.create_task(self.send_one(call))
                    in_flight.add(task)
                    task.add_done_callback(in_flight.discard)
            if writer.unreadable:
                self._fatal = self._fatal or writer.unreadable
            if in_flight:
                await self.drain(set(in_flight))
        finally:
            writer.close()
            try:
                await asyncio.to_thread(writer.wait)
            finally:
                if second is not None:
                    second.close()
                if self._sending is not None:
                    await self._sending.close()
        # Never written ahead, never sent: the next plan shows them as sends again.
        # (Those whose old push could not be cancelled are among them: not sent either.)
        self.summary.not_sent += (
            self.plan.calls.deliveries - writer.written_deliveries - self._settled_elsewhere
        )

    def _second_writer(self) -> Ledger | None:
        """A second ledger session to settle on, where the backend has one to give. Only
        speed depends on it: without one (the server refused another connection) the writer
        settles on its own session, as before."""
        if not self.plan.calls:
            return None
        try:
            return self.ledger.second_writer()
        except LedgerError:
            return None

    def _ledger_failed(self, exc: BaseException) -> None:
        """The ledger writer stopped on an error: send nothing more (the error is raised
        once the calls in flight are done)."""
        self._fatal = self._fatal or f"the ledger failed: {exc}"
        self._halt("the ledger failed; nothing more is sent")

    def _halt(self, reason: str) -> None:
        self.gateway.halt(reason)
        if self._sending is not None:
            self._sending.halt(reason)

    async def drain(self, in_flight: set[asyncio.Task[None]]) -> None:
        while in_flight:
            timeout = STOP_GRACE_S if self.stop.is_set() else FLUSH_EVERY_S
            done, in_flight = await asyncio.wait(
                in_flight, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
            if not done and self.stop.is_set():
                # Still unanswered after the grace: left pending, the next run settles them.
                for task in in_flight:
                    task.cancel()
                await asyncio.gather(*in_flight, return_exceptions=True)
                return

    async def send_one(self, call: PlannedCall) -> None:
        if self.stop.is_set() or self._fatal:
            # Written ahead but never sent: certainly not out there.
            if self._fatal:
                stopped = Outcome(
                    FAILED,
                    code=RUN_STOPPED,
                    message=f"not sent: the run stopped after {self._fatal}",
                )
            else:
                stopped = Outcome(
                    FAILED,
                    code=INTERRUPTED,
                    message="not sent: the run was interrupted before this call was sent",
                )
            self._record(call, stopped)
            return
        try:
            if self._sending is not None:
                answer = self._sending.hand_over(call.provider, call.app, call.query, call.body)
                # The form (~29 KB) is the sending process's now, and the requests were
                # written ahead: what records the outcome (keys, due times) is all this one
                # keeps of the calls it may hold in hand (up to writer.WINDOW). With each
                # delivery's request kept as well, apply's peak RSS at a million rose with the
                # calls in hand as sending got faster: 158-172 MB, against 123-126 without
                # (bench/README.md, 2026-12-03).
                call = replace(call, body="", deliveries=_without_requests(call.deliveries))
                outcome = await answer
            else:
                outcome = await self.gateway.send(
                    call.provider, call.app, call.query, body=call.body
                )
        except asyncio.CancelledError:
            self.summary.pending += len(call.deliveries)
            self._sent_to().record(None)
            self.summary.unanswered.append(
                Failure(call.call_id, _keys(call), None, "no answer before the run stopped")
            )
            raise
        if outcome.fatal and self._fatal is None:
            self._fatal = f"{outcome.code}: {outcome.message}"
            self._sent_to().stop()
        self._record(call, outcome)

    def _sent_to(self) -> LedgerWriter:
        assert self._writer is not None, "calls are sent only while the writer runs"
        return self._writer

    def _record(self, call: PlannedCall, outcome: Outcome) -> None:
        n = len(call.deliveries)
        writer = self._sent_to()
        attempted = True
        if outcome.status == SENT:
            writer.record(
                SentResult(call.call_id, outcome.message_ids, outcome.response, outcome.request_id)
            )
            self.summary.calls += 1
            self.summary.sent += n
            self.summary.scheduled += sum(1 for d in call.deliveries if d.due_at is not None)
        elif outcome.status == FAILED:
            writer.record(
                FailedResult(call.call_id, outcome.code, outcome.message, outcome.request_id)
            )
            if outcome.code in NOT_SENT:
                # Never sent (a stop came first): the next plan shows them as sends again.
                self.summary.not_sent += n
                self.summary.not_sent_why = NOT_SENT_WHY.get(outcome.code or "")
                attempted = False
            else:
                self.summary.failed += n
                self.summary.failures.append(_failure(call, outcome))
        else:
            writer.record(None)
            self.summary.pending += n
            self.summary.unanswered.append(_failure(call, outcome))
        if attempted and self.progress is not None:
            self.progress.advance(n)

    def still_out_there(self) -> set[str]:
        """Keys an interrupted run left pending (``plan.resolves``) that settling did not find
        "not sent": out there, unknown or still pending. The plan's send of such a key (its
        current version, planned in case settling found it never went out) must not go."""
        if not self.plan.resolves:
            return set()
        return {
            d.key
            for call_id in self.plan.resolves
            for d in self.ledger.call_deliveries(call_id)
            if d.status != FAILED_STATUS
        }

    def _sendable(self, refused: set[str], waiting: set[str]) -> Iterator[PlannedCall]:
        """The plan's calls but those whose old push could not be cancelled: its replacement
        (the same key) or its new revision (the same key but for the revision) could give
        users both; and those carrying a key whose pending call went out after all (or
        nobody could tell). Read in the writer's thread; none of them is written ahead."""
        if not refused and not waiting:
            yield from self.plan.calls
            return
        across = {without_revision(key) for key in refused}
        for call in self.plan.calls:
            if waiting and any(d.key in waiting for d in call.deliveries):
                # Settled as out there (or unknown): recovery's report says so; not "not sent".
                self._settled_elsewhere += len(call.deliveries)
            elif not any(
                d.key in refused or without_revision(d.key) in across for d in call.deliveries
            ):
                yield call

    async def _halt_on_stop(self) -> None:
        # Calls queued behind the rate limit have not gone out: on a stop they must not,
        # and waiting for their turn would keep an interrupted run sending for minutes.
        await self.stop.wait()
        if self._writer is not None:
            self._writer.stop()
        self._halt("the run was interrupted before this call was sent")

    async def run(self, recovery: Recovery | None = None) -> Summary:
        started = time.monotonic()
        if recovery is not None:
            self.summary.recovery = recovery
        refused = await self.cancel_all()
        watcher = asyncio.create_task(self._halt_on_stop())
        try:
            await self.send_all(self._sendable(refused, self.still_out_there()))
        finally:
            watcher.cancel()
            if self.progress is not None:
                stopped = (
                    "interrupted" if self.stop.is_set() else "stopped" if self._fatal else None
                )
                self.progress.close(stopped)
        if self._fatal:
            self.summary.stopped = (
                f"stopped sending after an error fatal for the run: {self._fatal}"
            )
        elif self.stop.is_set():
            self.summary.stopped = "interrupted: stopped taking new calls"
        self.summary.seconds = time.monotonic() - started
        return self.summary


def _without_requests(deliveries: tuple[PlannedDelivery, ...]) -> tuple[PlannedDelivery, ...]:
    # 21 us a call of 100, where ``_replace`` took 65 (apply spends ~1.7 ms a call).
    return tuple(
        [
            planned_delivery((key, campaign, task, fp, None, position, due, expires))
            for key, campaign, task, fp, _, position, due, expires in deliveries
        ]
    )


def _keys(call: PlannedCall) -> tuple[str, ...]:
    return tuple(d.key for d in call.deliveries)


def _failure(call: PlannedCall, outcome: Outcome) -> Failure:
    return Failure(call.call_id, _keys(call), outcome.code, outcome.message, outcome.request_id)


def cancel_action(cancel: PlannedCancel) -> str:
    return "CancelPush" if cancel.provider == "emas" else "CancelPushScheduler"
