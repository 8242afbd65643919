"""The Jinja filters a push author needs: the API's time format and arithmetic on it, epoch
milliseconds, a byte-safe truncate, and JSON for fields that travel as JSON strings.

Time filters take an aware ``datetime`` (``now``), a naive one (read as UTC), or a string (the
API's ``YYYY-MM-DDThh:mm:ssZ`` or any ISO 8601 time). They return the kind they were given: a
``datetime`` stays a ``datetime``, a string comes back as an API-format string, so
``{{ "2026-11-22T09:00:00Z" | add_hours(2) }}`` is already wire-ready.
"""

from __future__ import annotations

import json as _json
import re
from collections.abc import Callable
from datetime import datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context

from pushops.timeutil import API_FORMAT, MPAAS_DAY_ZONE, local_to_utc, parse_zone

_WALL = re.compile(r"^\s*([01]?[0-9]|2[0-3]):([0-5][0-9])(?::([0-5][0-9]))?\s*$")
# Arithmetic far outside any push's life is a mistake, and huge values would overflow datetime.
_MAX_SHIFT = 366 * 24


class FilterError(ValueError):
    """A filter was given a value it cannot work with; shown to the author as is."""


def zone(name: str) -> tzinfo:
    """A time zone by IANA name (``Asia/Shanghai``), ``UTC``, or a fixed offset (``UTC+8``,
    ``+05:30``)."""
    if not isinstance(name, str):
        raise FilterError(f"a time zone is a name such as 'Asia/Shanghai', not {_shown(name)}")
    try:
        return parse_zone(name)
    except ValueError as exc:
        raise FilterError(str(exc)) from None


def _shown(value: Any) -> str:
    """A value in a message: data as written, anything else by its type name (its repr would
    show Python internals and a memory address)."""
    if value is None or isinstance(value, (str, int, float)):
        text = repr(value)
        return text if len(text) <= 80 else text[:79] + "…"
    return type(value).__name__


def _to_datetime(value: Any, *, naive_zone: tzinfo = timezone.utc) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        text = value.strip()
        try:
            moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
        except ValueError:
            raise FilterError(
                f"{_shown(value)} is not a time (expected e.g. 2026-11-22T09:00:00Z)"
            ) from None
    else:
        raise FilterError(f"expected a time, got {type(value).__name__} {_shown(value)}")
    if moment.tzinfo:
        return moment
    # A local time by the one rule for times daylight saving skips or repeats.
    return local_to_utc(moment, naive_zone)


def _same_kind(original: Any, moment: datetime) -> datetime | str:
    return format_api(moment) if isinstance(original, str) else moment


