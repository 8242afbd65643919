"""After a crash: settling what was left pending is part of what apply shows and asks to
approve (and of a saved plan), never done behind the user's back with content they have since
edited; `state abandon` gives many pending calls up at once; a plan made while an apply runs
says so instead of calling its calls interrupted."""

from __future__ import annotations

import json
import re
import signal
import subprocess
from datetime import timedelta

from plan.support import Project, emas_campaign, mpaas_campaign

from pushops.emulator import Emulator

from .interrupt_support import (
    assert_no_traceback,
    leave_pending,
    ledger_statuses,
    on_terminal,
    paced_project,
    run_cli,
    start_apply,
    wait_until,
)


def titles(emulator: Emulator) -> list[str]:
    return sorted(
        str(d["params"].get("Title") or d["params"].get("TaskName")) for d in emulator.deliveries()
    )


def test_plan_shows_a_pending_call_whose_campaign_changed_with_the_difference(
    project: Project, emulator: Emulator
) -> None:
    project.write("sale.yaml", emas_campaign())
    call_id = leave_pending(project, emulator, age=timedelta(minutes=2), sent=False)
    project.write("sale.yaml", emas_campaign(title="Sale now on"))

    planned = project.run("plan", "--detailed-exitcode")
    assert planned.exit_code == 2, planned.output
    assert "? resolve  staging/sale/r1/android" in planned.output
    assert f"left pending by an interrupted run (call {call_id})" in planned.output
    assert "repeating it with the same IdempotentToken" in planned.output
    assert "the campaign has changed since: settling it may send the version planned then" in (
        planned.output
    )
    assert '~ Title: "Sale starts" -> "Sale now on"' in planned.output
    assert f"pushops state abandon --call {call_id}" in planned.output
    assert "if it did not go out, apply sends the current version right after" in planned.output


def test_declining_the_plan_settles_nothing_and_sends_nothing(
    sqlite_project: Project, emulator: Emulator
) -> None:
    sqlite_project.write("sale.yaml", emas_campaign())
    leave_pending(sqlite_project, emulator, age=timedelta(minutes=2), sent=False)
    sqlite_project.write("sale.yaml", emas_campaign(title="Sale now on"))

    code, output = on_terminal(sqlite_project, "apply", answer="n")
    assert code == 1, output
    assert "? resolve  staging/sale/r1/android" in output
    assert "Apply cancelled; nothing settled, nothing sent." in output
    assert emulator.deliveries() == []  # the old version was not repeated behind our back
    assert ledger_statuses(sqlite_project) == {"staging/sale/r1/android": "pending"}


def test_approving_settles_first_then_sends_what_was_approved(
    sqlite_project: Project, emulator: Emulator
) -> None:
    sqlite_project.write("sale.yaml", emas_campaign())
    leave_pending(sqlite_project, emulator, age=timedelta(minutes=2), sent=True)
    sqlite_project.write("notice.yaml", mpaas_campaign())

    code, output = on_terminal(sqlite_project, "apply", answer="y")
    assert code == 0, output
    assert "1 confirmed sent by repeating it with the same token" in output
    # Settled as out there already: counted as such, not as "sent again" by this run.
    assert (
        "Apply complete: 1 delivery sent in 1 call, 1 delivery of an interrupted run "
        "settled (1 out there, 0 not sent)" in output
    )
    assert titles(emulator) == ["Maintenance", "Sale starts"]  # each exactly once


