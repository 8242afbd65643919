"""``next_local``: deliver at the recipient's local time, and the one DST rule it follows."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from pushops.render.filters import FilterError
from pushops.render.sandbox import Sandbox
from pushops.timeutil import EXISTS, REPEATED, SKIPPED, local_time_kind, local_to_utc
from tests.render.conftest import PushRepo, emas

NEW_YORK = ZoneInfo("America/New_York")


def render(source: str, now: datetime, **context: object) -> str:
    sandbox = Sandbox()
    return sandbox.evaluate(sandbox.from_string(source), {**sandbox.globals, "now": now, **context})


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_next_local_is_today_when_the_local_time_is_still_ahead() -> None:
    # 09:00 UTC is 17:00 in Shanghai: 18:00 there is an hour away.
    assert (
        render("{{ '18:00' | next_local('Asia/Shanghai') }}", at("2026-11-22T09:00:00Z"))
        == "2026-11-22T10:00:00Z"
    )


def test_next_local_is_tomorrow_when_the_local_time_has_passed() -> None:
    # 18:00 in Tokyo: 09:00 there is tomorrow, 00:00 UTC.
    assert (
        render("{{ '09:00' | next_local('Asia/Tokyo') }}", at("2026-11-22T09:00:00Z"))
        == "2026-11-23T00:00:00Z"
    )


def test_next_local_at_exactly_now_is_the_next_day_never_a_past_push() -> None:
    assert (
        render("{{ '09:00' | next_local('UTC') }}", at("2026-11-22T09:00:00Z"))
        == "2026-11-23T09:00:00Z"
    )


def test_next_local_takes_seconds_and_a_fixed_offset() -> None:
    assert (
        render("{{ '07:30:15' | next_local('UTC+8') }}", at("2026-11-22T09:00:00Z"))
        == "2026-11-22T23:30:15Z"
    )


def test_a_skipped_local_time_is_read_with_the_offset_before_the_jump() -> None:
    # 2026-03-08: New York's clocks jump from 02:00 EST to 03:00 EDT; 02:30 does not exist.
    assert local_time_kind(datetime(2026, 3, 8, 2, 30), NEW_YORK) == SKIPPED
    text = render("{{ '02:30' | next_local('America/New_York') }}", at("2026-03-08T05:00:00Z"))
    assert text == "2026-03-08T07:30:00Z"  # 02:30 EST, which the clocks show as 03:30 EDT
    assert at(text).astimezone(NEW_YORK).strftime("%H:%M %Z") == "03:30 EDT"


def test_a_repeated_local_time_is_the_first_of_the_two() -> None:
    # 2026-11-01: New York's clocks go back from 02:00 EDT to 01:00 EST; 01:30 happens twice.
    assert local_time_kind(datetime(2026, 11, 1, 1, 30), NEW_YORK) == REPEATED
    text = render("{{ '01:30' | next_local('America/New_York') }}", at("2026-11-01T04:00:00Z"))
    assert text == "2026-11-01T05:30:00Z"  # 01:30 EDT, an hour before 01:30 EST
    assert at(text).astimezone(NEW_YORK).strftime("%H:%M %Z") == "01:30 EDT"


def test_the_rule_is_one_function_for_every_local_time() -> None:
    assert local_time_kind(datetime(2026, 6, 1, 9, 0), NEW_YORK) == EXISTS
    assert local_to_utc(datetime(2026, 6, 1, 9, 0), NEW_YORK) == at("2026-06-01T13:00:00Z")
    assert local_to_utc(datetime(2026, 3, 8, 2, 30), NEW_YORK) == at("2026-03-08T07:30:00Z")
    assert local_to_utc(datetime(2026, 11, 1, 1, 30), NEW_YORK) == at("2026-11-01T05:30:00Z")


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("{{ '25:00' | next_local('UTC') }}", "not a wall-clock time"),
        ("{{ 'nine' | next_local('UTC') }}", "not a wall-clock time"),
        ("{{ '09:00' | next_local('Mars/Olympus') }}", "unknown time zone"),
        ("{{ '09:00' | next_local('') }}", "unknown time zone"),
        ("{{ '09:00' | next_local(8) }}", "takes a time zone name"),
        ("{{ 9 | next_local('UTC') }}", "takes a wall-clock time"),
    ],
)
def test_bad_input_is_a_clear_filter_error(source: str, problem: str) -> None:
    with pytest.raises(FilterError, match=problem):
        render(source, at("2026-11-22T09:00:00Z"))


CSV = """\
device_id,tz
d1,Asia/Tokyo
d2,Europe/Berlin
d3,Asia/Tokyo
d4,Asia/Tokyo
d5,Europe/Berlin
"""


def personal_time_campaign(repo: PushRepo) -> None:
    repo.write("data/people.csv", CSV)
    repo.campaign(
        "morning",
        emas(
            fan_out={"data": "data/people.csv", "key": "{{ row.device_id }}"},
            TargetValue="{{ row.device_id }}",
            PushTime="{{ '09:00' | next_local(row.tz) }}",
        ),
    )


def test_each_row_gets_the_push_time_of_its_zone_and_same_times_still_merge(
    repo: PushRepo,
) -> None:
    personal_time_campaign(repo)
    (campaign,) = repo.render_json()["campaigns"]
    tasks = {
        call["form"][f"PushTask.{n}.PushTime"]: call["form"][f"PushTask.{n}.TargetValue"]
        for call in campaign["calls"]
        for n in range(1, 101)
        if f"PushTask.{n}.PushTime" in call["form"]
    }
    # Tokyo's 09:00 is 00:00 UTC, Berlin's is 08:00 UTC (winter time): two PushTasks.
    assert tasks == {"2026-11-23T00:00:00Z": "d1,d3,d4", "2026-11-23T08:00:00Z": "d2,d5"}


def test_a_bad_zone_in_a_row_is_located_at_the_template_with_the_row(repo: PushRepo) -> None:
    personal_time_campaign(repo)
    repo.write("data/people.csv", CSV + "d6,Atlantis/Capital\n")
    errors = repo.validate_errors()
    (error,) = [e for e in errors if e["rule"] == "template.filter"]
    assert error["file"] == "campaigns/morning.yaml"
    assert "PushTime" in error["path"]
    assert "unknown time zone 'Atlantis/Capital'" in error["message"]
    assert "data/people.csv:7" in error["message"]
