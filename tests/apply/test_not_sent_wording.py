"""Calls a run never sent read "not sent", never "failed".

An apply whose first call meets an error fatal for the run (an unknown access key) stops:
that call was refused by the provider ("failed"), the others never left pushops. Users read
"failed" as "the provider refused it", so everywhere they look (apply's summary, ``state
list``, ``state show``, the plan that sends them again, in text, JSON, Markdown and HTML) the
calls never sent say "not sent" and why, distinct from the refusal.
"""

from __future__ import annotations

import json

import pytest
from plan.support import Project

from pushops.emulator import Emulator

from .interrupt_support import paced_project

NEVER_LEFT = "not sent (the run stopped: never left pushops)"
REFUSED = "staging/notices/r1/b000"
NOT_SENT = ["staging/notices/r1/b001", "staging/notices/r1/b002", "staging/notices/r1/b003"]


@pytest.fixture
def stopped(sqlite_project: Project, emulator: Emulator) -> Project:
    """4 broadcasts, paced so the first answer comes before the second call; it is refused
    with an error fatal for the run."""
    paced_project(sqlite_project, 4, 5.0)
    emulator.enqueue_fault(
        "InvalidAccessKeyId.NotFound", "PushBroadcast", status=404,
        message="Specified access key is not found.",
    )  # fmt: skip
    result = sqlite_project.run("apply", "--auto-approve")
    assert result.exit_code == 1, result.output
    assert emulator.deliveries() == []
    sqlite_project.apply_output = result.output  # type: ignore[attr-defined]
    return sqlite_project


def test_apply_counts_the_calls_it_never_sent_as_not_sent_apart_from_the_refused(
    stopped: Project,
) -> None:
    out = stopped.apply_output  # type: ignore[attr-defined]
    assert "failed: staging/wallet/" in out and "InvalidAccessKeyId.NotFound" in out
    assert (
        "1 failed, 3 not sent (the run stopped: never left pushops; the next plan sends them)"
    ) in out


def test_state_list_says_not_sent_and_json_gives_the_outcome(stopped: Project) -> None:
    text = stopped.run("state", "list")
    assert text.exit_code == 0, text.output
    lines = {line.split()[0]: line for line in text.output.splitlines()[1:]}
    assert NEVER_LEFT not in lines[REFUSED] and " failed " in lines[REFUSED]
    for key in NOT_SENT:
        assert NEVER_LEFT in lines[key] and "failed" not in lines[key]

    data = json.loads(stopped.run("state", "list", "--format", "json").output)
    outcomes = {d["key"]: (d["status"], d["outcome"]) for d in data["deliveries"]}
    assert outcomes[REFUSED] == ("failed", "failed")
    assert {outcomes[k] for k in NOT_SENT} == {("failed", "not_sent")}


def test_state_show_says_not_sent_for_the_generation_and_its_call(stopped: Project) -> None:
    text = stopped.run("state", "show", NOT_SENT[0])
    assert text.exit_code == 0, text.output
    assert f"generation 1 (current): {NEVER_LEFT}" in text.output
    assert f": {NEVER_LEFT} (mpaas PushBroadcast" in text.output
    assert "error RunStopped:" in text.output  # what the ledger recorded, as recorded

    data = json.loads(stopped.run("state", "show", NOT_SENT[0], "--format", "json").output)
    assert [g["outcome"] for g in data["generations"]] == ["not_sent"]
    assert [c["outcome"] for c in data["calls"]] == ["not_sent"]
    refused = json.loads(stopped.run("state", "show", REFUSED, "--format", "json").output)
    assert [c["outcome"] for c in refused["calls"]] == ["failed"]


def test_the_plan_that_sends_them_again_says_they_were_not_sent(stopped: Project) -> None:
    again = "not sent (the run stopped: never left pushops); sending it again"
    text = stopped.run("plan").output
    assert text.count(again) == 3 and text.count("its last attempt failed") == 1

    data = json.loads(stopped.run("plan", "--format", "json").output)
    reasons = {a["key"]: a["reason"] for a in data["actions"]}
    assert reasons[REFUSED] == "its last attempt failed; sending it again"
    assert {reasons[k] for k in NOT_SENT} == {again}

    markdown = stopped.run("plan", "--format", "markdown").output
    html = stopped.run("plan", "--format", "html").output
    for view in (markdown, html):
        assert view.count(again) == 3, view
