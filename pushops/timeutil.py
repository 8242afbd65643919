"""The API's time formats, parsed strictly."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

API_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
# mPaaS does not say which zone "today" is in; its service runs in China, so we assume Beijing
# time (UTC+8). A fixed offset: China has no daylight saving time.
MPAAS_DAY_ZONE = timezone(timedelta(hours=8), "UTC+8")


_API_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def parse_api_time(value: str) -> datetime | None:
    """``YYYY-MM-DDThh:mm:ssZ`` -> an aware UTC datetime, or None if it is not that format."""
    # A regex and fromisoformat: strptime was a tenth of validate's time on big campaigns.
    if not isinstance(value, str) or not _API_TIME.match(value):
        return None
    try:
        return datetime.fromisoformat(value[:-1]).replace(tzinfo=timezone.utc)
    except ValueError:
        return None


def format_api_time(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime(API_FORMAT)


def from_epoch_ms(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, tz=timezone.utc)


def start_of_day(moment: datetime, zone: timezone = MPAAS_DAY_ZONE) -> datetime:
    local = moment.astimezone(zone)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)
