"""Pending calls an interrupted run left: settled first, never blindly sent again."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from plan.support import AKID, SECRET, Project, emas_campaign, mpaas_campaign

from pushops.apply.gateway import push_tasks
from pushops.apply.records import pending_records
from pushops.emulator import Emulator
from pushops.ledger import open_ledger
from pushops.plan.planfile import read_plan
from pushops.providers import BlockingProviders, Credentials


def leave_pending(project: Project, emulator: Emulator, *, age: timedelta, sent: bool) -> str:
    """What a run killed right after writing ahead (and, if ``sent``, after sending) leaves."""
    assert project.run("plan", "--out", "p.plan").exit_code == 0
    plan = read_plan(project.root / "p.plan")
    call = plan.calls[0]
    target = project.env["PUSHOPS_STATE_DSN"]
    schema = project.env.get("PUSHOPS_STATE_SCHEMA") or None
    then = datetime.now(timezone.utc) - age
    with open_ledger(target, root=project.root, schema=schema, clock=lambda: then) as ledger:
        ledger.record_pending_many([pending_records(call, plan, "crashed-run")])
    if sent:
        with BlockingProviders(Credentials.of(AKID, SECRET)) as providers:
            if call.provider == "emas":
                client = providers.emas(call.query["AppKey"], endpoint=emulator.url)
                client.mass_push(push_tasks(call.form), call.token)
            else:
                providers.mpaas(endpoint=emulator.url).push_broadcast(call.form)
    return call.call_id


def test_pending_call_inside_the_window_is_resent_with_its_token_without_duplicate(
    project: Project, emulator: Emulator
) -> None:
    project.write("sale.yaml", emas_campaign())
    call_id = leave_pending(project, emulator, age=timedelta(minutes=2), sent=True)
    planned = project.run("plan", "--detailed-exitcode")
    assert planned.exit_code == 2 and "? resolve  staging/sale/r1/android" in planned.output
    result = project.run("apply", "--auto-approve")
    assert result.exit_code == 0, result.output
    assert "1 sent again with the same token" in result.output
    assert len(emulator.deliveries()) == 1  # the provider deduped the token
    with project.open_ledger() as ledger:
        assert ledger.get_call(call_id).status == "sent"
        assert (
            ledger.get("staging/sale/r1/android").current.message_id
            == emulator.deliveries()[0]["message_id"]
        )
    assert project.run("plan", "--detailed-exitcode").exit_code == 0


def test_pending_mpaas_broadcast_is_settled_by_the_duplicate_msgkey_answer(
    sqlite_project: Project, emulator: Emulator
) -> None:
    sqlite_project.write("notice.yaml", mpaas_campaign())
    leave_pending(sqlite_project, emulator, age=timedelta(hours=2), sent=True)
    result = sqlite_project.run("apply", "--auto-approve")
    assert result.exit_code == 0, result.output
    assert len(emulator.deliveries()) == 1
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
