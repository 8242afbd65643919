"""The plan as Terraform-like text: one line per change, diffs under it, a count line.

Unchanged deliveries are counted, not listed (a fan-out of 100,000 unchanged rows is one
number, not a screenful).
"""

from __future__ import annotations

from pushops.plan.diff import format_diff
from pushops.plan.engine import iso
from pushops.plan.model import NOOP, Plan, summary_line

SYMBOLS = {
    "send": "+",
    "replace": "~",
    "cancel": "-",
    "resolve": "?",
    "skip": "!",
    "blocked": "x",
}


def header(plan: Plan) -> str:
    commit = f", commit {plan.git_commit[:12]}" if plan.git_commit else ""
    sandbox = " [sandbox]" if plan.sandbox else ""
    return (
        f"pushops plan for environment {plan.environment}{sandbox} (ledger {plan.lineage} "
        f"serial {plan.serial}{commit}, now {iso(plan.now)})"
    )


def render_text(plan: Plan) -> str:
    lines = [header(plan), ""]
    width = max((len(a) for a in SYMBOLS), default=7)
    for action in plan.actions:
        if action.action == NOOP:
            continue
        symbol = SYMBOLS.get(action.action, " ")
        lines.append(f"  {symbol} {action.action:<{width}}  {action.key}")
        lines.append(f"      {action.reason}")
        if action.diff:
            lines.extend(format_diff(action.diff, indent="        "))
    if plan.resolves:
        lines.append("")
        lines.append(
            f"  {len(plan.resolves)} pending call(s) from an interrupted run to settle first."
        )
    if not plan.has_changes and not plan.blocked:
        lines.append("No changes. The ledger matches the campaigns.")
    lines.append("")
    lines.append(summary_line(plan))
    if plan.refusals:
        lines.append(
            f"Error: {len(plan.refusals)} delivery(ies) blocked; apply refuses this plan until "
            "they are fixed (see the reasons above)."
        )
    held = len(plan.blocked) - len(plan.refusals)
    if held:
        lines.append(
            f"Error: {held} delivery(ies) held until `pushops state resolve`; apply sends the "
            "rest without them."
        )
    return "\n".join(lines) + "\n"
