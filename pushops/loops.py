"""mPaaS loop broadcasts (``StrategyType: 2``): when each occurrence goes out.

A loop goes out at ``time`` (a time of day) on every day from ``startTime``'s day to
``endTime``'s day that ``circleType`` picks: every day (1), the ISO days of the week in
``circleValue`` (2; 1 is Monday), or the days of the month in ``circleValue`` (3). Days and
times are read in UTC+8, the service's home zone (api-facts §1.3, §4.1: the zone is our
reading). Plan reads this to know whether a loop applied earlier still has occurrences to come
(cancel it while they do) and when the next one is (the safety margin counts from it).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from pushops.timeutil import MPAAS_DAY_ZONE, from_epoch_ms

LOOP = 2  # StrategyType of a loop
DAILY, WEEKLY, MONTHLY = 1, 2, 3
MAX_DAYS = 400  # a loop spans at most 180 days; never walk further than this


@dataclass(frozen=True)
class Loop:
    start: datetime
    end: datetime
    circle_type: int
    days: frozenset[int]
    at: time

    def _on(self, day: datetime) -> bool:
        if self.circle_type == WEEKLY:
            return day.isoweekday() in self.days
        if self.circle_type == MONTHLY:
            return day.day in self.days
        return True

    def next_after(self, moment: datetime) -> datetime | None:
        """The first occurrence later than ``moment``, or None when none is left."""
        local = max(moment, self.start).astimezone(MPAAS_DAY_ZONE)
        day = local.replace(hour=0, minute=0, second=0, microsecond=0)
        for _ in range(MAX_DAYS):
            at = day.replace(hour=self.at.hour, minute=self.at.minute, second=self.at.second)
            if at > self.end:
                return None
            if at > moment and at >= self.start and self._on(day):
                return at
            day = (day + timedelta(days=1)).replace(hour=0)
        return None


def strategy_content(params: Mapping[str, Any]) -> dict[str, Any] | None:
    """The mPaaS ``StrategyContent`` as a map (written as one, or as its JSON text); None
    when it is neither."""
    content = params.get("StrategyContent")
    if isinstance(content, str):
        try:
            content = json.loads(content)
        except ValueError:
            return None
    return content if isinstance(content, dict) else None


def loop_of(params: Mapping[str, Any]) -> Loop | None:
    """The loop a broadcast's typed parameters describe, or None (not a loop, or malformed:
    then validate has said why)."""
    if params.get("StrategyType") not in (LOOP, str(LOOP)):
        return None
    content = strategy_content(params)
    if content is None:
        return None
    start, end = content.get("startTime"), content.get("endTime")
    kind, values, clock = content.get("circleType"), content.get("circleValue"), content.get("time")
    if not (isinstance(start, int) and isinstance(end, int) and kind in (DAILY, WEEKLY, MONTHLY)):
        return None
    try:
        at = time.fromisoformat(str(clock))
        first, last = from_epoch_ms(start), from_epoch_ms(end)
    except (ValueError, OverflowError, OSError):
        return None
    days = frozenset(v for v in values or () if isinstance(v, int))
    return Loop(first, last, kind, days, at)


def loop_end(params: Mapping[str, Any]) -> datetime | None:
    """``endTime`` of a loop broadcast: it stays live until then. None for anything else."""
    if params.get("StrategyType") not in (LOOP, str(LOOP)):
        return None
    content = strategy_content(params)
    end = content.get("endTime") if content is not None else None
    if not isinstance(end, int):
        return None
    try:
        return from_epoch_ms(end)
    except (ValueError, OverflowError, OSError):
        return None
