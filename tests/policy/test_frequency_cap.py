"""frequency-cap, through the real CLI, on a ledger that already holds deliveries."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from plan.support import Project, now, utc

from .support import findings, plan_json, received, task, with_policies

CAP = """
- name: two-a-day
  kind: frequency-cap
  level: hard
  max: 2
  window: 24h
"""


def at(hours: float, base: datetime) -> str:
    return utc(base + timedelta(hours=hours))


def sent_yesterday_and_today(project: Project, emulator) -> datetime:  # type: ignore[no-untyped-def]
    """The ledger holds campaign a (now, to d1 and d2) and b (in 3 hours, to d1)."""
    base = now()
    project.write("a.yaml", task("a", "d1,d2"))
    project.write("b.yaml", task("b", "d1", push_time=at(3, base)))
    assert project.run("apply", "--auto-approve").exit_code == 0
    assert sorted(received(emulator)) == ["d1", "d1", "d2"]
    return base


def test_a_third_delivery_to_a_device_within_the_window_is_a_hard_finding(
    project: Project, emulator
) -> None:  # type: ignore[no-untyped-def]
    with_policies(project, CAP)
    base = sent_yesterday_and_today(project, emulator)
    project.write("c.yaml", task("c", "d1,d2", push_time=at(5, base)))
    result = project.run("plan")
    assert result.exit_code == 5, result.output  # a hard policy blocks
    assert "error (blocks apply): campaigns/c.yaml:1:" in result.output
    assert "[two-a-day]" in result.output
    assert "1 recipient over the cap: at most 2 deliveries per target in 24h" in result.output
    assert "d1 would get its 3rd in the window" in result.output
    (finding,) = findings(project)
    assert finding | {"message": None} == {
        "source": "two-a-day",
        "kind": "frequency-cap",
        "level": "hard",
        "blocks": True,
        "campaign": "c",
        "key": "staging/c/r1/t",
        "count": 1,  # d2 got one so far: only d1 is over
        "message": None,
        "file": "campaigns/c.yaml",
        "line": 1,
        "column": finding["column"],  # the task in the one-line campaign
        "override_reason": None,
        "override_actor": None,
    }
    assert finding["column"] > 1


def test_apply_refuses_a_plan_a_hard_cap_blocks_and_sends_nothing(
    project: Project, emulator
) -> None:  # type: ignore[no-untyped-def]
    with_policies(project, CAP)
    base = sent_yesterday_and_today(project, emulator)
    project.write("c.yaml", task("c", "d1", push_time=at(5, base)))
    result = project.run("apply", "--auto-approve")
    assert result.exit_code == 5
    assert "policy finding(s) block apply; nothing sent" in result.output
    assert sorted(received(emulator)) == ["d1", "d1", "d2"]  # nothing more
    override = project.run(
        "apply", "--auto-approve", "--override", "two-a-day", "--reason", "please"
    )
    assert override.exit_code == 1
    assert "a hard policy cannot be overridden" in override.output
    assert sorted(received(emulator)) == ["d1", "d1", "d2"]


def test_the_next_day_the_window_has_moved_on(project: Project, emulator) -> None:  # type: ignore[no-untyped-def]
    with_policies(project, CAP)
    base = sent_yesterday_and_today(project, emulator)
    # 26 hours on, the 24-hour window before it holds b (in 3 hours) but no longer a.
    project.write("d.yaml", task("d", "d1", push_time=at(26, base)))
    assert findings(project) == []
    # ... but one more within 24 hours of b is one too many.
    project.write("e.yaml", task("e", "d1", push_time=at(26.5, base)))
    (finding,) = findings(project)
    assert finding["campaign"] == "e" and finding["count"] == 1


def test_the_plans_own_deliveries_count_together(sqlite_project: Project) -> None:
    with_policies(sqlite_project, CAP)
    base = now()
    for name, hours in (("p", 1), ("q", 2), ("r", 4)):
        sqlite_project.write(f"{name}.yaml", task(name, "d9", push_time=at(hours, base)))
    (finding,) = findings(sqlite_project)
    assert finding["campaign"] == "r"  # the latest one is over
    assert "d9 would get its 3rd" in finding["message"]


def test_a_calendar_day_window_resets_at_local_midnight(sqlite_project: Project) -> None:
    with_policies(
        sqlite_project,
        """
        - name: one-a-day
          kind: frequency-cap
          level: soft
          max: 1
          window: day
          time_zone: Asia/Shanghai
        """,
    )
    china = timezone(timedelta(hours=8))
    tomorrow = (now().astimezone(china) + timedelta(days=1)).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    sqlite_project.write(
        "late.yaml", task("late", "d1", push_time=utc(tomorrow + timedelta(hours=23)))
    )
    sqlite_project.write(
        "early.yaml", task("early", "d1", push_time=utc(tomorrow + timedelta(days=1, hours=1)))
    )
    assert findings(sqlite_project) == []  # 23:00 and 01:00 the next day: two days
    sqlite_project.write(
        "same.yaml", task("same", "d1", push_time=utc(tomorrow + timedelta(hours=9)))
    )
    (finding,) = findings(sqlite_project)
    assert finding["campaign"] == "same" or finding["campaign"] == "late"
    assert finding["count"] == 1


def test_category_counts_only_that_category(sqlite_project: Project) -> None:
    with_policies(
        sqlite_project,
        """
        - name: marketing-cap
          kind: frequency-cap
          level: hard
          max: 1
          window: 24h
          category: marketing
        """,
    )
    base = now()
    sqlite_project.write(
        "promo.yaml", task("promo", "d1", push_time=at(1, base), category="marketing")
    )
    sqlite_project.write(
        "order.yaml", task("order", "d1", push_time=at(2, base), category="service")
    )
    assert findings(sqlite_project) == []
    sqlite_project.write(
        "promo2.yaml", task("promo2", "d1", push_time=at(3, base))
    )  # no category: marketing
    (finding,) = findings(sqlite_project)
    assert finding["campaign"] == "promo2"


def test_drop_leaves_the_over_cap_recipients_out_and_sends_the_rest(
    project: Project, emulator
) -> None:  # type: ignore[no-untyped-def]
    with_policies(
        project,
        """
        - name: two-a-day
          kind: frequency-cap
          level: hard
          max: 2
          window: 24h
          action: drop
        """,
    )
    base = sent_yesterday_and_today(project, emulator)
    rows = "device_id\nd1\nd2\nd3\n"
    project.data("data/people.csv", rows)
    project.write(
        "c.yaml",
        task("c", "{{ row.device_id }}", push_time=at(5, base)).replace(
            '"id": "t"',
            '"id": "t", "fan_out": {"data": "data/people.csv", "key": "{{ row.device_id }}"}',
        ),
    )
    data = plan_json(project)
    actions = {
        a["key"]: (a["action"], a["reason"])
        for a in data["actions"]
        if a["key"].startswith("staging/c/")
    }
    assert actions["staging/c/r1/t/d1"][0] == "skip"
    assert "dropped by policy two-a-day" in actions["staging/c/r1/t/d1"][1]
    assert actions["staging/c/r1/t/d2"][0] == "send" and actions["staging/c/r1/t/d3"][0] == "send"
    (finding,) = data["findings"]
    assert finding["level"] == "advisory" and not finding["blocks"]  # dropping enforces it
    assert "1 recipient dropped from the plan" in finding["message"]
    result = project.run("apply", "--auto-approve")
    assert result.exit_code == 0, result.output
    assert sorted(received(emulator)) == ["d1", "d1", "d2", "d2", "d3"]
    # The next plan offers the dropped one again (still over the cap: dropped again).
    again = plan_json(project)
    assert [a["action"] for a in again["actions"] if a["key"] == "staging/c/r1/t/d1"] == ["skip"]


def test_validate_counts_what_the_campaigns_send_without_the_ledger(
    sqlite_project: Project,
) -> None:
    with_policies(sqlite_project, CAP)
    base = now()
    for name, hours in (("p", 1), ("q", 2), ("r", 4)):
        sqlite_project.write(f"{name}.yaml", task(name, "d9", push_time=at(hours, base)))
    result = sqlite_project.run("validate")
    assert result.exit_code == 1  # hard: an error
    assert "campaigns/r.yaml:1:" in result.output
    assert "policy two-a-day (hard) in staging: 1 recipient over the cap" in result.output
    assert "[policy.frequency-cap]" in result.output
