"""A ledger from before events and statistics (schema version 2), read by the read-only role
of docs/state.md, as the pull request's plan and the scheduled refresh and report jobs hold
it: they read it as it is; only the role that writes migrates it, at its first write."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from apply.test_pg_roles import _repo, database

from pushops.emulator import Emulator
from pushops.ledger import migrations, open_ledger
from pushops.ledger.migrations import INITIAL, POLICY_OVERRIDES

__all__ = ["database"]


@pytest.mark.postgres
def test_the_read_only_role_plans_refreshes_and_reports_on_an_older_ledger(
    tmp_path: Path, emulator: Emulator, database: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _repo(tmp_path, emulator)
    as_plan = {"PUSHOPS_STATE_DSN": database["plan"]}
    as_apply = {"PUSHOPS_STATE_DSN": database["apply"]}
    with monkeypatch.context() as older:  # the team's pushops before this one
        older.setattr(migrations, "MIGRATIONS", [INITIAL, POLICY_OVERRIDES])
        assert project.run("state", "init", env=as_apply).exit_code == 0
        assert project.run("apply", "--auto-approve", env=as_apply).exit_code == 0
    (sent,) = emulator.deliveries()
    later = (datetime.now(timezone.utc) + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")

    planned = project.run("plan", env=as_plan)
    drift = project.run("refresh", env=as_plan)
    shown = project.run("report", "--now", later, env=as_plan)
    history = project.run("state", "history", "staging/sale/r1/android", env=as_plan)

    assert planned.exit_code == 0, planned.output
    assert drift.exit_code == 0, drift.output
    assert shown.exit_code == 0, shown.output
    assert sent["message_id"] in shown.stdout
    assert "were not cached: this ledger role can only read" in shown.stderr
    assert "needs the role that writes" in shown.stderr
    assert history.exit_code == 0 and " sent " in history.output
    with open_ledger(database["apply"], root=project.root, migrate=False) as ledger:
        assert ledger.meta().schema_version == 2  # nobody who only reads changed it
    cached = project.run("report", "--now", later, env=as_apply)  # the writer migrates it
    assert cached.exit_code == 0 and "not cached" not in cached.stderr
    with open_ledger(database["apply"], root=project.root) as ledger:
        assert ledger.meta().schema_version == migrations.latest_version()
        assert [s.message_id for s in ledger.provider_stats("staging")] == [sent["message_id"]]
