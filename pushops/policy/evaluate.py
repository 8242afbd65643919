"""Evaluate the team's policies over what a plan sends, in one streaming pass.

The planner hands every delivery it would send (``send`` and ``replace``), in order, to
:meth:`Evaluator.observe`; each policy that applies in the environment looks at it and keeps
tallies per campaign message (counting kinds put one event per target on disk, see
:mod:`pushops.policy.counting`). :meth:`Evaluator.conclude` then adds what the ledger already
holds in the caps' windows, sweeps the counts, and decides which deliveries a ``drop`` cap
leaves out (:meth:`Evaluator.dropped`); :meth:`Evaluator.findings` are the plan's findings,
with the overrides given for this run applied. Memory: a few bytes per delivery (its message
slot, whether it is dropped) and the tallies; never the deliveries themselves.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from pushops.campaign import Campaign
from pushops.compile.model import Delivery
from pushops.config import Config
from pushops.ledger import Ledger
from pushops.plan.findings import Finding
from pushops.policy.base import Check, Context, Send
from pushops.policy.blast_radius import BlastRadius
from pushops.policy.counting import Counter
from pushops.policy.frequency_cap import FrequencyCap
from pushops.policy.model import (
    BLAST_RADIUS,
    FREQUENCY_CAP,
    QUIET_HOURS,
    REQUIRED_FIELDS,
    SOFT,
    VENDOR_RULES,
    Policy,
    PolicyError,
)
from pushops.policy.quiet_hours import QuietHours
from pushops.policy.recipients import category_of, occurrences, targets
from pushops.policy.required_fields import RequiredFields
from pushops.policy.vendor_rules import VendorRules
from pushops.policy.vendors import category_fields

KINDS: dict[str, type[Check]] = {
    QUIET_HOURS: QuietHours,
    FREQUENCY_CAP: FrequencyCap,
    VENDOR_RULES: VendorRules,
    BLAST_RADIUS: BlastRadius,
    REQUIRED_FIELDS: RequiredFields,
}


@dataclass(frozen=True)
class Override:
    """``--override NAME --reason "…"``: a soft policy let through for one run, by whom."""

    policy: str
    reason: str
    actor: str


def check_overrides(policies: Sequence[Policy], overrides: Sequence[Override]) -> None:
    """Refuse an override of a policy that does not exist or is hard, or without a reason."""
    known = {p.name: p for p in policies}
    for override in overrides:
        policy = known.get(override.policy)
        if policy is None:
            names = ", ".join(sorted(known)) or "none"
            raise PolicyError(f"--override {override.policy}: no such policy (policies: {names})")
        if not policy.overridable():
            raise PolicyError(
                f"--override {override.policy}: a hard policy cannot be overridden; fix what "
                "it found, or change the policy in a reviewed commit"
            )
        if not override.reason.strip():
            raise PolicyError(f'--override {override.policy} needs --reason "why"')


class Evaluator:
    """The policies of one plan (or one validate run in one environment)."""

    def __init__(
        self,
        policies: Iterable[Policy],
        config: Config,
        environment: str,
        now: datetime,
        *,
        overrides: Sequence[Override] = (),
        planning: bool = True,
    ) -> None:
        self.counter = Counter()
        self.context = Context(config, environment, now, self.counter, planning)
        self.checks = [
            KINDS[p.kind](p, self.context) for p in policies if p.applies_in(environment)
        ]
        self.overrides = {o.policy: o for o in overrides}
        self._plan: dict[str, list[tuple[Check, bool]]] = {}
        self._slot_of: dict[tuple[str, str], int] = {}
        # By slot: the category of a message whose vendor category fields are no templates
        # (the same for every row, so read once), else None (read per delivery).
        self._slot_category: list[str | None] = []
        self.slots = array("I")  # by plan index: the message slot of that delivery
        self._finished: list[Finding] | None = None

    def __bool__(self) -> bool:
        return bool(self.checks)

    @property
    def size(self) -> int:
        return len(self.slots)

    @property
    def may_drop(self) -> bool:
        """Whether a ``drop`` cap may leave deliveries out: the planner then compiles the
        sends only after :meth:`conclude` (until then it streams them into calls)."""
        return any(rule.drop for rule in self.counter.rules)

    def _checks_for(self, campaign: Campaign, delivery: Delivery) -> list[tuple[Check, bool]]:
        found = self._plan.get(campaign.id)
        if found is None:
            category = category_of(campaign.category, delivery.provider, delivery.params)
            found = []
            for check in self.checks:
                applies = check.policy.applies_to(campaign.id, category)
                if applies or check.counts:
                    found.append((check, applies))
            self._plan[campaign.id] = found
        return found

    def observe(self, campaign: Campaign, delivery: Delivery, action: str) -> int:
        """One delivery the plan sends (in the plan's order); returns its plan index."""
        index = len(self.slots)
        message = (campaign.id, delivery.message)
        slot = self._slot_of.get(message)
        if slot is None:
            slot = self._slot_of[message] = len(self.context.slots)
            self.context.slots.append((campaign.id, delivery.source))
            self._slot_category.append(_fixed_category(campaign, delivery))
        self.slots.append(slot)
        self.counter.fixed.append(action != "send")
        checks = self._checks_for(campaign, delivery)
        if checks:
            at = delivery.due_at or self.context.now
            send = Send(index, slot, campaign, delivery, action, at, self._slot_category[slot])
            for check, applies in checks:
                check.observe(send, applies)
        return index

    def conclude(
        self,
        ledger: Ledger | None,
        campaigns: dict[str, Campaign],
        leaving: set[str] = frozenset(),  # type: ignore[assignment]
    ) -> None:
        """Count what the ledger holds in the caps' windows (except the keys this plan
        replaces or cancels, ``leaving``), then sweep every cap."""
        counting = [c for c in self.checks if c.counts and getattr(c, "rule", None)]
        by_category = any(c.by_category for c in counting)
        bounds = self.counter.window_bounds()
        if ledger is not None and counting and bounds is not None:
            start, end = bounds
            environment = self.context.environment
            for record in ledger.delivered_between(environment, start, end):
                if record.key in leaving:
                    continue
                category = ""  # read only when some cap counts by category
                if by_category:
                    declared = campaigns.get(record.campaign)
                    category = category_of(
                        declared.category if declared is not None else None,
                        record.provider,
                        record.request,
                    )
                found = targets(record.provider, record.app, record.request)
                for moment in occurrences(record.provider, record.request, record.at, start, end):
                    for check in counting:
                        check.count_ledger(record.provider, record.request, found, category, moment)
        self.counter.sweep(self.slots)

    def dropped(self, index: int) -> str | None:
        """Why a ``drop`` cap leaves the ``index``-th delivery out of the plan, or None."""
        dropped = self.counter.dropped
        if index >= len(dropped) or not dropped[index]:
            return None
        rule = self.counter.rules[dropped[index] - 1]
        return (
            f"dropped by policy {rule.policy.name}: a target is over its cap of {rule.max} in "
            f"{rule.window.describe()}; a later plan offers it again"
        )

    def findings(self) -> list[Finding]:
        """Every finding, overridden where an override for its policy was given."""
        if self._finished is None:
            out = []
            for check in self.checks:
                for finding in check.finish():
                    override = self.overrides.get(finding.source)
                    if override is not None and finding.level == SOFT:
                        finding = _overridden(finding, override)
                    out.append(finding)
            self._finished = sorted(
                out, key=lambda f: (_RANK[f.level], f.source, f.file or "", f.line or 0)
            )
        return self._finished

    def close(self) -> None:
        self.counter.close()


_RANK = {"hard": 0, "soft": 1, "advisory": 2}


def _fixed_category(campaign: Campaign, delivery: Delivery) -> str | None:
    """The category every delivery of this message has, when no template can change it."""
    if campaign.category is not None:
        return campaign.category
    message = next((m for m in campaign.messages if m.id == delivery.message), None)
    if message is None or not message.templated_fields.isdisjoint(category_fields()):
        return None
    return category_of(None, delivery.provider, delivery.params)


def _overridden(finding: Finding, override: Override) -> Finding:
    from dataclasses import replace

    return replace(finding, override_reason=override.reason, override_actor=override.actor)


__all__ = ["KINDS", "Evaluator", "Override", "check_overrides"]
