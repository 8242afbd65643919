"""What the ledger is given comes back byte for byte, whatever the text holds.

PostgreSQL takes apply's rows through COPY in the binary format and its MessageId arrays as
binary parameters: nothing is quoted or escaped on the way, so text that the text formats
would have to escape (tabs, newlines, backslashes, ``\\N``, quotes, commas, braces, the word
NULL) is where a mistake would show.
"""

from __future__ import annotations

import pytest

from pushops.ledger import Ledger, LedgerCorruptError, SentResult

from .support import FUTURE, Target, call, delivery

AWKWARD = [
    "tab\there",
    "new\nline",
    "back\\slash",
    "\\N",
    "quote \" and ' both",
    "comma, {brace}",
    "NULL",
    "",
    "中文标题 🎉",
]


def test_every_field_of_a_delivery_written_ahead_reads_back_as_written(ledger: Ledger) -> None:
    written = [
        delivery(
            f"t{i}",
            request={"Title": text, "Body": text, "TargetValue": f"device-{i}"},
            fingerprint=f"fp-{text}",
            due_at=FUTURE if i % 2 else None,
            expires_at=FUTURE,
        )
        for i, text in enumerate(AWKWARD)
    ]
    ledger.record_pending_many([(call("c1", actor="actor\twith tab"), written)])
    got = {d.key: d for d in ledger.call_deliveries("c1")}
    for position, d in enumerate(written):
        back = got[d.key]
        assert back.request == d.request
        assert back.fingerprint == d.fingerprint
        assert (back.position, back.due_at, back.expires_at) == (position, d.due_at, FUTURE)
        assert back.actor == "actor\twith tab"
        assert (back.status, back.generation, back.message_id) == ("pending", 1, None)


def test_message_ids_that_text_would_escape_are_settled_as_the_provider_gave_them(
    ledger: Ledger,
) -> None:
    written = [delivery(f"t{i}") for i in range(len(AWKWARD) + 1)]
    ledger.record_pending_many([(call("c1"), written)])
    # The last position has no MessageId: it stays for the rest of the settling.
    ids = dict(enumerate(AWKWARD))
    ledger.record_sent_many([SentResult("c1", ids, {"MessageIds": AWKWARD}, "req-1")])
    got = {d.position: d for d in ledger.call_deliveries("c1")}
    assert {p: got[p].message_id for p in ids} == ids
    assert got[len(AWKWARD)].message_id is None
    assert {d.status for d in got.values()} == {"sent"}


@pytest.mark.postgres
def test_a_column_dropped_by_hand_refuses_the_write_naming_table_and_column(
    pg_target: Target,
) -> None:
    ledger = pg_target.open()
    try:
        with pg_target.raw() as conn:
            conn.execute("ALTER TABLE deliveries DROP COLUMN cancelled_by")
        with pytest.raises(LedgerCorruptError, match="deliveries has no column cancelled_by"):
            ledger.record_pending_many([(call("c1"), [delivery("a")])])
        with pg_target.raw() as conn:
            assert conn.execute("SELECT count(*) FROM deliveries").fetchone() == (0,)
            assert conn.execute("SELECT count(*) FROM calls").fetchone() == (0,)
    finally:
        ledger.close()
