"""What refresh --apply writes is all or nothing: a change the ledger no longer allows (its
key moved since the comparison) leaves every other change of the run unwritten too."""

from __future__ import annotations

from datetime import timedelta

import pytest
from plan.support import Project, emas_campaign

from pushops.emulator import Emulator
from pushops.ledger import LedgerConflictError, ProvenStatus


def test_one_stale_change_records_none_of_the_run(project: Project, emulator: Emulator) -> None:
    project.write("sale.yaml", emas_campaign("sale", push_in=timedelta(hours=2)))
    project.write("promo.yaml", emas_campaign("promo", "Promo", push_in=timedelta(hours=3)))
    assert project.run("apply", "--auto-approve").exit_code == 0
    keys = ["staging/promo/r1/android", "staging/sale/r1/android"]
    with project.open_ledger() as ledger:
        serial = ledger.meta().serial
        proven = [
            ProvenStatus(key=keys[0], status_from="scheduled", status_to="cancelled",
                         evidence={"Status": "CANCELLED"}),
            # The comparison saw this one pending; it is scheduled now: the run is stale.
            ProvenStatus(key=keys[1], status_from="pending", status_to="sent",
                         evidence={"Status": "SENT"}),
        ]  # fmt: skip
        with pytest.raises(LedgerConflictError, match="changed since refresh compared it"):
            ledger.record_refreshed(proven, actor="night-shift")
        assert [ledger.get(k).current.status for k in keys] == ["scheduled", "scheduled"]
        assert [ledger.events_for(k) for k in keys] == [[], []]
        assert ledger.meta().serial == serial  # nothing written
