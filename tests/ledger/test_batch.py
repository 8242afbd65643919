"""Batched writes: many calls written ahead or settled in one transaction, all or none."""

from __future__ import annotations

import pytest

from pushops.ledger import (
    FailedResult,
    Ledger,
    LedgerConflictError,
    NotFoundError,
    SentResult,
)

from .support import FUTURE, call, delivery, key, pending, sent


def batch(*calls: tuple[str, tuple[str, ...]]) -> list:
    return [(call(call_id), [delivery(t) for t in tasks]) for call_id, tasks in calls]


def statuses(ledger: Ledger) -> dict[str, str]:
    return {d.key: d.status for d in ledger.current_deliveries()}


def test_record_pending_many_writes_every_call_and_delivery(ledger: Ledger) -> None:
    ledger.record_pending_many(batch(("c1", ("a", "b")), ("c2", ("c",))))
    assert [c.call_id for c in ledger.pending_calls("production")] == ["c1", "c2"]
    assert [(d.key, d.position) for d in ledger.call_deliveries("c2")] == [(key("c"), 0)]
    assert set(statuses(ledger).values()) == {"pending"}


def test_record_pending_many_bumps_the_serial_once(ledger: Ledger) -> None:
    before = ledger.meta().serial
    ledger.record_pending_many(batch(("c1", ("a",)), ("c2", ("b",)), ("c3", ("c",))))
    assert ledger.meta().serial == before + 1


def test_a_sent_key_anywhere_in_the_batch_writes_nothing(ledger: Ledger) -> None:
    sent(ledger, "c0", "z")
    before = ledger.meta().serial
    with pytest.raises(LedgerConflictError, match=r"z \(sent\)"):
        ledger.record_pending_many(batch(("c1", ("a",)), ("c2", ("b", "z"))))
    assert ledger.get_call("c1") is None and ledger.get(key("a")) is None
    assert ledger.meta().serial == before


@pytest.mark.parametrize("settle", ["pending", "unknown", "scheduled"])
def test_a_live_key_of_any_kind_refuses_the_batch(ledger: Ledger, settle: str) -> None:
    if settle == "scheduled":
        ledger.record_pending(call("c0"), [delivery("z", due_at=FUTURE)])
        ledger.record_sent("c0", {0: "m"})
    else:
        pending(ledger, "c0", "z")
        if settle == "unknown":
            ledger.record_unknown("c0")
    with pytest.raises(LedgerConflictError, match=settle):
        ledger.record_pending_many(batch(("c1", ("a",)), ("c2", ("z",))))
    assert ledger.get_call("c1") is None


def test_a_call_id_already_in_the_ledger_refuses_the_batch(ledger: Ledger) -> None:
    pending(ledger, "c2", "x")
    with pytest.raises(LedgerConflictError, match="c2"):
        ledger.record_pending_many(batch(("c1", ("a",)), ("c2", ("b",))))
    assert ledger.get_call("c1") is None


def test_failed_keys_in_a_batch_get_new_generations(ledger: Ledger) -> None:
    pending(ledger, "c0", "a")
    ledger.record_failed("c0", "Throttling", "slow down")
    ledger.record_pending_many(batch(("c1", ("a", "b"))))
    history = ledger.get(key("a"))
    assert history is not None
    assert [(d.generation, d.status, d.current) for d in history.generations] == [
        (1, "failed", False),
        (2, "pending", True),
    ]


def test_a_key_in_two_calls_of_one_batch_is_a_caller_error(ledger: Ledger) -> None:
    with pytest.raises(ValueError, match="calls c1 and c2"):
        ledger.record_pending_many(batch(("c1", ("a",)), ("c2", ("a",))))
    with pytest.raises(ValueError, match="twice"):
        ledger.record_pending_many(batch(("c1", ("a",)), ("c1", ("b",))))
    assert ledger.get_call("c1") is None


def test_an_empty_batch_writes_nothing(ledger: Ledger) -> None:
    before = ledger.meta().serial
    ledger.record_pending_many([])
    ledger.record_sent_many([])
    ledger.record_failed_many([])
    assert ledger.meta().serial == before


