"""The plain data a plan is made of: what to do with each delivery, and the calls that do it.

Everything here is data only (no ledger, no provider), so the engine, the output formats, the
plan file and apply pass it between them without knowing about each other.

A plan over a million-row fan-out has a million actions and ten thousand calls, so both are
kept in bounded memory (:class:`Actions`, :class:`Calls`, backed by :mod:`pushops.plan.spool`):
to read them, iterate (``for action in plan.actions``, ``for call in plan.calls``), as many
times as needed; each pass streams from disk. Their sizes and the per-action counts are known
without a pass (``len(plan.actions)``, ``plan.counts()``, ``plan.calls.deliveries``), and so
are the blocked actions (``plan.blocked``), which are few and kept in memory.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from operator import itemgetter
from typing import Any
from urllib.parse import unquote

from pushops.plan.findings import Finding
from pushops.plan.spool import SortedSpool, Spool

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
    """One API request exactly as it goes on the wire (business parameters only).

    ``body`` is the form as the wire carries it, already encoded (``k=v&...``, RFC 3986):
    compiled once when planning, so apply only signs and sends it.
    """

    call_id: str
    provider: str
    app: str
    action: str
    token: str
    query: dict[str, str]
    body: str
    deliveries: tuple[PlannedDelivery, ...]

    @property
    def form(self) -> dict[str, str]:
        """The form fields, decoded from ``body`` (for the rare reader that wants them)."""
        return decode_form(self.body)


def decode_form(body: str) -> dict[str, str]:
    """``k=v&...`` (RFC 3986-encoded, as compile writes it) back into its fields."""
    if not body:
        return {}
    pairs = (item.partition("=") for item in body.split("&"))
    return {unquote(k, errors="strict"): unquote(v, errors="strict") for k, _, v in pairs}


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


def _action_row(a: Action) -> tuple[Any, ...]:
    return (a.key, a.action, a.reason, a.fingerprint_before, a.fingerprint_after, a.diff,
            a.request, a.call_id, a.due_at, a.held)  # fmt: skip


def _row_action(row: tuple[Any, ...]) -> Action:
    return Action(*row)


class Actions:
    """One :class:`Action` per key, iterated in key order; mostly on disk (see the module
    docstring). Append while planning, iterate after."""

    def __init__(self, actions: Iterable[Action] = ()) -> None:
        self._spool: SortedSpool[Action] = SortedSpool(itemgetter(0), _action_row, _row_action)
        self._counts: Counter[str] = Counter()
        self.blocked: list[Action] = []  # few, and what every view shows first: in memory
        self.extend(actions)

    @classmethod
    def summary(cls, counts: Counter[str], blocked: Iterable[Action]) -> Actions:
        """Only the counts and the blocked actions (what a plan file keeps of its actions):
        iterating yields the blocked ones alone."""
        summary = cls(blocked)
        summary._counts = Counter(counts)
        return summary

    def append(self, action: Action) -> None:
        self._spool.append(action)
        self._counts[action.action] += 1
        if action.action == BLOCKED:
            self.blocked.append(action)

    def extend(self, actions: Iterable[Action]) -> None:
        for action in actions:
            self.append(action)

    def __iter__(self) -> Iterator[Action]:
        return iter(self._spool)

    def __len__(self) -> int:
        return sum(self._counts.values())

    def counts(self) -> Counter[str]:
        return Counter(self._counts)


def _call_row(c: PlannedCall) -> tuple[Any, ...]:
    deliveries = tuple(
        (d.key, d.campaign, d.message, d.fingerprint, d.request, d.position, d.due_at,
         d.expires_at)
        for d in c.deliveries
    )  # fmt: skip
    return (c.call_id, c.provider, c.app, c.action, c.token, c.query, c.body, deliveries)


def _row_call(row: tuple[Any, ...]) -> PlannedCall:
    *head, deliveries = row
    return PlannedCall(*head, tuple(PlannedDelivery(*d) for d in deliveries))


class Calls:
    """The calls a plan sends, in the order apply sends them; mostly on disk (see the module
    docstring). ``deliveries`` counts the deliveries they carry."""

    def __init__(self, calls: Iterable[PlannedCall] = ()) -> None:
        self._spool: Spool[PlannedCall] = Spool(_call_row, _row_call, block=32)
        self.deliveries = 0
        self.extend(calls)

    def append(self, call: PlannedCall) -> None:
        self._spool.append(call)
        self.deliveries += len(call.deliveries)

    def extend(self, calls: Iterable[PlannedCall]) -> None:
        for call in calls:
            self.append(call)

    def __iter__(self) -> Iterator[PlannedCall]:
        return iter(self._spool)

    def __len__(self) -> int:
        return len(self._spool)

    def __bool__(self) -> bool:
        return bool(self._spool)


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
    # Iterable (any number of times) and appendable; see the module docstring.
    actions: Actions = field(default_factory=Actions)
    calls: Calls = field(default_factory=Calls)
    cancels: list[PlannedCancel] = field(default_factory=list)
    # Calls an interrupted run left pending: apply settles them before anything else.
    resolves: list[str] = field(default_factory=list)
    # What the checks of the plan as a whole found (policies, vendor limits), every level.
    findings: list[Finding] = field(default_factory=list)
    # The latest policy overrides the ledger records for this environment (newest first):
    # {policy, level, reason, actor, created_at, git_commit, count}.
    overrides: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not isinstance(self.actions, Actions):
            self.actions = Actions(self.actions)
        if not isinstance(self.calls, Calls):
            self.calls = Calls(self.calls)

    def counts(self) -> Counter[str]:
        return self.actions.counts()

    @property
    def has_changes(self) -> bool:
        counts = self.actions.counts()
        return any(counts[name] for name in CHANGES) or bool(self.resolves)

    @property
    def blocked(self) -> list[Action]:
        return list(self.actions.blocked)

    @property
    def refusals(self) -> list[Action]:
        """Blocked deliveries that make the whole plan unappliable (edits, not holds)."""
        return [a for a in self.actions.blocked if not a.held]

    @property
    def blocking(self) -> list[Finding]:
        """Findings that stop apply as things stand (hard, or soft and not overridden)."""
        return [f for f in self.findings if f.blocks]

    @property
    def sends(self) -> int:
        return self.calls.deliveries


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
