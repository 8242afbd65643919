"""Loops and scheduled pushes that a team stops or replaces: removing the campaign or bumping
its revision cancels what is still to come (CancelPushScheduler / CancelPush), under the same
safety margin as any scheduled push; and a loop that started yesterday stays valid."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from plan.support import Project, emas_campaign

from pushops.emulator import Emulator

BEIJING = timezone(timedelta(hours=8))
DAY = timedelta(days=1)


def today_beijing(now: datetime | None = None) -> datetime:
    moment = (now or datetime.now(timezone.utc)).astimezone(BEIJING)
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def loop_campaign(
    cid: str = "digest",
    *,
    revision: int = 1,
    title: str = "Your daily summary.",
    start: datetime | None = None,
    days: int = 7,
) -> str:
    """A daily loop from today (UTC+8) whose first occurrence went out a minute ago: a loop
    already running, the next occurrence about a day away."""
    first = start or today_beijing()
    at = max(today_beijing(), datetime.now(BEIJING) - timedelta(minutes=1))
    return f"""\
id: {cid}
revision: {revision}
app: wallet
broadcasts:
  - id: daily
    TaskName: Daily digest
    DeliveryType: 2
    TemplateName: digest
    TemplateKeyValue:
      content: {title}
    ExpiredSeconds: 3600
    PushStatus: 1
    UnBindPeriod: 3
    StrategyType: 2
    StrategyContent:
      startTime: {ms(first)}
      endTime: {ms(today_beijing() + days * DAY)}
      circleType: 1
      time: "{at.strftime("%H:%M:%S")}"