def test_a_pending_call_that_never_went_out_is_sent_in_its_current_version_once_approved(
    project: Project, emulator: Emulator
) -> None:
    project.write("sale.yaml", emas_campaign())
    leave_pending(project, emulator, age=timedelta(minutes=20), sent=False)
    project.write("sale.yaml", emas_campaign(title="Sale now on"))

    applied = project.run("apply", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert "0 not sent" not in applied.output.split("Settled", 1)[1].split("\n", 1)[0]
    # Beyond the token window EMAS is asked; it has no record, so the current version goes.
    assert titles(emulator) == ["Sale now on"]
    assert project.run("plan", "--detailed-exitcode").exit_code == 0


def test_a_saved_plan_settles_exactly_the_pending_calls_it_lists(
    sqlite_project: Project, emulator: Emulator
) -> None:
    sqlite_project.write("sale.yaml", emas_campaign())
    leave_pending(sqlite_project, emulator, age=timedelta(minutes=2), sent=True)
    assert sqlite_project.run("plan", "--out", "settle.plan").exit_code == 0
    applied = sqlite_project.run("apply", "settle.plan")
    assert applied.exit_code == 0, applied.output
    assert "Settled 1 pending call" in applied.output
    assert titles(emulator) == ["Sale starts"]
    assert ledger_statuses(sqlite_project) == {"staging/sale/r1/android": "sent"}


def test_abandoning_pending_calls_by_campaign_drops_the_old_version_for_the_edit(
    project: Project, emulator: Emulator
) -> None:
    project.write("sale.yaml", emas_campaign())
    call_id = leave_pending(project, emulator, age=timedelta(minutes=2), sent=False)
    project.write("sale.yaml", emas_campaign(title="Sale now on"))

    refused = project.run("state", "abandon", "--campaign", "sale", input="n\n")
    assert refused.exit_code == 1
    assert "staging/sale/r1/android (pending, call " in refused.output
    assert "if any did go out, it is sent twice" in refused.output
    assert ledger_statuses(project) == {"staging/sale/r1/android": "pending"}

    gave_up = project.run("state", "abandon", "--campaign", "sale", "--actor", "ana", "--yes")
    assert gave_up.exit_code == 0, gave_up.output
    assert "abandoned 1 key in 1 call: recorded as not sent by ana" in gave_up.output
    with project.open_ledger() as ledger:
        call = ledger.get_call(call_id)
        assert call.status == "failed" and call.error_code == "Abandoned"
        assert "ana" in call.error_message
    assert project.run("apply", "--auto-approve").exit_code == 0
    assert titles(emulator) == ["Sale now on"]  # never the version left pending


def test_abandon_by_call_and_key_and_its_refusals(
    sqlite_project: Project, emulator: Emulator
) -> None:
    sqlite_project.write("sale.yaml", emas_campaign())
    call_id = leave_pending(sqlite_project, emulator, age=timedelta(minutes=2), sent=False)
    nothing = sqlite_project.run("state", "abandon", "--yes")
    assert nothing.exit_code == 1 and "say what to abandon" in nothing.output
    wrong = sqlite_project.run("state", "abandon", "staging/other/r1/x", "--yes")
    assert wrong.exit_code == 1 and "not pending or unknown" in wrong.output
    done = sqlite_project.run("state", "abandon", "--call", call_id, "--yes")
    assert done.exit_code == 0, done.output
    again = sqlite_project.run("state", "abandon", "--call", call_id, "--yes")
    assert again.exit_code == 1 and "no pending or unknown key matches" in again.output
    assert ledger_statuses(sqlite_project) == {"staging/sale/r1/android": "failed"}


def during_a_live_apply(
    project: Project, emulator: Emulator, *commands: list[str]
) -> list[subprocess.CompletedProcess[str]]:
    """Run ``pushops`` COMMANDS while an apply is paused mid-run: alive and holding the lock,
    what a plan in another job sees during any merge's apply, without a race against the
    apply finishing first. The apply then finishes cleanly."""
    paced_project(project, 10, 4.0)
    emulator.configure(latency_ms=300)
    proc = start_apply(project)
    try:
        wait_until(lambda: len(emulator.deliveries()) >= 2, 60, "the first deliveries")
        proc.send_signal(signal.SIGSTOP)
        results = [run_cli(project, *command) for command in commands]
    finally:
        proc.send_signal(signal.SIGCONT)
        output, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, output
    return results


def test_a_plan_during_a_live_apply_says_an_apply_is_in_progress(
    project: Project, emulator: Emulator
) -> None:
    during, saved, as_json_run = during_a_live_apply(
        project, emulator, ["plan"], ["plan", "--out", "mid.plan"], ["plan", "--format", "json"]
    )
    as_json = json.loads(as_json_run.stdout)
    assert_no_traceback(during.stdout + during.stderr)
    assert "Note: an apply is in progress (" in during.stdout, during.stdout
    assert "since " in during.stdout
    assert "left pending by an interrupted run" not in during.stdout
    assert "? resolve" not in during.stdout
    assert saved.returncode == 1 and "No plan file written" in saved.stderr
    assert as_json["in_progress"]["operation"] == "apply" and as_json["in_progress"]["since"]
    assert as_json["pending_calls"] == []  # the live apply's calls are not offered for settling
    after = run_cli(project, "plan", "--detailed-exitcode")
    assert after.returncode == 0, after.stdout + after.stderr
    assert "in progress" not in after.stdout


def test_the_report_and_the_comment_made_during_a_live_apply_say_an_apply_is_in_progress(
    sqlite_project: Project, emulator: Emulator
) -> None:
    comment, reported = during_a_live_apply(
        sqlite_project, emulator, ["plan", "--format", "markdown"],
        ["plan", "--report", "report.html"],
    )  # fmt: skip
    assert comment.returncode == 0 and reported.returncode == 0, comment.stderr
    assert "> [!NOTE]\n> Note: an apply is in progress (" in comment.stdout, comment.stdout
    assert "left pending by an interrupted run" not in comment.stdout
    html = (sqlite_project.root / "report.html").read_text()
    assert '<div class="alert warn in-progress">Note: an apply is in progress (' in html
    assert "left pending by an interrupted run" not in html
    # Its deliveries are counted, never listed one by one, and the ledger is not said to
    # match the campaigns while they are in flight.
    for view in (comment.stdout, html):
        assert "written ahead by the run in progress" not in view
        assert "The ledger matches the campaigns" not in view
        assert re.search(r"No changes beyond the \d+ deliver(y|ies) the run in progress", view)
    assert run_cli(sqlite_project, "plan", "--report", "after.html").returncode == 0
    assert "in progress" not in (sqlite_project.root / "after.html").read_text()


def test_a_plan_after_the_apply_died_shows_its_calls_as_left_pending(
    sqlite_project: Project, emulator: Emulator
) -> None:
    paced_project(sqlite_project, 30, 5.0)
    emulator.configure(latency_ms=2000)  # answers come late: calls are in flight when it dies
    proc = start_apply(sqlite_project)
    wait_until(lambda: "pending" in ledger_statuses(sqlite_project).values(), 60, "calls in flight")
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    planned = run_cli(sqlite_project, "plan")
    assert "in progress" not in planned.stdout
    assert "? resolve" in planned.stdout and "left pending by an interrupted run" in planned.stdout
