"""The write lock: one writer at a time, visible holder, gone with a dead holder."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from pushops.ledger import Ledger, LockError, LockLostError, LockTimeoutError, NotFoundError

from .support import Holder, Target, pending


def test_lock_info_shows_holder_operation_and_start(ledger: Ledger) -> None:
    with ledger.lock("apply", holder="alice@laptop") as info:
        (shown,) = ledger.lock_info()
        assert shown == info
        assert (shown.holder, shown.operation, shown.stale) == ("alice@laptop", "apply", False)
    assert ledger.lock_info() == []


def test_a_second_locker_in_another_process_fails_after_the_timeout_with_details(
    ledger: Ledger, target: Target
) -> None:
    holder = Holder(target, operation="apply")
    try:
        started = time.monotonic()
        with pytest.raises(LockTimeoutError) as caught, ledger.lock("state rm", timeout_s=0.5):
            pass
        assert time.monotonic() - started >= 0.5
        message = str(caught.value)
        for detail in (holder.lock_id, "holder-process", "'apply'", "since 20"):
            assert detail in message
        assert caught.value.info is not None and caught.value.info.lock_id == holder.lock_id
    finally:
        holder.kill()


def test_a_second_locker_waits_for_the_holder_to_finish(ledger: Ledger, target: Target) -> None:
    holder = Holder(target, hold_s=0.5)
    try:
        with ledger.lock("apply", timeout_s=20) as info:
            assert info.lock_id != holder.lock_id
        assert holder.wait() == 0
    finally:
        holder.kill()


def test_the_lock_of_a_sigkilled_holder_is_free_and_its_info_reported_stale(
    ledger: Ledger, target: Target, caplog: pytest.LogCaptureFixture
) -> None:
    holder = Holder(target)
    holder.kill()
    # The dead holder's row is left behind, but nothing holds the lock any more.
    deadline = time.monotonic() + 10
    while not all(i.stale for i in ledger.lock_info()) and time.monotonic() < deadline:
        time.sleep(0.05)
    (left,) = ledger.lock_info()
    assert (left.lock_id, left.stale) == (holder.lock_id, True)
    with caplog.at_level(logging.WARNING, "pushops.ledger"), ledger.lock("apply", timeout_s=5):
        assert [i.lock_id for i in ledger.lock_info()] != [holder.lock_id]
    assert holder.lock_id in caplog.text and "stale" in caplog.text
    assert ledger.lock_info() == []


def test_two_handles_in_one_process_exclude_each_other(target: Target) -> None:
    with (
        target.open() as first,
        target.open() as second,
        first.lock("apply"),
        pytest.raises(LockTimeoutError),
        second.lock("apply", timeout_s=0.2),
    ):
        pass


def test_the_lock_is_released_when_the_block_raises(ledger: Ledger, target: Target) -> None:
    with pytest.raises(RuntimeError), ledger.lock("apply"):
        raise RuntimeError("boom")
    with target.open() as other, other.lock("apply", timeout_s=0):
        pass


def test_a_handle_cannot_take_its_own_lock_twice(ledger: Ledger) -> None:
    with (
        ledger.lock("apply"),
        pytest.raises(LockError, match="already holds"),
        ledger.lock("apply"),
    ):
        pass


def test_unlock_of_a_stale_lock_removes_its_info(ledger: Ledger, target: Target) -> None:
    holder = Holder(target)
    holder.kill()
    time.sleep(0.2)
    gone = ledger.unlock(holder.lock_id)
    assert gone.lock_id == holder.lock_id
    assert ledger.lock_info() == []


def test_unlock_revokes_a_live_lock_so_the_holder_cannot_write(target: Target) -> None:
    with target.open() as holder, target.open() as operator:
        with pytest.raises(LockLostError), holder.lock("apply") as info:
            operator.unlock(info.lock_id)
            pending(holder, "c1", "a")
        assert holder.get_call("c1") is None


@pytest.mark.postgres
def test_unlock_frees_a_postgresql_lock_at_once(pg_target: Target) -> None:
    # Only PostgreSQL can end another holder's lock session; SQLite waits for the holder.
    holder = Holder(pg_target)
    try:
        with pg_target.open() as operator:
            operator.unlock(holder.lock_id)
            with operator.lock("apply", timeout_s=2):
                pass
    finally:
        holder.kill()


def test_unlock_of_an_unknown_lock_id_is_not_found(ledger: Ledger) -> None:
    with pytest.raises(NotFoundError):
        ledger.unlock("no-such-lock")


def test_writes_wait_for_each_other_without_losing_any(target: Target) -> None:
    # Not the command lock: the database's own serialisation of write transactions.
    errors: list[BaseException] = []

    def writer(prefix: str) -> None:
        try:
            with target.open() as handle:
                for i in range(15):
                    pending(handle, f"{prefix}{i}", f"{prefix}-{i}")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(p,)) for p in "xyz"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with target.open() as check:
        assert check.meta().serial == 45
        assert len(list(check.current_deliveries())) == 45
