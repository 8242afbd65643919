"""A ledger plan and apply cannot trust, through the real CLI: a corrupt SQLite file, a ledger
from a newer schema version, and a lock left by a holder that was SIGKILLed. Each is a clear
error that changes nothing, or a clean recovery, as the ledger layer defines; never a
traceback (CliRunner runs with catch_exceptions=False, so one would fail the test)."""

from __future__ import annotations

import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
from typing import Any

import pytest
from plan.support import Project, emas_campaign, fanout_campaign

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


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_a_foreign_sqlite_file_given_as_the_ledger_is_refused_and_never_modified(
    sqlite_project: Project, emulator: Emulator, command: tuple[str, ...]
) -> None:
    sqlite_project.write("sale.yaml", emas_campaign())
    path = sqlite_project.root / "crm.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE customers (name TEXT)")
    conn.execute("INSERT INTO customers VALUES ('Ana')")
    conn.commit()
    conn.close()
    before = path.read_bytes()

    result = sqlite_project.run(*command, env={"PUSHOPS_STATE_DSN": str(path)})

    assert result.exit_code == 1
    assert_no_traceback(result.output)
    assert "is not a pushops ledger" in result.output and "customers" in result.output
    assert path.read_bytes() == before  # not even switched to WAL
    assert not path.with_name("crm.db-wal").exists()
    assert emulator.deliveries() == []


def run_apply(project: Project, prefix: list[str], **options: Any) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*prefix, sys.executable, "-m", "pushops", "apply", "--auto-approve"],
        cwd=project.root, env={**os.environ, **project.env, "CI": "true"},
        capture_output=True, text=True, timeout=120, **options,
    )  # fmt: skip


def without_root_powers() -> list[str]:
    """A command prefix under which file permissions apply, also when the tests run as root."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root and setpriv (util-linux) is missing: permissions cannot bite")
    return ["setpriv", "--bounding-set", "-dac_override,-dac_read_search,-fowner"]


@pytest.mark.parametrize("what", ["file", "folder"])
def test_a_read_only_ledger_is_reported_as_such_and_nothing_is_sent(
    sqlite_project: Project, emulator: Emulator, what: str
) -> None:
    sqlite_project.write("sale.yaml", emas_campaign())
    folder = sqlite_project.root / ".pushops"
    target = folder / "state.db" if what == "file" else folder
    mode = target.stat().st_mode
    target.chmod(0o444 if what == "file" else 0o555)
    try:
        done = run_apply(sqlite_project, without_root_powers())
    finally:
        target.chmod(mode)
    assert done.returncode == 1
    assert_no_traceback(done.stdout + done.stderr)
    assert "read-only" in done.stderr or "may read and write it" in done.stderr, done.stderr
    assert emulator.deliveries() == []


def test_a_full_disk_is_reported_as_such_and_nothing_unrecorded_is_sent(
    sqlite_project: Project, emulator: Emulator
) -> None:
    text, csv = fanout_campaign("offers", 300, "data/offers.csv")
    sqlite_project.data("data/offers.csv", csv)
    sqlite_project.write("offers.yaml", text)

    def small_files() -> None:  # every file this process writes stops growing at 16 KiB
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (16384, 16384))

    done = run_apply(sqlite_project, [], preexec_fn=small_files)

    assert done.returncode == 1
    assert_no_traceback(done.stdout + done.stderr)
    assert "the disk is full, or a quota or file-size limit was reached" in done.stderr
    assert "nothing of it was written" in done.stderr
    assert emulator.deliveries() == []
