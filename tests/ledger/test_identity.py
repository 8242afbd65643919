"""Lineage and serial: what a plan file pins to detect a stale ledger."""

from __future__ import annotations

import contextlib
import uuid

from pushops.ledger import Ledger, LedgerConflictError, migrations

from .support import Target, pending, sent


def test_new_ledger_has_a_uuid_lineage_and_serial_zero(ledger: Ledger) -> None:
    meta = ledger.meta()
    assert uuid.UUID(meta.lineage)
    assert meta.serial == 0
    assert meta.schema_version == migrations.latest_version()


def test_meta_names_the_backend(ledger: Ledger, target: Target) -> None:
    assert ledger.meta().backend == target.kind


def test_every_write_bumps_the_serial_by_exactly_one(ledger: Ledger) -> None:
    serials = [ledger.meta().serial]
    pending(ledger, "c1", "a", "b")
    serials.append(ledger.meta().serial)
    ledger.record_attempt("c1")
    serials.append(ledger.meta().serial)
    ledger.record_sent("c1", {0: "m0"})
    serials.append(ledger.meta().serial)
    assert serials == [0, 1, 2, 3]


def test_reads_do_not_change_the_serial(ledger: Ledger) -> None:
    sent(ledger, "c1", "a")
    before = ledger.meta().serial
    list(ledger.current_deliveries("production"))
    ledger.get("production/welcome/1/a")
    ledger.pending_calls("production")
    list(ledger.export())
    assert ledger.meta().serial == before


def test_taking_the_lock_does_not_change_the_serial(ledger: Ledger) -> None:
    # apply takes the lock after plan read the serial; the plan must still match.
    with ledger.lock("apply"):
        pass
    assert ledger.meta().serial == 0


def test_a_refused_write_does_not_change_the_serial(ledger: Ledger) -> None:
    sent(ledger, "c1", "a")
    before = ledger.meta().serial
    with contextlib.suppress(LedgerConflictError):
        ledger.record_failed("c1", "X", "late")
    assert ledger.meta().serial == before


def test_lineage_stays_the_same_across_writes_and_reopening(ledger: Ledger, target: Target) -> None:
    lineage = ledger.meta().lineage
    sent(ledger, "c1", "a")
    ledger.close()
    with target.open() as again:
        assert again.meta().lineage == lineage
        assert again.meta().serial == 2


def test_two_ledgers_get_different_lineages(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from pushops.ledger import open_ledger

    with open_ledger(tmp_path / "a.db") as a, open_ledger(tmp_path / "b.db") as b:
        assert a.meta().lineage != b.meta().lineage
