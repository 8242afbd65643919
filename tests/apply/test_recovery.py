"""Pending calls an interrupted run left: settled first, never blindly sent again."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from plan.support import AKID, SECRET, Project, emas_campaign, mpaas_campaign

from pushops.emulator import Emulator
from pushops.plan.planfile import plan_key, read_plan
from pushops.providers import BlockingProviders, Credentials

from .interrupt_support import leave_pending


def test_pending_call_inside_the_window_is_resent_with_its_token_without_duplicate(
    project: Project, emulator: Emulator
) -> None:
    project.write("sale.yaml", emas_campaign())
    call_id = leave_pending(project, emulator, age=timedelta(minutes=2), sent=True)
    planned = project.run("plan", "--detailed-exitcode")
    assert planned.exit_code == 2 and "? resolve  staging/sale/r1/android" in planned.output
    result = project.run("apply", "--auto-approve")
    assert result.exit_code == 0, result.output
    assert "1 confirmed sent by repeating it with the same token" in result.output
    assert len(emulator.deliveries()) == 1  # the provider deduped the token
    with project.open_ledger() as ledger:
        assert ledger.get_call(call_id).status == "sent"
        assert (
            ledger.get("staging/sale/r1/android").current.message_id
            == emulator.deliveries()[0]["message_id"]
        )
    assert project.run("plan", "--detailed-exitcode").exit_code == 0


def broadcasts_received(emulator: Emulator) -> list[str]:
    """The Msgkey of every PushBroadcast the emulator holds (one per accepted call)."""
    return [d["msgkey"] for d in emulator.deliveries() if d["product"] == "mpaas"]


def test_pending_broadcast_that_went_out_is_found_by_the_task_list_not_resent(
    sqlite_project: Project, emulator: Emulator
) -> None:
    # Two minutes old: well inside what the Msgkey "window" used to be. Still never repeated.
    sqlite_project.write("notice.yaml", mpaas_campaign())
    call_id = leave_pending(sqlite_project, emulator, age=timedelta(minutes=2), sent=True)
    emulator.enqueue_fault(code="InternalError", action="PushBroadcast")  # a repeat would fail
    result = sqlite_project.run("apply", "--auto-approve")
    assert result.exit_code == 0, result.output
    assert "1 found at the provider" in result.output
    (first,) = emulator.deliveries()
    with sqlite_project.open_ledger() as ledger:
        assert ledger.get_call(call_id).status == "sent"
        assert ledger.get("staging/notice/r1/android").current.message_id == first["message_id"]
    assert len(emulator.app.faults.queue) == 1  # no PushBroadcast was sent at all
    assert sqlite_project.run("plan", "--detailed-exitcode").exit_code == 0


def test_pending_broadcast_the_task_list_does_not_show_was_not_sent_and_is_sent_once(
    sqlite_project: Project, emulator: Emulator
) -> None:
    # Asked first: only once the task list says it was never made is the Msgkey sent again.
    sqlite_project.write("notice.yaml", mpaas_campaign())
    call_id = leave_pending(sqlite_project, emulator, age=timedelta(minutes=2), sent=False)
    result = sqlite_project.run("apply", "--auto-approve")
    assert result.exit_code == 0, result.output
    assert "1 not sent" in result.output
    assert len(broadcasts_received(emulator)) == 1
    with sqlite_project.open_ledger() as ledger:
        assert ledger.get_call(call_id).status == "failed"
        history = ledger.get("staging/notice/r1/android")
        assert [g.status for g in history.generations] == ["failed", "sent"]


def test_a_task_list_that_cannot_be_read_leaves_the_broadcast_unknown(
    sqlite_project: Project, emulator: Emulator
) -> None:
    sqlite_project.write("notice.yaml", mpaas_campaign())
    call_id = leave_pending(sqlite_project, emulator, age=timedelta(minutes=2), sent=True)
    emulator.enqueue_fault(result_code="3028", action="QueryPushAnalysisTaskList")
    result = sqlite_project.run("apply", "--auto-approve")
    assert result.exit_code == 1
    assert "marked unknown" in result.output and "pushops state resolve" in result.output
    assert len(broadcasts_received(emulator)) == 1
    with sqlite_project.open_ledger() as ledger:
        assert ledger.get_call(call_id).status == "unknown"
    planned = sqlite_project.run("plan")
    assert planned.exit_code == 1 and "x blocked  staging/notice/r1/android" in planned.output


def test_two_candidate_tasks_leave_the_broadcast_unknown(
    sqlite_project: Project, emulator: Emulator
) -> None:
    sqlite_project.write("notice.yaml", mpaas_campaign())
    call_id = leave_pending(sqlite_project, emulator, age=timedelta(minutes=2), sent=True)
    # Another client sent a broadcast of the same name and template meanwhile.
    with BlockingProviders(Credentials.of(AKID, SECRET)) as providers:
        plan = read_plan(sqlite_project.root / "p.plan").verified(plan_key(AKID, SECRET, "staging"))
        other = {**next(iter(plan.calls)).form, "Msgkey": "someone-else"}
        providers.mpaas(endpoint=emulator.url).push_broadcast(other)
    result = sqlite_project.run("apply", "--auto-approve")
    assert result.exit_code == 1 and "marked unknown" in result.output
    assert len(broadcasts_received(emulator)) == 2  # nothing more sent
    with sqlite_project.open_ledger() as ledger:
        assert ledger.get_call(call_id).status == "unknown"


SCHEDULED = """\
id: later
app: wallet
broadcasts:
  - id: android
    TaskName: Maintenance
    DeliveryType: 1
    TemplateName: announcement
    ExpiredSeconds: 3600
    BindPeriod: 4
    StrategyType: 1
    StrategyContent:
      fixedTime: {fixed}
