"""The plan for a terminal: what goes out, grouped by campaign and message, then a count line.

Each message shows its distinct texts (or, personalised, three samples) with their fields,
where devices cut them and which vendor channels refuse them; deliveries that need attention
(blocked, replace, cancel, resolve, skip) are listed by key with the reason and the field
diff, up to a bound per message. Sends and unchanged deliveries are counted: a fan-out of
100,000 rows is a few lines, and ``--format json`` lists every key.
"""

from __future__ import annotations

from collections.abc import Iterable

from pushops.campaign import Campaign
from pushops.config import Config
from pushops.plan.cards import Card, cards, summary
from pushops.plan.diff import format_diff
from pushops.plan.engine import iso
from pushops.plan.findings import Finding, unblock_hint
from pushops.plan.grouped import CampaignGroup, MessageGroup, PlanView, action_order, group_plan
from pushops.plan.model import INFLIGHT, NOOP, SEND, Plan, resend_reason, summary_line
from pushops.plan.words import (
    JSON_HINT,
    counts_phrase,
    finding_scope,
    level_words,
    override_line,
    where,
)
from pushops.preview.text import one_line
from pushops.wording import plural

SYMBOLS = {
    "send": "+",
    "replace": "~",
    "cancel": "-",
    "resolve": "?",
    "skip": "!",
    "blocked": "x",
}
WIDTH = max(len(a) for a in SYMBOLS)
LABEL = 16  # field names are padded to this


def in_progress_note(plan: Plan) -> str | None:
    """One line for a plan made while another run held the ledger lock."""
    if plan.in_progress is None:
        return None
    flying = plan.counts()[INFLIGHT]
    what = f"; {plural(flying, 'delivery')} it wrote ahead are in flight" if flying else ""
    return (
        f"Note: {plan.in_progress.describe()}{what}. This plan shows the ledger as it was "
        "mid-run: plan again when that run is done."
    )


def no_changes_line(plan: Plan) -> str:
    """What a plan with nothing to do says: the ledger matches the campaigns, unless another
    run is sending some of them right now (it records them; they are not settled yet)."""
    flying = plan.counts()[INFLIGHT]
    if flying:
        return (
            f"No changes beyond the {plural(flying, 'delivery')} the run in progress is sending "
            "(it records them)."
        )
    return "No changes. The ledger matches the campaigns."


def header(plan: Plan) -> str:
    commit = f", commit {plan.git_commit[:12]}" if plan.git_commit else ""
    sandbox = " [sandbox]" if plan.sandbox else ""
    return (
        f"pushops plan for environment {plan.environment}{sandbox} (ledger {plan.lineage} "
        f"serial {plan.serial}{commit}, now {iso(plan.now)})"
    )


def _card(card: Card, indent: str, numbered: str) -> list[str]:
    lines = [f"{indent}{numbered}{card.label}"] if numbered else []
    inner = indent + ("  " if numbered else "")
    for name, value in card.fields:
        lines.append(f"{inner}{name:<{LABEL}}{one_line(value)}")
    for note in card.cuts:
        lines.append(f"{inner}{'Cut':<{LABEL}}{note}")
    for refusal in card.refusals:
        lines.append(f"{inner}{'Refused by':<{LABEL}}{refusal}")
    return lines


def _keys(group: MessageGroup, indent: str) -> list[str]:
    lines = []
    for action in sorted(group.counts, key=action_order):
        total = group.counts[action]
        kept = group.listed.get(action, [])
        symbol = SYMBOLS.get(action, " ")
        if action in (SEND, NOOP) and total > len(kept):
            if action == SEND:
                lines.append(f"{indent}{symbol} {action:<{WIDTH}}  {total:,} deliveries")
            continue
        if action == NOOP:
            continue
        if action == INFLIGHT:  # the run in progress records them: counted, never listed
            lines.append(f"{indent}  {action:<{WIDTH}}  {plural(total, 'delivery')}")
            continue
        for item in kept:
            lines.append(f"{indent}{symbol} {action:<{WIDTH}}  {one_line(item.key)}")
            why = item.reason if action != SEND else resend_reason(item)
            if why:
                lines.append(f"{indent}    {one_line(why)}")
            if item.diff:
                lines.extend(format_diff(item.diff, indent=indent + "      "))
        if total > len(kept):
            lines.append(f"{indent}  … and {total - len(kept):,} more {action} ({JSON_HINT})")
    return lines


