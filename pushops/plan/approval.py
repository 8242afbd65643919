"""What a person approves when apply asks (or a saved plan file carries): per campaign, what
goes out and when, then the totals.

Read from the plan's calls, not its actions: a saved plan file keeps every call it sends but
only the counts of its actions, and the calls are exactly what apply will send, so the list
is the same for a fresh plan and for the file made from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from pushops.plan.grouped import default_zone
from pushops.plan.model import RESOLVE, Plan
from pushops.preview.schedule import moment_text, mpaas_schedule
from pushops.wording import plural

MAX_CAMPAIGNS = 40  # listed one by one; the rest are counted
LOOP = 2  # mPaaS StrategyType of a loop


@dataclass
class Approved:
    """One campaign's share of the plan's sends."""

    campaign: str
    provider: str
    deliveries: int = 0
    calls: int = 0
    at_apply: int = 0  # deliveries sent when apply runs (no send time of their own)
    first: datetime | None = None  # the earliest send time of the others
    loops: list[str] = field(default_factory=list)  # distinct loops, in words

    def when(self) -> str:
        zone = default_zone(self.provider)
        parts = []
        if self.loops:
            more = f" (and {plural(len(self.loops) - 1, 'more loop')})" if self.loops[1:] else ""
            parts.append(f"loop: {self.loops[0]}{more}")
        if self.first is not None and not self.loops:
            parts.append(f"first at {moment_text(self.first, zone)}")
        if self.at_apply:
            parts.append("at apply" if self.at_apply == self.deliveries else
                         f"{self.at_apply:,} at apply")  # fmt: skip
        return "; ".join(parts)


def approved(plan: Plan) -> list[Approved]:
    """Every campaign the plan sends to, in the order apply sends them."""
    found: dict[str, Approved] = {}
    for provider, deliveries in plan.calls.summaries():
        seen: set[str] = set()
        for campaign, request, due_at in deliveries:
            item = found.get(campaign)
            if item is None:
                item = found[campaign] = Approved(campaign, provider)
            item.deliveries += 1
            if campaign not in seen:
                item.calls += 1
                seen.add(campaign)
            if provider == "mpaas" and request.get("StrategyType") == LOOP:
                words = mpaas_schedule(request)
                if words not in item.loops:
                    item.loops.append(words)
            elif due_at is None:
                item.at_apply += 1
            elif item.first is None or due_at < item.first:
                item.first = due_at
    return list(found.values())


def _row(cells: tuple[str, ...], widths: list[int]) -> str:
    first, *numbers, last = cells
    out = [first.ljust(widths[0])]
    out += [cell.rjust(width) for cell, width in zip(numbers, widths[1:-1], strict=True)]
    return "  ".join([*out, last]).rstrip()


def approval_lines(plan: Plan, doing: str = "Approving") -> list[str]:
    """The lines shown before apply asks (or sends a saved plan): the campaigns with their
    deliveries, calls and first send time or loop, the totals, then what else apply does
    (cancels, pending calls it settles). ``doing``: what apply is about to do with it."""
    items = approved(plan)
    sandbox = " (sandbox)" if plan.sandbox else ""
    lines = ["", f"{doing} in environment {plan.environment}{sandbox}:"]
    if items:
        header = ("CAMPAIGN", "DELIVERIES", "CALLS", "SENDS")
        rows = [
            (a.campaign, f"{a.deliveries:,}", f"{a.calls:,}", a.when())
            for a in items[:MAX_CAMPAIGNS]
        ]
        rest = items[MAX_CAMPAIGNS:]
        if rest:
            rows.append((
                f"… and {plural(len(rest), 'more campaign')}",
                f"{sum(a.deliveries for a in rest):,}", f"{sum(a.calls for a in rest):,}", "",
            ))  # fmt: skip
        total = ("total", f"{plan.calls.deliveries:,}", f"{len(plan.calls):,}", "")
        widths = [max(len(r[i]) for r in [header, *rows, total]) for i in range(4)]
        lines += ["  " + _row(r, widths) for r in [header, *rows, total]]
    else:
        lines.append("  nothing to send")
    contingent = min(plan.counts()[RESOLVE], plan.calls.deliveries)
    if contingent:
        # Planned in their current version in case settling finds the old call never left.
        lines.append(
            f"  of which up to {plural(contingent, 'delivery')} "
            f"{'goes' if contingent == 1 else 'go'} out only if settling finds that "
            f"{'its' if contingent == 1 else 'their'} pending call never did"
        )
    also = []
    if plan.cancels:
        also.append(f"cancel {plural(len(plan.cancels), 'scheduled push', 'scheduled pushes')}")
    if plan.resolves:
        also.append(f"settle {plural(len(plan.resolves), 'pending call')} an interrupted run left")
    if also:
        lines.append(f"  and {' and '.join(also)}")
    return lines
