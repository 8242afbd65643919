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
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import partial
from operator import itemgetter
from typing import Any
from urllib.parse import unquote

import orjson

from pushops.diagnostics import PushopsError
from pushops.ledger.codec import finite
from pushops.ledger.records import PendingDelivery
from pushops.plan.findings import Finding
from pushops.plan.spool import SortedSpool, Spool

SEND = "send"
NOOP = "no-op"
BLOCKED = "blocked"
REPLACE = "replace"
CANCEL = "cancel"
SKIP = "skip"
RESOLVE = "resolve"
# Written ahead by an apply that is running right now: its outcome is that apply's to record.
INFLIGHT = "in-flight"

# The reason of a send whose key the ledger never saw; any other send's reason says why it is
# sent again (its last attempt failed, was never sent, was cancelled), which views show.
NEW_KEY = "not in the ledger"


def resend_reason(action: Action) -> str | None:
    """Why a send goes out again (None for a first send or another action)."""
    return action.reason if action.action == SEND and action.reason != NEW_KEY else None


# The order the summary and the views list the actions in: what needs attention first.
ACTIONS = (BLOCKED, RESOLVE, INFLIGHT, REPLACE, CANCEL, SEND, SKIP, NOOP)
# Actions that change something when applied (``--detailed-exitcode`` 2).
CHANGES = frozenset({SEND, REPLACE, CANCEL, RESOLVE})
# Actions the views count rather than list one by one (there may be a million of them).
COUNTED = frozenset({NOOP, INFLIGHT})


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


class PlannedDelivery(PendingDelivery):
    """One delivery a planned call carries, with what the ledger records of it: the tuple
    the ledger writes ahead as it is (its ``task`` is the campaign's message).
    ``position`` is the index of its wire task (EMAS PushTask.N is N-1); 0 for mPaaS."""

    __slots__ = ()

    @property
    def message(self) -> str:
        return self.task


# A PlannedDelivery from its eight fields in order (a sequence), without NamedTuple's
# constructor (a Python function taking each field): apply makes 50,000 a second.
planned_delivery: Callable[[Iterable[Any]], PlannedDelivery] = partial(
    tuple.__new__, PlannedDelivery
)


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
    """Withdraw one scheduled push (EMAS MessageId / mPaaS UniqueId; for an mPaaS loop, the
    occurrences still to come) and the keys it carries.

    EMAS merges rows into one PushTask, so cancelling one key's MessageId cancels every key
    sharing it; the plan lists them all (the ones still wanted are sent again).
    """

    provider: str
    app: str
    message_id: str
    keys: tuple[str, ...]
    due_at: datetime | None = None  # when it (a loop: its next occurrence) would go out


def _action_row(a: Action) -> tuple[Any, ...]:
    return (a.key, a.action, a.reason, a.fingerprint_before, a.fingerprint_after, a.diff,
            a.request, a.call_id, a.due_at, a.held)  # fmt: skip


def _row_action(row: tuple[Any, ...]) -> Action:
    return Action(*row)


# Action's fields, as Actions.add fills in those left out (the first three never are).
_ACTION_DEFAULTS = (None, None, None, None, None, None, None, None, None, False)


ActionListener = Callable[[tuple[Any, ...]], None]