def _message(group: MessageGroup, camp: CampaignGroup, secrets: tuple[str, ...]) -> list[str]:
    facts = summary(group, camp.zone)
    head = f"  {group.message}: {counts_phrase(group.counts)}"
    lines = [head]
    if group.deliveries:
        lines.append("    " + "; ".join(facts.phrases()))
        shown = cards(group, camp.zone, secrets)
        for index, card in enumerate(shown, 1):
            numbered = f"[{index}] " if len(shown) > 1 or group.personalised else ""
            lines.extend(_card(card, "    ", numbered))
    lines.extend(_keys(group, "    "))
    return lines


def _findings(findings: Iterable[Finding], indent: str) -> list[str]:
    """``warning: campaigns/x.yaml:18:12: MESSAGE [source] (6 deliveries, e.g. KEY)``."""
    lines = []
    for f in findings:
        place = where(f)
        lines.append(
            f"{indent}{level_words(f)}: {place + ': ' if place else ''}{one_line(f.message)} "
            f"[{f.source}] ({one_line(finding_scope(f))})"
        )
    return lines


def _campaign(camp: CampaignGroup, secrets: tuple[str, ...]) -> list[str]:
    about = [camp.file or "", f"app {camp.app}" if camp.app else ""]
    if camp.removed:
        about.append("removed from the campaigns")
    context = ", ".join(a for a in about if a)
    lines = [
        f"{camp.campaign}: {counts_phrase(camp.counts())}" + (f"  ({context})" if context else "")
    ]
    if camp.description:
        lines.append(f"  {one_line(camp.description)}")
    for group in camp.messages.values():
        lines.extend(_message(group, camp, secrets))
    lines.extend(_findings(camp.findings, "  "))
    return lines


def render_text(
    plan: Plan,
    campaigns: Iterable[Campaign] | None = None,
    config: Config | None = None,
    secrets: Iterable[str] = (),
    view: PlanView | None = None,
) -> str:
    """The plan as text (mask the result too: reasons and keys are not masked here)."""
    secrets = tuple(secrets)
    view = view if view is not None else group_plan(plan, campaigns, config)
    lines = [header(plan), ""]
    note = in_progress_note(plan)
    if note:
        lines += [note, ""]
    quiet = [c for c in view.campaigns if c.unchanged]
    for camp in view.campaigns:
        if not camp.unchanged:
            lines.extend(_campaign(camp, secrets))
            lines.append("")
    if quiet:
        named = ", ".join(f"{c.campaign} ({c.counts()[NOOP]:,})" for c in quiet[:20])
        more = f" and {len(quiet) - 20:,} more" if len(quiet) > 20 else ""
        lines += [f"Unchanged: {len(quiet):,} campaign(s): {named}{more}.", ""]
    if view.findings:
        lines.extend(_findings(view.findings, ""))
        lines.append("")
    if plan.overrides:
        lines.append("Policy overrides on record (latest first):")
        lines.extend(f"  {one_line(override_line(o))}" for o in plan.overrides)
        lines.append("")
    if plan.resolves:
        lines.append(
            f"{plural(len(plan.resolves), 'pending call')} from an interrupted run to settle "
            "first (see the resolve entries)."
        )
    if not plan.has_changes and not plan.blocked:
        lines.append(no_changes_line(plan))
    lines.append(summary_line(plan))
    if plan.refusals:
        lines.append(
            f"Error: {plural(len(plan.refusals), 'delivery')} blocked; apply refuses this plan "
            "until they are fixed (see the reasons above)."
        )
    held = len(plan.blocked) - len(plan.refusals)
    if held:
        lines.append(
            f"Error: {plural(held, 'delivery')} held until `pushops state resolve`; apply sends "
            "the rest without them."
        )
    blocking = [f for f in plan.findings if f.blocks]
    if blocking:
        hint = unblock_hint(plan.findings)
        lines.append(f"Error: {plural(len(blocking), 'finding')} block apply (see above): {hint}.")
    return "\n".join(lines) + "\n"
