"""pushops state rm and resolve: a person repairs the ledger, never past a possible send."""

from __future__ import annotations

import pytest

from tests.ledger.support import key, pending, sent

from .conftest import State


def test_rm_asks_first_and_keeps_the_key_when_told_no(state: State) -> None:
    with state.open() as ledger:
        sent(ledger, "c1", "a")
    result = state.run("rm", key("a"), input="n\n")
    assert result.exit_code == 1
    assert "Forget" in result.stderr and "send it again" in result.stderr
    with state.open() as ledger:
        assert ledger.get(key("a")) is not None


def test_rm_forgets_the_key_after_a_yes_and_keeps_its_history(state: State) -> None:
    with state.open() as ledger:
        pending(ledger, "c1", "a")
        ledger.record_failed("c1", "X", "no")
        sent(ledger, "c2", "a")
    result = state.run("rm", key("a"), "--actor", "ana", input="y\n")
    assert result.exit_code == 0, result.output
    assert f"removed {key('a')} (it was sent): the next apply sends it again" in result.stdout
    with state.open() as ledger:
        history = ledger.get(key("a"))
    assert history is not None and len(history.generations) == 2
    current = history.current
    assert current is not None and current.status == "cancelled"
    assert current.cancelled_by == "pushops state rm (ana)"


@pytest.mark.parametrize("done", ["failed", "removed"])
def test_rm_of_a_key_nothing_of_which_counts_as_sent_changes_nothing(
    state: State, done: str
) -> None:
    with state.open() as ledger:
        pending(ledger, "c1", "a")
        ledger.record_failed("c1", "X", "no")
        if done == "removed":
            sent(ledger, "c2", "a")
            ledger.remove(key("a"))
        before = ledger.meta().serial
    result = state.run("rm", key("a"), "--yes")
    assert result.exit_code == 1
    assert "the next apply sends it again as it is; nothing was changed" in result.stderr
    with state.open() as ledger:
        assert ledger.meta().serial == before


def test_rm_with_yes_does_not_ask(state: State) -> None:
    with state.open() as ledger:
        sent(ledger, "c1", "a")
    result = state.run("rm", key("a"), "--yes")
    assert result.exit_code == 0 and "Forget" not in result.output


@pytest.mark.parametrize("status", ["pending", "unknown"])
def test_rm_refuses_an_unsettled_key_and_says_how_to_settle_it(state: State, status: str) -> None:
    with state.open() as ledger:
        pending(ledger, "c1", "a")
        if status == "unknown":
            ledger.record_unknown("c1")
    result = state.run("rm", key("a"), "--yes")
    assert result.exit_code == 1
    assert f"is {status}" in result.stderr and "pushops state resolve" in result.stderr
    with state.open() as ledger:
        assert ledger.get(key("a")) is not None


def test_rm_of_an_unknown_key_is_a_clear_error(state: State) -> None:
    result = state.run("rm", "production/x/1/y", "--yes")
    assert result.exit_code == 1 and "no key production/x/1/y" in result.stderr


def test_resolve_sent_settles_the_key_and_its_call(state: State) -> None:
    with state.open() as ledger:
        pending(ledger, "c1", "a")
        ledger.record_unknown("c1")
    result = state.run("resolve", key("a"), "--sent", "--actor", "alice")
    assert result.exit_code == 0, result.output
    assert "as sent" in result.stdout
    with state.open() as ledger:
        current = ledger.get(key("a")).current  # type: ignore[union-attr]
        assert current is not None and (current.status, current.actor) == ("sent", "alice")
        assert ledger.get_call("c1").status == "sent"  # type: ignore[union-attr]


def test_resolve_not_sent_lets_the_next_apply_send_it(state: State) -> None:
    with state.open() as ledger:
        pending(ledger, "c1", "a")
    result = state.run("resolve", key("a"), "--not-sent")
    assert result.exit_code == 0 and "as failed" in result.stdout
    with state.open() as ledger:
        pending(ledger, "c2", "a")  # a new generation is allowed now


def test_resolve_needs_to_be_told_which(state: State) -> None:
    with state.open() as ledger:
        pending(ledger, "c1", "a")
    result = state.run("resolve", key("a"))
    assert result.exit_code == 1 and "--sent or --not-sent" in result.output


def test_resolve_refuses_a_settled_key(state: State) -> None:
    with state.open() as ledger:
        sent(ledger, "c1", "a")
    result = state.run("resolve", key("a"), "--not-sent")
    assert result.exit_code == 1
    assert "only pending or unknown keys are resolved" in result.stderr
    assert "Traceback" not in result.output
