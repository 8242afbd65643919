"""How caps count: replacements once, loops once a day, the plan's order, the boundaries."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from plan.support import Project, now, utc

from pushops.policy.recipients import occurrences, targets

from .support import findings, task, with_policies

ONE_A_DAY = """
- name: one-a-day
  kind: frequency-cap
  level: hard
  max: 1
  window: 24h
"""


def test_a_replaced_scheduled_push_counts_once(project: Project, emulator) -> None:  # type: ignore[no-untyped-def]
    with_policies(project, ONE_A_DAY)
    due = utc(now() + timedelta(hours=3))
    project.write("promo.yaml", task("promo", "d1", push_time=due))
    assert project.run("apply", "--auto-approve").exit_code == 0
    project.write("promo.yaml", task("promo", "d1", push_time=due, title="Changed"))
    result = project.run("plan")
    assert "~ replace  staging/promo/r1/t" in result.output
    assert "Policy findings" not in result.output, result.output


def test_a_window_boundary_is_exclusive_of_its_start(sqlite_project: Project) -> None:
    with_policies(sqlite_project, ONE_A_DAY)
    base = now() + timedelta(hours=1)
    sqlite_project.write("a.yaml", task("a", "d1", push_time=utc(base)))
    sqlite_project.write("b.yaml", task("b", "d1", push_time=utc(base + timedelta(hours=24))))
    assert findings(sqlite_project) == []  # exactly 24 hours apart: two windows
    sqlite_project.write(
        "b.yaml", task("b", "d1", push_time=utc(base + timedelta(hours=23, minutes=59)))
    )
    assert [f["campaign"] for f in findings(sqlite_project)] == ["b"]


def test_per_limits_the_kinds_of_targets_counted(sqlite_project: Project) -> None:
    with_policies(sqlite_project, ONE_A_DAY + "  per: [account]\n")
    base = now() + timedelta(hours=1)
    sqlite_project.write("a.yaml", task("a", "d1", push_time=utc(base)))
    sqlite_project.write("b.yaml", task("b", "d1", push_time=utc(base + timedelta(hours=1))))
    assert findings(sqlite_project) == []  # devices are not counted
    for name, hours in (("c", 2), ("e", 3)):
        doc = json.loads(task(name, "u1", push_time=utc(base + timedelta(hours=hours))))
        doc["tasks"][0]["Target"] = "ACCOUNT"
        sqlite_project.write(f"{name}.yaml", json.dumps(doc))
    assert [f["campaign"] for f in findings(sqlite_project)] == ["e"]


def test_targets_are_scoped_by_app_and_split_on_commas() -> None:
    assert targets("emas", "shop", {"Target": "DEVICE", "TargetValue": "a, b,,c"}) == [
        ("DEVICE", "shop/a"),
        ("DEVICE", "shop/b"),
        ("DEVICE", "shop/c"),
    ]
    assert targets("mpaas", "wallet", {"DeliveryType": 1}) == [("BROADCAST", "wallet/1")]


def test_a_daily_loop_lands_once_a_day_between_its_start_and_end() -> None:
    start = datetime(2026, 11, 20, tzinfo=timezone.utc)
    params = {
        "StrategyType": 2,
        "StrategyContent": json.dumps(
            {
                "startTime": int(start.timestamp() * 1000),
                "endTime": int((start + timedelta(days=10)).timestamp() * 1000),
                "circleType": 1,
                "time": "10:00:00",  # UTC+8: 02:00 UTC
            }
        ),
    }
    window = (
        datetime(2026, 11, 22, tzinfo=timezone.utc),
        datetime(2026, 11, 25, tzinfo=timezone.utc),
    )
    found = list(occurrences("mpaas", params, None, *window))
    assert found == [datetime(2026, 11, d, 2, 0, tzinfo=timezone.utc) for d in (22, 23, 24)]
    weekly = dict(
        params,
        StrategyContent=params["StrategyContent"].replace(
            '"circleType": 1', '"circleType": 2, "circleValue": [1]'
        ),
    )
    assert list(occurrences("mpaas", weekly, None, *window)) == [
        datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)  # a Monday
    ]


def test_a_broadcast_counts_for_every_device(sqlite_project: Project) -> None:
    with_policies(sqlite_project, ONE_A_DAY)
    start = now() + timedelta(hours=1)
    loop = {
        "id": "daily",
        "app": "wallet",
        "broadcasts": [
            {
                "id": "android",
                "TaskName": "Daily",
                "DeliveryType": 1,
                "TemplateName": "daily",
                "ExpiredSeconds": 3600,
                "PushStatus": 0,
                "BindPeriod": 4,
                "StrategyType": 1,
                "StrategyContent": {"fixedTime": int(start.timestamp() * 1000)},
            }
        ],
    }
    sqlite_project.write("daily.yaml", json.dumps(loop))
    second = json.loads(json.dumps(loop))
    second["id"] = "again"
    second["broadcasts"][0]["StrategyContent"]["fixedTime"] = int(
        (start + timedelta(hours=2)).timestamp() * 1000
    )
    sqlite_project.write("again.yaml", json.dumps(second))
    (finding,) = findings(sqlite_project)  # two broadcasts to every Android device
    assert finding["campaign"] == "again"
    assert (
        "(e.g. every Android device of wallet would get its 2nd in the window)"
        in finding["message"]
    )


def test_a_planned_daily_loop_counts_on_every_day_it_runs(sqlite_project: Project) -> None:
    with_policies(sqlite_project, ONE_A_DAY)
    china = timezone(timedelta(hours=8))
    start = (now().astimezone(china) + timedelta(days=1)).replace(hour=0, minute=0, second=0)
    loop = {
        "id": "daily",
        "app": "wallet",
        "broadcasts": [
            {
                "id": "android",
                "TaskName": "Daily",
                "DeliveryType": 1,
                "TemplateName": "daily",
                "ExpiredSeconds": 3600,
                "PushStatus": 0,
                "BindPeriod": 4,
                "StrategyType": 2,
                "StrategyContent": {
                    "startTime": int(start.timestamp() * 1000),
                    "endTime": int((start + timedelta(days=5)).timestamp() * 1000),
                    "circleType": 1,
                    "time": "10:00:00",
                },
            }
        ],
    }
    sqlite_project.write("daily.yaml", json.dumps(loop))
    assert findings(sqlite_project) == []  # once a day
    one_off = json.loads(json.dumps(loop))
    one_off["id"] = "extra"
    one_off["broadcasts"][0]["StrategyType"] = 1
    third_day = start + timedelta(days=2, hours=15)  # 15:00 China time, 5 hours after the loop
    one_off["broadcasts"][0]["StrategyContent"] = {"fixedTime": int(third_day.timestamp() * 1000)}
    sqlite_project.write("extra.yaml", json.dumps(one_off))
    # The one-off is the second within 24 hours of that day's loop, and the next day's loop
    # is the second within 24 hours of the one-off: a rolling window sees both.
    assert sorted((f["campaign"], f["count"]) for f in findings(sqlite_project)) == [
        ("daily", 1),
        ("extra", 1),
    ]
