"""A second writer: the session apply settles calls on while it writes the next ones ahead
on its first (PostgreSQL; SQLite has one writer at a time and gives none)."""

from __future__ import annotations

import threading
import time

import pytest

from pushops.ledger import Ledger, LockLostError, SentResult

from .support import Target, pending


def _sent(call_id: str, count: int) -> SentResult:
    return SentResult(call_id, {i: f"msg-{call_id}-{i}" for i in range(count)}, {}, "req")


def test_sqlite_gives_no_second_writer(sqlite_target: Target) -> None:
    with sqlite_target.open() as ledger:
        assert ledger.second_writer() is None


@pytest.mark.postgres
def test_a_second_writer_settles_what_the_first_wrote_ahead(pg_target: Target) -> None:
    with pg_target.open() as ledger, ledger.lock("apply"):
        pending(ledger, "c1", "a", "b")
        second = ledger.second_writer()
        assert second is not None
        try:
            second.record_sent_many([_sent("c1", 2)])
        finally:
            second.close()
        assert {d.status for d in ledger.call_deliveries("c1")} == {"sent"}
        assert [d.message_id for d in ledger.call_deliveries("c1")] == ["msg-c1-0", "msg-c1-1"]


@pytest.mark.postgres
def test_a_second_writer_writes_nothing_once_the_first_ones_lock_is_revoked(
    pg_target: Target,
) -> None:
    with pg_target.open() as holder, pg_target.open() as operator:
        with pytest.raises(LockLostError), holder.lock("apply") as info:
            pending(holder, "c1", "a")
            second = holder.second_writer()
            assert second is not None
            try:
                operator.unlock(info.lock_id)
                second.record_sent_many([_sent("c1", 1)])
            finally:
                second.close()
        assert holder.get_call("c1").status == "pending"


@pytest.mark.postgres
def test_a_settle_bumps_the_serial_once_and_does_not_wait_for_a_write_ahead_to_start(
    pg_target: Target,
) -> None:
    with pg_target.open() as ledger, ledger.lock("apply"):
        pending(ledger, "c1", "a")
        before = ledger.meta().serial
        second = ledger.second_writer()
        assert second is not None
        settled = threading.Event()
        try:
            # The first session holds a write open (its serial row locked, as a write-ahead
            # does from its start); the settle's own work goes on meanwhile and only its
            # commit waits for the serial.
            with ledger._write():
                worker = threading.Thread(
                    target=lambda: (second.record_sent_many([_sent("c1", 1)]), settled.set())
                )
                worker.start()
                assert _waits_on_the_serial(pg_target, second)
                assert _rows_locked(pg_target, "c1")  # its updates were made: only the commit waits
                assert not settled.is_set()
            worker.join(10)
        finally:
            second.close()
        assert settled.is_set()
        assert ledger.meta().serial == before + 2  # the open write's bump, then the settle's


def _waits_on_the_serial(target: Target, second: Ledger, timeout_s: float = 5.0) -> bool:
    """Whether ``second``'s session comes to wait for a lock in the serial's UPDATE (the last
    statement of a settle), seen from a session of the test's own."""
    pid = second.backend_pid  # type: ignore[attr-defined]
    deadline = time.monotonic() + timeout_s
    with target.raw() as observer:
        while time.monotonic() < deadline:
            row = observer.execute(
                "SELECT wait_event_type, query FROM pg_stat_activity WHERE pid = %s", (pid,)
            ).fetchone()
            if row is not None and row[0] == "Lock" and "serial = serial + 1" in row[1]:
                return True
            time.sleep(0.02)
    return False


def _rows_locked(target: Target, call_id: str) -> bool:
    """Whether another session holds the row locks of ``call_id``'s deliveries (it updated
    them and has not committed), seen from a session of the test's own."""
    import psycopg

    with target.raw() as observer:
        try:
            observer.execute(
                "SELECT 1 FROM deliveries WHERE call_id = %s FOR UPDATE NOWAIT", (call_id,)
            )
        except psycopg.errors.LockNotAvailable:
            return True
    return False
