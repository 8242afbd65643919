"""Apply sends from a process of its own (PUSHOPS_SEND_PROCESS): every delivery still lands
once, a stop still reaches every call queued in the child, and neither process can outlive
the other's death in a way that sends twice or loses the record of a send.

apply runs as a subprocess, as a CI job runs it; the emulator runs in the test process on
loopback, answering after 200 ms, and the app is paced at 10 calls/s, so the 40 planned
calls take about 4 s and a signal or a kill lands mid-run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from plan.support import Project, emas_campaign

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.bench_soak import running as alive
from bench.bench_soak import sending_processes
from pushops.apply.sender import AUTO_FROM_CALLS, MODE_ENV, send_mode, start_early, wanted
from pushops.diagnostics import PushopsError
from pushops.emulator import Emulator
from pushops.plan.planfile import PlanFile

from .interrupt_support import (
    assert_no_traceback,
    ledger_statuses,
    paced_project,
    task_name_of,
    task_names,
    wait_until,
)
from .test_signals import CALLS, LATENCY_MS, RATE, assert_rerun_completes_exactly_once

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the child's life is tied to "
                                "its parent's with a Linux prctl")  # fmt: skip


def start_apply(project: Project, *, mode: str = "always") -> subprocess.Popen[str]:
    """``pushops apply --auto-approve`` in a process group of its own (as a terminal's job)."""
    return subprocess.Popen(
        [sys.executable, "-m", "pushops", "apply", "--auto-approve"],
        cwd=project.root,
        env={**os.environ, **project.env, MODE_ENV: mode},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def mid_run(project: Project, emulator: Emulator) -> tuple[subprocess.Popen[str], int]:
    """A paced apply, sending from its child: (apply, the child's pid) once 5 calls landed."""
    paced_project(project, CALLS, RATE)
    emulator.configure(latency_ms=LATENCY_MS)
    proc = start_apply(project)
    wait_until(lambda: len(emulator.deliveries()) >= 5, 30, "the first deliveries")
    found = sending_processes(proc.pid)
    assert len(found) == 1, f"apply should send from one child, found {found}"
    return proc, found[0]


def assert_accepted_never_lost(project: Project, emulator: Emulator) -> None:
    """Whatever the emulator accepted is in the ledger as sent, or pending for the next run
    to settle: never lost, never recorded as not sent."""
    statuses = ledger_statuses(project)
    accepted = set(task_names(emulator))
    assert accepted, "the run sent nothing"
    for key, status in statuses.items():
        if task_name_of(key) in accepted:
            assert status in ("sent", "pending"), (key, status)


def assert_lock_free(project: Project) -> None:
    with project.open_ledger() as ledger, ledger.lock("probe", "test", timeout_s=0):
        pass


def test_apply_sends_every_delivery_once_from_its_sending_process(
    sqlite_project: Project, emulator: Emulator
) -> None:
    proc, child = mid_run(sqlite_project, emulator)

    output, _ = proc.communicate(timeout=60)

    assert proc.returncode == 0, output
    names = task_names(emulator)
    assert len(names) == CALLS and set(names.values()) == {1}
    assert set(ledger_statuses(sqlite_project).values()) == {"sent"}
    wait_until(lambda: not alive(child), 5, "the sending process to end with the run")


def test_an_answer_through_the_sending_process_reports_its_scheduled_deliveries(
    sqlite_project: Project, emulator: Emulator
) -> None:
    # Apply keeps of a call in hand only what records its answer: its keys and due times.
    sqlite_project.write("sale.yaml", emas_campaign("sale", push_in=timedelta(hours=2)))
    result = sqlite_project.run("apply", "--auto-approve", env={MODE_ENV: "always"})
    assert result.exit_code == 0, result.output
    assert "Apply complete: 1 delivery sent in 1 call (1 scheduled)" in result.output


def test_a_refusal_through_the_sending_process_names_the_keys_of_its_call(
    sqlite_project: Project, emulator: Emulator
) -> None:
    sqlite_project.write("sale.yaml", emas_campaign("sale"))
    emulator.configure(error_rate=1.0)
    result = sqlite_project.run("apply", "--auto-approve", env={MODE_ENV: "always"})
    assert result.exit_code == 1
    line = next(x for x in result.output.splitlines() if "InternalError" in x)
    assert "staging/sale/r1/android" in line, result.output


def test_ctrl_c_to_the_job_halts_the_calls_queued_in_the_sending_process(
    sqlite_project: Project, emulator: Emulator
) -> None:
    proc, child = mid_run(sqlite_project, emulator)

    os.killpg(proc.pid, signal.SIGINT)  # what a terminal does on Ctrl-C: the whole job
    at_signal = len(emulator.deliveries())
    output, _ = proc.communicate(timeout=30)

    # The calls queued behind the child's pace were halted: at most one more call got out
    # (it was leaving as the signal came), not the second of sending written ahead.
    assert len(emulator.deliveries()) - at_signal <= 2
    assert proc.returncode != 0, output
    assert_no_traceback(output)
    assert "Interrupted" in output
    assert "not sent" in output  # the calls queued in the child were halted, not sent
    assert 5 <= len(emulator.deliveries()) < CALLS
    assert not alive(child)
    assert_lock_free(sqlite_project)
    assert_accepted_never_lost(sqlite_project, emulator)
    assert_rerun_completes_exactly_once(sqlite_project, emulator)


def test_a_killed_apply_takes_its_sending_process_with_it(
    sqlite_project: Project, emulator: Emulator
) -> None:
    proc, child = mid_run(sqlite_project, emulator)
    emulator.configure(latency_ms=3000)  # the calls on the wire now wait 3 s for an answer
    time.sleep(0.3)

    proc.kill()
    proc.wait(timeout=10)

    # At once, not after its calls in flight are answered (a retry of one could go out
    # after the next run settled it).
    wait_until(lambda: not alive(child), 1.0, "the sending process to die with apply")
    landed = len(emulator.deliveries())
    time.sleep(1.0)  # 10 more calls' worth at the app's pace
    assert len(emulator.deliveries()) == landed, "something was sent after apply died"
    assert_accepted_never_lost(sqlite_project, emulator)
    assert_rerun_completes_exactly_once(sqlite_project, emulator)


def test_a_killed_sending_process_stops_apply_clearly_and_the_next_run_sends_each_once(
    project: Project, emulator: Emulator
) -> None:
    proc, child = mid_run(project, emulator)

    os.kill(child, signal.SIGKILL)
    output, _ = proc.communicate(timeout=30)

    assert proc.returncode != 0, output
    assert_no_traceback(output)
    assert "the sending process ended (killed by SIGKILL)" in output
    assert len(emulator.deliveries()) < CALLS
    assert_lock_free(project)
    assert_accepted_never_lost(project, emulator)
    assert_rerun_completes_exactly_once(project, emulator)


def test_a_sending_process_that_cannot_start_stops_apply_before_any_push_is_written(
    sqlite_project: Project, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    paced_project(sqlite_project, 3, 1000)
    monkeypatch.setattr(sys, "executable", "/bin/false")  # what the child is started with

    result = sqlite_project.run("apply", "--auto-approve", env={MODE_ENV: "always"})

    assert result.exit_code != 0
    assert "the sending process did not start (exit code 1)" in result.output
    assert f"{MODE_ENV}=never" in result.output
    assert_no_traceback(result.output)
    assert emulator.deliveries() == []
    assert ledger_statuses(sqlite_project) == {}


def test_the_sending_process_starts_while_a_saved_plan_is_checked(
    sqlite_project: Project, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    paced_project(sqlite_project, 3, 1000)
    assert sqlite_project.run("plan", "--out", "p.plan").exit_code == 0
    during_check: list[list[int]] = []
    check = PlanFile.verified

    def verified(self: PlanFile, key: bytes) -> object:
        during_check.append(sending_processes(os.getpid()))
        return check(self, key)

    monkeypatch.setattr(PlanFile, "verified", verified)

    result = sqlite_project.run("apply", "p.plan", env={MODE_ENV: "always"})

    assert result.exit_code == 0, result.output
    assert [len(found) for found in during_check] == [1]  # already starting, on the other CPU
    assert sorted(task_names(emulator).values()) == [1, 1, 1]
    assert sending_processes(os.getpid()) == []


def test_a_saved_plan_refused_by_its_check_ends_the_early_sending_process_quietly(
    sqlite_project: Project, emulator: Emulator, capfd: pytest.CaptureFixture[str]
) -> None:
    paced_project(sqlite_project, 3, 1000)
    planned = sqlite_project.run("plan", "--out", "p.plan", env={"PUSHOPS_PLAN_KEY": "ours"})
    assert planned.exit_code == 0

    result = sqlite_project.run(
        "apply", "p.plan", env={MODE_ENV: "always", "PUSHOPS_PLAN_KEY": "another job's"}
    )

    assert result.exit_code == 1 and "signed with other credentials" in result.output
    assert sending_processes(os.getpid()) == []  # started for the plan, ended with the refusal
    child_said = capfd.readouterr().err  # the child writes to the real stderr, not click's
    assert "sending process" not in child_said and "Traceback" not in child_said
    assert emulator.deliveries() == []
    assert ledger_statuses(sqlite_project) == {}


def test_the_sending_process_starts_early_only_for_a_plan_sure_to_want_it() -> None:
    assert start_early("always", 1)
    assert start_early("auto", 100 * AUTO_FROM_CALLS)
    assert not start_early("auto", 100 * AUTO_FROM_CALLS - 1)  # it may still start later
    assert not start_early("never", 10**7)


def test_a_bad_send_process_setting_is_refused_before_anything_is_written(
    sqlite_project: Project, emulator: Emulator
) -> None:
    paced_project(sqlite_project, 3, 1000)

    result = sqlite_project.run("apply", "--auto-approve", env={MODE_ENV: "sometimes"})

    assert result.exit_code != 0
    assert MODE_ENV in result.output and "auto, always, never" in result.output
    assert emulator.deliveries() == []
    assert ledger_statuses(sqlite_project) == {}


def test_auto_sends_from_a_child_only_for_runs_large_enough_to_repay_its_start() -> None:
    assert not wanted("auto", AUTO_FROM_CALLS - 1)
    assert wanted("auto", AUTO_FROM_CALLS)
    assert wanted("always", 1)
    assert not wanted("never", 10 * AUTO_FROM_CALLS)


def test_the_send_process_setting_defaults_to_auto_and_reads_any_case() -> None:
    assert send_mode({}) == "auto"
    assert send_mode({MODE_ENV: " Never "}) == "never"
    with pytest.raises(PushopsError, match=MODE_ENV):
        send_mode({MODE_ENV: "yes"})