def test_record_sent_many_settles_every_call_with_its_message_ids(ledger: Ledger) -> None:
    ledger.record_pending_many(
        [
            (call("c1"), [delivery("a"), delivery("b")]),
            (call("c2"), [delivery("later", due_at=FUTURE)]),
        ]
    )
    before = ledger.meta().serial
    ledger.record_sent_many(
        [
            SentResult("c1", {0: "m-a", 1: "m-b"}, {"MessageIds": ["m-a", "m-b"]}, "req-1"),
            SentResult("c2", {0: "m-later"}, None, "req-2"),
        ]
    )
    assert ledger.meta().serial == before + 1
    c1, c2 = ledger.get_call("c1"), ledger.get_call("c2")
    assert c1 is not None and c2 is not None
    assert (c1.status, c1.request_id, c1.response) == (
        "sent",
        "req-1",
        {"MessageIds": ["m-a", "m-b"]},
    )
    assert (c2.status, c2.request_id, c2.response) == ("sent", "req-2", None)
    assert c1.sent_at is not None
    got = [(d.key, d.status, d.message_id) for d in ledger.current_deliveries()]
    assert got == [
        (key("a"), "sent", "m-a"),
        (key("b"), "sent", "m-b"),
        (key("later"), "scheduled", "m-later"),
    ]


def test_positions_without_a_message_id_are_still_settled(ledger: Ledger) -> None:
    ledger.record_pending_many(batch(("c1", ("a", "b"))))
    ledger.record_sent_many([SentResult("c1", {1: "m-b"})])
    assert [(d.status, d.message_id) for d in ledger.call_deliveries("c1")] == [
        ("sent", None),
        ("sent", "m-b"),
    ]


@pytest.mark.parametrize("ids", [{}, {0: None, 1: None}], ids=["no-ids", "only-nones"])
def test_a_call_answered_without_any_message_id_is_settled_whole(ledger: Ledger, ids: dict) -> None:
    ledger.record_pending_many(batch(("c1", ("a", "b")), ("c2", ("c",))))
    ledger.record_sent_many([SentResult("c1", ids), SentResult("c2", {0: "m-c"})])
    assert [(d.status, d.message_id) for d in ledger.call_deliveries("c1")] == [
        ("sent", None),
        ("sent", None),
    ]
    assert [(d.status, d.message_id) for d in ledger.call_deliveries("c2")] == [("sent", "m-c")]


@pytest.mark.parametrize("answered", ["m-b", "消息-b"], ids=["ascii", "unicode"])
def test_a_message_id_written_ahead_stays_when_the_answer_has_none_for_it(
    ledger: Ledger, answered: str
) -> None:
    ledger.record_pending_many([(call("c1"), [delivery("a", message_id="m-known"), delivery("b")])])
    ledger.record_sent_many([SentResult("c1", {1: answered})])
    assert [(d.status, d.message_id) for d in ledger.call_deliveries("c1")] == [
        ("sent", "m-known"),
        ("sent", answered),
    ]


def test_a_message_id_for_a_position_the_call_does_not_have_changes_nothing(
    ledger: Ledger,
) -> None:
    ledger.record_pending_many(batch(("c1", ("a", "b"))))
    ledger.record_sent_many([SentResult("c1", {0: "m-a", 7: "m-stray"})])
    assert [(d.status, d.message_id) for d in ledger.call_deliveries("c1")] == [
        ("sent", "m-a"),
        ("sent", None),
    ]


@pytest.mark.parametrize(
    "ids",
    [
        {0: "1", 1: "600000000000012", 3: "42"},  # widths differ; position 2 unanswered
        {0: "消息-1", 1: "m-2"},  # not ASCII
        {0: " m ", 1: "m\t", 2: ""},  # spaces at either end, empty
        {2: "only-the-last"},
    ],
    ids=["widths", "unicode", "spaces", "last"],
)
def test_each_position_keeps_exactly_its_own_message_id(ledger: Ledger, ids: dict) -> None:
    tasks = ("a", "b", "c", "d")
    ledger.record_pending_many(batch(("c1", tasks), ("c2", ("e",))))
    ledger.record_sent_many([SentResult("c1", ids), SentResult("c2", {0: "m-e"})])
    got = [(d.status, d.message_id) for d in ledger.call_deliveries("c1")]
    assert got == [("sent", ids.get(position)) for position in range(len(tasks))]
    assert [d.message_id for d in ledger.call_deliveries("c2")] == ["m-e"]


