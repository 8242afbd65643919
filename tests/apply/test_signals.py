"""SIGTERM and SIGINT in the middle of an apply: it stops taking calls, records the ones in
flight, releases the ledger lock and exits non-zero at once; a re-run finishes the job with
every delivery sent exactly once.

apply runs in a subprocess; the emulator answers every call after 200 ms and the app is paced
at 10 calls/s, so the 40 planned calls take about 4 s and the signal lands mid-run.
"""

from __future__ import annotations

import signal
import time

from plan.support import Project

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

CALLS = 40
RATE = 10.0  # calls/s: a full run takes about 4 s
LATENCY_MS = 200
PROMPT_S = 2.0  # after the signal, apply must be gone within this (its calls take 0.2 s)


def interrupt_mid_run(project: Project, emulator: Emulator, signum: int) -> tuple[int, str, float]:
    paced_project(project, CALLS, RATE)
    emulator.configure(latency_ms=LATENCY_MS)
    proc = start_apply(project)
    wait_until(lambda: len(emulator.deliveries()) >= 5, 30, "the first deliveries")
    proc.send_signal(signum)
    signalled = time.monotonic()
    output, _ = proc.communicate(timeout=30)
    return proc.returncode, output, time.monotonic() - signalled


def assert_stopped_cleanly(project: Project, emulator: Emulator, code: int, output: str) -> None:
    assert code != 0, output
    assert_no_traceback(output)
    assert "Interrupted" in output
    # It did stop mid-run: the rest was never sent.
    assert 5 <= len(emulator.deliveries()) < CALLS
    # The lock is free: another writer takes it at once.
    with project.open_ledger() as ledger, ledger.lock("probe", "test", timeout_s=0):
        pass
    # Whatever the emulator accepted is in the ledger as sent (or pending, to be settled):
    # never lost, never recorded as not sent.
    statuses = ledger_statuses(project)
    accepted = set(task_names(emulator))
    for key, status in statuses.items():
        if task_name_of(key) in accepted:
            assert status in ("sent", "pending"), (key, status)


def assert_rerun_completes_exactly_once(project: Project, emulator: Emulator) -> None:
    # Unpaced now (the pace is not part of any delivery's identity), so the test stays short.
    emulator.configure(latency_ms=0)
    paced_project(project, CALLS, 1000)
    rerun = project.run("apply", "--auto-approve")
    assert rerun.exit_code == 0, rerun.output
    names = task_names(emulator)
    assert [n for n, c in names.items() if c > 1] == []  # no duplicate
    assert len(names) == CALLS  # and nothing lost
    final = project.run("plan", "--detailed-exitcode")
    assert final.exit_code == 0, final.output


def interrupted_then_rerun(project: Project, emulator: Emulator, signum: int) -> None:
    code, output, took = interrupt_mid_run(project, emulator, signum)

    assert took < PROMPT_S, f"apply took {took:.1f}s to stop:\n{output}"
    assert_stopped_cleanly(project, emulator, code, output)
    assert_rerun_completes_exactly_once(project, emulator)


def test_sigterm_mid_apply_stops_promptly_records_in_flight_calls_and_frees_the_lock(
    project: Project, emulator: Emulator
) -> None:
    interrupted_then_rerun(project, emulator, signal.SIGTERM)


def test_sigint_mid_apply_stops_promptly_records_in_flight_calls_and_frees_the_lock(
    sqlite_project: Project, emulator: Emulator
) -> None:
    interrupted_then_rerun(sqlite_project, emulator, signal.SIGINT)
