"""Write-ahead records: a call and its deliveries are pending before sending, then settled."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from pushops.ledger import Ledger, LedgerConflictError, NotFoundError, SentResult, open_ledger
from pushops.ledger import sqlite as sqlite_backend
from pushops.ledger.codec import json_text

from .support import ENV, FUTURE, call, delivery, key, pending, sent


def test_pending_call_and_its_deliveries_are_stored_together(ledger: Ledger) -> None:
    pending(ledger, "c1", "a", "b")
    stored = ledger.get_call("c1")
    assert stored is not None and stored.status == "pending" and stored.token == "token-c1"
    assert [(d.key, d.position, d.status) for d in ledger.call_deliveries("c1")] == [
        (key("a"), 0, "pending"),
        (key("b"), 1, "pending"),
    ]


def test_stored_records_come_back_field_for_field(ledger: Ledger) -> None:
    c = call("c1", request={"b": 2, "a": [1, {"z": None}], "ü": "ünïcode"})
    d = delivery("a", due_at=FUTURE, expires_at=FUTURE, message_id=None)
    ledger.record_pending(c, [d])
    got = ledger.get_call("c1")
    assert got is not None
    assert got.request == c.request and list(got.request) == ["b", "a", "ü"]  # order kept
    assert (got.git_commit, got.actor, got.attempts) == ("abc123", "ci", 0)
    (back,) = ledger.call_deliveries("c1")
    assert (back.due_at, back.expires_at, back.request) == (FUTURE, FUTURE, d.request)
    assert (back.git_commit, back.actor, back.call_id) == ("abc123", "ci", "c1")


def test_a_failure_halfway_through_record_pending_leaves_no_trace(ledger: Ledger) -> None:
    # The second delivery collides with a key already sent, after the call row went in.
    sent(ledger, "c0", "b")
    before = ledger.meta().serial
    with pytest.raises(LedgerConflictError):
        ledger.record_pending(call("c1"), [delivery("a"), delivery("b")])
    assert ledger.get_call("c1") is None
    assert ledger.get(key("a")) is None
    assert ledger.meta().serial == before


def test_the_same_call_id_cannot_be_written_ahead_twice(ledger: Ledger) -> None:
    pending(ledger, "c1", "a")
    with pytest.raises(LedgerConflictError, match="c1"):
        ledger.record_pending(call("c1"), [delivery("z")])


def test_record_sent_stores_message_ids_by_position_and_the_response(ledger: Ledger) -> None:
    pending(ledger, "c1", "a", "b")
    ledger.record_sent("c1", {0: "m-a", 1: "m-b"}, {"MessageIds": ["m-a", "m-b"]}, "req-9")
    c = ledger.get_call("c1")
    assert c is not None
    assert (c.status, c.request_id, c.response) == ("sent", "req-9", {"MessageIds": ["m-a", "m-b"]})
    assert c.sent_at is not None
    assert [(d.status, d.message_id) for d in ledger.call_deliveries("c1")] == [
        ("sent", "m-a"),
        ("sent", "m-b"),
    ]


def test_deliveries_sharing_a_position_share_its_message_id(ledger: Ledger) -> None:
    # EMAS merges deliveries that differ only in target into one PushTask.
    ds = [delivery("a", position=0), delivery("b", position=0), delivery("c", position=1)]
    ledger.record_pending(call("c1"), ds)
    ledger.record_sent("c1", {0: "m0", 1: "m1"})
    assert [d.message_id for d in ledger.call_deliveries("c1")] == ["m0", "m0", "m1"]


def test_record_sent_marks_deliveries_with_a_due_time_scheduled(ledger: Ledger) -> None:
    ledger.record_pending(call("c1"), [delivery("now"), delivery("later", due_at=FUTURE)])
    ledger.record_sent("c1", {0: "m0", 1: "m1"})
    assert [d.status for d in ledger.call_deliveries("c1")] == ["sent", "scheduled"]


def test_record_failed_keeps_the_provider_error(ledger: Ledger) -> None:
    pending(ledger, "c1", "a")
    ledger.record_failed("c1", "InvalidParameter", "Title too long", "req-1")
    c = ledger.get_call("c1")
    assert c is not None
    assert (c.status, c.error_code, c.error_message, c.request_id) == (
        "failed",
        "InvalidParameter",
        "Title too long",
        "req-1",
    )
    assert ledger.call_deliveries("c1")[0].status == "failed"


def test_record_unknown_marks_the_call_and_its_deliveries(ledger: Ledger) -> None:
    pending(ledger, "c1", "a", "b")
    ledger.record_unknown("c1")
    assert ledger.get_call("c1").status == "unknown"  # type: ignore[union-attr]
    assert {d.status for d in ledger.call_deliveries("c1")} == {"unknown"}


def test_an_unknown_call_can_still_be_recorded_as_sent(ledger: Ledger) -> None:
    # Recovery asked the provider and learnt that it did go out.
    pending(ledger, "c1", "a")
    ledger.record_unknown("c1")
    ledger.record_sent("c1", {0: "m0"})
    assert ledger.call_deliveries("c1")[0].status == "sent"


def test_record_attempt_counts_sends(ledger: Ledger) -> None:
    pending(ledger, "c1", "a")
    assert [ledger.record_attempt("c1") for _ in range(3)] == [1, 2, 3]
    assert ledger.get_call("c1").attempts == 3  # type: ignore[union-attr]


def test_a_settled_call_cannot_be_settled_again(ledger: Ledger) -> None:
    sent(ledger, "c1", "a")
    with pytest.raises(LedgerConflictError, match="already sent"):
        ledger.record_failed("c1", "X", "late")


def test_settling_an_unknown_call_id_is_not_found(ledger: Ledger) -> None:
    with pytest.raises(NotFoundError):
        ledger.record_sent("nope", {})


def test_pending_calls_lists_the_unsettled_calls_of_one_environment(ledger: Ledger) -> None:
    pending(ledger, "c2", "a")
    pending(ledger, "c1", "b")
    sent(ledger, "c3", "c")
    pending(ledger, "c4", "d")
    ledger.record_unknown("c4")
    pending(ledger, "s1", "e", env="staging")
    assert [c.call_id for c in ledger.pending_calls(ENV)] == ["c1", "c2"]
    assert [c.call_id for c in ledger.pending_calls(ENV, include_unknown=True)] == [
        "c1",
        "c2",
        "c4",
    ]


def test_current_deliveries_streams_one_environment_in_key_order(ledger: Ledger) -> None:
    sent(ledger, "c1", "b", "a")
    pending(ledger, "c2", "c")
    pending(ledger, "s1", "a", env="staging")
    got = [(d.key, d.status) for d in ledger.current_deliveries(ENV)]
    assert got == [(key("a"), "sent"), (key("b"), "sent"), (key("c"), "pending")]


def test_current_deliveries_can_skip_decoding_requests(ledger: Ledger) -> None:
    sent(ledger, "c1", "a")
    (d,) = ledger.current_deliveries(ENV, with_request=False)
    assert d.request is None and d.fingerprint == "fp-a"


def test_a_write_while_a_stream_is_open_is_refused(ledger: Ledger) -> None:
    sent(ledger, "c1", "a", "b")
    stream = ledger.current_deliveries(ENV)
    next(stream)
    with pytest.raises(Exception, match="finish reading"):
        pending(ledger, "c2", "c")
    stream.close()
    pending(ledger, "c2", "c")


def test_naive_times_are_refused(ledger: Ledger) -> None:
    with pytest.raises(ValueError, match="naive"):
        ledger.record_pending(call("c1"), [delivery("a", due_at=datetime(2099, 1, 1))])


def test_times_come_back_in_utc(ledger: Ledger) -> None:
    from datetime import timedelta

    tokyo = timezone(timedelta(hours=9))
    ledger.record_pending(call("c1"), [delivery("a", due_at=datetime(2099, 1, 1, 9, tzinfo=tokyo))])
    (d,) = ledger.call_deliveries("c1")
    assert d.due_at == datetime(2099, 1, 1, 0, tzinfo=timezone.utc)
    assert d.due_at is not None and d.due_at.utcoffset() == timedelta(0)


def test_requests_are_stored_as_compact_json_text_as_the_stdlib_writes_it(ledger: Ledger) -> None:
    request = {"Title": "Prix d'été, 50 %", "n": [1, 2.5, None, True], "big": 2**70, "x": {}}
    ledger.record_pending(call("c1"), [delivery("k", request=request)])
    (stored,) = ledger.call_deliveries("c1")
    assert stored.request == request
    assert json_text(request) == json.dumps(request, ensure_ascii=False, separators=(",", ":"))


def test_a_request_with_nan_is_refused_before_anything_is_written(ledger: Ledger) -> None:
    before = ledger.meta().serial
    with pytest.raises(ValueError, match="not a finite number"):
        ledger.record_pending(call("c1"), [delivery("k", request={"x": [float("nan")]})])
    assert ledger.meta().serial == before
    assert ledger.get_call("c1") is None


@pytest.mark.parametrize("json_functions", [True, False], ids=["json", "per-delivery"])
def test_sqlite_settles_message_ids_alike_with_or_without_its_json_functions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, json_functions: bool
) -> None:
    monkeypatch.setattr(sqlite_backend, "_JSON", json_functions)
    with open_ledger(tmp_path / "state.db") as ledger:
        ds = [delivery("a", position=0), delivery("b", position=0), delivery("c", position=1)]
        ledger.record_pending_many([(call("c1"), ds), (call("c2"), [delivery("d"), delivery("e")])])
        ledger.record_sent_many(
            [SentResult("c1", {0: "m0", 1: None}), SentResult("c2", {1: "m-e"})]
        )
        got = [(d.status, d.message_id) for c in ("c1", "c2") for d in ledger.call_deliveries(c)]
    # A position answered without a MessageId, or not answered for, is sent all the same.
    assert got == [("sent", "m0"), ("sent", "m0"), ("sent", None), ("sent", None), ("sent", "m-e")]


def test_a_key_twice_in_one_batch_is_refused_and_nothing_is_written(ledger: Ledger) -> None:
    before = ledger.meta().serial
    with pytest.raises(ValueError, match="carries a key twice"):
        ledger.record_pending_many([(call("c1"), [delivery("a"), delivery("a")])])
    with pytest.raises(ValueError, match="carried by calls c1 and c2"):
        ledger.record_pending_many(
            [(call("c1"), [delivery("a"), delivery("b")]), (call("c2"), [delivery("b")])]
        )
    assert ledger.meta().serial == before
    assert ledger.get_call("c1") is None and ledger.get_call("c2") is None
