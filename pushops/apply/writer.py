"""Apply's ledger side, in a thread of its own: write each batch of calls ahead, hand it to
the sender, record what comes back.

At the provider's quota apply makes 500 calls a second. Written ahead and settled on the
event loop that sends them, every transaction (a batch of calls, its fsync) stopped the
sending for as long as it took: apply reached a tenth of the quota. Here the ledger has a
thread to itself (SQLite and psycopg release the GIL while the database works), and the
event loop only sends. The order that makes exactly-once hold is unchanged:

1. a batch of calls is recorded ``pending`` and **committed** before the sender sees it;
2. the sender sends each call and hands its outcome back (:meth:`LedgerWriter.record`);
3. outcomes are settled (``sent``/``failed``) in batches, at least every
   :data:`FLUSH_EVERY_S`; an outcome that never comes (the run died) leaves its call
   ``pending`` for recovery, as before.

The writer keeps about a second of sending written ahead and unanswered (see
:data:`MIN_AHEAD`, at most ``window`` calls), so a stop has little to wait for, a run that
dies leaves little to settle, and memory stays bounded. After a stop it writes nothing more
ahead but keeps recording outcomes until the sender says there are no more
(:meth:`LedgerWriter.close`).
A ledger error (a lost lock, a dropped connection) stops it: nothing more is written, the
sender is told to stop, and the error is raised from :meth:`LedgerWriter.wait`.

Given a second handle (``settle_on``, PostgreSQL's :meth:`~pushops.ledger.Ledger.second_writer`)
the outcomes are settled there, by a thread of its own (:class:`Settler`), while this one
writes the next batch ahead: on one session the two took turns, and apply waited on the
database server for both. Settling a call still comes after its write-ahead committed (it
was sent only then), batches are still settled in the order they were handed over, and an
outcome handed over but not committed when the run dies leaves its call pending, as before.
"""

from __future__ import annotations

import collections
import queue
import threading
import time
from collections.abc import Callable, Iterator
from itertools import islice

from pushops.apply.records import pending_records
from pushops.diagnostics import PushopsError
from pushops.ledger import FailedResult, Ledger, SentResult
from pushops.plan.model import Plan, PlannedCall

FLUSH_EVERY_S = 0.25  # outcomes are recorded at least this often
BATCH = 100  # calls per write-ahead transaction, at most (0.2 s of the EMAS quota)
# Calls written ahead and not yet settled, at most: 1.6 s of the EMAS quota. It counts the
# answered calls waiting for their settle too (up to SETTLE_AT, or FLUSH_EVERY_S of them),
# and the calls in flight; at 400 (0.8 s) a million went out at 374-402 calls/s on
# PostgreSQL, the sender waiting for the writer, against 448-480 at 800 in the same hour. The
# cost: after a kill, up to 400 more calls for the next run to settle (under a second of
# resending with their tokens).
WINDOW = 800
# Calls written ahead and unanswered, at least: the first batch. Beyond it the writer keeps
# about a second of sending ahead (twice the calls answered in the last second), so a run
# paced at a few calls a second (rate_limit) leaves few calls pending if it dies, each of
# which the next run must settle before it sends anything new.
MIN_AHEAD = 10
SETTLE_AT = 100  # outcomes that make a settling transaction without waiting for the clock

Outcome = SentResult | FailedResult
_CLOSED = object()  # the sender is done: no more outcomes
_WAKE = object()  # look at the stop flag
_UNANSWERED = object()  # a call ended with nothing to record (left pending)


