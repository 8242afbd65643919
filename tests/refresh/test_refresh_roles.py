"""The nightly drift job's premise: refresh runs with the read-only ledger role that plans
(docs/state.md's roles, as the database administrator sets them up), and --apply needs the
role that writes."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from apply.test_pg_roles import _repo, database
from plan.support import Project, emas_campaign

from pushops.emulator import Emulator
from pushops.ledger import open_ledger

__all__ = ["database"]


def applied_as_the_team_does(
    tmp_path: Path, emulator: Emulator, database: dict[str, str], campaign: str
) -> tuple[Project, dict[str, str], dict[str, str]]:
    """A repository whose ledger the apply role created and applied ``campaign`` to; its
    environments as the plan role and as the apply role."""
    project = _repo(tmp_path, emulator)
    as_plan = {"PUSHOPS_STATE_DSN": database["plan"]}
    as_apply = {"PUSHOPS_STATE_DSN": database["apply"]}
    project.write("sale.yaml", campaign)
    assert project.run("state", "init", env=as_apply).exit_code == 0
    assert project.run("apply", "--auto-approve", env=as_apply).exit_code == 0
    return project, as_plan, as_apply


@pytest.mark.postgres
def test_refresh_reads_with_the_read_only_role_and_records_only_with_the_writer(
    tmp_path: Path, emulator: Emulator, database: dict[str, str]
) -> None:
    scheduled_sale = emas_campaign(push_in=timedelta(hours=2))
    project, as_plan, as_apply = applied_as_the_team_does(
        tmp_path, emulator, database, scheduled_sale
    )
    assert project.run("refresh", env=as_plan).exit_code == 0
    (scheduled,) = emulator.deliveries()
    emulator.console_cancel(scheduled["message_id"])

    found = project.run("refresh", env=as_plan)
    refused = project.run("refresh", "--apply", "--yes", env=as_plan)
    recorded = project.run("refresh", "--apply", "--yes", env=as_apply)

    assert found.exit_code == 2 and "Cancelled at the provider (1):" in found.output
    assert refused.exit_code == 1 and "Traceback" not in refused.output
    assert recorded.exit_code == 0, recorded.output
    assert project.run("refresh", env=as_plan).exit_code == 0


@pytest.mark.postgres
def test_report_with_the_read_only_role_shows_the_counts_and_says_they_were_not_cached(
    tmp_path: Path, emulator: Emulator, database: dict[str, str]
) -> None:
    # The daily report job's premise: it holds only the read-only DSN.
    project, as_plan, as_apply = applied_as_the_team_does(
        tmp_path, emulator, database, emas_campaign()
    )
    (sent,) = emulator.deliveries()
    later = (datetime.now(timezone.utc) + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")

    shown = project.run("report", "--now", later, env=as_plan)

    assert shown.exit_code == 0, shown.output
    assert sent["message_id"] in shown.stdout
    assert "were not cached: this ledger role can only read" in shown.stderr
    with open_ledger(database["apply"], root=project.root) as ledger:
        assert ledger.provider_stats("staging") == []  # nothing cached
    cached = project.run("report", "--now", later, env=as_apply)
    assert cached.exit_code == 0 and "not cached" not in cached.stderr
    with open_ledger(database["apply"], root=project.root) as ledger:
        assert [s.message_id for s in ledger.provider_stats("staging")] == [sent["message_id"]]
