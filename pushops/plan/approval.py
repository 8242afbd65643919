"""What a person approves when apply asks (or a saved plan file carries): per campaign, what
goes out and when, then the totals.

Counted from the plan's calls as they are made (pushops.plan.model.SendTally), not from its
actions: the calls are exactly what apply will send, and a saved plan file carries the tally
(signed with the rest), so the list is the same for a fresh plan and for the file made from
it, and apply shows it without reading a million deliveries first.
"""

from __future__ import annotations

from pushops.plan.grouped import default_zone
from pushops.plan.model import RESOLVE, CampaignSends, Plan
from pushops.preview.schedule import moment_text, mpaas_schedule
from pushops.wording import plural

MAX_CAMPAIGNS = 40  # listed one by one; the rest are counted


def when(item: CampaignSends) -> str:
    """When a campaign's deliveries go out, in words."""
    zone = default_zone(item.provider)
    loops = list(dict.fromkeys(mpaas_schedule(schedule) for schedule in item.loops))
    parts = []
    if loops:
        more = f" (and {plural(len(loops) - 1, 'more loop')})" if loops[1:] else ""
        parts.append(f"loop: {loops[0]}{more}")
    if item.first is not None and not loops:
        parts.append(f"first at {moment_text(item.first, zone)}")
    if item.at_apply:
        parts.append("at apply" if item.at_apply == item.deliveries else
                     f"{item.at_apply:,} at apply")  # fmt: skip
    return "; ".join(parts)


def _row(cells: tuple[str, ...], widths: list[int]) -> str:
    first, *numbers, last = cells
    out = [first.ljust(widths[0])]
    out += [cell.rjust(width) for cell, width in zip(numbers, widths[1:-1], strict=True)]
    return "  ".join([*out, last]).rstrip()


def approval_lines(plan: Plan, doing: str = "Approving") -> list[str]:
    """The lines shown before apply asks (or sends a saved plan): the campaigns with their
    deliveries, calls and first send time or loop, the totals, then what else apply does
    (cancels, pending calls it settles). ``doing``: what apply is about to do with it."""
    items = plan.calls.sends()
    sandbox = " (sandbox)" if plan.sandbox else ""
    lines = ["", f"{doing} in environment {plan.environment}{sandbox}:"]
    if items:
        header = ("CAMPAIGN", "DELIVERIES", "CALLS", "SENDS")
        rows = [
            (a.campaign, f"{a.deliveries:,}", f"{a.calls:,}", when(a))
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
