"""The plain data a plan is made of: what to do with each delivery, and the calls that do it.

Everything here is data only (no ledger, no provider), so the engine, the output formats, the
plan file and apply pass it between them without knowing about each other.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pushops.plan.findings import Finding

SEND = "send"
NOOP = "no-op"
BLOCKED = "blocked"
REPLACE = "replace"
CANCEL = "cancel"
SKIP = "skip"
RESOLVE = "resolve"

# The order the summary and the views list the actions in: what needs attention first.
ACTIONS = (BLOCKED, RESOLVE, REPLACE, CANCEL, SEND, SKIP, NOOP)
# Actions that change something when applied (``--detailed-exitcode`` 2).
CHANGES = frozenset({SEND, REPLACE, CANCEL, RESOLVE})


@dataclass(frozen=True, slots=True)
class Action:
    """What apply does with one delivery, and why."""

    key: str
    action: str
    reason: str
    fingerprint_before: str | None = None
    fingerprint_after: str | None = None
    # Field-level differences of the request (blocked and replace): a list of changes.
    diff: list[dict[str, Any]] | None = None
    # The delivery's typed request as it would go out (None when nothing is sent).
    request: dict[str, Any] | None = None
    call_id: str | None = None
    due_at: datetime | None = None
    # A blocked key whose last call nobody could settle: it holds only itself back (apply
    # goes on with the rest), until ``pushops state resolve``.
    held: bool = False


@dataclass(frozen=True, slots=True)
class PlannedDelivery:
    """One delivery a planned call carries, with what the ledger records of it."""

    key: str
    campaign: str
    message: str
    fingerprint: str
    request: dict[str, Any]
    position: int  # index of its wire task (EMAS PushTask.N is N-1); 0 for mPaaS
    due_at: datetime | None = None
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class PlannedCall:
    """One API request exactly as it goes on the wire (business parameters only)."""

    call_id: str
    provider: str
    app: str
    action: str
    token: str
    query: dict[str, str]
    form: dict[str, str]
    deliveries: tuple[PlannedDelivery, ...]


@dataclass(frozen=True, slots=True)
class PlannedCancel:
    """Withdraw one scheduled push (EMAS MessageId / mPaaS UniqueId) and the keys it carries.

    EMAS merges rows into one PushTask, so cancelling one key's MessageId cancels every key
    sharing it; the plan lists them all (the ones still wanted are sent again).
    """

    provider: str
    app: str
    message_id: str
    keys: tuple[str, ...]
    due_at: datetime | None = None


@dataclass
class Plan:
    environment: str
    lineage: str
    serial: int
    git_commit: str | None
    created_at: datetime
    now: datetime
    margin_s: float
    sandbox: bool = False
    actions: list[Action] = field(default_factory=list)
    calls: list[PlannedCall] = field(default_factory=list)
    cancels: list[PlannedCancel] = field(default_factory=list)
    # Calls an interrupted run left pending: apply settles them before anything else.
    resolves: list[str] = field(default_factory=list)
    # What the checks of the plan as a whole found (policies, vendor limits), every level.
    findings: list[Finding] = field(default_factory=list)
    # The latest policy overrides the ledger records for this environment (newest first):
    # {policy, level, reason, actor, created_at, git_commit, count}.
    overrides: list[dict[str, Any]] = field(default_factory=list)

    def counts(self) -> Counter[str]:
        return Counter(a.action for a in self.actions)

    @property
    def has_changes(self) -> bool:
        return any(a.action in CHANGES for a in self.actions) or bool(self.resolves)

    @property
    def blocked(self) -> list[Action]:
        return [a for a in self.actions if a.action == BLOCKED]

    @property
    def refusals(self) -> list[Action]:
        """Blocked deliveries that make the whole plan unappliable (edits, not holds)."""
        return [a for a in self.actions if a.action == BLOCKED and not a.held]

    @property
    def blocking(self) -> list[Finding]:
        """Findings that stop apply as things stand (hard, or soft and not overridden)."""
        return [f for f in self.findings if f.blocks]

    @property
    def sends(self) -> int:
        return sum(len(c.deliveries) for c in self.calls)


def summary_line(plan: Plan) -> str:
    """``Plan: 3 to send, 1 to replace, ... 12 unchanged.`` (Terraform's count line)."""
    counts = plan.counts()
    parts = [
        f"{counts[SEND]} to send",
        f"{counts[REPLACE]} to replace",
        f"{counts[CANCEL]} to cancel",
        f"{counts[RESOLVE]} to resolve",
        f"{counts[SKIP]} to skip",
        f"{counts[BLOCKED]} blocked",
    ]
    return f"Plan: {', '.join(parts)}, {counts[NOOP]} unchanged."