"""


def _scheduled_campaign() -> str:
    fixed = int((datetime.now(timezone.utc) + timedelta(hours=3)).timestamp()) * 1000
    return SCHEDULED.format(fixed=fixed)


def test_pending_scheduled_broadcast_is_found_in_the_scheduler_list(
    sqlite_project: Project, emulator: Emulator
) -> None:
    sqlite_project.write("later.yaml", _scheduled_campaign())
    leave_pending(sqlite_project, emulator, age=timedelta(minutes=2), sent=True)
    result = sqlite_project.run("apply", "--auto-approve")
    assert result.exit_code == 0, result.output
    assert "1 found at the provider" in result.output
    (scheduled,) = emulator.deliveries()
    with sqlite_project.open_ledger() as ledger:
        current = ledger.get("staging/later/r1/android").current
        assert current.message_id == scheduled["message_id"]


def test_pending_scheduled_broadcast_the_scheduler_list_lacks_was_not_sent(
    sqlite_project: Project, emulator: Emulator
) -> None:
    # The scheduler list is documented to hold every scheduled task made: absence settles it.
    sqlite_project.write("later.yaml", _scheduled_campaign())
    leave_pending(sqlite_project, emulator, age=timedelta(minutes=2), sent=False)
    result = sqlite_project.run("apply", "--auto-approve")
    assert result.exit_code == 0, result.output
    assert "1 not sent" in result.output
    assert len(broadcasts_received(emulator)) == 1  # sent by this run, as a new generation
    with sqlite_project.open_ledger() as ledger:
        history = ledger.get("staging/later/r1/android")
        assert [g.status for g in history.generations] == ["failed", "scheduled"]


def test_a_broadcast_whose_answer_is_lost_is_not_repeated_and_settled_next_run(
    sqlite_project: Project, emulator: Emulator
) -> None:
    sqlite_project.write("notice.yaml", mpaas_campaign())
    emulator.enqueue_fault(drop=True, action="PushBroadcast")  # executed, answer lost
    first = sqlite_project.run("apply", "--auto-approve")
    assert "1 pending (the next run settles them)" in first.output
    assert len(broadcasts_received(emulator)) == 1  # the Msgkey was not tried again
    second = sqlite_project.run("apply", "--auto-approve")
    assert second.exit_code == 0, second.output
    assert "1 found at the provider" in second.output
    assert len(broadcasts_received(emulator)) == 1
    assert sqlite_project.run("plan", "--detailed-exitcode").exit_code == 0


def test_pending_call_beyond_the_window_that_went_out_is_found_at_the_provider(
    project: Project, emulator: Emulator
) -> None:
    project.write("sale.yaml", emas_campaign())
    leave_pending(project, emulator, age=timedelta(minutes=20), sent=True)
    result = project.run("apply", "--auto-approve")
    assert result.exit_code == 0, result.output
    assert "1 found at the provider" in result.output
    assert len(emulator.deliveries()) == 1
    with project.open_ledger() as ledger:
        current = ledger.get("staging/sale/r1/android").current
        assert (
            current.status == "sent"
            and current.message_id == emulator.deliveries()[0]["message_id"]
        )


def test_pending_call_beyond_the_window_that_never_went_out_is_sent_once(
    sqlite_project: Project, emulator: Emulator
) -> None:
    sqlite_project.write("sale.yaml", emas_campaign())
    leave_pending(sqlite_project, emulator, age=timedelta(minutes=20), sent=False)
    result = sqlite_project.run("apply", "--auto-approve")
    assert result.exit_code == 0, result.output
    assert "1 not sent" in result.output
    assert len(emulator.deliveries()) == 1  # sent by this run, as a new generation
    with sqlite_project.open_ledger() as ledger:
        history = ledger.get("staging/sale/r1/android")
        assert [g.status for g in history.generations] == ["failed", "sent"]


def test_pending_call_the_provider_cannot_answer_is_unknown_and_blocked(
    project: Project, emulator: Emulator
) -> None:
    project.write("sale.yaml", emas_campaign())
    call_id = leave_pending(project, emulator, age=timedelta(minutes=20), sent=True)
    emulator.enqueue_fault(code="InvalidParameter", action="QueryPushRecords")
    result = project.run("apply", "--auto-approve")
    assert result.exit_code == 1
    assert "marked unknown" in result.output and "pushops state resolve" in result.output
    with project.open_ledger() as ledger:
        assert ledger.get_call(call_id).status == "unknown"
    planned = project.run("plan")
    assert planned.exit_code == 1
    assert "x blocked  staging/sale/r1/android" in planned.output
    assert "pushops state resolve staging/sale/r1/android --sent" in planned.output
    assert len(emulator.deliveries()) == 1
