"""A newer pushops on a ledger an older one made, through the real CLI on both backends: plan
reads it as it is (writing nothing) and says once what upgrades it; apply upgrades it and
says so; the state commands that only read leave it alone, `state migrate` upgrades it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from plan.support import CONFIG, Project, backend_env, base_env, emas_campaign

from pushops.emulator import Emulator
from pushops.ledger import migrations

from .interrupt_support import leave_pending

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
LATEST = migrations.latest_version()
NOTICE = (
    f"ledger schema 1, this pushops knows {LATEST}: the next apply (or `pushops state migrate`)"
)


def _sale_repo(backend: str, tmp_path: Path, emulator: Emulator) -> Iterator[Project]:
    """A push repo with one campaign, its ledger not made yet, on ``backend``."""
    root = tmp_path / "repo"
    (root / "campaigns").mkdir(parents=True)
    (root / "pushops.yaml").write_text(CONFIG)
    for env in backend_env(backend, root):
        project = Project(root, {**base_env(emulator.url), **env})
        project.write("sale.yaml", emas_campaign())
        yield project


@pytest.fixture(params=BACKENDS)
def older(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    emulator: Emulator,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Project]:
    """A push repo whose ledger the first pushops (schema 1) made, holding one sent push."""
    for project in _sale_repo(request.param, tmp_path, emulator):
        with monkeypatch.context() as first_pushops:
            first_pushops.setattr(migrations, "MIGRATIONS", [migrations.INITIAL])
            project.init_ledger()
            assert project.run("apply", "--auto-approve").exit_code == 0
        yield project


def _versions(project: Project) -> int:
    result = project.run("state", "list", "--format", "json")
    assert result.exit_code == 0, result.output
    return int(json.loads(result.stdout)["ledger"]["schema_version"])


def test_plan_reads_an_older_ledger_as_it_is_and_says_once_what_upgrades_it(
    older: Project,
) -> None:
    db = older.root / ".pushops" / "state.db"
    before = db.read_bytes() if db.exists() else b""

    planned = older.run("plan", "--detailed-exitcode")

    assert planned.exit_code == 0, planned.output
    assert "No changes." in planned.output
    assert planned.output.count(NOTICE) == 1
    assert (db.read_bytes() if db.exists() else b"") == before
    assert _versions(older) == 1


def test_apply_upgrades_an_older_ledger_and_says_so(older: Project, emulator: Emulator) -> None:
    older.write("more.yaml", emas_campaign("more"))

    applied = older.run("apply", "--auto-approve")

    assert applied.exit_code == 0, applied.output
    assert f"Upgraded the ledger from schema version 1 to {LATEST}." in applied.output
    assert NOTICE not in applied.output
    assert _versions(older) == LATEST
    assert len(emulator.deliveries()) == 2


def test_state_migrate_upgrades_once_then_has_nothing_to_do(older: Project) -> None:
    first = older.run("state", "migrate")
    second = older.run("state", "migrate")

    assert first.exit_code == 0, first.output
    assert f"from schema version 1 to {LATEST}" in first.output
    assert second.exit_code == 0
    assert f"is at schema version {LATEST}, the latest this pushops knows" in second.output
    assert _versions(older) == LATEST


def _killed_by(
    version: int,
    backend: str,
    tmp_path: Path,
    emulator: Emulator,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[Project, str]]:
    """A push repo whose ledger a pushops of schema ``version`` made, with the call of a run
    it was killed in after sending and before recording the answer."""
    for project in _sale_repo(backend, tmp_path, emulator):
        with monkeypatch.context() as older_pushops:
            older_pushops.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:version])
            project.init_ledger()
            call_id = leave_pending(project, emulator, age=timedelta(minutes=2), sent=True)
        yield project, call_id


@pytest.fixture(params=BACKENDS)
def killed_by_3(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    emulator: Emulator,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[Project, str]]:
    """Left by a pushops of schema 3: the pending call's request in calls.request."""
    yield from _killed_by(3, request.param, tmp_path, emulator, monkeypatch)


@pytest.fixture(params=BACKENDS)
def killed_by_4(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    emulator: Emulator,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[Project, str]]:
    """Left by a pushops of schema 4: the pending call's request text in call_requests."""
    yield from _killed_by(4, request.param, tmp_path, emulator, monkeypatch)


def test_a_send_an_older_pushops_left_unsettled_is_recovered_after_the_upgrade_once(
    killed_by_3: tuple[Project, str], emulator: Emulator
) -> None:
    # A team upgrades pushops after a run of the older one died between sending and recording
    # the answer. The newer apply upgrades the ledger (the request moves to call_requests),
    # repeats the call with its token from there, and the provider holds one push.
    project, call_id = killed_by_3
    assert _versions(project) == 3

    applied = project.run("apply", "--auto-approve")

    assert applied.exit_code == 0, applied.output
    assert f"Upgraded the ledger from schema version 3 to {LATEST}." in applied.output
    assert "1 confirmed sent by repeating it with the same token" in applied.output
    assert len(emulator.deliveries()) == 1
    with project.open_ledger() as ledger:
        recovered = ledger.get_call(call_id)
        assert recovered is not None and recovered.status == "sent"
        assert recovered.request["body"]  # read back from call_requests, whole
    assert project.run("plan", "--detailed-exitcode").exit_code == 0


def test_a_send_a_pushops_of_schema_4_left_unsettled_is_repeated_from_its_text_request_once(
    killed_by_4: tuple[Project, str], emulator: Emulator
) -> None:
    # The newer apply stores requests packed (PostgreSQL's column becomes bytea); the request
    # the older one wrote ahead as text is what recovery repeats, with its token, byte for
    # byte: the provider dedupes it and holds one push.
    project, call_id = killed_by_4
    assert _versions(project) == 4
    first = [c for c in emulator.app.calls if c["action"] == "MassPush"]

    applied = project.run("apply", "--auto-approve")

    assert applied.exit_code == 0, applied.output
    assert f"Upgraded the ledger from schema version 4 to {LATEST}." in applied.output
    assert "1 confirmed sent by repeating it with the same token" in applied.output
    assert len([c for c in emulator.app.calls if c["action"] == "MassPush"]) == len(first) + 1
    assert len(emulator.deliveries()) == 1
    with project.open_ledger() as ledger:
        recovered = ledger.get_call(call_id)
        assert recovered is not None and recovered.status == "sent"
    assert project.run("plan", "--detailed-exitcode").exit_code == 0