def test_a_settled_call_anywhere_in_a_sent_batch_records_nothing(ledger: Ledger) -> None:
    sent(ledger, "c0", "z")
    pending(ledger, "c1", "a")
    before = ledger.meta().serial
    with pytest.raises(LedgerConflictError, match=r"c0 \(already sent\)"):
        ledger.record_sent_many([SentResult("c1", {0: "m"}), SentResult("c0", {0: "m"})])
    assert ledger.get_call("c1").status == "pending"  # type: ignore[union-attr]
    assert statuses(ledger)[key("a")] == "pending"
    assert ledger.meta().serial == before


def test_an_unknown_call_id_in_a_batch_is_not_found_and_records_nothing(ledger: Ledger) -> None:
    pending(ledger, "c1", "a")
    with pytest.raises(NotFoundError, match="nope"):
        ledger.record_failed_many([FailedResult("c1", "X", "y"), FailedResult("nope", "X", "y")])
    assert ledger.get_call("c1").status == "pending"  # type: ignore[union-attr]


def test_the_same_call_twice_in_a_settling_batch_is_a_caller_error(ledger: Ledger) -> None:
    pending(ledger, "c1", "a")
    with pytest.raises(ValueError, match="twice"):
        ledger.record_sent_many([SentResult("c1"), SentResult("c1")])


def test_record_failed_many_keeps_each_provider_error(ledger: Ledger) -> None:
    ledger.record_pending_many(batch(("c1", ("a",)), ("c2", ("b", "c"))))
    before = ledger.meta().serial
    ledger.record_failed_many(
        [
            FailedResult("c1", "InvalidParameter", "Title too long", "req-1"),
            FailedResult("c2", "Throttling", "slow down", None),
        ]
    )
    assert ledger.meta().serial == before + 1
    got = [
        (c.call_id, c.status, c.error_code, c.error_message, c.request_id)
        for c in (ledger.get_call("c1"), ledger.get_call("c2"))
        if c is not None
    ]
    assert got == [
        ("c1", "failed", "InvalidParameter", "Title too long", "req-1"),
        ("c2", "failed", "Throttling", "slow down", None),
    ]
    assert set(statuses(ledger).values()) == {"failed"}


def test_unknown_calls_can_be_settled_in_a_batch(ledger: Ledger) -> None:
    # Recovery asked the provider about several calls at once.
    ledger.record_pending_many(batch(("c1", ("a",)), ("c2", ("b",))))
    ledger.record_unknown("c1")
    ledger.record_sent_many([SentResult("c1", {0: "m1"}), SentResult("c2", {0: "m2"})])
    assert statuses(ledger) == {key("a"): "sent", key("b"): "sent"}


def test_a_large_batch_spans_many_statements(ledger: Ledger) -> None:
    # More keys than one IN list or one multi-row INSERT holds.
    items = [
        (call(f"c{i:03d}"), [delivery(f"t{i:03d}-{j:02d}") for j in range(30)]) for i in range(40)
    ]
    ledger.record_pending_many(items)
    ledger.record_sent_many(
        [SentResult(c.call_id, {j: f"m{j}" for j in range(30)}) for c, _ in items]
    )
    got = statuses(ledger)
    assert len(got) == 1200 and set(got.values()) == {"sent"}
    with pytest.raises(LedgerConflictError, match="1200 key"):
        ledger.record_pending_many([(call(f"d{c.call_id}"), ds) for c, ds in items])


def test_a_batch_its_first_try_cannot_write_is_written_once_the_checked_way(
    ledger: Ledger,
) -> None:
    # Apply's batches go in without a look at the ledger first; a key it has seen (here a
    # failed one) makes a unique index refuse that try, and nothing of it may stay behind.
    pending(ledger, "c0", "a")
    ledger.record_failed("c0", "Throttling", "slow down")
    ledger.record_pending_many(batch(("c1", ("new1", "new2")), ("c2", ("a",))))
    assert [d.key for d in ledger.call_deliveries("c1")] == [key("new1"), key("new2")]
    history = ledger.get(key("new1"))
    assert history is not None and [d.generation for d in history.generations] == [1]
    retried = ledger.get(key("a"))
    assert retried is not None and [d.generation for d in retried.generations] == [1, 2]
    assert [c.call_id for c in ledger.pending_calls("production")] == ["c1", "c2"]
