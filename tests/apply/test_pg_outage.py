"""The PostgreSQL server drops apply's sessions mid-run (``pg_terminate_backend``): apply stops
with a clear error and no traceback, the ledger stays consistent, and the next run settles
what was left and finishes with every delivery sent exactly once."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from plan.support import PG_DSN, Project, backend_env, base_env

from pushops.emulator import Emulator

from .interrupt_support import (
    assert_no_traceback,
    ledger_statuses,
    paced_project,
    start_apply,
    task_name_of,
    task_names,
    wait_until,
)

CALLS = 30

pytestmark = pytest.mark.postgres


@pytest.fixture
def named() -> str:
    """An application_name only this test's apply uses, to find its sessions."""
    return f"pushops-outage-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def pg_project(tmp_path: Path, emulator: Emulator, named: str) -> Iterator[Project]:
    root = tmp_path / "repo"
    (root / "campaigns").mkdir(parents=True)
    for env in backend_env("postgres", root):  # a fresh schema, dropped afterwards
        sep = "&" if "?" in PG_DSN else "?"
        dsn = f"{PG_DSN}{sep}application_name={named}"
        yield Project(root, {**base_env(emulator.url), **env, "PUSHOPS_STATE_DSN": dsn})


def terminate(named: str) -> int:
    with psycopg.connect(PG_DSN, autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
            (named,),
        ).fetchall()
    return len(rows)


def sessions(named: str) -> list[str]:
    """The application names of this test's sessions, the settling one's included."""
    with psycopg.connect(PG_DSN, autocommit=True) as admin:
        rows = admin.execute(
            "SELECT application_name FROM pg_stat_activity WHERE application_name LIKE %s",
            (f"{named}%",),
        ).fetchall()
    return sorted(name for (name,) in rows)


def sending(project: Project, emulator: Emulator) -> subprocess.Popen[str]:
    """``apply --auto-approve`` of CALLS broadcasts, slowly, once the first went out."""
    paced_project(project, CALLS, 10)
    project.init_ledger()
    emulator.configure(latency_ms=200)
    proc = start_apply(project)
    wait_until(lambda: len(emulator.deliveries()) >= 3, 30, "the first deliveries")
    return proc


def assert_stopped_clearly(
    project: Project, emulator: Emulator, proc: subprocess.Popen[str]
) -> str:
    """The run stopped with an error, no traceback, and a consistent ledger: every accepted
    broadcast is recorded as sent or still pending. Its output."""
    output, _ = proc.communicate(timeout=30)
    assert proc.returncode == 1, output
    assert_no_traceback(output)
    assert len(emulator.deliveries()) < CALLS  # it stopped
    accepted = set(task_names(emulator))
    for key, status in ledger_statuses(project).items():
        if task_name_of(key) in accepted:
            assert status in ("sent", "pending"), (key, status)
    return output


def assert_next_run_sends_each_once(project: Project, emulator: Emulator) -> None:
    emulator.configure(latency_ms=0)
    paced_project(project, CALLS, 1000)
    rerun = project.run("apply", "--auto-approve")

    assert rerun.exit_code == 0, rerun.output
    names = task_names(emulator)
    assert [n for n, c in names.items() if c > 1] == [] and len(names) == CALLS
    assert project.run("plan", "--detailed-exitcode").exit_code == 0


def test_apply_whose_postgres_sessions_are_terminated_stops_clearly_and_the_next_run_recovers(
    pg_project: Project, emulator: Emulator, named: str
) -> None:
    proc = sending(pg_project, emulator)

    assert terminate(named) == 2  # the main session and the lock session
    output = assert_stopped_clearly(pg_project, emulator, proc)

    assert "went away" in output or "its session ended" in output, output
    assert_next_run_sends_each_once(pg_project, emulator)


def test_apply_settles_on_a_session_of_its_own_named_apart(
    pg_project: Project, emulator: Emulator, named: str
) -> None:
    proc = sending(pg_project, emulator)

    assert sessions(named) == [named, named, f"{named} (settling)"]
    output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, output
    assert set(ledger_statuses(pg_project).values()) == {"sent"}


def test_apply_whose_settling_session_is_terminated_stops_clearly_and_the_next_run_recovers(
    pg_project: Project, emulator: Emulator, named: str
) -> None:
    proc = sending(pg_project, emulator)

    assert terminate(f"{named} (settling)") == 1
    output = assert_stopped_clearly(pg_project, emulator, proc)

    assert "went away" in output, output
    assert_next_run_sends_each_once(pg_project, emulator)
