"""A PostgreSQL server that goes away mid-run: clear error, nothing half-written, recovery."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from pushops.ledger import Ledger, LedgerUnavailableError, LockLostError

from .support import Target, call, delivery, pending, sent

pytestmark = pytest.mark.postgres


def _wait_until_blocked(conn: Any, pid: int) -> str:
    """Wait until backend ``pid`` waits on the table lock the blocker holds on deliveries;
    the statement it is stuck in. (A moment's wait on another lock, seen once on a loaded
    machine while the call's request went in, is not that.)"""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        row = conn.execute(
            "SELECT a.query FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid"
            " WHERE a.pid = %s AND a.wait_event_type = 'Lock' AND NOT l.granted"
            " AND l.locktype = 'relation' AND l.relation = 'deliveries'::regclass",
            (pid,),
        ).fetchone()
        if row:
            return str(row[0])
        time.sleep(0.02)
    raise AssertionError(f"backend {pid} never blocked")


def _record_pending_killed_midway(ledger: Ledger, target: Target) -> BaseException | None:
    """Run record_pending, stop it after its call row went in, terminate its backend."""
    pid = ledger.backend_pid  # type: ignore[attr-defined]
    outcome: list[BaseException | None] = []

    def write() -> None:
        try:
            ledger.record_pending(call("c1"), [delivery("a"), delivery("b")])
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    # The watcher is outside any transaction: pg_stat_activity is a per-transaction snapshot.
    with target.raw() as blocker, target.raw() as watcher:
        # SHARE mode lets the transaction read deliveries and insert its call, but holds
        # its INSERT INTO deliveries: the moment between the two halves of the write.
        blocker.execute("BEGIN")
        blocker.execute("LOCK TABLE deliveries IN SHARE MODE")
        worker = threading.Thread(target=write)
        worker.start()
        query = _wait_until_blocked(watcher, pid)
        watcher.execute("SELECT pg_terminate_backend(%s)", (pid,))
        worker.join(10)
        blocker.execute("ROLLBACK")
    # Stuck in writing the deliveries (a multi-row INSERT or a COPY), the call already in.
    assert query.split()[0] in ("INSERT", "COPY") and "deliveries" in query, query
    return outcome[0]


def test_terminated_backend_mid_write_raises_a_clear_error(pg_target: Target) -> None:
    with pg_target.open() as ledger:
        sent(ledger, "c0", "x")
        error = _record_pending_killed_midway(ledger, pg_target)
    assert isinstance(error, LedgerUnavailableError)
    assert "went away" in str(error) and "rolled back" in str(error)


def test_terminated_backend_mid_write_leaves_no_half_written_call(pg_target: Target) -> None:
    with pg_target.open() as ledger:
        sent(ledger, "c0", "x")
        _record_pending_killed_midway(ledger, pg_target)
    with pg_target.open() as fresh:
        assert fresh.get_call("c1") is None
        assert fresh.get("production/welcome/1/a") is None
        assert fresh.meta().serial == 2


def test_the_same_handle_reconnects_after_its_backend_was_terminated(pg_target: Target) -> None:
    with pg_target.open() as ledger:
        sent(ledger, "c0", "x")
        _record_pending_killed_midway(ledger, pg_target)
        pending(ledger, "c1", "a", "b")  # the write that failed, again
        assert [d.key for d in ledger.call_deliveries("c1")] == [
            "production/welcome/1/a",
            "production/welcome/1/b",
        ]
        assert ledger.meta().serial == 3


def test_a_lost_lock_session_stops_the_holder_from_writing(pg_target: Target) -> None:
    with pg_target.open() as ledger, pg_target.raw() as admin:
        with pytest.raises(LockLostError), ledger.lock("apply") as info:
            admin.execute("SELECT pg_terminate_backend(%s)", (info.session,))
            time.sleep(0.2)
            pending(ledger, "c1", "a")
        assert ledger.get_call("c1") is None
        with pg_target.open() as other, other.lock("apply", timeout_s=2):
            pass
