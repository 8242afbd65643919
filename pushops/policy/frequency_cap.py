"""``frequency-cap``: at most ``max`` deliveries per target in any ``window``, counted across
every campaign, from the ledger plus this plan.

Targets are EMAS devices, accounts and aliases (``per``; default all three), each value of a
``TargetValue`` on its own; an mPaaS broadcast counts once for every device of its platform.
The ledger's deliveries count from when they went out (or are due); pending and unknown ones
count too (they may have gone out), failed and cancelled ones do not. ``category`` counts
only marketing or only service deliveries (a campaign's declared category, else its vendor
category fields, else marketing). ``validate`` counts what the campaigns send, without the
ledger.

``action: drop`` leaves the deliveries over the cap out of the plan instead of blocking it:
they show as skipped, with the reason, and the next plan offers them again. A delivery
naming several targets goes out whole or not at all, so it is dropped when any of them is
over; a replacement of a scheduled push is never dropped (that would cancel it), only
reported.

Example::

    - name: two-a-day
      kind: frequency-cap
      level: soft
      max: 2
      window: 24h
      category: marketing
      action: drop
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from pushops.plan.findings import ADVISORY, Finding
from pushops.policy.base import Check, Context, Send
from pushops.policy.counting import LEDGER, OTHER, CountRule
from pushops.policy.model import Policy
from pushops.policy.recipients import BROADCAST, PER_NAMES, targets


class FrequencyCap(Check):
    counts = True

    def __init__(self, policy: Policy, context: Context) -> None:
        super().__init__(policy, context)
        params = policy.params
        self.kinds = frozenset({PER_NAMES[p] for p in params.get("per", PER_NAMES)} | {BROADCAST})
        wanted = params.get("category", "any")
        self.category = None if wanted == "any" else wanted
        self.drop = params.get("action", "block") == "drop"
        self.by_category = self.category is not None
        self.rule: CountRule = context.counter.rule(
            policy, int(params["max"]), params["window"], self.drop
        )

    def wants(self, category: str) -> bool:
        return self.category is None or category == self.category

    def observe(self, send: Send, checked: bool) -> None:
        if self.category is not None and send.category != self.category:
            return
        index = send.index if checked else OTHER
        counter, rule, delivery = self.context.counter, self.rule, send.delivery
        found = [
            f"{kind}:{value}"
            for kind, value in targets(delivery.provider, delivery.app, delivery.params)
            if kind in self.kinds
        ]
        if found:
            for moment in send.moments():
                counter.add(rule, found, moment, index, delivery.key)

    def count_ledger(
        self,
        provider: str,
        params: dict[str, Any],
        found: list[tuple[str, str]],
        category: str,
        at: datetime,
    ) -> None:
        if self.wants(category):
            counted = [f"{kind}:{value}" for kind, value in found if kind in self.kinds]
            if counted:
                self.context.counter.add(self.rule, counted, at, LEDGER, "")

    def describe(self) -> str:
        what = f"{self.category} " if self.category else ""
        return (
            f"at most {self.rule.max} {what}deliveries per target in {self.rule.window.describe()}"
        )

    def finish(self) -> list[Finding]:
        return over_cap_findings(self, self.describe(), self.rule)


def over_cap_findings(check: Check, cap: str, rule: CountRule) -> list[Finding]:
    """One finding per campaign message with deliveries over ``rule``'s cap. A ``drop``
    rule's findings are advisory (the plan leaves those deliveries out: nothing over the
    cap goes), except for the ones it could not drop."""
    out = []
    groups = [(rule.tally, "dropped from the plan" if rule.drop else "over the cap")]
    if rule.kept:
        groups.append((rule.kept, "over the cap, not dropped (a replacement of a scheduled push)"))
    for tally, verb in groups:
        for slot, (over, key, target, held) in sorted(tally.items()):
            shown = shown_target(str(target))
            message = (
                f"{int(over):,} recipient{'s' if over != 1 else ''} {verb}: {cap} "
                f"(e.g. {shown} would get its {_ordinal(int(held))} in the window)"
            )
            finding = check.slot_finding(int(slot), message, int(over), str(key))
            if rule.drop and tally is rule.tally:
                finding = replace(finding, level=ADVISORY)
            out.append(finding)
    return out


PLATFORMS = {"1": "Android", "2": "iOS", "7": "HarmonyOS"}


def shown_target(target: str) -> str:
    """``DEVICE:shop/d1`` -> ``d1``; a broadcast's -> ``every Android device of wallet``."""
    kind, _, scoped = target.partition(":")
    app, _, value = scoped.partition("/")
    if kind == "BROADCAST":
        return f"every {PLATFORMS.get(value, value)} device of {app}"
    return value


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
