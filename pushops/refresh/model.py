"""What ``pushops refresh`` finds: plain data, from the comparison to the views and the update.

One :class:`Drift` per difference between the ledger and the provider. ``change`` is set only
where the provider's answer proves what the ledger should say (``refresh --apply`` records
it); everything else is reported for a person to look into, and never applied.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

FORMAT_VERSION = 1

# The kinds of drift, in the order the views list them.
UNMANAGED = "unmanaged"  # the provider has a push no ledger record owns (made elsewhere)
CANCELLED = "cancelled"  # the ledger says scheduled; the provider says cancelled
SENT = "sent"  # the ledger says scheduled, pending or unknown; the provider says sent
MISSING = "missing"  # the ledger has a provider id the provider does not know
AMBIGUOUS = "ambiguous"  # an unsettled call matches several provider pushes: never applied
STATUS = "status"  # any other disagreement (e.g. cancelled by pushops, sent all the same)
KINDS = (UNMANAGED, CANCELLED, SENT, MISSING, AMBIGUOUS, STATUS)

TITLES = {
    UNMANAGED: "pushed from elsewhere (no ledger record owns it)",
    CANCELLED: "cancelled at the provider",
    SENT: "sent at the provider, which the ledger does not say",
    MISSING: "unknown to the provider",
    AMBIGUOUS: "ambiguous: several provider pushes could be this call",
    STATUS: "statuses disagree",
}


@dataclass(frozen=True)
class Change:
    """What ``refresh --apply`` writes for one key: its status (and provider id) as proved."""

    key: str
    status_from: str
    status_to: str
    message_id: str | None = None
    call_id: str | None = None  # an unsettled call settled as sent (all its keys at once)
    position: int | None = None  # the key's wire position in that call (EMAS PushTask.N-1)


@dataclass
class Drift:
    kind: str
    app: str
    provider: str
    summary: str  # one line for people; user-controlled text in it is escaped per view
    message_id: str | None = None
    key: str | None = None
    campaign: str | None = None
    call_id: str | None = None
    ledger_status: str | None = None
    provider_status: str | None = None
    changes: list[Change] = field(default_factory=list)  # empty: report only
    candidates: list[str] = field(default_factory=list)  # ambiguous: the provider ids
    evidence: list[dict[str, Any]] = field(default_factory=list)  # provider records as read

    @property
    def provable(self) -> bool:
        return bool(self.changes)


@dataclass
class Refresh:
    """The outcome of one comparison of an environment's ledger with its provider."""

    environment: str
    since: timedelta
    start: datetime
    end: datetime  # the query window's end: now plus how far ahead a push may be scheduled
    now: datetime
    drift: list[Drift] = field(default_factory=list)
    apps: list[str] = field(default_factory=list)  # the apps compared

    @property
    def changes(self) -> list[Change]:
        return [c for d in self.drift for c in d.changes]

    def sorted(self) -> list[Drift]:
        order = {kind: n for n, kind in enumerate(KINDS)}
        return sorted(
            self.drift, key=lambda d: (order[d.kind], d.app, d.key or "", d.message_id or "")
        )
