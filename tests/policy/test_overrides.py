"""Soft policies block apply until overridden for the run with a reason; the override, its
reason and who gave it are recorded in the ledger, before anything is sent, and shown by the
next plans (text, Markdown, JSON)."""

from __future__ import annotations

import json
import sqlite3

from plan.support import Project

from .support import OVERRIDE_ENV, plan_json, received, task, with_policies

BIG = """
- name: big-sends
  kind: blast-radius
  level: soft
  max_recipients: 2
- name: owned
  kind: required-fields
  level: hard
  environments: [production]
  campaign: [owner]
"""


def test_a_soft_policy_blocks_apply_until_overridden_with_a_reason(
    project: Project, emulator
) -> None:  # type: ignore[no-untyped-def]
    with_policies(project, BIG)
    project.write("launch.yaml", task("launch", "d1,d2,d3"))
    plan = project.run("plan")
    assert plan.exit_code == 4, plan.output
    assert "3 recipients in staging, over the 2 allowed without an override" in plan.output
    assert '--override big-sends --reason "why"' in plan.output

    refused = project.run("apply", "--auto-approve", env=OVERRIDE_ENV)
    assert refused.exit_code == 4
    assert received(emulator) == []

    applied = project.run(
        "apply", "--auto-approve", "--override", "big-sends", "--reason", "launch day",
        env=OVERRIDE_ENV,
    )  # fmt: skip
    assert applied.exit_code == 0, applied.output
    assert "overridden by alice: launch day" in applied.output
    assert sorted(received(emulator)) == ["d1", "d2", "d3"]

    with project.open_ledger() as ledger:
        (record,) = ledger.overrides("staging")
    assert (record.policy, record.level, record.reason, record.actor) == (
        "big-sends", "soft", "launch day", "alice",
    )  # fmt: skip
    assert record.findings[0]["count"] == 3 and record.findings[0]["campaign"] == "launch"

    # The next plan has nothing to send, and shows the override on record.
    text = project.run("plan")
    assert text.exit_code == 0, text.output
    assert "Policy overrides on record (latest first):" in text.output
    assert "big-sends (soft) overridden by alice: launch day" in text.output
    markdown = project.run("plan", "--format", "markdown").output
    assert "big-sends (soft) overridden by alice: launch day" in markdown
    (shown,) = plan_json(project)["overrides"]
    assert shown | {"created_at": None, "git_commit": None} == {
        "policy": "big-sends", "level": "soft", "reason": "launch day", "actor": "alice",
        "created_at": None, "git_commit": None, "count": 3,
    }  # fmt: skip


def test_an_override_needs_a_reason_and_a_policy_that_exists_and_is_soft(
    sqlite_project: Project,
) -> None:
    with_policies(sqlite_project, BIG)
    sqlite_project.write("launch.yaml", task("launch", "d1,d2,d3"))
    no_reason = sqlite_project.run("plan", "--override", "big-sends")
    assert no_reason.exit_code == 1 and '--override needs --reason "why"' in no_reason.output
    unknown = sqlite_project.run("plan", "--override", "nope", "--reason", "x")
    assert unknown.exit_code == 1 and "--override nope: no such policy" in unknown.output
    hard = sqlite_project.run("plan", "--override", "owned", "--reason", "x")
    assert hard.exit_code == 1 and "a hard policy cannot be overridden" in hard.output


def test_plan_with_an_override_shows_it_and_exits_as_if_unblocked(sqlite_project: Project) -> None:
    with_policies(sqlite_project, BIG)
    sqlite_project.write("launch.yaml", task("launch", "d1,d2,d3"))
    result = sqlite_project.run(
        "plan", "--detailed-exitcode", "--override", "big-sends", "--reason", "launch day",
        env=OVERRIDE_ENV,
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    shown = sqlite_project.run(
        "plan", "--format", "json", "--override", "big-sends", "--reason", "launch day",
        env=OVERRIDE_ENV,
    )  # fmt: skip
    (finding,) = json.loads(shown.stdout)["findings"]
    assert finding["blocks"] is False
    assert (finding["override_reason"], finding["override_actor"]) == ("launch day", "alice")


def test_a_saved_plan_is_refused_until_overridden_at_apply(project: Project, emulator) -> None:  # type: ignore[no-untyped-def]
    with_policies(project, BIG)
    project.write("launch.yaml", task("launch", "d1,d2,d3"))
    made = project.run("plan", "--out", "p.plan")
    assert made.exit_code == 4
    assert "apply it with `pushops apply p.plan --override big-sends --reason" in made.output
    refused = project.run("apply", "p.plan")
    assert refused.exit_code == 4 and received(emulator) == []
    applied = project.run(
        "apply", "p.plan", "--override", "big-sends", "--reason", "go", env=OVERRIDE_ENV
    )
    assert applied.exit_code == 0, applied.output
    assert len(received(emulator)) == 3
    with project.open_ledger() as ledger:
        assert [o.reason for o in ledger.overrides("staging")] == ["go"]


def test_a_plan_a_hard_policy_blocks_is_never_saved(sqlite_project: Project) -> None:
    with_policies(sqlite_project, BIG)
    sqlite_project.write("launch.yaml", task("launch", "d1"))
    result = sqlite_project.run("plan", "--env", "production", "--out", "p.plan")
    assert result.exit_code == 5
    assert "No plan file written: a hard policy blocks apply." in result.output
    assert not (sqlite_project.root / "p.plan").exists()


def test_when_the_override_cannot_be_recorded_nothing_is_sent(
    sqlite_project: Project, emulator
) -> None:  # type: ignore[no-untyped-def]
    with_policies(sqlite_project, BIG)
    sqlite_project.write("launch.yaml", task("launch", "d1,d2,d3"))
    assert sqlite_project.run("plan").exit_code == 4  # creates the ledger
    database = sqlite_project.root / ".pushops" / "state.db"
    with sqlite3.connect(database) as conn:  # the ledger's disk fails on this one table
        conn.execute(
            "CREATE TRIGGER no_room BEFORE INSERT ON policy_overrides "
            "BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END"
        )
    result = sqlite_project.run(
        "apply", "--auto-approve", "--override", "big-sends", "--reason", "go", env=OVERRIDE_ENV
    )
    assert result.exit_code == 1
    assert "disk I/O error" in result.output
    assert received(emulator) == []
    with sqlite_project.open_ledger() as ledger:
        assert list(ledger.current_deliveries("staging")) == []
        assert ledger.overrides("staging") == []


def test_an_advisory_finding_needs_no_override(project: Project, emulator) -> None:  # type: ignore[no-untyped-def]
    with_policies(project, BIG.replace("level: soft", "level: advisory"))
    project.write("launch.yaml", task("launch", "d1,d2,d3"))
    result = project.run("apply", "--auto-approve")
    assert result.exit_code == 0, result.output
    assert len(received(emulator)) == 3
    with project.open_ledger() as ledger:
        assert ledger.overrides("staging") == []
