"""Both backends accept exactly the same keys and call ids (issue 12.23): one limit, checked
before anything is written, where PostgreSQL's index would otherwise refuse what SQLite takes."""

from __future__ import annotations

import pytest

from pushops.ledger import Ledger, LedgerError
from pushops.ledger.records import MAX_KEY_BYTES

from .support import call, delivery


@pytest.mark.parametrize(
    "bad",
    ["k" * (MAX_KEY_BYTES + 1), "é" * (MAX_KEY_BYTES // 2 + 1), "a\x00b", "a\nb"],
    ids=["long", "long-in-bytes", "nul", "newline"],
)
def test_both_backends_refuse_the_same_keys_before_writing_anything(
    ledger: Ledger, bad: str
) -> None:
    ok = "k" * MAX_KEY_BYTES
    ledger.record_pending(call("c0"), [delivery("x", key=ok)])  # the longest key is stored
    before = ledger.meta().serial
    with pytest.raises(LedgerError, match="nothing was recorded"):
        ledger.record_pending(call("c1"), [delivery("y", key=bad)])
    with pytest.raises(LedgerError, match="nothing was recorded"):
        ledger.record_pending(call(bad), [delivery("z")])
    assert ledger.meta().serial == before
