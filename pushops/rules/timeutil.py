"""The API's time formats, parsed strictly."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

API_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
# mPaaS does not say which zone "today" is in; its service runs in China, so we assume Beijing
# time (UTC+8). A fixed offset: China has no daylight saving time.
MPAAS_DAY_ZONE = timezone(timedelta(hours=8), "UTC+8")


def parse_api_time(value: str) -> datetime | None:
    """``YYYY-MM-DDThh:mm:ssZ`` -> an aware UTC datetime, or None if it is not that format."""
    try:
        return datetime.strptime(value, API_FORMAT).replace(tzinfo=timezone.utc)
    except (TypeError, ValueError):
        return None


def format_api_time(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime(API_FORMAT)


def from_epoch_ms(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, tz=timezone.utc)


def start_of_day(moment: datetime, zone: timezone = MPAAS_DAY_ZONE) -> datetime:
    local = moment.astimezone(zone)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)
