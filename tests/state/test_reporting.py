"""pushops state list, show and lock: what the ledger holds, as text and versioned JSON."""

from __future__ import annotations

import json

from tests.ledger.support import FUTURE, call, delivery, key, pending, sent

from .conftest import State


def populate(state: State) -> None:
    with state.open() as ledger:
        sent(ledger, "c1", "a", "b")
        pending(ledger, "c2", "c")
        ledger.record_pending(call("s1", env="staging"), [delivery("a", env="staging")])
        ledger.record_pending(call("c3"), [delivery("later", due_at=FUTURE)])
        ledger.record_sent("c3", {0: "m-later"}, {"MessageIds": ["m-later"]}, "req-3")


def test_list_shows_one_line_per_current_delivery(state: State) -> None:
    populate(state)
    result = state.run("list")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["KEY", "STATUS", "FINGERPRINT", "MESSAGE", "ID", "UPDATED"]
    rows = [line.split() for line in lines[1:]]
    assert [r[:4] for r in rows] == [
        [key("a"), "sent", "fp-a", "msg-c1-0"],
        [key("b"), "sent", "fp-b", "msg-c1-1"],
        [key("c"), "pending", "fp-c", "-"],
        [key("later"), "scheduled", "fp-later", "m-later"],
        [key("a", env="staging"), "pending", "fp-a", "-"],
    ]
    assert all(r[4].endswith("Z") for r in rows)


def test_list_filters_by_environment_and_status(state: State) -> None:
    populate(state)
    staging = state.run("list", "--env", "staging")
    assert [line.split()[0] for line in staging.stdout.splitlines()[1:]] == [
        key("a", env="staging")
    ]
    waiting = state.run("list", "--env", "production", "--status", "pending")
    assert [line.split()[0] for line in waiting.stdout.splitlines()[1:]] == [key("c")]
    none = state.run("list", "--status", "unknown")
    assert none.exit_code == 0 and "no deliveries" in none.stdout


def test_list_json_is_versioned_and_deterministic(state: State) -> None:
    populate(state)
    first = state.run("list", "--format", "json")
    assert first.exit_code == 0, first.output
    assert state.run("list", "--format", "json").stdout == first.stdout
    data = json.loads(first.stdout)
    assert data["version"] == 1
    assert data["ledger"]["backend"] == state.target.kind and data["ledger"]["serial"] == 6
    first_delivery = data["deliveries"][0]
    assert (first_delivery["key"], first_delivery["status"]) == (key("a"), "sent")
    assert first_delivery["message_id"] == "msg-c1-0" and "request" not in first_delivery


def test_show_gives_every_generation_its_calls_and_the_recorded_requests(state: State) -> None:
    with state.open() as ledger:
        pending(ledger, "c1", "a")
        ledger.record_failed("c1", "Throttling", "slow down", "req-1")
        sent(ledger, "c2", "a")
    text = state.run("show", key("a"))
    assert text.exit_code == 0, text.output
    for part in (
        "generation 1: failed",
        "generation 2 (current): sent",
        "call c1: failed",
        "error Throttling: slow down",
        "call c2: sent",
        '"AccessKeyId": "***"',  # as recorded: apply redacted it
        '"Body": "for a"',
    ):
        assert part in text.stdout
    data = json.loads(state.run("show", key("a"), "--format", "json").stdout)
    assert data["version"] == 1 and data["key"] == key("a")
    assert [(g["generation"], g["status"], g["current"]) for g in data["generations"]] == [
        (1, "failed", False),
        (2, "sent", True),
    ]
    assert data["generations"][1]["request"] == delivery("a").request
    assert [(c["call_id"], c["status"]) for c in data["calls"]] == [
        ("c1", "failed"),
        ("c2", "sent"),
    ]
    assert data["calls"][0]["request"] == call("c1").request


def test_show_of_an_unknown_key_is_a_clear_error(state: State) -> None:
    result = state.run("show", "production/nope/1/x")
    assert result.exit_code == 1
    assert "no key production/nope/1/x" in result.stderr
    assert "Traceback" not in result.output


def test_no_lock_held_is_said_plainly(state: State) -> None:
    result = state.run("lock")
    assert result.exit_code == 0 and "no ledger lock is held" in result.stdout
    data = json.loads(state.run("list", "--locks", "--format", "json").stdout)
    assert data["version"] == 1 and data["locks"] == []


def test_show_keeps_a_request_line_whole_when_a_value_holds_a_unicode_line_separator(
    state: State,
) -> None:
    with state.open() as ledger:
        ledger.record_pending(call("c1"), [delivery("a", request={"Title": "one\u2028two"})])
    result = state.run("show", key("a"))
    assert result.exit_code == 0, result.output
    assert '      "Title": "one\u2028two"' in result.stdout.split("\n")
