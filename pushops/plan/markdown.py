"""The plan as a pull-request comment (and job summary): summary table first, then one folded
section per campaign with its message cards, blocked and replaced deliveries open.

GitHub refuses comments of 65,536 characters or more (UTF-16 code units). The comment is
built at full detail, then sections give up detail, least important first (the last campaigns
in reading order, which puts blocked ones first): key lists, then card extras, then the cards
themselves, then the section down to a line. Never dropped: the summary (its table lists every
campaign, or every blocked one and the totals when even that is too long), and every blocked
delivery's count and reason. A note says what was left out and where the full report is.

Everything user-controlled goes through :mod:`pushops.plan.mdescape`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from pushops.campaign import Campaign
from pushops.config import Config
from pushops.params import is_digits
from pushops.plan import mdescape as esc
from pushops.plan.cards import Card, cards, summary
from pushops.plan.diff import format_diff
from pushops.plan.engine import iso
from pushops.plan.findings import Finding, unblock_hint
from pushops.plan.grouped import (
    CampaignGroup,
    MessageGroup,
    PlanView,
    action_order,
    group_plan,
)
from pushops.plan.mask import mask
from pushops.plan.model import (
    BLOCKED,
    CANCEL,
    INFLIGHT,
    NOOP,
    REPLACE,
    SEND,
    Plan,
    resend_reason,
    summary_line,
)
from pushops.plan.text import in_progress_note, no_changes_line
from pushops.plan.words import (
    blocking_phrase,
    counts_phrase,
    finding_scope,
    level_words,
    override_line,
    where,
)
from pushops.preview.schedule import moment_text
from pushops.wording import plural

MARKER = "<!-- pushops-plan -->"  # what pushops/github.py finds the comment by
LIMIT = 65_536
RESERVE = 1_500  # room for the closing note
LEVELS = (3, 2, 1, 0)  # detail of a campaign section, full to one line
CORE_FIELDS = ("Title", "Subtitle", "Body", "Template", "Template values", "Opens")
OPEN_ACTIONS = (BLOCKED, REPLACE)  # sections holding these are open by default
ICONS = {"hard": "⛔", "soft": "⛔", "advisory": "⚠️"}


def size(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@dataclass(frozen=True)
class ReportLink:
    """Where the full (HTML) report of this plan is, as the comment says it."""

    text: str  # Markdown, already safe
    url: str | None = None


_SERVER = re.compile(r"^https://[A-Za-z0-9.-]+(:[0-9]+)?$")
_REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


def report_link(report: str | None, environ: Mapping[str, str] | None = None) -> ReportLink:
    """The sentence saying where the full report is: in GitHub Actions, this workflow run's
    artifacts (linked; only a URL built from well-formed runner variables); elsewhere, how
    to make it."""
    env = os.environ if environ is None else environ
    server = env.get("GITHUB_SERVER_URL", "")
    repo = env.get("GITHUB_REPOSITORY", "")
    run = env.get("GITHUB_RUN_ID", "")
    name = esc.code(os.path.basename(report)) if report else "the HTML report"
    if (
        env.get("GITHUB_ACTIONS") == "true"
        and _SERVER.match(server)
        and _REPO.match(repo)
        and is_digits(run)
    ):
        url = f"{server}/{repo}/actions/runs/{run}"
        return ReportLink(
            f"Full report with notification previews: {name} in the "
            f"[artifacts of this workflow run]({url}).",
            url,
        )
    if report:
        return ReportLink(f"Full report with notification previews: {name}.")
    return ReportLink(
        "Full report with notification previews: `pushops plan --report report.html`."
    )


# ------------------------------------------------------------------ the summary


def _recipients(camp: CampaignGroup) -> str:
    parts = []
    if camp.recipients:
        parts.append(f"{camp.recipients:,}")
    if camp.broadcasts:
        parts.append(f"{camp.broadcasts:,} broadcast{'s' if camp.broadcasts > 1 else ''}")
    return " + ".join(parts) or "–"


def _first_send(camp: CampaignGroup) -> str:
    if camp.at_apply:
        return "at apply"
    moment = camp.first_send
    return moment_text(moment, camp.zone) if moment else "–"


def _other(counts: Mapping[str, int]) -> str:
    rest = {a: n for a, n in counts.items() if a not in (SEND, REPLACE, CANCEL, BLOCKED) and n}
    return counts_phrase(rest) if rest else ""  # type: ignore[arg-type]


def _row(camp: CampaignGroup) -> str:
    c = camp.counts()
    blocked = f"**{c[BLOCKED]:,}**" if c[BLOCKED] else "0"
    return (
        f"| {esc.code(camp.campaign, cell=True)} | {c[SEND]:,} | {c[REPLACE]:,} | "
        f"{c[CANCEL]:,} | {blocked} | {_recipients(camp)} | {_first_send(camp)} | "
        f"{_other(c)} |"
    )


TABLE_HEAD = (
    "| campaign | send | replace | cancel | blocked | recipients | first send | also |",
    "|---|--:|--:|--:|--:|--:|---|---|",
)


def _table(view: PlanView, plan: Plan, budget: int) -> str:
    rows = [_row(c) for c in view.campaigns]
    counts = plan.counts()
    total_recipients = sum(c.recipients for c in view.campaigns)
    total_broadcasts = sum(c.broadcasts for c in view.campaigns)
    recips = f"{total_recipients:,}" + (
        f" + {total_broadcasts:,} broadcasts" if total_broadcasts else ""
    )
    total = (
        f"| **total** | {counts[SEND]:,} | {counts[REPLACE]:,} | {counts[CANCEL]:,} | "
        f"{counts[BLOCKED]:,} | {recips} | | {_other(counts)} |"
    )
    text = "\n".join([*TABLE_HEAD, *rows, total])
    if size(text) <= budget:
        return text + "\n"
    # Too many campaigns for the comment: every blocked one, then as many others as fit.
    kept = [_row(c) for c in view.campaigns if c.blocked]
    others = [c for c in view.campaigns if not c.blocked]
    out = [*TABLE_HEAD, *kept]
    for camp in others:
        if size("\n".join([*out, _row(camp), total])) > budget - 200:
            break
        out.append(_row(camp))
    left = len(view.campaigns) - (len(out) - len(TABLE_HEAD))
    out.append(f"| … {left:,} more campaigns (see the full report) | | | | | | | |")
    out.append(total)
    return "\n".join(out) + "\n"


def _finding(f: Finding, secrets: tuple[str, ...], short: bool = False) -> str:
    message = mask(f.message, secrets)
    if short and len(message) > 300:
        message = message[:300] + "…"
    place = where(f)
    at = f" at {esc.code(place)}" if place else ""
    key = f", e.g. {esc.code(mask(f.key, secrets))}" if f.key else ""
    scope = finding_scope(Finding(f.source, f.level, "", count=f.count, kind=f.kind))
    return (
        f"- {ICONS.get(f.level, '•')} **{esc.text(level_words(f))}** "
        f"{esc.code(f.source)}{at}: {esc.text(message)} ({scope}{key})"
    )


def _head(
    plan: Plan, view: PlanView, link: ReportLink, secrets: tuple[str, ...], budget: int
) -> str:
    sandbox = " (sandbox)" if plan.sandbox else ""
    commit = f" at {esc.code(plan.git_commit[:12])}" if plan.git_commit else ""
    lines = [
        MARKER,
        f"## pushops plan: {esc.code(plan.environment)}{sandbox}{commit}",
        "",
        f"**{esc.text(summary_line(plan))}**",
        "",
    ]
    blocking = [f for f in plan.findings if f.blocks]
    stopped = blocking_phrase(plan)
    if stopped:
        lines += [
            "> [!CAUTION]",
            f"> {stopped}: apply refuses this plan until they are fixed (details below, open).",
        ]
        hint = unblock_hint(plan.findings)
        if hint:
            lines.append(f"> Policies: {esc.text(hint)}.")
        lines.append("")
    held = len(plan.blocked) - len(plan.refusals)
    if held:
        lines += [
            "> [!WARNING]",
            f"> {plural(held, 'delivery')} {'is' if held == 1 else 'are'} held until "
            "`pushops state resolve`; apply sends the rest without them.",
            "",
        ]
    note = in_progress_note(plan)
    if note:
        lines += ["> [!NOTE]", f"> {esc.text(note)}", ""]
    if not plan.has_changes and not plan.blocked:
        lines += [no_changes_line(plan), ""]
    out = "\n".join(lines) + "\n"
    if view.campaigns:
        out += _table(view, plan, budget // 2) + "\n"
    warnings = sum(1 for f in plan.findings if not f.blocks)
    if plan.findings:
        out += (
            f"**Findings:** {len(blocking):,} blocking, {plural(warnings, 'warning')}"
            + (" (per campaign below)." if any(f.campaign for f in plan.findings) else ".")
            + "\n"
        )
        out += "".join(_finding(f, secrets) + "\n" for f in view.findings) + "\n"
    if plan.overrides:
        out += "**Policy overrides on record** (latest first):\n\n"
        out += "".join(f"- {esc.text(override_line(o))}\n" for o in plan.overrides) + "\n"
    if plan.resolves:
        pending = plural(len(plan.resolves), "pending call")
        out += f"{pending} from an interrupted run to settle first.\n\n"
    out += (
        f"<sub>ledger {esc.html(plan.lineage)} serial {plan.serial}, planned with now = "
        f"{iso(plan.now)}.</sub>\n\n{link.text}\n\n"
    )
    return out


# ------------------------------------------------------------------ campaign sections


def _card(card: Card, level: int, numbered: str) -> list[str]:
    rows = [(n, v) for n, v in card.fields if level >= 3 or n in CORE_FIELDS]
    if level >= 3:
        rows += [("Cut", note) for note in card.cuts]
        rows += [("⚠️ Refused by", r) for r in card.refusals]
    if not rows:
        rows = [("Key", card.key)]
    label = f"{numbered}{esc.text(card.label)}"
    head_name, head_value = rows[0]
    lines = [label, ""] if numbered or card.label.startswith("sample") else []
    lines.append(f"| **{esc.text(head_name)}** | **{esc.text(head_value, cell=True)}** |")
    lines.append("|---|---|")
    for name, value in rows[1:]:
        lines.append(f"| {esc.text(name)} | {esc.text(value, cell=True)} |")
    return [*lines, ""]


def _listed(group: MessageGroup, action: str, level: int, secrets: tuple[str, ...]) -> list[str]:
    total = group.counts[action]
    kept = group.listed.get(action, [])
    show = kept if level >= 3 else kept[:10] if level == 2 else kept[:3]
    out = [f"**{esc.text(action)}** ({total:,}):", ""]
    for index, item in enumerate(show):
        key = esc.code(mask(item.key, secrets))
        out.append(f"- {key}: {esc.text(mask(item.reason, secrets))}")
        if item.diff and (level >= 3 or (level == 2 and index < 3)):
            diff = "\n".join(format_diff(mask(item.diff, secrets), indent=""))
            out.extend("  " + line for line in esc.fence(diff, "diff").split("\n"))
    if total > len(show):
        out.append(
            f"- … and {total - len(show):,} more (the full report and "
            "`pushops plan --format json` list them)"
        )
    return [*out, ""]


def _message(
    group: MessageGroup, camp: CampaignGroup, level: int, secrets: tuple[str, ...]
) -> list[str]:
    facts = summary(group, camp.zone)
    parts = [counts_phrase(group.counts)]
    if group.deliveries:
        parts += facts.phrases()
    lines = [f"#### {esc.code(group.message)} · " + esc.text(" · ".join(p for p in parts if p)), ""]
    if group.deliveries and level >= 2:
        shown = cards(group, camp.zone, secrets)
        for index, card in enumerate(shown, 1):
            numbered = f"**{index}.** " if len(shown) > 1 else ""
            lines.extend(_card(card, level, numbered))
    elif group.deliveries and level == 1:
        first = next(iter(cards(group, camp.zone, secrets)), None)
        if first is not None:
            lines += [f"> {esc.text(first.headline)}", ""]
    for action in sorted(group.counts, key=action_order):
        if action in (SEND, NOOP, INFLIGHT) or not group.counts[action]:
            continue  # in-flight: the run in progress records them (counted in the summary)
        if action == BLOCKED or level >= 1:
            lines.extend(_listed(group, action, max(level, 1), secrets))
    if level >= 3:
        routine = [(a, group.listed.get(a, [])) for a in (SEND, NOOP) if group.counts[a]]
        if routine:
            lines.append(
                f"<details><summary>Deliveries ({esc.html(counts_phrase(group.counts))})"
                "</summary>\n"
            )
            for action, kept in routine:
                for item in kept:
                    why = resend_reason(item)
                    note = f": {esc.text(mask(why, secrets))}" if why else ""
                    lines.append(f"- {esc.text(action)} {esc.code(mask(item.key, secrets))}{note}")
                if group.counts[action] > len(kept):
                    lines.append(
                        f"- … and {group.counts[action] - len(kept):,} more {esc.text(action)}"
                    )
            lines += ["", "</details>", ""]
    return lines


def _section(camp: CampaignGroup, level: int, secrets: tuple[str, ...]) -> str:
    counts = camp.counts()
    opened = any(counts[a] for a in OPEN_ACTIONS) or any(f.blocks for f in camp.findings)
    about = [counts_phrase(counts)]
    if camp.recipients or camp.broadcasts:
        about.append(f"recipients {_recipients(camp)}")
    if counts[SEND] or counts[REPLACE]:
        about.append(_first_send(camp))
    if camp.file:
        about.append(camp.file)
    if camp.removed:
        about.append("removed from the campaigns")
    head = (
        f"<details{' open' if opened else ''}><summary><b>{esc.html(camp.campaign)}</b> · "
        f"{esc.html(' · '.join(about))}</summary>\n"
    )
    lines = [head]
    if level == 0:
        for group in camp.messages.values():
            if group.counts[BLOCKED]:
                lines.extend(_listed(group, BLOCKED, 0, secrets))
        lines += ["Details left out to fit the comment: see the full report.", "", "</details>", ""]
        return "\n".join(lines) + "\n"
    if camp.description and level >= 2:
        lines += [f"> {esc.text(camp.description)}", ""]
    for group in camp.messages.values():
        lines.extend(_message(group, camp, level, secrets))
    if camp.findings:
        lines += ["**Findings**", ""]
        lines += [_finding(f, secrets, short=level < 3) for f in camp.findings]
        lines.append("")
    lines += ["</details>", ""]
    return "\n".join(lines) + "\n"


def render_markdown(
    plan: Plan,
    campaigns: Iterable[Campaign] | None = None,
    config: Config | None = None,
    secrets: Iterable[str] = (),
    *,
    view: PlanView | None = None,
    link: ReportLink | None = None,
    limit: int = LIMIT,
) -> str:
    """The comment, under ``limit`` UTF-16 code units (mask the result too)."""
    secrets = tuple(secrets)
    view = view if view is not None else group_plan(plan, campaigns, config)
    link = link if link is not None else report_link(None, {})
    budget = limit - RESERVE
    head = _head(plan, view, link, secrets, budget)
    order = [c for c in view.by_attention() if not c.unchanged]  # the table lists the rest
    levels = [LEVELS[0]] * len(order)
    rendered = [_section(c, levels[i], secrets) for i, c in enumerate(order)]
    total = size(head) + sum(size(s) for s in rendered)
    # Give up detail from the last section upward, one level at a time, until it fits.
    for step in LEVELS[1:]:
        for index in range(len(order) - 1, -1, -1):
            if total <= budget:
                break
            before = size(rendered[index])
            levels[index] = step
            rendered[index] = _section(order[index], step, secrets)
            total += size(rendered[index]) - before
    dropped = 0
    if total > budget:
        # Still too long: sections without blocked deliveries go (the table lists them).
        for index in range(len(order) - 1, -1, -1):
            if total <= budget:
                break
            if order[index].blocked == 0 and rendered[index]:
                total -= size(rendered[index])
                rendered[index] = ""
                dropped += 1
    out = head + "".join(rendered)
    reduced = sum(1 for lvl in levels if lvl < LEVELS[0])
    if reduced or dropped:
        note = (
            f"> [!NOTE]\n> Shortened to stay under GitHub's {limit:,}-character comment limit: "
            f"{plural(reduced - dropped, 'campaign section')} "
            f"show{'s' if reduced - dropped == 1 else ''} less detail"
            + (f", {dropped:,} are only in the table above" if dropped else "")
            + f". {link.text}\n"
        )
        out += note
    if size(out) >= limit:
        out = _cut(out, limit, link)
    return out


def _cut(text: str, limit: int, link: ReportLink) -> str:
    """Last resort (a single section too long to fit): cut at a line, close what was open."""
    note = f"\n\n> [!WARNING]\n> Cut to fit GitHub's comment limit. {link.text}\n"
    room = limit - size(note) - 200
    kept: list[str] = []
    used = 0
    fence = ""
    for line in text.split("\n"):
        used += size(line) + 1
        if used > room:
            break
        kept.append(line)
        marks = line.lstrip()
        if marks.startswith("```"):
            run = len(marks) - len(marks.lstrip("`"))
            if not fence:
                fence = "`" * run
            elif run >= len(fence) and not marks.strip("`"):
                fence = ""
    head = "\n".join(kept)
    closing = f"\n{fence}" if fence else ""
    opened = head.count("<details") - head.count("</details>")
    closing += "\n</details>" * max(opened, 0)
    return head + closing + note
