"""Counting deliveries per target across the ledger and a plan, in memory that stays flat.

A frequency cap (and a vendor's daily cap) asks, for every target a plan sends to: how many
deliveries does it get in any window of the cap's length, counting what the ledger holds
and what this plan adds? A plan may name a million targets, so the events are not kept in
memory: each one (rule, target digest, time, plan index) goes to a private temporary SQLite
database on disk (as :mod:`pushops.render.keyindex` does for fan-out keys), and one sorted
query streams them back target by target. Only one target's window is in memory at a time
(at most the cap + 1 events), and a plan's outcome per delivery is one byte.

The sweep, per rule and target, in time order (ledger events before plan events at the same
second): keep the events of the current window (a rolling window: the last ``seconds``; a
calendar day: that day); when the window holds more than the cap and one of them is a plan
delivery the rule checks, the latest such delivery is over the cap. With ``drop`` it leaves
the plan (and the window); otherwise it stays, and is reported.

Targets are reduced to 64-bit digests (the process's string hash: the events never leave
the process); two different targets share one with probability ~n²/2^65, and would be
counted together.
"""

from __future__ import annotations

import sqlite3
from array import array
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from pushops.policy.model import Policy, Window
from pushops.scratch import scratch_db, scratch_problem
from pushops.timeutil import parse_zone

BATCH = 4096
LEDGER = -1  # an event the ledger holds
OTHER = -2  # a plan delivery the rule counts but does not check (another campaign)


class CountError(Exception):
    """The temporary database of events could not be written or read: nothing can be
    counted, so the plan cannot say whether a cap holds."""


def digest(target: str) -> int:
    """A 64-bit digest of ``target``, the same for the same text within one process (the
    events never leave it): Python's string hash, which a string computes once and keeps."""
    return hash(target)


@dataclass
class CountRule:
    """One cap: at most ``max`` events per target in ``window``."""

    id: int
    policy: Policy
    max: int
    window: Window
    drop: bool
    # Over the cap, by message slot (see :meth:`Counter.sweep`): [targets over, an example
    # delivery key, its target, how many deliveries the window held with it].
    tally: dict[int, list[int | str]] = field(default_factory=dict)
    # A drop rule's over-cap deliveries it may not drop (replacements of scheduled pushes).
    kept: dict[int, list[int | str]] = field(default_factory=dict)
    over_count: int = 0  # every (delivery, target) over the cap

    def day_of(self) -> Callable[[int], int]:
        zone = parse_zone(self.window.zone or "UTC+8")
        cache: dict[int, int] = {}

        def day(at: int) -> int:
            hour = at // 3600
            found = cache.get(hour)
            if found is None:
                local = datetime.fromtimestamp(hour * 3600, tz=timezone.utc).astimezone(zone)
                found = cache[hour] = local.toordinal()
                if len(cache) > 100_000:
                    cache.clear()
            return found

        return day


