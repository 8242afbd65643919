"""pushops refresh: drift between the ledger and the provider, through the real CLI against
the emulator, from a fresh repository. Drift exits 2; refresh only ever asks the provider."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta
from typing import Any

from apply.interrupt_support import leave_pending
from plan.support import Project, emas_campaign, mpaas_campaign

from pushops.emulator import Emulator
from pushops.timeutil import MPAAS_DAY_ZONE

QUERIES = {"QueryPushRecords", "QueryPushSchedulerList", "QueryPushAnalysisTaskList"}
APP_KEY = "23267207"  # the staging shop's (plan.support.CONFIG)
WALLET = {"AppId": "ONEX570DA89211721", "WorkspaceId": "test"}


def applied(project: Project, name: str, text: str) -> None:
    project.write(name, text)
    result = project.run("apply", "--auto-approve")
    assert result.exit_code == 0, result.output


def cancelled_in_console(project: Project, emulator: Emulator, key: str) -> Any:
    """Cancel the scheduled push of ``key`` in the console; its ledger record (still
    scheduled there)."""
    with project.open_ledger() as ledger:
        record = ledger.get(key).current
    assert record.status == "scheduled"
    emulator.console_cancel(record.message_id)
    return record


def refresh_json(project: Project, *args: str) -> tuple[int, dict]:
    result = project.run("refresh", "--format", "json", *args)
    assert result.exit_code in (0, 2), result.output
    return result.exit_code, json.loads(result.stdout)


def only_queries_since(emulator: Emulator, start: int) -> list[str]:
    """The actions of every API call the emulator received from ``start`` on."""
    return [c["action"] for c in emulator.calls()[start:]]


def test_after_apply_refresh_finds_no_drift_and_exits_0(
    project: Project, emulator: Emulator
) -> None:
    applied(project, "sale.yaml", emas_campaign())
    applied(project, "notice.yaml", mpaas_campaign())
    result = project.run("refresh")
    assert result.exit_code == 0, result.output
    assert "No drift: the ledger of staging agrees with the provider." in result.output


def test_a_push_made_in_the_console_is_drift_and_exits_2(
    sqlite_project: Project, emulator: Emulator
) -> None:
    applied(sqlite_project, "sale.yaml", emas_campaign())
    made = emulator.console_push(
        "emas", {"DeviceType": "ALL", "PushType": "NOTICE", "Target": "DEVICE",
                 "TargetValue": "dev9", "Title": "Flash sale", "Body": "Now"}, app=APP_KEY,
    )  # fmt: skip
    text = sqlite_project.run("refresh")
    assert text.exit_code == 2, text.output
    assert "Pushed from elsewhere (no ledger record owns it) (1):" in text.output
    assert "'Flash sale'" in text.output and "source CONSOLE" in text.output
    code, doc = refresh_json(sqlite_project)
    assert code == 2 and doc["drift_found"] and doc["counts"]["unmanaged"] == 1
    (drift,) = doc["drift"]
    assert (drift["kind"], drift["app"], drift["message_id"]) == ("unmanaged", "shop", made)
    assert drift["changes"] == [] and drift["evidence"][0]["Source"] == "CONSOLE"


def test_a_broadcast_made_in_the_console_is_drift(
    sqlite_project: Project, emulator: Emulator
) -> None:
    applied(sqlite_project, "notice.yaml", mpaas_campaign())
    made = emulator.console_push(
        "mpaas", {**WALLET, "TaskName": "Hand made", "TemplateName": "t", "DeliveryType": "1"}
    )
    code, doc = refresh_json(sqlite_project)
    assert code == 2
    assert [(d["kind"], d["app"], d["message_id"]) for d in doc["drift"]] == [
        ("unmanaged", "wallet", made)
    ]


def test_a_console_cancelled_scheduled_push_is_found_and_applied_as_cancelled(
    project: Project, emulator: Emulator
) -> None:
    applied(project, "sale.yaml", emas_campaign(push_in=timedelta(hours=2)))
    record = cancelled_in_console(project, emulator, "staging/sale/r1/android")
    code, doc = refresh_json(project)
    assert code == 2
    (drift,) = doc["drift"]
    assert (drift["kind"], drift["key"], drift["ledger_status"], drift["provider_status"]) == (
        "cancelled", "staging/sale/r1/android", "scheduled", "CANCELLED",
    )  # fmt: skip
    assert drift["changes"] == [{"key": "staging/sale/r1/android", "status_from": "scheduled",
                                 "status_to": "cancelled", "message_id": record.message_id,
                                 "call_id": None, "position": None}]  # fmt: skip
    with project.open_ledger() as ledger:  # read-only: nothing recorded yet
        assert ledger.get("staging/sale/r1/android").current.status == "scheduled"


def test_a_console_cancelled_scheduled_broadcast_is_found(
    sqlite_project: Project, emulator: Emulator
) -> None:
    fixed = int((time.time() + 7200) * 1000)
    text = (
        mpaas_campaign() + f"    StrategyType: 1\n    StrategyContent:\n      fixedTime: {fixed}\n"
    )
    applied(sqlite_project, "notice.yaml", text)
    cancelled_in_console(sqlite_project, emulator, "staging/notice/r1/android")
    code, doc = refresh_json(sqlite_project)
    assert code == 2
    assert [(d["kind"], d["key"]) for d in doc["drift"]] == [
        ("cancelled", "staging/notice/r1/android")
    ]


def test_a_ledger_id_the_provider_does_not_know_is_drift_reported_only(
    sqlite_project: Project, emulator: Emulator
) -> None:
    applied(sqlite_project, "sale.yaml", emas_campaign())
    emulator.advance(120)  # well inside the window, not at its edge
    emulator.reset()  # the provider forgets what it had
    code, doc = refresh_json(sqlite_project, "--now", _in(120))
    assert code == 2
    (drift,) = doc["drift"]
    assert (drift["kind"], drift["key"], drift["changes"]) == (
        "missing",
        "staging/sale/r1/android",
        [],
    )


def test_refresh_only_ever_asks_the_provider(sqlite_project: Project, emulator: Emulator) -> None:
    applied(sqlite_project, "sale.yaml", emas_campaign(push_in=timedelta(hours=2)))
    applied(sqlite_project, "notice.yaml", mpaas_campaign())
    emulator.console_push(
        "emas", {"DeviceType": "ANDROID", "PushType": "NOTICE", "Target": "DEVICE",
                 "Title": "Elsewhere", "Body": "b"}, app=APP_KEY,
    )  # fmt: skip
    start = len(emulator.calls())
    assert sqlite_project.run("refresh").exit_code == 2
    assert sqlite_project.run("refresh", "--format", "markdown").exit_code == 2
    actions = only_queries_since(emulator, start)
    assert actions and set(actions) <= QUERIES, actions
    assert len(emulator.deliveries()) == 3  # nothing sent, nothing cancelled
    assert {d["status"] for d in emulator.deliveries()} == {"sent", "scheduled"}


def test_a_window_wider_than_the_provider_is_known_to_keep_is_refused(
    sqlite_project: Project,
) -> None:
    result = sqlite_project.run("refresh", "--since", "30d")
    assert result.exit_code == 1
    assert "--since" in result.output and "14d" in result.output
    assert "Traceback" not in result.output


def _in(seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + seconds))


# ---------------------------------------------------------------- --apply


def test_apply_records_a_console_cancel_as_cancelled_with_its_evidence_and_actor(
    project: Project, emulator: Emulator
) -> None:
    key = "staging/sale/r1/android"
    applied(project, "sale.yaml", emas_campaign(push_in=timedelta(hours=2)))
    record = cancelled_in_console(project, emulator, key)
    start = len(emulator.calls())
    result = project.run("refresh", "--apply", "--yes", "--actor", "night-shift")
    assert result.exit_code == 0, result.output  # every difference recorded
    assert "Recorded 1 change in the ledger" in result.output
    with project.open_ledger() as ledger:
        current = ledger.get(key).current
        events = ledger.events_for(key)
    assert (current.status, current.message_id) == ("cancelled", record.message_id)
    assert "at the provider" in (current.cancelled_by or "")
    (event,) = [e for e in events if e.kind == "refreshed"]
    assert (event.status_from, event.status_to, event.actor) == (
        "scheduled", "cancelled", "night-shift",
    )  # fmt: skip
    (evidence,) = event.evidence["records"]
    assert (evidence["MessageId"], evidence["Status"]) == (record.message_id, "CANCELLED")
    assert set(only_queries_since(emulator, start)) <= QUERIES
    assert project.run("refresh").exit_code == 0  # the ledger agrees now
    history = json.loads(project.run("state", "history", key, "--format", "json").stdout)
    (step,) = [s for s in history["history"] if s["what"] == "refreshed"]
    assert (step["status_from"], step["status_to"], step["actor"]) == (
        "scheduled", "cancelled", "night-shift",
    )  # fmt: skip
    assert record.message_id in json.dumps(step)  # the provider's record, as evidence


def test_apply_without_a_terminal_needs_yes_and_records_nothing(
    sqlite_project: Project, emulator: Emulator
) -> None:
    key = "staging/sale/r1/android"
    applied(sqlite_project, "sale.yaml", emas_campaign(push_in=timedelta(hours=2)))
    cancelled_in_console(sqlite_project, emulator, key)
    result = sqlite_project.run("refresh", "--apply")
    assert result.exit_code == 1 and "pass --yes" in result.output
    with sqlite_project.open_ledger() as ledger:
        assert ledger.get(key).current.status == "scheduled"
        assert ledger.events_for(key) == []


def test_apply_settles_a_pending_call_the_provider_has_with_its_message_id(
    sqlite_project: Project, emulator: Emulator
) -> None:
    sqlite_project.write("sale.yaml", emas_campaign())
    call_id = leave_pending(sqlite_project, emulator, age=timedelta(minutes=20), sent=True)
    (sent,) = emulator.deliveries()
    code, doc = refresh_json(sqlite_project)
    assert code == 2
    (drift,) = doc["drift"]
    assert (drift["kind"], drift["call_id"], drift["message_id"]) == (
        "sent",
        call_id,
        sent["message_id"],
    )
    start = len(emulator.calls())
    assert sqlite_project.run("refresh", "--apply", "--yes").exit_code == 0
    assert set(only_queries_since(emulator, start)) <= QUERIES
    assert len(emulator.deliveries()) == 1  # found, never sent again
    with sqlite_project.open_ledger() as ledger:
        assert ledger.get_call(call_id).status == "sent"
        current = ledger.get("staging/sale/r1/android").current
        (event,) = ledger.events_for("staging/sale/r1/android")
    assert (current.status, current.message_id) == ("sent", sent["message_id"])
    assert (event.kind, event.status_from, event.status_to) == ("refreshed", "pending", "sent")


def test_an_ambiguous_match_is_reported_and_never_applied(
    sqlite_project: Project, emulator: Emulator
) -> None:
    # The same push twice at the provider: pushops's lost call, and a copy from the console.
    sqlite_project.write("sale.yaml", emas_campaign())
    call_id = leave_pending(sqlite_project, emulator, age=timedelta(minutes=20), sent=True)
    (sent,) = emulator.deliveries()
    copy = emulator.console_push("emas", sent["params"], app=APP_KEY)
    code, doc = refresh_json(sqlite_project)
    assert code == 2
    (drift,) = doc["drift"]
    assert (drift["kind"], drift["call_id"], drift["changes"]) == ("ambiguous", call_id, [])
    assert sorted(drift["candidates"]) == sorted([sent["message_id"], copy])
    result = sqlite_project.run("refresh", "--apply", "--yes")
    assert result.exit_code == 2
    assert "Nothing the provider's records prove to record." in result.output
    with sqlite_project.open_ledger() as ledger:
        assert ledger.get_call(call_id).status == "pending"
        assert ledger.events_for("staging/sale/r1/android") == []


def test_hostile_names_are_escaped_in_markdown(sqlite_project: Project, emulator: Emulator) -> None:
    hostile = "@acme/admins [win](https://evil.example) <img src=x onerror=alert(1)> #1"
    applied(sqlite_project, "sale.yaml", emas_campaign(title="Sale"))
    emulator.console_push(
        "emas", {"DeviceType": "ANDROID", "PushType": "NOTICE", "Target": "DEVICE",
                 "Title": hostile + "\n::error::injected", "Body": "b"}, app=APP_KEY,
    )  # fmt: skip
    result = sqlite_project.run("refresh", "--format", "markdown")
    assert result.exit_code == 2
    page = result.stdout
    assert "<img" not in page and "](https://" not in page
    assert "@acme/admins" not in page and "#1" not in page  # no mention, no issue reference
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "\n::error::" not in page
    text = sqlite_project.run("refresh").stdout
    assert "\n::error::" not in text  # one line in text too: no workflow command


def test_a_scheduled_push_that_went_out_when_due_is_no_drift(
    sqlite_project: Project, emulator: Emulator
) -> None:
    # Due in 2 hours; 3 hours later the provider has sent it. Refresh reads the clock --now
    # gives, and signs its queries by it too (the emulator judges them by its moved clock).
    applied(sqlite_project, "sale.yaml", emas_campaign(push_in=timedelta(hours=2)))
    emulator.advance(3 * 3600)
    assert {d["status"] for d in emulator.deliveries()} == {"sent"}
    result = sqlite_project.run("refresh", "--now", _in(3 * 3600))
    assert result.exit_code == 0, result.output


def test_a_running_loop_and_an_immediate_broadcast_are_no_drift(
    sqlite_project: Project, emulator: Emulator
) -> None:
    today = datetime.now(MPAAS_DAY_ZONE).replace(hour=0, minute=0, second=0, microsecond=0)
    loop = mpaas_campaign("digest", "Digest") + (
        "    StrategyType: 2\n    StrategyContent:\n"
        f"      startTime: {int(today.timestamp() * 1000)}\n"
        f"      endTime: {int((today + timedelta(days=14)).timestamp() * 1000)}\n"
        "      circleType: 1\n      time: '23:59:00'\n"
    )
    applied(sqlite_project, "digest.yaml", loop)
    applied(sqlite_project, "notice.yaml", mpaas_campaign())
    result = sqlite_project.run("refresh")
    assert result.exit_code == 0, result.output