class LedgerWriter:
    """The ledger's side of one apply run (see the module docstring)."""

    def __init__(
        self,
        ledger: Ledger,
        plan: Plan,
        calls: Iterator[PlannedCall],
        *,
        actor: str | None,
        deliver: Callable[[list[PlannedCall] | None], None],
        failed: Callable[[BaseException], None],
        batch: int = BATCH,
        window: int = WINDOW,
        settle_on: Ledger | None = None,
    ) -> None:
        """``deliver`` hands each written-ahead batch to the sender, then None once nothing
        more will come; ``failed`` tells it the writer stopped on an error. Both are called
        from the writer's thread. ``settle_on``: a second handle to settle outcomes on (see
        the module docstring); the caller closes it."""
        self.ledger = ledger
        self.plan = plan
        self.actor = actor
        self._calls = calls
        self._deliver = deliver
        self._failed = failed
        self._batch = batch
        self._window = window
        self._outcomes: queue.SimpleQueue[Outcome | object] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._ahead = 0  # written ahead, outcome not recorded yet
        self._answered: collections.deque[float] = collections.deque()  # when, last second
        self.error: BaseException | None = None
        self.unreadable: str | None = None  # the plan stopped being readable (damaged file)
        self.written = 0  # calls written ahead
        self.written_deliveries = 0
        self._thread = threading.Thread(target=self._run, name="pushops-ledger", daemon=True)
        self._settler = (
            None if settle_on is None else Settler(settle_on, lambda: self._outcomes.put(_WAKE))
        )

    # ------------------------------------------------------------------ the sender's side

    def start(self) -> None:
        if self._settler is not None:
            self._settler.start()
        self._thread.start()

    def record(self, outcome: Outcome | None) -> None:
        """One call's end (from the sender's thread): its outcome to record, or None when
        it has none (its answer was lost: it stays pending for recovery)."""
        self._outcomes.put(_UNANSWERED if outcome is None else outcome)

    def stop(self) -> None:
        """Write nothing more ahead; outcomes are still recorded until :meth:`close`."""
        self._stop.set()
        self._outcomes.put(_WAKE)

    def close(self) -> None:
        """No more outcomes will come: record what came, then end."""
        self._outcomes.put(_CLOSED)

    def wait(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)
        if self.error is not None:
            raise self.error

    # ------------------------------------------------------------------ the writer's thread

    def _room(self) -> int:
        """How many more calls may be written ahead now (see MIN_AHEAD)."""
        answered, horizon = self._answered, time.monotonic() - 1.0
        while answered and answered[0] < horizon:
            answered.popleft()
        window = min(self._window, max(MIN_AHEAD, 2 * len(answered)))
        return min(self._batch, window - self._ahead)

    def _run(self) -> None:
        writing = True
        self._sent: list[SentResult] = []
        self._failed_results: list[FailedResult] = []
        self._last_flush = time.monotonic()
        try:
            while True:
                if self._settler is not None:
                    self._settler.check()
                if writing and self._stop.is_set():
                    writing = False
                    self._deliver(None)
                room = self._room() if writing else 0
                if room > 0 and not self._write_ahead(room):
                    writing = False
                    self._deliver(None)  # nothing more to send
                # Wait for outcomes only when there is nothing to write ahead now.
                closed = self._collect(block=not writing or self._room() <= 0)
                if closed or self._due():
                    self._settle()
                if closed:
                    if self._settler is not None:
                        self._settler.finish()
                    return
        except BaseException as exc:  # the ledger failed: the sender must stop at once
            self.error = exc
            if writing:
                self._deliver(None)
            self._failed(exc)
        finally:
            if self._settler is not None:
                self._settler.abandon()

    def _due(self) -> bool:
        waiting = len(self._sent) + len(self._failed_results)
        return waiting >= SETTLE_AT or (
            waiting > 0 and time.monotonic() - self._last_flush >= FLUSH_EVERY_S
        )

    def _collect(self, *, block: bool) -> bool:
        """Take the outcomes that came (waiting up to the next settling time for one if
        ``block``); True once the sender has closed."""
        while True:
            try:
                if block:
                    wait_s = max(0.01, self._last_flush + FLUSH_EVERY_S - time.monotonic())
                    item = self._outcomes.get(timeout=wait_s)
                else:
                    item = self._outcomes.get_nowait()
            except queue.Empty:
                return False
            block = False  # got something: settle or write ahead before waiting again
            if item is _CLOSED:
                return True
            if isinstance(item, SentResult):
                self._sent.append(item)
            elif isinstance(item, FailedResult):
                self._failed_results.append(item)
            elif item is _UNANSWERED:
                self._ahead -= 1
            if item is not _WAKE:
                self._answered.append(time.monotonic())
            if self._due():
                return False

    def _write_ahead(self, size: int) -> bool:
        """Write the next batch ahead and hand it over; False when there is none."""
        try:
            chunk = list(islice(self._calls, size))
        except PushopsError as exc:  # the plan cannot be read further (a damaged file)
            self.unreadable = str(exc)
            return False
        if not chunk:
            return False
        self.ledger.record_pending_many(
            [pending_records(call, self.plan, self.actor) for call in chunk]
        )
        self._ahead += len(chunk)
        self.written += len(chunk)
        self.written_deliveries += sum(len(c.deliveries) for c in chunk)
        self._deliver(chunk)
        return True

    def _settle(self) -> None:
        sent, failed = self._sent, self._failed_results
        self._sent, self._failed_results = [], []
        self._last_flush = time.monotonic()
        if self._settler is not None:
            self._settler.hand_over(sent, failed)
        else:
            settle(self.ledger, sent, failed)
        self._ahead -= len(sent) + len(failed)


def settle(ledger: Ledger, sent: list[SentResult], failed: list[FailedResult]) -> None:
    if sent:
        ledger.record_sent_many(sent)
    if failed:
        ledger.record_failed_many(failed)


_DONE = object()  # no more batches to settle


class Settler:
    """Settles batches of outcomes on a ledger handle of its own, in a thread of its own, in
    the order they are handed over (see the module docstring)."""

    def __init__(self, ledger: Ledger, woken: Callable[[], None]) -> None:
        """``woken`` is called (from the settler's thread) when it stops on an error, so the
        writer looks at once rather than at its next settling."""
        self.ledger = ledger
        self._woken = woken
        self._batches: queue.SimpleQueue[tuple[list[SentResult], list[FailedResult]] | object] = (
            queue.SimpleQueue()
        )
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="pushops-settle", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def hand_over(self, sent: list[SentResult], failed: list[FailedResult]) -> None:
        self.check()
        if sent or failed:
            self._batches.put((sent, failed))

    def check(self) -> None:
        """Raise the error the settler stopped on, if it did."""
        if self.error is not None:
            raise self.error

    def finish(self) -> None:
        """Settle what was handed over, then end; raise if that failed."""
        self.abandon()
        self.check()

    def abandon(self) -> None:
        """The writer is ending (maybe on an error): settle what came, then end."""
        if self._thread.is_alive():
            self._batches.put(_DONE)
            self._thread.join()

    def _run(self) -> None:
        while True:
            item = self._batches.get()
            if item is _DONE:
                return
            if self.error is not None:
                continue  # stopped: what comes after an unsettled batch stays pending
            sent, failed = item  # type: ignore[misc]
            try:
                settle(self.ledger, sent, failed)
            except BaseException as exc:  # handed to the writer, which stops the sender
                self.error = exc
                self._woken()