class Counter:
    """The events of every count rule of one plan, on disk; :meth:`sweep` decides."""

    def __init__(self) -> None:
        self.rules: list[CountRule] = []
        self._db: sqlite3.Connection | None = None
        self._rule, self._digest, self._at, self._index = (array("q") for _ in range(4))
        self._targets: list[str | None] = []
        self._keys: list[str | None] = []
        self.first: int | None = None  # earliest plan event (epoch seconds)
        self.last: int | None = None
        self.events = 0
        # By plan index: 0, or 1 + the id of the drop rule that left it out.
        self.dropped = bytearray()
        # By plan index: 1 for a delivery no cap may drop (a replacement: dropping it would
        # cancel a scheduled push without a word).
        self.fixed = bytearray()

    def rule(self, policy: Policy, maximum: int, window: Window, drop: bool) -> CountRule:
        if len(self.rules) >= 254:
            raise CountError("more than 254 frequency caps in one plan")
        found = CountRule(len(self.rules), policy, maximum, window, drop)
        self.rules.append(found)
        return found

    @property
    def span(self) -> timedelta:
        return max((r.window.span for r in self.rules), default=timedelta(0))

    def add(self, rule: CountRule, targets: list[str], at: datetime, index: int, key: str) -> None:
        """``targets`` each get the delivery ``key`` at ``at``; ``index`` is its plan index
        (checked by ``rule``), :data:`OTHER`, or :data:`LEDGER`."""
        seconds = int(at.timestamp())
        if index != LEDGER:
            if self.first is None or seconds < self.first:
                self.first = seconds
            if self.last is None or seconds > self.last:
                self.last = seconds
        planned = index >= 0
        for target in targets:
            self._rule.append(rule.id)
            self._digest.append(digest(target))
            self._at.append(seconds)
            self._index.append(index)
            self._targets.append(target if planned else None)
            self._keys.append(key if planned else None)
        if len(self._targets) >= BATCH:
            self._flush()

    def window_bounds(self) -> tuple[datetime, datetime] | None:
        """The time span of ledger deliveries that can share a window with this plan's."""
        if self.first is None or self.last is None:
            return None
        span = self.span
        return (
            datetime.fromtimestamp(self.first, tz=timezone.utc) - span,
            datetime.fromtimestamp(self.last, tz=timezone.utc) + span,
        )

    def _flush(self) -> None:
        if not self._targets:
            return
        try:
            db = self._db
            if db is None:
                db = self._db = scratch_db(
                    "CREATE TABLE events (rule INTEGER, digest INTEGER, at INTEGER, "
                    "idx INTEGER, target TEXT, key TEXT)",
                    cache_kib=2048,
                )
            db.executemany(
                "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?)",
                zip(
                    self._rule,
                    self._digest,
                    self._at,
                    self._index,
                    self._targets,
                    self._keys,
                    strict=True,
                ),
            )
        except sqlite3.Error as exc:
            raise CountError(_explain(exc)) from None
        self.events += len(self._targets)
        self._clear()

    def _clear(self) -> None:
        for column in (self._rule, self._digest, self._at, self._index):
            del column[:]
        self._targets.clear()
        self._keys.clear()

    def sweep(self, slots: array[int]) -> None:
        """Decide every rule over every target: fills each rule's ``tally`` (by the message
        slot ``slots[index]`` of each plan delivery) and :attr:`dropped`. Rules run in
        order, each seeing the earlier ones' drops."""
        self._flush()
        self.dropped = bytearray(len(slots))
        if self._db is None:
            return
        try:
            for rule in self.rules:
                self._sweep(rule, slots)
        except sqlite3.Error as exc:
            raise CountError(_explain(exc)) from None

    def _rows(self, rule: CountRule) -> Iterator[tuple[int, int, int, str | None, str | None]]:
        assert self._db is not None
        cursor = self._db.execute(
            "SELECT digest, at, idx, target, key FROM events WHERE rule = ? "
            "ORDER BY digest, at, idx",
            (rule.id,),
        )
        while True:
            rows = cursor.fetchmany(2048)
            if not rows:
                return
            yield from rows

    def _sweep(self, rule: CountRule, slots: array[int]) -> None:
        dropped, fixed, maximum, drop = self.dropped, self.fixed, rule.max, rule.drop
        seconds = rule.window.seconds
        day = rule.day_of() if seconds is None else None
        current: int | None = None
        # The window's events: [at, plan index, target, reported, key].
        held: deque[list[int | str | bool | None]] = deque()
        period = None
        for target_digest, at, index, target, key in self._rows(rule):
            if target_digest != current:
                current, period = target_digest, None
                held.clear()
            if index >= 0 and dropped[index]:
                continue  # an earlier rule left it out: it is not sent
            if day is not None:
                today = day(at)
                if today != period:
                    held.clear()
                    period = today
            else:
                assert seconds is not None
                while held and held[0][0] <= at - seconds:  # type: ignore[operator]
                    held.popleft()
            held.append([at, index, target, False, key])
            if len(held) <= maximum:
                continue
            # Over the cap: the latest delivery of this plan that the rule checks goes (or is
            # reported, once); what the ledger holds has gone out already.
            for position in range(len(held) - 1, -1, -1):
                late = held[position]
                if late[1] >= 0:  # type: ignore[operator]
                    break
            else:
                continue
            if late[3]:
                continue  # this window's excess is that delivery's, reported already
            late[3] = True
            late_index = int(late[1])  # type: ignore[arg-type]
            rule.over_count += 1
            dropping = drop and not fixed[late_index]
            tally = rule.kept if drop and not dropping else rule.tally
            slot = slots[late_index]
            entry = tally.get(slot)
            if entry is None:
                tally[slot] = [1, str(late[4] or ""), str(late[2] or ""), len(held)]
            else:
                entry[0] = int(entry[0]) + 1
            if dropping:
                dropped[late_index] = rule.id + 1
                del held[position]

    def close(self) -> None:
        self._clear()
        if self._db is not None:
            self._db.close()
            self._db = None


def _explain(exc: sqlite3.Error) -> str:
    return scratch_problem("count deliveries per target", exc)
