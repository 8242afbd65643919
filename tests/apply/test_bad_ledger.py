"""A ledger plan and apply cannot trust, through the real CLI: a corrupt SQLite file, a ledger
from a newer schema version, and a lock left by a holder that was SIGKILLed. Each is a clear
error that changes nothing, or a clean recovery, as the ledger layer defines; never a
traceback (CliRunner runs with catch_exceptions=False, so one would fail the test)."""

from __future__ import annotations

import signal
import sqlite3

import pytest
from plan.support import Project, emas_campaign

from pushops.emulator import Emulator

from .interrupt_support import (
    assert_no_traceback,
    paced_project,
    start_apply,
    task_names,
    wait_until,
)

COMMANDS = [("plan",), ("apply", "--auto-approve")]


def ledger_file(project: Project) -> str:
    return project.env["PUSHOPS_STATE_DSN"]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_a_corrupt_sqlite_ledger_is_a_clear_error_and_is_left_as_it_was(
    sqlite_project: Project, emulator: Emulator, command: tuple[str, ...]
) -> None:
    sqlite_project.write("sale.yaml", emas_campaign())
    path = sqlite_project.root / ".pushops" / "state.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    garbage = b"this is not a database\x00" * 400
    path.write_bytes(garbage)

    result = sqlite_project.run(*command)

    assert result.exit_code == 1, result.output
    assert_no_traceback(result.output)
    assert "is damaged or not a database" in result.output
    assert "restore it from a backup" in result.output
    assert path.read_bytes() == garbage  # nothing written over it
    assert emulator.deliveries() == []


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_a_ledger_from_a_newer_schema_version_is_refused_untouched(
    sqlite_project: Project, emulator: Emulator, command: tuple[str, ...]
) -> None:
    sqlite_project.write("sale.yaml", emas_campaign())
    assert sqlite_project.run("plan").exit_code == 0  # creates the ledger
    with sqlite3.connect(ledger_file(sqlite_project)) as conn:
        conn.execute("INSERT INTO schema_version (version, applied_at) VALUES (999, 'later')")
    before = (sqlite_project.root / ".pushops" / "state.db").read_bytes()

    result = sqlite_project.run(*command)

    assert result.exit_code == 1, result.output
    assert_no_traceback(result.output)
    assert "has schema version 999, newer than version" in result.output
    assert "upgrade pushops (nothing was changed)" in result.output
    assert (sqlite_project.root / ".pushops" / "state.db").read_bytes() == before
    assert emulator.deliveries() == []


def test_a_lock_left_by_a_sigkilled_apply_does_not_block_and_the_next_run_finishes(
    project: Project, emulator: Emulator
) -> None:
    calls = 30
    paced_project(project, calls, 10)
    emulator.configure(latency_ms=200)
    holder = start_apply(project)
    wait_until(lambda: len(emulator.deliveries()) >= 3, 30, "the first deliveries")
    holder.send_signal(signal.SIGKILL)  # no handler runs: only the OS/server frees the lock
    holder.wait(timeout=10)
    with project.open_ledger() as ledger:
        assert [i.stale for i in ledger.lock_info()] == [True]  # its info row stays behind

    planned = project.run("plan")
    emulator.configure(latency_ms=0)
    paced_project(project, calls, 1000)
    applied = project.run("apply", "--auto-approve")

    assert planned.exit_code == 0, planned.output
    assert "? resolve" in planned.output  # what the killed run left pending is shown
    assert applied.exit_code == 0, applied.output
    assert_no_traceback(planned.output + applied.output)
    names = task_names(emulator)
    assert [n for n, c in names.items() if c > 1] == [] and len(names) == calls
    with project.open_ledger() as ledger:
        assert ledger.lock_info() == []  # the dead holder's row was cleared
