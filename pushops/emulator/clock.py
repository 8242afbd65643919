"""The emulator's clock: real UTC time, or a time a test has set and moves by hand.

Timestamps, the nonce and idempotency windows and schedules read this clock. Rates (quota)
read the monotonic clock instead: setting the date must not refill or drain a quota.
"""

from __future__ import annotations

import calendar
import time
from datetime import datetime, timedelta, timezone

from pushops.params import is_digits


class Clock:
    def __init__(self, now: datetime | None = None) -> None:
        self._offset = 0.0  # seconds added to the real time
        if now is not None:
            self.set_now(now)

    def time(self) -> float:
        """Seconds since the epoch, as the emulator sees it."""
        return time.time() + self._offset

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.time(), timezone.utc)

    def set_now(self, now: datetime) -> None:
        if now.tzinfo is None:
            raise ValueError("the emulator clock needs a timezone-aware datetime")
        # An offset rather than a frozen value: time keeps running from the point a test set,
        # so latency, windows and schedules behave as they would after a real wait.
        self._offset = now.timestamp() - time.time()

    def advance(self, seconds: float) -> None:
        self._offset += seconds

    def reset(self) -> None:
        self._offset = 0.0


def iso_utc(ts: float) -> str:
    """``YYYY-MM-DDThh:mm:ssZ``, the format both APIs use."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def parse_iso_utc(text: str) -> float | None:
    """Epoch seconds of ``YYYY-MM-DDThh:mm:ssZ``; None when the text is not exactly that."""
    # By hand rather than strptime (~10x slower): every signed call has a timestamp.
    if (
        len(text) != 20
        or text[4] != "-"
        or text[7] != "-"
        or text[10] != "T"
        or text[13] != ":"
        or text[16] != ":"
        or text[19] != "Z"
    ):
        return None
    digits = (text[0:4], text[5:7], text[8:10], text[11:13], text[14:16], text[17:19])
    if not all(is_digits(d) for d in digits):
        return None
    year, month, day, hour, minute, second = (int(d) for d in digits)
    try:
        datetime(year, month, day, hour, minute, second)  # rejects Feb 30, hour 25 ...
    except ValueError:
        return None
    return float(calendar.timegm((year, month, day, hour, minute, second)))


BEIJING = timezone(timedelta(hours=8))