class Actions:
    """One :class:`Action` per key, iterated in key order; mostly on disk (see the module
    docstring). Append while planning, iterate after.

    ``listener`` is told each action as it is added, as its row (Action's fields in order):
    the plan's view is built from those, not from a pass over a million actions read back
    after. ``kept=False`` counts the actions and keeps the blocked ones without spooling the
    rest, for a plan nothing will iterate (only ``--format json`` lists every action):
    writing and sorting the spool was a tenth of plan's own CPU at a million deliveries.
    """

    def __init__(
        self,
        actions: Iterable[Action] = (),
        *,
        kept: bool = True,
        listener: ActionListener | None = None,
    ) -> None:
        self._spool: SortedSpool[Action] | None = (
            SortedSpool(itemgetter(0), _action_row, _row_action) if kept else None
        )
        self._listener = listener
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
        self._counts[action.action] += 1
        if action.action == BLOCKED:
            self.blocked.append(action)
        if self._spool is not None or self._listener is not None:
            self._pass_on(_action_row(action))

    def add(self, *fields: Any) -> None:
        """``append(Action(*fields))`` without building the Action (planning a fan-out adds
        one per row)."""
        if fields[1] == BLOCKED:
            self.append(Action(*fields))
            return
        self._counts[fields[1]] += 1
        if self._spool is not None or self._listener is not None:
            self._pass_on((*fields, *_ACTION_DEFAULTS[len(fields) :]))

    def _pass_on(self, row: tuple[Any, ...]) -> None:
        """An added action's row to the spool (if kept) and the listener (if any)."""
        if self._spool is not None:
            self._spool.append_encoded(row)
        if self._listener is not None:
            self._listener(row)

    def extend(self, actions: Iterable[Action]) -> None:
        for action in actions:
            self.append(action)

    def __iter__(self) -> Iterator[Action]:
        if self._spool is None:
            # Never an empty list in its place: a view of "no actions" would be a wrong plan.
            raise RuntimeError("this plan counted its actions without keeping them")
        return iter(self._spool)

    def __len__(self) -> int:
        return sum(self._counts.values())

    def counts(self) -> Counter[str]:
        return Counter(self._counts)


def _utc(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(timezone.utc).isoformat()


def _exact(data: bytes) -> bytes:
    """A copy of exactly this size: orjson's results keep a 4 KB buffer each, which a
    spool of a hundred thousand of them turned into 300 MB."""
    return bytes(memoryview(data))


def request_json(key: str, request: dict[str, Any]) -> bytes:
    """A delivery's typed request as compact JSON (the plan file's and the ledger's text)."""
    data = orjson.dumps(request)
    if b"null" in data and not finite(request):
        bad = next(name for name, value in request.items() if not finite(value))
        raise PushopsError(f"{key}: {bad} is not a finite number; it cannot be sent as JSON")
    return data


def call_record(call: PlannedCall) -> bytes:
    """One call as a plan file's call record (JSON): what the spool of a plan's calls keeps
    and what ``plan --out`` writes, byte for byte."""
    return encode_call(
        (call.call_id, call.provider, call.app, call.action, call.token, call.query, call.body),
        [(d.key, d.campaign, d.message, d.fingerprint, d.request, d.position, d.due_at,
          d.expires_at) for d in call.deliveries],
    )  # fmt: skip


def encode_call(head: tuple[Any, ...], deliveries: Iterable[tuple[Any, ...]]) -> bytes:
    """:func:`call_record` of a call's fields and its deliveries' (PlannedDelivery's, in
    order), without building the objects."""
    Fragment = orjson.Fragment
    record = orjson.dumps(
        [
            "call",
            *head,
            [
                [key, campaign, message, fp, Fragment(request_json(key, request)), position,
                 _utc(due), _utc(expires)]
                for key, campaign, message, fp, request, position, due, expires in deliveries
            ],
        ]
    )  # fmt: skip
    return _exact(record)


_from_iso = datetime.fromisoformat


def record_call(data: bytes) -> PlannedCall:
    """A call record this process wrote (see :func:`call_record`), read back as it was.
    (A plan file's records are checked field by field: pushops.plan.planfile.)"""
    _, call_id, provider, app, action, token, query, body, deliveries = orjson.loads(data)
    return PlannedCall(
        call_id, provider, app, action, token, query, body,
        tuple(
            PlannedDelivery(key, campaign, message, fp, request, position,
                            None if due is None else _from_iso(due),
                            None if expires is None else _from_iso(expires))
            for key, campaign, message, fp, request, position, due, expires in deliveries
        ),
    )  # fmt: skip


LOOP = 2  # mPaaS StrategyType of a loop


@dataclass
class CampaignSends:
    """One campaign's share of a plan's sends: what apply lists before it sends."""

    campaign: str
    provider: str
    deliveries: int = 0
    calls: int = 0
    at_apply: int = 0  # deliveries sent when apply runs (no send time of their own)
    first: datetime | None = None  # the earliest send time of the others
    # The distinct schedules (StrategyType and StrategyContent) of its mPaaS loops.
    loops: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "campaign": self.campaign,
            "provider": self.provider,
            "deliveries": self.deliveries,
            "calls": self.calls,
            "at_apply": self.at_apply,
            "first": _utc(self.first),
            "loops": self.loops,
        }