"""


def loops_at_the_provider(emulator: Emulator) -> list[tuple[str, str]]:
    """(TemplateKeyValue content, status) of every loop broadcast the emulator accepted."""
    return sorted(
        (json.loads(d["params"]["TemplateKeyValue"])["content"], d["status"])
        for d in emulator.deliveries()
        if d["params"].get("StrategyType") == "2"
    )


def ledger_status(project: Project, key: str) -> str:
    with project.open_ledger() as ledger:
        history = ledger.get(key)
        assert history is not None and history.current is not None, key
        return history.current.status


def test_removing_a_running_loop_cancels_the_occurrences_still_to_come(
    project: Project, emulator: Emulator
) -> None:
    project.write("digest.yaml", loop_campaign())
    assert project.run("apply", "--auto-approve").exit_code == 0
    assert loops_at_the_provider(emulator) == [("Your daily summary.", "scheduled")]

    project.remove("digest.yaml")
    planned = project.run("plan", "--detailed-exitcode")
    assert planned.exit_code == 2, planned.output
    assert "- cancel   staging/digest/r1/daily" in planned.output
    assert "a loop running, next at" in planned.output
    assert "cancel the occurrences still to come" in planned.output

    applied = project.run("apply", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert "1 cancelled" in applied.output
    assert loops_at_the_provider(emulator) == [("Your daily summary.", "cancelled")]
    assert ledger_status(project, "staging/digest/r1/daily") == "cancelled"
    assert project.run("plan", "--detailed-exitcode").exit_code == 0


def test_bumping_a_running_loops_revision_cancels_the_old_loop_and_sends_the_new(
    project: Project, emulator: Emulator
) -> None:
    project.write("digest.yaml", loop_campaign())
    assert project.run("apply", "--auto-approve").exit_code == 0
    project.write("digest.yaml", loop_campaign(revision=2, title="Your new daily summary."))

    planned = project.run("plan")
    assert "- cancel   staging/digest/r1/daily" in planned.output
    assert "+ send     staging/digest/r2/daily" in planned.output
    applied = project.run("apply", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert loops_at_the_provider(emulator) == [
        ("Your daily summary.", "cancelled"),
        ("Your new daily summary.", "scheduled"),
    ]
    assert project.run("plan", "--detailed-exitcode").exit_code == 0


def test_a_new_revision_waits_until_the_old_loop_is_cancelled(
    sqlite_project: Project, emulator: Emulator
) -> None:
    sqlite_project.write("digest.yaml", loop_campaign())
    assert sqlite_project.run("apply", "--auto-approve").exit_code == 0
    sqlite_project.write("digest.yaml", loop_campaign(revision=2, title="The new one."))
    emulator.enqueue_fault(code="InvalidParameter", action="CancelPushScheduler", status=400)

    refused = sqlite_project.run("apply", "--auto-approve")
    assert refused.exit_code == 1
    assert "CancelPushScheduler" in refused.output and "InvalidParameter" in refused.output
    assert "1 not sent" in refused.output
    # Users never get both loops: the new one stays unsent while the old one runs.
    assert loops_at_the_provider(emulator) == [("Your daily summary.", "scheduled")]

    again = sqlite_project.run("apply", "--auto-approve")
    assert again.exit_code == 0, again.output
    assert loops_at_the_provider(emulator) == [
        ("The new one.", "scheduled"),
        ("Your daily summary.", "cancelled"),
    ]


def test_a_loop_whose_next_occurrence_is_within_the_margin_is_not_cancelled(
    sqlite_project: Project, emulator: Emulator
) -> None:
    sqlite_project.write("digest.yaml", loop_campaign())
    assert sqlite_project.run("apply", "--auto-approve").exit_code == 0
    sqlite_project.remove("digest.yaml")

    # The next occurrence is about a day away: inside a two-day margin.
    planned = sqlite_project.run("plan", "--margin", "2d")
    assert planned.exit_code == 1
    assert "x blocked  staging/digest/r1/daily" in planned.output
    assert "within the 2880 min safety margin: too late to cancel it safely" in planned.output
    refused = sqlite_project.run("apply", "--auto-approve", "--margin", "2d")
    assert refused.exit_code == 1
    assert loops_at_the_provider(emulator) == [("Your daily summary.", "scheduled")]


def test_an_edited_running_loop_is_blocked_with_the_way_to_replace_it(
    sqlite_project: Project, emulator: Emulator
) -> None:
    sqlite_project.write("digest.yaml", loop_campaign())
    assert sqlite_project.run("apply", "--auto-approve").exit_code == 0
    sqlite_project.write("digest.yaml", loop_campaign(title="Edited in place."))
    planned = sqlite_project.run("plan")
    assert planned.exit_code == 1
    assert "x blocked  staging/digest/r1/daily" in planned.output
    assert "a loop already running" in planned.output
    assert "Bump the campaign's revision to cancel the rest of this loop" in planned.output


def test_a_loop_that_has_ended_is_left_alone_when_its_campaign_is_removed(
    sqlite_project: Project, emulator: Emulator
) -> None:
    sqlite_project.write("digest.yaml", loop_campaign(days=2))
    assert sqlite_project.run("apply", "--auto-approve").exit_code == 0
    sqlite_project.remove("digest.yaml")
    later = (datetime.now(timezone.utc) + 3 * DAY).strftime("%Y-%m-%dT%H:%M:%SZ")
    planned = sqlite_project.run("plan", "--now", later, "--detailed-exitcode")
    assert planned.exit_code == 0, planned.output  # nothing left to cancel


def test_bumping_a_scheduled_pushs_revision_cancels_the_old_push_and_sends_the_new(
    project: Project, emulator: Emulator
) -> None:
    project.write("sale.yaml", emas_campaign(push_in=timedelta(hours=2)))
    assert project.run("apply", "--auto-approve").exit_code == 0
    bumped = emas_campaign(title="Sale moved", push_in=timedelta(hours=3))
    project.write("sale.yaml", bumped.replace("id: sale\n", "id: sale\nrevision: 2\n"))
    applied = project.run("apply", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    got = sorted((d["params"]["Title"], d["status"]) for d in emulator.deliveries())
    assert got == [("Sale moved", "scheduled"), ("Sale starts", "cancelled")]


def test_a_fixed_date_loop_stays_valid_the_day_after_it_started(
    sqlite_project: Project, emulator: Emulator
) -> None:
    sqlite_project.write("digest.yaml", loop_campaign())
    assert sqlite_project.run("apply", "--auto-approve").exit_code == 0
    tomorrow = (datetime.now(timezone.utc) + DAY).strftime("%Y-%m-%dT%H:%M:%SZ")

    validated = sqlite_project.run("validate", "--now", tomorrow)
    assert validated.exit_code == 0, validated.output
    assert "warning: broadcasts[0].StrategyContent.startTime: startTime is before today" in (
        validated.output
    )
    assert "[mpaas.loop-start-past]" in validated.output
    planned = sqlite_project.run("plan", "--now", tomorrow, "--detailed-exitcode")
    assert planned.exit_code == 0, planned.output


def test_a_new_loop_that_starts_in_the_past_is_refused_by_plan_not_by_validate(
    sqlite_project: Project, emulator: Emulator
) -> None:
    sqlite_project.write("digest.yaml", loop_campaign(start=today_beijing() - DAY))
    validated = sqlite_project.run("validate")
    assert validated.exit_code == 0, validated.output
    assert "[mpaas.loop-start-past]" in validated.output
    planned = sqlite_project.run("plan")
    assert planned.exit_code == 1
    assert "[mpaas.loop-start-past]" in planned.output and "warning:" not in planned.output
    assert emulator.deliveries() == []
