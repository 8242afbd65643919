"""The plain records the ledger stores and returns.

They are data only: the ledger assigns the bookkeeping fields (times it fills when left
``None``, ``generation`` and ``current``) and the backends never hand out anything else.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

PROVIDERS = ("emas", "mpaas")
ACTIONS = ("MassPush", "PushBroadcast", "CancelPush", "CancelPushScheduler")

PENDING = "pending"
SENT = "sent"
FAILED = "failed"
UNKNOWN = "unknown"
CANCELLED = "cancelled"
SCHEDULED = "scheduled"

CALL_STATUSES = (PENDING, SENT, FAILED, UNKNOWN)
DELIVERY_STATUSES = (PENDING, SENT, FAILED, UNKNOWN, CANCELLED, SCHEDULED)
# A call or delivery in these states may or may not have reached the provider: it must be
# settled (same token again, ask the provider, or ``state resolve``), never blindly resent.
UNSETTLED = (PENDING, UNKNOWN)
# A key whose current record is in these states may get a new generation: nothing of it is
# out there (failed) or it was withdrawn (cancelled). Anything else would be a second send.
REPLACEABLE = (FAILED, CANCELLED)

JSON = Any

# Codes of calls recorded ``failed`` that the provider never refused: they never reached it
# (the run was interrupted or stopped first), it has no record of them, or a person gave them
# up. A user reads "failed" as "the provider refused it", so every view says "not sent" and
# why instead; the ledger status stays ``failed`` (a key in it may be sent again, as any).
INTERRUPTED = "Interrupted"
RUN_STOPPED = "RunStopped"
NOT_SENT_WHY = {
    INTERRUPTED: "interrupted: never left pushops",
    RUN_STOPPED: "the run stopped: never left pushops",
    "NotSent": "the provider has no record of it",
    "Abandoned": "abandoned with pushops state abandon",
}
NOT_SENT = "not_sent"  # the outcome JSON views give such a record


def outcome(status: str, code: str | None) -> str:
    """What became of a call or delivery in ``status`` whose call ended with ``code``: its
    status, but ``not_sent`` for a failed call the provider never refused."""
    return NOT_SENT if status == FAILED and code in NOT_SENT_WHY else status


def outcome_words(status: str, code: str | None) -> str:
    """The outcome in words: ``not sent (interrupted: never left pushops)``, else the status."""
    if outcome(status, code) == NOT_SENT:
        return f"not sent ({NOT_SENT_WHY[code or '']})"
    return status


# The longest delivery key or call id the ledger stores, in UTF-8 bytes, on both backends.
# PostgreSQL's btree indexes refuse an entry over about 2,700 bytes (an index holds the
# environment and the key together); SQLite has no such limit. One limit, checked before
# anything is written, makes the two accept exactly the same keys, and validate refuses a
# campaign whose keys would not fit (pushops.check and the fan-out key check use it).
MAX_KEY_BYTES = 1024
# What a lineage may be (this pushops writes UUIDs; an export may carry another's).
LINEAGE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")  # PostgreSQL text cannot hold NUL at all


def key_problem(text: str) -> str | None:
    """Why ``text`` cannot be a key or call id in the ledger, or None if it can."""
    if len(text) * 4 > MAX_KEY_BYTES and len(text.encode("utf-8", "surrogatepass")) > (
        MAX_KEY_BYTES
    ):
        size = len(text.encode("utf-8", "surrogatepass"))
        return f"is {size:,} bytes; the ledger stores at most {MAX_KEY_BYTES:,}"
    if _CONTROL.search(text):
        return "holds a control character (a line break, tab or NUL)"
    return None


def any_key_problem(texts: list[str]) -> bool:
    """Whether :func:`key_problem` finds something in any of ``texts`` (cheaper than each)."""
    if not texts:
        return False
    longest = max(map(len, texts))
    return longest * 4 > MAX_KEY_BYTES or _CONTROL.search("".join(texts)) is not None


# ``cancelled_by`` of a key that ``pushops state rm`` forgot: its current record is a
# cancelled one (nothing of it counts as out there) marked with this, then who did it.
REMOVED_BY = "pushops state rm"


def forgotten(d: Delivery) -> bool:
    """Whether ``d`` is the record ``pushops state rm`` left of a key it forgot."""
    return d.status == CANCELLED and (d.cancelled_by or "").startswith(REMOVED_BY)


@dataclass(kw_only=True, slots=True)
class Call:
    """One API request, recorded before it is sent (write-ahead) and settled after."""

    call_id: str
    environment: str
    provider: str
    app: str
    action: str
    token: str
    request: JSON
    status: str = PENDING
    attempts: int = 0
    response: JSON | None = None
    error_code: str | None = None
    error_message: str | None = None
    request_id: str | None = None
    created_at: datetime | None = None
    sent_at: datetime | None = None
    updated_at: datetime | None = None
    git_commit: str | None = None
    actor: str | None = None


class PendingDelivery(NamedTuple):
    """A delivery as apply writes it ahead: only what the plan decided. The ledger takes the
    rest from its call (environment, commit, actor) or owns it (times, generation, status).

    A plain tuple, and the shape of a planned delivery (pushops.plan.model.PlannedDelivery
    is one), so apply hands a plan's deliveries to the ledger as they are: building a
    :class:`Delivery` for each of 50,000 deliveries a second was a tenth of apply's CPU.
    """

    key: str
    campaign: str
    task: str
    fingerprint: str
    request: Any
    position: int
    due_at: datetime | None = None
    expires_at: datetime | None = None


@dataclass(kw_only=True, slots=True)
class Delivery:
    """One message (an EMAS PushTask or one mPaaS broadcast) at one generation of its key."""

    key: str
    environment: str
    campaign: str
    task: str
    fingerprint: str
    request: JSON
    call_id: str | None = None
    # Index of its wire task in the call (EMAS ``PushTask.N`` is position N-1); deliveries
    # merged into one PushTask share a position and so its MessageId. None: list order.
    position: int | None = None
    status: str = PENDING
    message_id: str | None = None
    due_at: datetime | None = None
    expires_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    git_commit: str | None = None
    actor: str | None = None
    # The call that cancelled it (CancelPush / CancelPushScheduler), when cancelled.
    cancelled_by: str | None = None
    generation: int = 0
    current: bool = True


@dataclass(frozen=True, slots=True)
class SentResult:
    """The provider accepted a call: its MessageIds by wire position, response and RequestId."""

    call_id: str
    message_ids: Mapping[int, str | None] = field(default_factory=dict)
    response: JSON | None = None
    request_id: str | None = None


@dataclass(frozen=True, slots=True)
class FailedResult:
    """The provider refused a call for certain, with its error code, message and RequestId."""

    call_id: str
    code: str | None
    message: str | None
    request_id: str | None = None


@dataclass(frozen=True, slots=True)
class KeyHistory:
    """Every generation of one key, oldest first; ``current`` is the live one, if any."""

    key: str
    generations: list[Delivery] = field(default_factory=list)

    @property
    def current(self) -> Delivery | None:
        last = self.generations[-1] if self.generations else None
        return last if last is not None and last.current else None


@dataclass(frozen=True, slots=True)
class LedgerMeta:
    lineage: str
    serial: int
    schema_version: int
    backend: str
    location: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class LockInfo:
    """Who holds (or held) the write lock. ``stale`` rows belong to a holder that is gone."""

    lock_id: str
    holder: str
    operation: str
    started_at: datetime
    pid: int | None = None
    hostname: str | None = None
    session: int | None = None
    stale: bool = False

    def describe(self) -> str:
        where = f" (pid {self.pid} on {self.hostname})" if self.pid is not None else ""
        return (
            f"lock {self.lock_id} held by {self.holder}{where} for {self.operation!r} "
            f"since {self.started_at.isoformat()}"
        )


@dataclass(frozen=True, slots=True)
class PolicyOverride:
    """A soft policy let through for one apply (``--override NAME --reason``): by whom, why,
    and the findings (their JSON form) it let through."""

    override_id: str
    environment: str
    policy: str
    level: str
    reason: str
    actor: str
    created_at: datetime
    findings: JSON
    git_commit: str | None = None


@dataclass(frozen=True, slots=True)
class Delivered:
    """A delivery that is out there, or may be (sent, scheduled, pending, unknown), as the
    policies count it: its request and when it lands (due time, else when it was sent)."""

    key: str
    campaign: str
    app: str
    provider: str
    status: str
    at: datetime
    request: JSON


# What a delivery event records: every ledger write besides apply's own sending (whose
# pending -> sent/failed history is the ``deliveries`` generations and the ``calls`` rows).
RESOLVED = "resolved"  # state resolve: a person said it did or did not go out
ABANDONED = "abandoned"  # state abandon: given up as not sent
REMOVED = "removed"  # state rm: forgotten, the next apply sends it again
WITHDRAWN = "cancelled"  # a scheduled push or loop cancelled at the provider
OVERRIDDEN = "overridden"  # a soft policy let through for one apply (no key: a whole run)
REFRESHED = "refreshed"  # pushops refresh: a status the provider's own records prove
EVENT_KINDS = (RESOLVED, ABANDONED, REMOVED, WITHDRAWN, OVERRIDDEN, REFRESHED)


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryEvent:
    """One write that changed a delivery (or a whole call, ``key`` None) outside apply's
    sending: who, when, from which status to which, and the evidence (a JSON value: what the
    provider answered, what a person said). ``at`` is filled by the ledger when None;
    ``serial`` (the ledger write it belongs to) and ``position`` (its order in that write)
    are the ledger's, filled on reading."""

    environment: str
    kind: str
    actor: str | None = None
    key: str | None = None
    call_id: str | None = None
    status_from: str | None = None
    status_to: str | None = None
    evidence: JSON | None = None
    at: datetime | None = None
    serial: int = 0
    position: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class ProviderStats:
    """The provider's statistics of one message (EMAS MessageId, mPaaS task id), as read at
    ``fetched_at``; ``final`` once they can no longer change (past the statistics window)."""

    environment: str
    provider: str
    app: str
    message_id: str
    counts: Mapping[str, int]
    fetched_at: datetime
    final: bool = False