class SendTally:
    """The plan's sends by campaign, counted as its calls are made: a saved plan carries
    the tally, so apply lists a million deliveries' campaigns without reading them again
    (which took 2-5 s before it sent anything)."""

    def __init__(self) -> None:
        self.campaigns: dict[str, CampaignSends] = {}

    def add_call(self, call: PlannedCall) -> None:
        self.add(call.provider, ((d.campaign, d.request, d.due_at) for d in call.deliveries))

    def add(self, provider: str, deliveries: Iterable[tuple[str, Any, datetime | None]]) -> None:
        """One call's deliveries, each as (campaign, typed request, due time)."""
        found = self.campaigns
        seen: set[str] = set()
        for campaign, request, due_at in deliveries:
            item = found.get(campaign)
            if item is None:
                item = found[campaign] = CampaignSends(campaign, provider)
            item.deliveries += 1
            if campaign not in seen:
                item.calls += 1
                seen.add(campaign)
            if provider == "mpaas" and request.get("StrategyType") == LOOP:
                schedule = {"StrategyType": LOOP, "StrategyContent": request.get("StrategyContent")}
                if schedule not in item.loops:
                    item.loops.append(schedule)
            elif due_at is None:
                item.at_apply += 1
            elif item.first is None or due_at < item.first:
                item.first = due_at


class Calls:
    """The calls a plan sends, in the order apply sends them; mostly on disk (see the module
    docstring). ``deliveries`` counts the deliveries they carry."""

    def __init__(self, calls: Iterable[PlannedCall] = ()) -> None:
        # Kept as plan-file call records: compact, fast to read back, and written as they
        # are by ``plan --out``.
        self._spool: Spool[bytes] = Spool(block=64)
        self.deliveries = 0
        self._tally = SendTally()
        self.extend(calls)

    def append(self, call: PlannedCall) -> None:
        self._spool.append(call_record(call))
        self.deliveries += len(call.deliveries)
        self._tally.add_call(call)

    def append_record(
        self, record: bytes, provider: str, sends: list[tuple[str, Any, datetime | None]]
    ) -> None:
        """A call already encoded (:func:`encode_call`) whose deliveries are ``sends``, each
        (campaign, typed request, due time)."""
        self._spool.append(record)
        self.deliveries += len(sends)
        self._tally.add(provider, sends)

    def sends(self) -> list[CampaignSends]:
        """Every campaign the plan sends to, in the order apply sends them."""
        return list(self._tally.campaigns.values())

    def records(self) -> Iterator[bytes]:
        """The calls as plan-file call records (see :func:`call_record`), in order."""
        return iter(self._spool)

    def extend(self, calls: Iterable[PlannedCall]) -> None:
        for call in calls:
            self.append(call)

    def __iter__(self) -> Iterator[PlannedCall]:
        return map(record_call, self._spool)

    def __len__(self) -> int:
        return len(self._spool)

    def __bool__(self) -> bool:
        return bool(self._spool)


@dataclass(frozen=True, slots=True)
class InProgress:
    """Another run holds the ledger's write lock as the plan is made (its holder is alive)."""

    operation: str  # "apply", "state resolve", ...
    holder: str
    since: datetime
    lock_id: str

    def describe(self) -> str:
        what = "an apply" if self.operation == "apply" else f"a {self.operation!r}"
        return (
            f"{what} is in progress ({self.holder}, since "
            f"{self.since.astimezone(timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')})"
        )


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
    # A run holding the ledger lock while this plan was made: its pending calls are in flight.
    in_progress: InProgress | None = None

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
    if counts[INFLIGHT]:
        parts.append(f"{counts[INFLIGHT]} in flight")
    return f"Plan: {', '.join(parts)}, {counts[NOOP]} unchanged."
