"""The plan as a pull-request comment: summary table first, details folded, a hidden marker.

GitHub refuses comments of 65,536 characters or more (UTF-16 code units). Lists are cut to
fit, longest detail sections last, and a note says how many entries of which action were
left out and where to see them all.
"""

from __future__ import annotations

from collections import defaultdict

from pushops.plan.diff import format_diff
from pushops.plan.engine import iso
from pushops.plan.model import ACTIONS, BLOCKED, NOOP, Action, Plan, summary_line

MARKER = "<!-- pushops-plan -->"  # what pushops/github.py finds the comment by
LIMIT = 65_536
RESERVE = 2_000  # room for the closing lines and the cut note


def size(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _item(action: Action) -> str:
    lines = [f"- `{action.key}`: {action.reason}"]
    if action.diff:
        lines.append("  ```diff")
        lines.extend(format_diff(action.diff, indent="  "))
        lines.append("  ```")
    return "\n".join(lines) + "\n"


def render_markdown(plan: Plan, limit: int = LIMIT) -> str:
    counts = plan.counts()
    sandbox = " (sandbox)" if plan.sandbox else ""
    commit = f" at `{plan.git_commit[:12]}`" if plan.git_commit else ""
    head = [
        MARKER,
        f"## pushops plan: `{plan.environment}`{sandbox}{commit}",
        "",
        "| action | deliveries |",
        "|---|---:|",
        *(f"| {name} | {counts[name]} |" for name in ACTIONS),
        "",
        f"**{summary_line(plan)}**",
        "",
    ]
    if plan.refusals:
        head += [
            "> [!CAUTION]",
            f"> {len(plan.refusals)} delivery(ies) are blocked: apply refuses this plan until "
            "they are fixed.",
            "",
        ]
    if not plan.has_changes and not plan.blocked:
        head += ["No changes. The ledger matches the campaigns.", ""]
    head.append(
        f"<sub>ledger `{plan.lineage}` serial {plan.serial}, planned with now = "
        f"{iso(plan.now)}</sub>"
    )
    head.append("")
    out = "\n".join(head) + "\n"
    groups: dict[str, list[Action]] = defaultdict(list)
    for action in plan.actions:
        if action.action != NOOP:
            groups[action.action].append(action)
    cut: dict[str, int] = {}
    budget = limit - RESERVE
    for name in ACTIONS:
        items = groups.get(name)
        if not items:
            continue
        opened = "open " if name == BLOCKED else ""
        section = f"<details {opened}><summary>{name} ({len(items)})</summary>\n\n".replace(
            "<details >", "<details>"
        )
        shown = 0
        for action in items:
            entry = _item(action)
            if size(out) + size(section) + size(entry) + 20 > budget:
                break
            section += entry
            shown += 1
        if shown < len(items):
            cut[name] = len(items) - shown
            section += f"- … and {len(items) - shown} more\n"
        out += section + "\n</details>\n\n"
    if cut:
        what = ", ".join(f"{n} {name}" for name, n in cut.items())
        out += (
            f"> [!WARNING]\n> Cut to stay under GitHub's {limit:,}-character comment limit: "
            f"{what} entries are not listed. `pushops plan --format json` lists every "
            "delivery.\n"
        )
    return out
