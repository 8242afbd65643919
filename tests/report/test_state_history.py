"""pushops state history KEY: every write that touched a delivery, oldest first, with who and
when, through the real CLI from a fresh repository applied to the emulator."""

from __future__ import annotations

import json
from datetime import timedelta

from apply.interrupt_support import leave_pending
from plan.support import Project, emas_campaign

from pushops.emulator import Emulator

KEY = "staging/sale/r1/android"


def applied(project: Project, text: str) -> None:
    project.write("sale.yaml", text)
    result = project.run("apply", "--auto-approve")
    assert result.exit_code == 0, result.output


def history(project: Project, key: str = KEY) -> list[dict]:
    result = project.run("state", "history", key, "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["version"] == 1 and doc["key"] == key
    return doc["history"]


def test_an_applied_delivery_shows_written_ahead_then_sent_with_its_ids(
    project: Project, emulator: Emulator
) -> None:
    applied(project, emas_campaign())
    pending, sent = history(project)
    assert (pending["what"], pending["generation"], pending["status_to"]) == (
        "pending",
        1,
        "pending",
    )
    assert pending["call_id"] == sent["call_id"] and pending["actor"]
    (delivered,) = [d for d in emulator.deliveries() if d["params"]["Title"] == "Sale starts"]
    assert (sent["what"], sent["message_id"]) == ("sent", delivered["message_id"])
    assert sent["request_id"] and sent["at"] >= pending["at"]
    text = project.run("state", "history", KEY)
    assert text.exit_code == 0
    lines = text.output.splitlines()
    assert lines[0] == f"history of {KEY} (oldest first)"
    assert " pending " in lines[1] and f"MessageId {delivered['message_id']}" in lines[2]


def test_rm_then_a_new_send_then_cancel_show_each_write_with_its_actor(
    sqlite_project: Project,
) -> None:
    project = sqlite_project
    applied(project, emas_campaign(push_in=timedelta(hours=2)))
    assert project.run("state", "rm", KEY, "--yes", "--actor", "erin").exit_code == 0
    applied(project, emas_campaign(push_in=timedelta(hours=2)))  # sent again: generation 2
    project.remove("sale.yaml")  # ... and withdrawn: CancelPush
    withdrawn = project.run("apply", "--auto-approve")
    assert withdrawn.exit_code == 0, withdrawn.output
    steps = history(project)
    assert [(s["what"], s["generation"]) for s in steps] == [
        ("pending", 1),
        ("scheduled", 1),
        ("removed", 1),
        ("pending", 2),
        ("scheduled", 2),
        ("cancelled", 2),
    ]
    removed, cancelled = steps[2], steps[5]
    assert (removed["actor"], removed["status_from"], removed["status_to"]) == (
        "erin",
        "scheduled",
        "cancelled",
    )
    assert cancelled["status_from"] == "scheduled" and cancelled["evidence"]["cancel_call"]


def test_resolve_and_abandon_are_shown_with_who_and_what_they_said(
    project: Project, emulator: Emulator
) -> None:
    project.write("sale.yaml", emas_campaign())
    call_id = leave_pending(project, emulator, age=timedelta(minutes=1), sent=True)
    resolved = project.run("state", "resolve", KEY, "--sent", "--actor", "dana")
    assert resolved.exit_code == 0, resolved.output
    steps = history(project)
    assert [s["what"] for s in steps] == ["pending", "resolved"]
    assert steps[1]["call_id"] == call_id and steps[1]["actor"] == "dana"
    assert (steps[1]["status_from"], steps[1]["status_to"]) == ("pending", "sent")
    assert steps[1]["evidence"] == {"said": "it went out"}
    assert "resolved    generation 1" in project.run("state", "history", KEY).output


def test_a_whole_call_abandoned_is_in_the_history_of_each_of_its_keys(
    sqlite_project: Project, emulator: Emulator
) -> None:
    project = sqlite_project
    project.write("sale.yaml", emas_campaign())
    call_id = leave_pending(project, emulator, age=timedelta(minutes=1), sent=False)
    result = project.run("state", "abandon", "--call", call_id, "--yes", "--actor", "carol")
    assert result.exit_code == 0, result.output
    steps = history(project)
    assert [(s["what"], s["actor"], s["status_to"]) for s in steps][1:] == [
        ("abandoned", "carol", "failed")
    ]
    assert steps[1]["evidence"]["code"] == "Abandoned"


def test_an_unknown_key_is_a_clear_error(sqlite_project: Project) -> None:
    result = sqlite_project.run("state", "history", "staging/nope/r1/x")
    assert result.exit_code != 0
    assert "no key staging/nope/r1/x in the ledger" in result.output
    assert "Traceback" not in result.output
