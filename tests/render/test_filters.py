"""Each filter, through the real environment (so they are registered) and directly."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from pushops.render.filters import (
    FilterError,
    add_days,
    add_hours,
    add_minutes,
    api_time,
    epoch_ms,
    from_zone,
    start_of_day,
    to_json,
    truncate_bytes,
)
from pushops.render.sandbox import Sandbox

NOW = datetime(2026, 11, 22, 9, 30, 15, tzinfo=timezone.utc)


def render(source: str, **context: object) -> str:
    sandbox = Sandbox()
    return sandbox.evaluate(sandbox.from_string(source), {**sandbox.globals, "now": NOW, **context})


def test_api_time_formats_a_datetime_as_utc_with_z() -> None:
    assert render("{{ now | api_time }}") == "2026-11-22T09:30:15Z"


def test_api_time_converts_an_offset_time_to_utc() -> None:
    assert api_time("2026-11-22T17:30:00+08:00") == "2026-11-22T09:30:00Z"


def test_api_time_reads_a_naive_time_as_utc() -> None:
    assert api_time(datetime(2026, 1, 2, 3, 4, 5)) == "2026-01-02T03:04:05Z"


def test_api_time_refuses_text_that_is_not_a_time() -> None:
    with pytest.raises(FilterError, match="not a time"):
        api_time("next tuesday")


def test_add_hours_moves_a_datetime_and_keeps_it_a_datetime() -> None:
    assert render("{{ now | add_hours(24) | api_time }}") == "2026-11-23T09:30:15Z"
    assert isinstance(add_hours(NOW, 1), datetime)


def test_add_hours_on_an_api_string_returns_an_api_string() -> None:
    assert add_hours("2026-11-22T09:00:00Z", -2) == "2026-11-22T07:00:00Z"


def test_add_minutes_moves_by_minutes() -> None:
    assert add_minutes("2026-11-22T09:00:00Z", 90) == "2026-11-22T10:30:00Z"


def test_add_days_moves_by_whole_days() -> None:
    assert render("{{ now | add_days(7) | api_time }}") == "2026-11-29T09:30:15Z"
    assert add_days("2026-02-28T00:00:00Z", 1) == "2026-03-01T00:00:00Z"


def test_time_arithmetic_refuses_a_non_number_and_absurd_shifts() -> None:
    with pytest.raises(FilterError):
        add_hours(NOW, "3")
    with pytest.raises(FilterError, match="more than a year"):
        add_days(NOW, 10**9)


def test_from_zone_reads_a_wall_clock_time_in_a_named_zone() -> None:
    assert render('{{ "2026-11-22 09:30" | from_zone("Asia/Shanghai") }}') == "2026-11-22T01:30:00Z"


def test_from_zone_applies_daylight_saving_time() -> None:
    assert from_zone("2026-07-01T12:00:00", "Europe/Berlin") == "2026-07-01T10:00:00Z"
    assert from_zone("2026-01-01T12:00:00", "Europe/Berlin") == "2026-01-01T11:00:00Z"


def test_from_zone_accepts_fixed_offsets_and_refuses_unknown_zones() -> None:
    assert from_zone("2026-11-22T09:00:00", "UTC+8") == "2026-11-22T01:00:00Z"
    with pytest.raises(FilterError, match="unknown time zone"):
        from_zone("2026-11-22T09:00:00", "Mars/Olympus")


def test_start_of_day_is_midnight_utc_plus_8_by_default() -> None:
    # 09:30 UTC is 17:30 in Beijing, whose day began at 16:00 UTC the day before.
    assert render("{{ now | start_of_day | api_time }}") == "2026-11-21T16:00:00Z"


def test_start_of_day_takes_another_zone() -> None:
    assert start_of_day("2026-11-22T09:30:00Z", "UTC") == "2026-11-22T00:00:00Z"


def test_start_of_day_just_after_midnight_in_beijing_is_that_day() -> None:
    # 16:30 UTC is 00:30 the next day in UTC+8.
    assert start_of_day("2026-11-22T16:30:00Z") == "2026-11-22T16:00:00Z"


def test_epoch_ms_counts_milliseconds_since_1970_utc() -> None:
    assert epoch_ms("1970-01-01T00:00:01Z") == 1000
    assert render("{{ now | start_of_day | epoch_ms }}") == "1795276800000"


def test_truncate_bytes_leaves_text_that_fits_alone() -> None:
    assert truncate_bytes("hello", 5) == "hello"


def test_truncate_bytes_never_cuts_a_utf8_character() -> None:
    text = "双十一大促销"  # 3 bytes per character
    for limit in range(0, 19):
        out = truncate_bytes(text, limit, end="")
        assert len(out.encode()) <= limit
        assert text.startswith(out)
        assert len(out) == limit // 3


def test_truncate_bytes_counts_the_ending_in_the_limit() -> None:
    out = render('{{ "双十一大促销" | truncate_bytes(10) }}')
    assert out == "双十…" and len(out.encode()) == 9


def test_truncate_bytes_refuses_a_negative_limit() -> None:
    with pytest.raises(FilterError):
        truncate_bytes("x", -1)


def test_json_is_compact_and_keeps_non_ascii() -> None:
    assert render('{{ {"a": 1, "b": ["é", "<&>"]} | json }}') == '{"a":1,"b":["é","<&>"]}'


def test_json_writes_datetimes_in_the_api_format() -> None:
    assert to_json({"at": NOW}) == '{"at":"2026-11-22T09:30:15Z"}'


# --- local times daylight saving skips or repeats (issue 12.26) ----------------------------
# One rule for every filter (pushops.timeutil.local_to_utc, RFC 5545's), tested here for the
# filters that read a local time besides next_local (tests/render/test_next_local.py).


def test_from_zone_reads_a_time_the_clocks_skip_with_the_offset_before_the_jump() -> None:
    # New York, 8 March 2026: 02:00 EST jumps to 03:00 EDT; 02:30 is read as 02:30 EST.
    assert from_zone("2026-03-08 02:30", "America/New_York") == "2026-03-08T07:30:00Z"


def test_from_zone_reads_a_time_the_clocks_show_twice_as_the_first() -> None:
    # New York, 1 November 2026: 01:30 happens at 05:30 UTC and again at 06:30 UTC.
    assert from_zone("2026-11-01 01:30", "America/New_York") == "2026-11-01T05:30:00Z"


def test_from_zone_with_an_offset_picks_either_instant() -> None:
    assert from_zone("2026-11-01T01:30:00-04:00", "America/New_York") == "2026-11-01T05:30:00Z"
    assert from_zone("2026-11-01T01:30:00-05:00", "America/New_York") == "2026-11-01T06:30:00Z"


def test_from_zone_takes_the_times_just_around_a_gap_as_they_are() -> None:
    assert from_zone("2026-03-08 01:59", "America/New_York") == "2026-03-08T06:59:00Z"
    assert from_zone("2026-03-08 03:00", "America/New_York") == "2026-03-08T07:00:00Z"


def test_from_zone_and_next_local_agree_on_a_skipped_time() -> None:
    from zoneinfo import ZoneInfo

    from pushops.timeutil import local_to_utc

    wall = datetime(2026, 3, 8, 2, 30)
    expected = local_to_utc(wall, ZoneInfo("America/New_York"))
    assert from_zone(wall.isoformat(), "America/New_York") == expected.strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )


def test_start_of_day_on_a_day_whose_midnight_is_skipped_is_when_the_clocks_jump() -> None:
    # Santiago, 6 September 2026: 00:00 (UTC-4) jumps to 01:00 (UTC-3); the day starts then.
    assert start_of_day("2026-09-06T15:00:00Z", "America/Santiago") == "2026-09-06T04:00:00Z"


def test_adding_hours_across_a_daylight_saving_change_adds_elapsed_hours() -> None:
    eve = from_zone("2026-03-07 12:00", "America/New_York")
    assert add_hours(eve, 24) == "2026-03-08T17:00:00Z"  # 13:00 EDT: 24 h later, not 12:00
