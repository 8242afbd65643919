"""plan checks the calls it will send against the call-scope rules (pushops.check.rules.check_call),
reporting each problem at the campaign's message, as validate does.

The compiler is built to stay inside those rules, so the rules are plan's guard against the
two drifting apart (e.g. the tables lowering a limit the compiler hard-codes). The drift is
simulated by letting the compiler put more PushTasks in one call than MassPush takes.
"""

from __future__ import annotations

import re

import pytest

import pushops.compile

from .support import Project, fanout_campaign

ROWS = 150  # one PushTask per row (each row has its own Title): over 100 in one call


def offers(project: Project) -> None:
    campaign, csv = fanout_campaign("offers", ROWS, "data/offers.csv")
    project.data("data/offers.csv", csv)
    project.write("offers.yaml", campaign)


def test_plan_reports_a_call_over_the_call_rules_located_at_its_message(
    sqlite_project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    offers(sqlite_project)
    monkeypatch.setattr(pushops.compile, "MAX_TASKS", 1000)  # the drifted compiler

    result = sqlite_project.run("plan")

    assert result.exit_code == 1, result.output
    assert "no plan was made" in result.output
    (line,) = [ln for ln in result.output.splitlines() if "emas.tasks-per-call" in ln]
    # file:line:col of the message (tasks[0] starts on line 4 of the campaign)
    assert re.search(r"campaigns/offers\.yaml:4:\d+", line), line
    assert f"{ROWS} PushTasks" in line, line


def test_plan_of_calls_within_the_call_rules_reports_none(sqlite_project: Project) -> None:
    offers(sqlite_project)

    result = sqlite_project.run("plan", "--format", "json")

    assert result.exit_code == 0, result.output
    assert "emas.tasks-per-call" not in result.output
