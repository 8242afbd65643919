"""When a delivery goes out and until when it is delivered, in words a reviewer checks.

Times are shown in UTC and in the campaign's time zone (``time_zone`` in the campaign, else its
app's in ``pushops.yaml``; mPaaS apps default to Beijing time, the zone mPaaS schedules in).
An mPaaS loop is said the way people plan it: "every Mon and Thu at 09:30 Beijing time,
2026-12-02 → 2026-12-30, 9 occurrences".
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import Any

from pushops.timeutil import MPAAS_DAY_ZONE, from_epoch_ms, parse_api_time

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")  # circleValue 1..7
MAX_LOOP_DAYS = 3_700  # counting occurrences stops here (mPaaS allows 180 days)


def zone_name(zone: tzinfo | None) -> str:
    if zone is None or zone is timezone.utc:
        return "UTC"
    if zone is MPAAS_DAY_ZONE:
        return "Beijing time"
    key = getattr(zone, "key", None)
    if key == "Asia/Shanghai":
        return "Beijing time"
    return str(key or zone.tzname(None) or zone)


def utc_text(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def moment_text(moment: datetime, zone: tzinfo | None = None) -> str:
    """``2026-12-02 12:00 UTC (20:00 Beijing time)``; the local date too when it differs."""
    text = utc_text(moment)
    if zone is None or zone is timezone.utc:
        return text
    local = moment.astimezone(zone)
    utc = moment.astimezone(timezone.utc)
    shown = (
        local.strftime("%H:%M") if local.date() == utc.date() else local.strftime("%Y-%m-%d %H:%M")
    )
    return f"{text} ({shown} {zone_name(zone)})"


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds % 86400 == 0 and seconds >= 86400:
        n, unit = seconds // 86400, "day"
    elif seconds % 3600 == 0 and seconds >= 3600:
        n, unit = seconds // 3600, "hour"
    elif seconds % 60 == 0 and seconds >= 60:
        n, unit = seconds // 60, "minute"
    else:
        n, unit = seconds, "second"
    return f"{n} {unit}{'' if n == 1 else 's'}"


def _strategy(request: dict[str, Any]) -> dict[str, Any]:
    content = request.get("StrategyContent")
    if isinstance(content, str):
        try:
            content = json.loads(content)
        except ValueError:
            return {}
    return content if isinstance(content, dict) else {}


def _epoch(value: Any) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return from_epoch_ms(int(value))
    except (OverflowError, OSError, ValueError):
        return None


def _clock(value: Any) -> time | None:
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        return None


def _matches(day: date, circle: int, values: set[int]) -> bool:
    if circle == 1:
        return True
    if circle == 2:
        return day.isoweekday() in values
    return day.day in values


def loop_occurrences(
    start: datetime,
    end: datetime,
    circle: int,
    values: set[int],
    at: time,
    zone: tzinfo = MPAAS_DAY_ZONE,
) -> tuple[int, datetime | None]:
    """How many times an mPaaS loop sends between ``start`` and ``end`` (inclusive), and the
    first time; days counted in ``zone`` (mPaaS's)."""
    count, first = 0, None
    day = start.astimezone(zone).date()
    last = end.astimezone(zone).date()
    for _ in range(MAX_LOOP_DAYS):
        if day > last:
            break
        if _matches(day, circle, values):
            moment = datetime.combine(day, at, zone)
            if start <= moment <= end:
                count += 1
                first = first or moment
        day += timedelta(days=1)
    return count, first


def _days(circle: int, values: list[int]) -> str:
    if circle == 1:
        return "every day"
    if circle == 2:
        names = [WEEKDAYS[v - 1] for v in sorted(set(values)) if 1 <= v <= 7]
        return "every " + _and(names)
    return "on day " + _and([str(v) for v in sorted(set(values))]) + " of every month"


def _and(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def mpaas_schedule(request: dict[str, Any], zone: tzinfo | None = None) -> str:
    """The broadcast's strategy in words (StrategyType 0 immediate, 1 once, 2 a loop)."""
    kind = request.get("StrategyType") or 0
    content = _strategy(request)
    if kind == 1:
        fixed = _epoch(content.get("fixedTime"))
        return f"once, at {moment_text(fixed, zone or MPAAS_DAY_ZONE)}" if fixed else "once"
    if kind != 2:
        return "at apply"
    start, end = _epoch(content.get("startTime")), _epoch(content.get("endTime"))
    circle = content.get("circleType")
    at = _clock(content.get("time"))
    values = content.get("circleValue") or []
    if not (start and end and circle in (1, 2, 3) and at and isinstance(values, list)):
        return "a loop (StrategyContent incomplete)"
    ints = [v for v in values if isinstance(v, int) and not isinstance(v, bool)]
    count, _ = loop_occurrences(start, end, circle, set(ints), at)
    local = MPAAS_DAY_ZONE
    span = (
        f"{start.astimezone(local).strftime('%Y-%m-%d')} → "
        f"{end.astimezone(local).strftime('%Y-%m-%d')}"
    )
    words = f"{_days(circle, ints)} at {at.strftime('%H:%M')} Beijing time, {span}"
    return f"{words}, {count} occurrence{'' if count == 1 else 's'}"


def first_send(request: dict[str, Any], provider: str) -> datetime | None:
    """When the delivery first reaches devices (None: when apply sends it)."""
    if provider == "mpaas":
        kind = request.get("StrategyType") or 0
        content = _strategy(request)
        if kind == 1:
            return _epoch(content.get("fixedTime"))
        if kind == 2:
            start, end = _epoch(content.get("startTime")), _epoch(content.get("endTime"))
            at = _clock(content.get("time"))
            values = content.get("circleValue") or []
            circle = content.get("circleType")
            if start and end and at and circle in (1, 2, 3) and isinstance(values, list):
                ints = {v for v in values if isinstance(v, int)}
                return loop_occurrences(start, end, circle, ints, at)[1]
        return None
    push = request.get("PushTime")
    return parse_api_time(push) if isinstance(push, str) else None


def send_words(request: dict[str, Any], provider: str, zone: tzinfo | None = None) -> str:
    """ "at apply", "at 2026-12-02 12:00 UTC (20:00 Beijing time)", or an mPaaS loop."""
    if provider == "mpaas":
        return mpaas_schedule(request, zone)
    moment = first_send(request, provider)
    return f"at {moment_text(moment, zone)}" if moment else "at apply"


def expiry_words(request: dict[str, Any], provider: str, zone: tzinfo | None = None) -> str:
    """Until when an undelivered push is still delivered, in words ('' when unsaid)."""
    if provider == "mpaas":
        seconds = request.get("ExpiredSeconds")
        if isinstance(seconds, int) and not isinstance(seconds, bool):
            return f"{_duration(seconds)} after each send"
        return ""
    expire = request.get("ExpireTime")
    moment = parse_api_time(expire) if isinstance(expire, str) else None
    if moment is not None:
        return moment_text(moment, zone)
    if request.get("StoreOffline") is True:
        return "72 hours after sending (the EMAS default)"
    return ""
