"""What ``pushops report`` shows: per environment, campaign and message, the provider's counts.

Plain data between collecting (:mod:`pushops.report.collect`) and showing
(:mod:`pushops.report.views`). Counts keep the provider's own names (the official models'),
and :meth:`Message.summary` lines both providers up in five columns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

FORMAT_VERSION = 1
# How long after sending a message's statistics may still grow: the providers' statistics
# arrive late (receipts, opens). Our reading ("up to a day"), the emulator's too; a message
# read at least this long after it went out is final and never read again.
WINDOW = timedelta(hours=24)
SUMMARY = ("accepted", "sent", "received", "opened", "deleted")
# Which of the provider's counts fills each summary column (None: it has no such count).
_NAMES: dict[str, dict[str, str | None]] = {
    "emas": {
        "accepted": "AcceptCount",
        "sent": "SentCount",
        "received": "ReceivedCount",
        "opened": "OpenedCount",
        "deleted": "DeletedCount",
    },
    "mpaas": {
        "accepted": "PushTotalNum",
        "sent": "PushSuccessNum",
        "received": "PushArrivalNum",
        "opened": "OpenNum",
        "deleted": None,
    },
}


def end_of_second(now: datetime) -> datetime:
    """The last moment of the second ``now`` names. The report's clock is read to the second
    (``--now`` and the system clock alike) while the ledger records sends to the microsecond:
    a message sent in the second the report starts has gone out and is counted."""
    return now.replace(microsecond=999_999)


@dataclass
class Message:
    """One message (EMAS MessageId, mPaaS task id) and the deliveries it carried."""

    campaign: str
    provider: str
    app: str
    message_id: str
    status: str  # the ledger's: sent or scheduled
    at: datetime | None  # when it went (or goes) out
    until: datetime | None = None  # a loop's last day: it goes out again until then
    keys: list[str] = field(default_factory=list)
    counts: dict[str, int] | None = None
    fetched_at: datetime | None = None
    final: bool = False
    read_now: bool = False
    error: str | None = None

    def due(self, now: datetime) -> bool:
        """Whether it went out by ``now`` (a scheduled push not yet due has no statistics)."""
        return self.at is not None and self.at <= end_of_second(now)

    def final_at(self, now: datetime) -> bool:
        """Whether counts read at ``now`` can no longer change: a window after it last went
        out (a loop's end, else its one sending)."""
        last = max(t for t in (self.at, self.until) if t is not None) if self.at else None
        return last is not None and now - last >= WINDOW

    def summary(self) -> dict[str, int | None]:
        names = _NAMES.get(self.provider, {})
        counts = self.counts or {}
        return {
            column: counts.get(name) if (name := names.get(column)) else None for column in SUMMARY
        }


@dataclass
class Report:
    environment: str
    now: datetime
    campaign: str | None
    messages: list[Message]
    # Why what was read could not be cached (a ledger role that can only read), if so.
    not_cached: str | None = None

    @property
    def read_now(self) -> int:
        return sum(1 for m in self.messages if m.read_now)

    @property
    def failed(self) -> list[Message]:
        return [m for m in self.messages if m.error is not None]
