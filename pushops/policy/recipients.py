"""What the policies read of one delivery: who gets it, when it lands, in which zone, and
whether it is marketing or service.

The same reading serves the deliveries a plan sends and the ones the ledger already holds,
so a frequency cap counts both the same way:

- **targets**: EMAS ``Target`` (``DEVICE``, ``ACCOUNT``, ``ALIAS``) and each comma-separated
  ``TargetValue``, scoped by app (a device id means nothing in another app). An mPaaS
  broadcast reaches every device of its platform (``DeliveryType``): one target per app and
  platform stands for all of them.
- **when**: ``PushTime`` / the mPaaS fixed time, else the moment of the plan (an immediate
  send); an mPaaS loop lands once per occurrence (:func:`occurrences`).
- **category**: what the campaign declares; else what the vendor category fields say
  (:func:`~pushops.policy.vendors.inferred_category`); else marketing, as the vendors treat
  unclassified messages.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

from pushops.loops import strategy_content
from pushops.policy.model import MARKETING
from pushops.policy.vendors import inferred_category
from pushops.timeutil import MPAAS_DAY_ZONE, from_epoch_ms

DEVICE, ACCOUNT, ALIAS, BROADCAST = "DEVICE", "ACCOUNT", "ALIAS", "BROADCAST"
PER_NAMES = {"device": DEVICE, "account": ACCOUNT, "alias": ALIAS}
MAX_OCCURRENCES = 400  # of one loop in one window: a daily loop over a year and a bit


def targets(provider: str, app: str, params: dict[str, Any]) -> list[tuple[str, str]]:
    """(kind, value) of every recipient; a broadcast is one (``BROADCAST``, platform)."""
    if provider == "mpaas":
        return [(BROADCAST, f"{app}/{params.get('DeliveryType')}")]
    kind = params.get("Target")
    value = params.get("TargetValue")
    if not isinstance(kind, str) or not isinstance(value, str) or not value:
        return []
    return [(kind, f"{app}/{v.strip()}") for v in value.split(",") if v.strip()]


def recipient_count(provider: str, params: dict[str, Any]) -> int | None:
    """How many recipients a delivery names; None for a broadcast to every device."""
    if provider == "mpaas":
        return None
    value = params.get("TargetValue")
    return value.count(",") + 1 if isinstance(value, str) and value else 0


def platform(provider: str, params: dict[str, Any]) -> str:
    """``android``, ``ios``, ``harmony`` or ``all`` (an EMAS ``DeviceType: ALL``)."""
    if provider == "mpaas":
        return {1: "android", 2: "ios", 7: "harmony"}.get(params.get("DeliveryType"), "android")
    kind = params.get("DeviceType")
    return {"ANDROID": "android", "iOS": "ios", "HARMONY": "harmony"}.get(kind, "all")


def category_of(declared: str | None, provider: str, params: dict[str, Any]) -> str:
    """The campaign's declared category, else the vendor fields', else marketing."""
    return declared or inferred_category(provider, params) or MARKETING


def occurrences(
    provider: str, params: dict[str, Any], due: datetime | None, start: datetime, end: datetime
) -> Iterator[datetime]:
    """When a delivery lands between ``start`` and ``end``: its due time, or for an mPaaS loop
    (StrategyType 2) each occurrence (daily, or on the listed days of the week or month, at
    ``time`` in UTC+8, from ``startTime`` to ``endTime``)."""
    if provider != "mpaas" or params.get("StrategyType") != 2:
        if due is not None and start <= due <= end:
            yield due
        return
    content = strategy_content(params) or {}
    first, last = content.get("startTime"), content.get("endTime")
    if not isinstance(first, int) or not isinstance(last, int):
        if due is not None and start <= due <= end:
            yield due
        return
    try:
        hours, minutes, seconds = (int(p) for p in str(content.get("time", "0:0:0")).split(":"))
        begin = from_epoch_ms(first).astimezone(MPAAS_DAY_ZONE)
        stop = min(from_epoch_ms(last), end)
    except (ValueError, OverflowError, OSError):
        return
    circle = content.get("circleType", 1)
    days = set(content.get("circleValue") or [])
    day = max(begin.date(), (start - timedelta(days=1)).astimezone(MPAAS_DAY_ZONE).date())
    for _ in range(MAX_OCCURRENCES):
        moment = datetime(
            day.year, day.month, day.day, hours, minutes, seconds, tzinfo=MPAAS_DAY_ZONE
        ).astimezone(timezone.utc)
        if moment > stop:
            return
        wanted = (
            circle == 1
            or (circle == 2 and day.isoweekday() in days)
            or (circle == 3 and day.day in days)
        )
        if wanted and moment >= start and moment >= from_epoch_ms(first):
            yield moment
        day += timedelta(days=1)
