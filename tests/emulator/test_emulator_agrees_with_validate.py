"""validate and the emulator read the same limits from the tables, and agree at their edges:
what validate passes the emulator takes, what it refuses the emulator refuses."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from emulator_helpers import Caller, broadcast, error_code, task

from pushops.check.rules import check_message
from pushops.tables import load_table
from pushops.timeutil import start_of_day

DAY_MS = 86_400_000


def _errors(provider: str, params: dict[str, Any], now: datetime) -> list[str]:
    return [f.rule for f in check_message(provider, params, now) if f.severity == "error"]


def _loop(end_ms: int, today_ms: int) -> dict[str, Any]:
    return {"startTime": today_ms, "endTime": end_ms, "circleType": 1, "time": "09:00:00"}


@pytest.mark.parametrize(
    ("offset_ms", "accepted"),
    [(12 * 3600_000, True), (DAY_MS - 1, True), (DAY_MS + 1, False)],
    ids=["end-day-noon", "end-day-last-ms", "next-day"],
)
def test_a_loops_last_day_is_judged_alike(call: Caller, offset_ms: int, accepted: bool) -> None:
    now = datetime.now(timezone.utc)
    today_ms = int(start_of_day(now).timestamp() * 1000)
    days = load_table("mpaas").limits["loop_days"]
    content = _loop(today_ms + days * DAY_MS + offset_ms, today_ms)
    typed = {"StrategyType": 2, "StrategyContent": content}
    assert (_errors("mpaas", typed, now) == []) is accepted
    form = broadcast(StrategyType="2", StrategyContent=json.dumps(content))
    answer = call.mpaas("PushBroadcast", form).json()
    assert (answer["ResultCode"] == "100") is accepted, answer


@pytest.mark.parametrize(("hours", "accepted"), [(-1, True), (1, False)], ids=["in", "out"])
def test_push_time_days_ahead_is_judged_alike(call: Caller, hours: int, accepted: bool) -> None:
    now = datetime.now(timezone.utc)
    days = load_table("emas").limits["push_ahead_days"]
    when = (now + timedelta(days=days, hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert ("emas.push-within-7-days" not in _errors("emas", {"PushTime": when}, now)) is accepted
    r = call.mass_push([task(PushTime=when)])
    assert (r.status_code == 200) is accepted
    if not accepted:
        assert error_code(r) == "InvalidPushTime.Format"
