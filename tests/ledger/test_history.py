"""Generations per key: cancelled or failed records stay as history under a current one."""

from __future__ import annotations

import pytest

from pushops.ledger import Ledger, LedgerConflictError, NotFoundError

from .support import FUTURE, call, delivery, key, pending, sent


def _scheduled(ledger: Ledger, call_id: str, task: str) -> None:
    ledger.record_pending(call(call_id), [delivery(task, due_at=FUTURE)])
    ledger.record_sent(call_id, {0: f"m-{call_id}"})


def test_a_sent_key_refuses_a_second_send(ledger: Ledger) -> None:
    sent(ledger, "c1", "a")
    with pytest.raises(LedgerConflictError, match=r"a \(sent\)"):
        pending(ledger, "c2", "a")


def test_a_pending_key_refuses_a_second_send(ledger: Ledger) -> None:
    pending(ledger, "c1", "a")
    with pytest.raises(LedgerConflictError, match="pending"):
        pending(ledger, "c2", "a")


def test_a_cancelled_key_gets_a_new_current_generation(ledger: Ledger) -> None:
    _scheduled(ledger, "c1", "a")
    ledger.mark_cancelled(key("a"), actor="alice", cancel_call_id="cancel-1")
    pending(ledger, "c2", "a")
    history = ledger.get(key("a"))
    assert history is not None
    assert [(d.generation, d.status, d.current, d.call_id) for d in history.generations] == [
        (1, "cancelled", False, "c1"),
        (2, "pending", True, "c2"),
    ]
    assert history.current is not None and history.current.call_id == "c2"


def test_a_failed_key_can_be_sent_again_as_a_new_generation(ledger: Ledger) -> None:
    pending(ledger, "c1", "a")
    ledger.record_failed("c1", "Throttling", "slow down")
    pending(ledger, "c2", "a")
    assert [d.status for d in ledger.get(key("a")).generations] == ["failed", "pending"]  # type: ignore[union-attr]


def test_current_deliveries_shows_only_the_current_generation(ledger: Ledger) -> None:
    _scheduled(ledger, "c1", "a")
    ledger.mark_cancelled(key("a"))
    sent(ledger, "c2", "a")
    assert [(d.generation, d.call_id) for d in ledger.current_deliveries()] == [(2, "c2")]


def test_get_of_an_unknown_key_is_none(ledger: Ledger) -> None:
    assert ledger.get("production/none/1/x") is None


def test_mark_cancelled_records_who_and_which_call(ledger: Ledger) -> None:
    _scheduled(ledger, "c1", "a")
    done = ledger.mark_cancelled(key("a"), actor="alice", cancel_call_id="cancel-1")
    stored = ledger.get(key("a")).current  # type: ignore[union-attr]
    assert stored == done
    assert (stored.status, stored.actor, stored.cancelled_by) == ("cancelled", "alice", "cancel-1")


def test_only_a_scheduled_delivery_can_be_cancelled(ledger: Ledger) -> None:
    sent(ledger, "c1", "a")
    with pytest.raises(LedgerConflictError, match="scheduled"):
        ledger.mark_cancelled(key("a"))


def test_resolve_sent_settles_the_key_and_then_its_call(ledger: Ledger) -> None:
    pending(ledger, "c1", "a", "b")
    ledger.record_unknown("c1")
    ledger.resolve(key("a"), sent=True, actor="bob")
    assert ledger.get_call("c1").status == "unknown"  # type: ignore[union-attr]
    ledger.resolve(key("b"), sent=True, actor="bob")
    assert ledger.get_call("c1").status == "sent"  # type: ignore[union-attr]
    assert ledger.get(key("a")).current.actor == "bob"  # type: ignore[union-attr]


def test_resolve_not_sent_frees_the_key_for_a_new_send(ledger: Ledger) -> None:
    pending(ledger, "c1", "a")
    resolved = ledger.resolve(key("a"), sent=False, actor="bob")
    assert resolved.status == "failed"
    c = ledger.get_call("c1")
    assert c is not None and c.status == "failed" and "bob" in (c.error_message or "")
    pending(ledger, "c2", "a")


def test_resolve_sent_of_a_scheduled_delivery_keeps_it_scheduled(ledger: Ledger) -> None:
    ledger.record_pending(call("c1"), [delivery("a", due_at=FUTURE)])
    assert ledger.resolve(key("a"), sent=True).status == "scheduled"


def test_resolve_refuses_a_settled_key(ledger: Ledger) -> None:
    sent(ledger, "c1", "a")
    with pytest.raises(LedgerConflictError):
        ledger.resolve(key("a"), sent=False)


def test_remove_forgets_a_key_so_its_next_send_is_a_new_generation(ledger: Ledger) -> None:
    _scheduled(ledger, "c1", "a")
    ledger.mark_cancelled(key("a"))
    sent(ledger, "c2", "a", "b")
    forgotten = ledger.remove(key("a"), actor="ana")
    assert forgotten.status == "cancelled" and forgotten.cancelled_by == "pushops state rm (ana)"
    history = ledger.get(key("a"))
    assert history is not None and [d.generation for d in history.generations] == [1, 2]
    assert ledger.get(key("b")) is not None and ledger.get_call("c2") is not None
    sent(ledger, "c3", "a")  # what the next apply writes: generation 3, a new call
    again = ledger.get(key("a"))
    assert again is not None and again.current is not None and again.current.generation == 3


def test_remove_refuses_an_unsettled_key(ledger: Ledger) -> None:
    pending(ledger, "c1", "a")
    with pytest.raises(LedgerConflictError, match="resolve"):
        ledger.remove(key("a"))


def test_remove_of_an_unknown_key_is_not_found(ledger: Ledger) -> None:
    with pytest.raises(NotFoundError):
        ledger.remove(key("zzz"))