def format_api(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime(API_FORMAT)


def api_time(value: Any) -> str:
    """``{{ now | api_time }}``: the API's UTC time format, ``YYYY-MM-DDThh:mm:ssZ``.

    A naive time is read as UTC; use ``from_zone`` first for a local time.
    """
    return format_api(_to_datetime(value))


def _shift(value: Any, amount: Any, unit: str) -> datetime | str:
    if isinstance(amount, bool) or not isinstance(amount, (int, float)):
        raise FilterError(f"add_{unit} takes a number, got {_shown(amount)}")
    hours = amount * {"hours": 1, "minutes": 1 / 60, "days": 24}[unit]
    if abs(hours) > _MAX_SHIFT:
        raise FilterError(f"add_{unit}({amount}) moves more than a year")
    delta = timedelta(**{unit: amount})
    # In UTC: hours are elapsed time, never a wall clock that daylight saving moves.
    return _same_kind(value, _to_datetime(value).astimezone(timezone.utc) + delta)


def add_hours(value: Any, hours: float) -> datetime | str:
    """``{{ now | add_hours(24) | api_time }}``: the time ``hours`` later (negative: earlier)."""
    return _shift(value, hours, "hours")


def add_minutes(value: Any, minutes: float) -> datetime | str:
    """``{{ now | add_minutes(30) }}``: the time ``minutes`` later (negative: earlier)."""
    return _shift(value, minutes, "minutes")


def add_days(value: Any, days: float) -> datetime | str:
    """``{{ now | add_days(7) }}``: the time ``days`` later; a day is 24 hours."""
    return _shift(value, days, "days")


def from_zone(value: Any, name: str) -> datetime | str:
    """``{{ "2026-11-22 09:30" | from_zone("Asia/Shanghai") | api_time }}``: a wall-clock time
    in the named zone, as UTC. A time that already carries an offset is only converted.

    A time the zone's clocks skip or show twice follows the one rule of
    :func:`pushops.timeutil.local_to_utc`: a skipped time is read with the offset before the
    jump (02:30 becomes 03:30), a repeated one is the first of the two; write the offset
    (``2026-11-01T01:30:00-05:00``) for the other."""
    return _same_kind(value, _to_datetime(value, naive_zone=zone(name)).astimezone(timezone.utc))


def start_of_day(value: Any, name: str | None = None) -> datetime | str:
    """``{{ now | start_of_day }}``: 00:00 of that day in UTC+8 (the zone mPaaS days use), or
    in the zone named (``start_of_day("UTC")``).

    Midnight by the one rule of :func:`pushops.timeutil.local_to_utc`: on a day whose midnight
    the clocks skip (daylight saving time starting at 00:00) that is the moment they jump,
    01:00, the first instant of the day; where midnight happens twice, the first one."""
    tz = zone(name) if name else MPAAS_DAY_ZONE
    local = _to_datetime(value).astimezone(tz)
    midnight = local_to_utc(datetime(local.year, local.month, local.day), tz)
    return _same_kind(value, midnight)


@pass_context
def next_local(context: Context, value: Any, name: Any) -> str:
    """``{{ '09:00' | next_local(row.tz) }}``: the next time the clock shows 09:00 in the
    recipient's zone, after ``now``, as the API's UTC time text (ready for ``PushTime``).

    A time the clock skips that day (a jump forward) or shows twice (a jump back) follows
    the one rule of :func:`pushops.timeutil.local_to_utc`: a skipped time is read with the
    offset before the jump (02:30 becomes 03:30), a repeated one is the first of the two.
    Recipients with the same zone get the same text, so their rows still share a PushTask.
    """
    now = context.get("now")
    if not isinstance(now, datetime):
        raise FilterError("next_local needs `now` (the plan's clock) in the template context")
    if not isinstance(value, str):
        raise FilterError(
            f"next_local takes a wall-clock time such as '09:00', got {_shown(value)}"
        )
    if not isinstance(name, str):
        raise FilterError(f"next_local takes a time zone name, got {_shown(name)}")
    return _next_local(value, name, now)


@lru_cache(maxsize=4096)
def _next_local(value: str, name: str, now: datetime) -> str:
    match = _WALL.match(value)
    if match is None:
        raise FilterError(f"{value!r} is not a wall-clock time (expected e.g. 09:00 or 09:00:00)")
    hours, minutes, seconds = (int(part or 0) for part in match.groups())
    tz = zone(name.strip())
    today = now.astimezone(tz).date()
    for days in (0, 1, 2):  # a day with a skipped hour still has a next occurrence
        day = today + timedelta(days=days)
        wall = datetime(day.year, day.month, day.day, hours, minutes, seconds)
        moment = local_to_utc(wall, tz)
        if moment > now:
            return format_api(moment)
    raise FilterError(f"no next {value} in {name!r} after {format_api(now)}")  # unreachable


def epoch_ms(value: Any) -> int:
    """``{{ now | epoch_ms }}``: milliseconds since 1970-01-01 UTC (mPaaS StrategyContent)."""
    moment = _to_datetime(value)
    return int(moment.timestamp()) * 1000 + moment.microsecond // 1000


def truncate_bytes(value: Any, limit: int, end: str = "…") -> str:
    """``{{ title | truncate_bytes(200) }}``: at most ``limit`` UTF-8 bytes, ``end`` included,
    never cutting a character in two. Text that fits is returned unchanged."""
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise FilterError(f"truncate_bytes takes a byte count, got {_shown(limit)}")
    text = str(value)
    raw = text.encode("utf-8")
    if len(raw) <= limit:
        return text
    tail = str(end).encode("utf-8")
    if len(tail) > limit:
        tail = b""
    # errors="ignore" drops the partial character a byte cut leaves at the end.
    return raw[: limit - len(tail)].decode("utf-8", errors="ignore") + tail.decode("utf-8")


def to_json(value: Any) -> str:
    """``{{ payload | json }}``: compact JSON (no spaces, non-ASCII kept), as the wire wants.

    Jinja's own ``tojson`` escapes ``<``, ``>``, ``&`` and ``'`` for HTML; use this one for push
    fields."""
    try:
        return _json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_default)
    except ValueError as exc:  # circular data
        raise FilterError(f"cannot encode as JSON: {exc}") from None


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_api(value)
    raise FilterError(f"cannot encode {type(value).__name__} as JSON")


FILTERS: dict[str, Callable[..., Any]] = {
    "api_time": api_time,
    "add_hours": add_hours,
    "add_minutes": add_minutes,
    "add_days": add_days,
    "from_zone": from_zone,
    "start_of_day": start_of_day,
    "next_local": next_local,
    "epoch_ms": epoch_ms,
    "truncate_bytes": truncate_bytes,
    "json": to_json,
}
