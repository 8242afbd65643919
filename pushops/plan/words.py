"""The plan's words, shared by every view so text, Markdown, JSON and HTML say the same."""

from __future__ import annotations

from collections import Counter

from pushops.plan.findings import ADVISORY, HARD, SOFT, Finding
from pushops.plan.grouped import action_order
from pushops.plan.model import Plan
from pushops.wording import plural

ACTION_WORDS = {
    "send": "to send",
    "replace": "to replace",
    "cancel": "to cancel",
    "resolve": "to resolve",
    "skip": "to skip",
    "blocked": "blocked",
    "no-op": "unchanged",
}
JSON_HINT = "`pushops plan --format json` lists every delivery"


def action_words(action: str) -> str:
    return ACTION_WORDS.get(action, action)


def counts_phrase(counts: Counter[str]) -> str:
    """``2 to send, 1 blocked, 3 unchanged`` (actions that occur, most urgent first)."""
    names = sorted((a for a, n in counts.items() if n), key=action_order)
    return ", ".join(f"{counts[a]:,} {action_words(a)}" for a in names) or "nothing"


def level_words(finding: Finding) -> str:
    """What a finding's level means for this run."""
    if finding.level == HARD:
        return "error (blocks apply)"
    if finding.level == SOFT:
        if finding.override_reason is not None:
            who = f" by {finding.override_actor}" if finding.override_actor else ""
            return f"overridden{who}: {finding.override_reason}"
        return "error (blocks apply unless overridden)"
    if finding.level == ADVISORY:
        return "warning"
    return finding.level


def where(finding: Finding) -> str:
    """``campaigns/x.yaml:12:5`` (or just the file, or '')."""
    if not finding.file:
        return ""
    if finding.line is None:
        return finding.file
    column = f":{finding.column}" if finding.column is not None else ""
    return f"{finding.file}:{finding.line}{column}"


def finding_scope(finding: Finding) -> str:
    """``1,200 deliveries, e.g. staging/x/r1/m/k`` (a policy counts recipients)."""
    if finding.kind is not None:
        unit = "recipient" if finding.count == 1 else "recipients"
    else:
        unit = "delivery" if finding.count == 1 else "deliveries"
    example = f", e.g. {finding.key}" if finding.key else ""
    return f"{finding.count:,} {unit}{example}"


def override_line(item: dict[str, object]) -> str:
    """One override on record: ``2026-11-22T09:00:00Z big (soft) by alice: launch day``."""
    return (
        f"{item['created_at']} {item['policy']} ({item['level']}) overridden by "
        f"{item['actor']}: {item['reason']}"
    )


def blocking_phrase(plan: Plan) -> str | None:
    """What keeps apply from taking ``plan`` ("1 delivery is blocked; 2 findings block
    apply"), as every plan view says it; None when nothing does."""
    what = []
    if plan.refusals:
        n = len(plan.refusals)
        what.append(f"{plural(n, 'delivery')} {'is' if n == 1 else 'are'} blocked")
    blocking = sum(1 for f in plan.findings if f.blocks)
    if blocking:
        what.append(f"{plural(blocking, 'finding')} block apply")
    return "; ".join(what) or None