# ``cancelled_by`` of a key ``pushops refresh`` recorded cancelled: withdrawn at the provider
# (in the console, by another tool), not by a call of pushops's.
CANCELLED_AT_PROVIDER = "cancelled at the provider (pushops refresh)"


@dataclass(frozen=True, slots=True, kw_only=True)
class ProvenStatus:
    """A key's status as the provider's own records prove it (``pushops refresh``): its
    current record goes from ``status_from`` (the status refresh compared) to ``status_to``;
    ``evidence`` is what the provider answered."""

    key: str
    status_from: str
    status_to: str
    evidence: JSON


@dataclass(frozen=True, slots=True, kw_only=True)
class ProvenCall:
    """An unsettled call the provider's records prove sent (``pushops refresh``): its
    MessageIds by wire position, and what the provider answered."""

    call_id: str
    message_ids: Mapping[int, str | None]
    evidence: JSON


@dataclass(frozen=True, slots=True)
class SentMessage:
    """A current delivery that went (or goes) out with a provider id: what ``pushops report``
    asks the provider's statistics about. ``at``: its due time, else when its call was sent;
    ``request``: an mPaaS broadcast's (a loop's end is in it), None for EMAS."""

    key: str
    campaign: str
    task: str
    provider: str
    app: str
    message_id: str
    status: str
    at: datetime | None
    request: JSON | None = None
