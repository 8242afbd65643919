"""The plan as one self-contained HTML page: the report a reviewer opens from the pull request.

The summary first, then per campaign its messages as device mock-ups (Android shade collapsed
and expanded, iOS lock screen and banner, HarmonyOS), each cut where that device cuts it
(``pushops/preview``), with every field as sent, the vendor channels that refuse it, the
findings, and the field diffs of blocked and replaced deliveries.

No external assets (styles inline, no scripts, no fonts, no images: a picture URL is shown as
text, never fetched) and a Content-Security-Policy that forbids loading anything, so the page
works offline from a downloaded artifact and cannot call out whatever a campaign holds. Every
user-controlled string is HTML-escaped, with invisible characters shown. It prints well.
"""

from __future__ import annotations

import html as _html
from collections.abc import Iterable

from pushops.campaign import Campaign
from pushops.config import Config
from pushops.plan.cards import Card, MessageSummary, cards, summary
from pushops.plan.diff import format_diff
from pushops.plan.engine import iso
from pushops.plan.findings import Finding
from pushops.plan.grouped import CampaignGroup, MessageGroup, PlanView, action_order, group_plan
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
from pushops.plan.words import blocking_phrase, counts_phrase, finding_scope, level_words, where
from pushops.preview.data import display_profiles, vendor_limits
from pushops.preview.schedule import moment_text
from pushops.preview.surfaces import Surface
from pushops.preview.text import reveal
from pushops.wording import plural

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'"
OPEN_ACTIONS = (BLOCKED, REPLACE)


def e(value: object) -> str:
    """Escape for HTML text and attribute values, invisible characters shown."""
    return _html.escape(reveal(str(value)), quote=True)


def _lines(value: str) -> str:
    return e(value).replace("\n", "<br>")


STYLE = """
:root { --ink:#1f2328; --muted:#59636e; --line:#d1d9e0; --bg:#f6f8fa; --warn:#9a6700;
  --warnbg:#fff8c5; --bad:#d1242f; --badbg:#ffebe9; --ok:#1a7f37; --accent:#0969da; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans",
  "Noto Sans CJK SC", sans-serif; color: var(--ink); background: #fff; }
main { max-width: 1120px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 32px 0 8px; padding-bottom: 6px;
  border-bottom: 1px solid var(--line); }
h3 { font-size: 15px; margin: 20px 0 6px; }
code { font: 12.5px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  background: var(--bg); padding: 1px 5px; border-radius: 5px; overflow-wrap: anywhere; }
.meta, .about { color: var(--muted); margin: 2px 0; }
.planline { font-weight: 600; margin: 10px 0; }
.alert { border-left: 4px solid; padding: 8px 12px; border-radius: 6px; margin: 10px 0; }
.alert.bad { border-color: var(--bad); background: var(--badbg); }
.alert.warn { border-color: var(--warn); background: var(--warnbg); }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line);
  vertical-align: top; overflow-wrap: anywhere; }
th { font-weight: 600; color: var(--muted); font-size: 12px; text-transform: uppercase; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
td.blocked { color: var(--bad); font-weight: 700; }
tr.total td { font-weight: 600; border-top: 2px solid var(--line); }
.campaign { margin-top: 28px; }
.message { border: 1px solid var(--line); border-radius: 12px; padding: 14px 16px;
  margin: 14px 0; break-inside: avoid-page; }
.message > h3 { margin-top: 0; }
.facts { display: flex; flex-wrap: wrap; gap: 4px 18px; margin: 4px 0 10px; color: var(--muted); }
.facts b { color: var(--ink); font-weight: 600; }
.card { border-top: 1px dashed var(--line); padding-top: 12px; margin-top: 12px; }
.card:first-of-type { border-top: 0; margin-top: 0; }
.card-label { font-weight: 600; margin-bottom: 8px; }
.devices { display: flex; flex-wrap: wrap; gap: 16px; margin: 6px 0 12px; }
.device { margin: 0; width: 400px; break-inside: avoid; }
.device figcaption { font-size: 12px; color: var(--muted); margin-bottom: 4px; }
.screen { border-radius: 22px; padding: 14px 12px; min-height: 120px;
  print-color-adjust: exact; -webkit-print-color-adjust: exact; }
.android .screen { background: #2b2d31; }
.ios .screen { background: linear-gradient(160deg, #4c5fd7 0%, #8f5bd7 55%, #d76f9a 100%); }
.ios.banner .screen { min-height: 0; padding-top: 10px; }
.harmony .screen { background: #e9edf3; }
.clock { color: #fff; text-align: center; font-size: 44px; font-weight: 300; line-height: 1;
  margin: 2px 0 12px; letter-spacing: 1px; }
.note { border-radius: 16px; padding: 10px 12px; overflow: hidden; }
.android .note { background: #f1f3f4; border-radius: 18px; }
.ios .note { background: rgba(255,255,255,.78); border-radius: 18px; }
.harmony .note { background: #fff; border-radius: 20px; }
.appbar { display: flex; align-items: center; gap: 6px; font-size: 11.5px; color: #5f6368;
  margin-bottom: 3px; }
.ios .appbar { text-transform: uppercase; letter-spacing: .3px; }
.icon { width: 16px; height: 16px; border-radius: 50%; background: var(--accent); flex: none; }
.ios .icon { border-radius: 4px; width: 18px; height: 18px; }
.when { margin-left: auto; }
.badge { background: #ff3b30; color: #fff; border-radius: 9px; padding: 0 6px; font-size: 11px; }
.n-title { font-weight: 650; font-size: 13px; line-height: 18px; color: #202124;
  overflow-wrap: anywhere; }
.n-sub { font-weight: 600; font-size: 13px; line-height: 17px; overflow-wrap: anywhere; }
.n-body { font-size: 13px; line-height: 17px; color: #3c4043; overflow-wrap: anywhere;
  white-space: pre-line; }
.n-lines { margin: 2px 0 0; padding: 0; list-style: none; font-size: 13px; line-height: 17px; }
.picture { margin-top: 8px; border-radius: 10px; background: repeating-linear-gradient(45deg,
  #dfe3e8, #dfe3e8 8px, #eceff3 8px, #eceff3 16px); color: #444; font-size: 11px;
  padding: 26px 10px; text-align: center; overflow-wrap: anywhere; }
.cutmark { color: var(--bad); font-weight: 700; }
.fields { margin-top: 4px; }
.fields th { width: 160px; text-transform: none; font-size: 13px; color: var(--muted); }
.fields td { white-space: pre-wrap; }
ul.cuts, ul.refusals, ul.findings, ul.keys { margin: 8px 0; padding-left: 20px; }
ul.refusals li, .finding.advisory { color: var(--warn); }
.finding.hard, .finding.soft { color: var(--bad); }
.attention { margin-top: 12px; }
.attention h4 { margin: 10px 0 4px; font-size: 13.5px; }
.attention.blocked h4 { color: var(--bad); }
pre.diff { background: var(--bg); border-radius: 8px; padding: 8px 10px; overflow-x: auto;
  font: 12px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; margin: 4px 0 10px;
  white-space: pre-wrap; overflow-wrap: anywhere; }
pre.diff .add { color: var(--ok); } pre.diff .del { color: var(--bad); }
pre.diff .chg { color: var(--warn); }
details > summary { cursor: pointer; color: var(--accent); margin: 6px 0; }
footer { margin-top: 40px; color: var(--muted); font-size: 12px; border-top: 1px solid var(--line);
  padding-top: 10px; }
footer li { margin: 2px 0; }
@media print {
  main { max-width: none; padding: 0; }
  details::details-content { content-visibility: visible; display: contents; }
  details > summary { display: none; }
  .campaign { break-before: auto; }
  a { color: inherit; text-decoration: none; }
}
"""


# ------------------------------------------------------------------ devices


def _text_with_cut(value: str, cut: bool) -> str:
    if cut and value.endswith("…"):
        return _lines(value[:-1]) + '<span class="cutmark" title="cut here">…</span>'
    return _lines(value)


def _device(surface: Surface, app: str, moment: str) -> str:
    cls = {"android": "android", "ios": "ios", "harmony": "harmony"}[surface.platform]
    banner = " banner" if surface.id == "ios-banner" else ""
    clock = '<div class="clock">9:41</div>' if surface.id == "ios-lock-screen" else ""
    badge = f' <span class="badge">{e(surface.badge)}</span>' if surface.badge else ""
    parts = [
        f'<figure class="device {cls}{banner}" data-surface="{e(surface.id)}">',
        f"<figcaption>{e(surface.label)}</figcaption>",
        f'<div class="screen">{clock}<div class="note">',
        f'<div class="appbar"><span class="icon"></span><span class="app">{e(app)}</span>'
        f'{badge}<span class="when">{e(moment)}</span></div>',
    ]
    if surface.title:
        parts.append(
            f'<div class="n-title">{_text_with_cut(surface.title, "title" in surface.cuts)}</div>'
        )
    if surface.subtitle:
        parts.append(
            f'<div class="n-sub">{_text_with_cut(surface.subtitle, "subtitle" in surface.cuts)}'
            "</div>"
        )
    if surface.body:
        parts.append(
            f'<div class="n-body">{_text_with_cut(surface.body, "body" in surface.cuts)}</div>'
        )
    if surface.lines:
        items = "".join(
            f"<li>{_text_with_cut(line, f'line {i}' in surface.cuts)}</li>"
            for i, line in enumerate(surface.lines, 1)
        )
        parts.append(f'<ul class="n-lines">{items}</ul>')
    if surface.picture_url:
        parts.append(
            f'<div class="picture">picture (not loaded in this report):<br>'
            f"{e(surface.picture_url)}</div>"
        )
    parts.append("</div></div></figure>")
    return "".join(parts)


def _card(card: Card, app: str, moment: str, label: bool) -> str:
    out = ['<div class="card">']
    if label:
        out.append(f'<div class="card-label">{e(card.label)}</div>')
    if card.surfaces:
        out.append('<div class="devices">')
        out.extend(_device(s, app, moment) for s in card.surfaces)
        out.append("</div>")
    elif card.notification.kind == "message" and card.notification.provider == "emas":
        out.append('<p class="about">A message to the app: nothing is shown on the device.</p>')
    elif card.notification.provider == "mpaas":
        out.append(
            '<p class="about">The text is the mPaaS console template '
            f"<code>{e(card.notification.template)}</code> filled with the values below; "
            "the plan cannot show it.</p>"
        )
    rows = "".join(f"<tr><th>{e(name)}</th><td>{e(value)}</td></tr>" for name, value in card.fields)
    out.append(f'<table class="fields">{rows}</table>')
    if card.cuts:
        items = "".join(f"<li>{e(c)}</li>" for c in card.cuts)
        out.append(f'<ul class="cuts">{items}</ul>')
    if card.refusals:
        items = "".join(f"<li>Refused by {e(r)}</li>" for r in card.refusals)
        out.append(f'<ul class="refusals">{items}</ul>')
    out.append("</div>")
    return "".join(out)


# ------------------------------------------------------------------ sections


def _diff(rows: list[dict[str, object]]) -> str:
    out = []
    for line in format_diff(rows, indent=""):  # type: ignore[arg-type]
        cls = {"+": "add", "-": "del", "~": "chg"}.get(line[:1], "")
        out.append(f'<span class="{cls}">{e(line)}</span>')
    return '<pre class="diff">' + "\n".join(out) + "</pre>"


def _attention(group: MessageGroup, secrets: tuple[str, ...]) -> str:
    out = []
    for action in sorted(group.counts, key=action_order):
        if action in (SEND, NOOP, INFLIGHT) or not group.counts[action]:
            continue  # in-flight: the run in progress records them (counted, never listed)
        kept = group.listed.get(action, [])
        cls = "attention blocked" if action == BLOCKED else "attention"
        out.append(f'<div class="{cls}"><h4>{e(action)} ({group.counts[action]:,})</h4><ul>')
        for item in kept:
            out.append(
                f"<li><code>{e(mask(item.key, secrets))}</code>: {e(mask(item.reason, secrets))}"
            )
            if item.diff:
                out.append(_diff(mask(item.diff, secrets)))
            out.append("</li>")
        if group.counts[action] > len(kept):
            out.append(
                f"<li>… and {group.counts[action] - len(kept):,} more "
                "(<code>pushops plan --format json</code> lists every delivery)</li>"
            )
        out.append("</ul></div>")
    return "".join(out)


def _keys(group: MessageGroup, secrets: tuple[str, ...]) -> str:
    routine = [(a, group.listed.get(a, [])) for a in (SEND, NOOP) if group.counts[a]]
    if not routine:
        return ""
    items = []
    for action, kept in routine:
        for k in kept:
            why = resend_reason(k)
            note = f": {e(mask(why, secrets))}" if why else ""
            items.append(f"<li>{e(action)} <code>{e(mask(k.key, secrets))}</code>{note}</li>")
        if group.counts[action] > len(kept):
            items.append(f"<li>… and {group.counts[action] - len(kept):,} more {e(action)}</li>")
    return (
        f"<details><summary>Deliveries ({e(counts_phrase(group.counts))})</summary>"
        f'<ul class="keys">{"".join(items)}</ul></details>'
    )


def _facts(facts: MessageSummary, group: MessageGroup) -> str:
    items = [("", counts_phrase(group.counts))]
    if group.deliveries:
        recipients = f"{group.recipients:,}" if group.recipients else ""
        if group.broadcasts:
            recipients = f"{plural(group.broadcasts, 'broadcast')}"
        items += [
            ("deliveries", f"{group.deliveries:,}"),
            ("recipients", recipients),
            ("calls", f"{facts.calls:,}"),
            ("sends", facts.sends),
            ("expires", facts.expires),
            ("", facts.distinct),
        ]
    spans = [f"<span><b>{e(k)}</b> {e(v)}</span>" if k else f"<span>{e(v)}</span>"
             for k, v in items if v]  # fmt: skip
    return f'<div class="facts">{"".join(spans)}</div>'


def _moment(group: MessageGroup, camp: CampaignGroup) -> str:
    if group.first_send is None:
        return "now"
    return group.first_send.astimezone(camp.zone).strftime("%H:%M") if camp.zone else "now"


def _message(group: MessageGroup, camp: CampaignGroup, secrets: tuple[str, ...]) -> str:
    facts = summary(group, camp.zone)
    anchor = e(f"m-{camp.campaign}-{group.message}")
    out = [
        f'<article class="message" id="{anchor}">',
        f"<h3><code>{e(group.message)}</code> · {e(facts.what)}</h3>",
        _facts(facts, group),
    ]
    shown = cards(group, camp.zone, secrets) if group.deliveries else []
    app = camp.app or group.app or "app"
    for card in shown:
        out.append(_card(card, app, _moment(group, camp), len(shown) > 1 or group.personalised))
    out.append(_attention(group, secrets))
    out.append(_keys(group, secrets))
    out.append("</article>")
    return "".join(out)


def _finding(f: Finding, secrets: tuple[str, ...]) -> str:
    place = where(f)
    at = f" <code>{e(place)}</code>" if place else ""
    key = f", e.g. <code>{e(mask(f.key, secrets))}</code>" if f.key else ""
    scope = finding_scope(Finding(f.source, f.level, "", count=f.count))
    return (
        f'<li class="finding {e(f.level)}"><b>{e(level_words(f))}</b> '
        f"<code>{e(f.source)}</code>{at}: {e(mask(f.message, secrets))} ({e(scope)}{key})</li>"
    )


def _campaign(camp: CampaignGroup, secrets: tuple[str, ...]) -> str:
    counts = camp.counts()
    about = [camp.file or "", f"app {camp.app}" if camp.app else ""]
    if camp.removed:
        about.append("removed from the campaigns")
    out = [
        f'<section class="campaign" id="{e("c-" + camp.campaign)}">',
        f"<h2>{e(camp.campaign)} <small class='meta'>· {e(counts_phrase(counts))}</small></h2>",
        f'<p class="about">{e(" · ".join(a for a in about if a))}</p>',
    ]
    if camp.description:
        out.append(f'<p class="about">{e(camp.description)}</p>')
    out.extend(_message(g, camp, secrets) for g in camp.messages.values())
    if camp.findings:
        items = "".join(_finding(f, secrets) for f in camp.findings)
        out.append(f'<h3>Findings</h3><ul class="findings">{items}</ul>')
    out.append("</section>")
    return "".join(out)


def _first(camp: CampaignGroup) -> str:
    if camp.at_apply:
        return "at apply"
    return moment_text(camp.first_send, camp.zone) if camp.first_send else "–"


def _summary(view: PlanView, plan: Plan) -> str:
    rows = []
    for camp in view.campaigns:
        c = camp.counts()
        recips = []
        if camp.recipients:
            recips.append(f"{camp.recipients:,}")
        if camp.broadcasts:
            recips.append(f"{plural(camp.broadcasts, 'broadcast')}")
        also = {a: n for a, n in c.items() if a not in (SEND, REPLACE, CANCEL, BLOCKED) and n}
        name = e(camp.campaign)
        link = name if camp.unchanged else f'<a href="#{e("c-" + camp.campaign)}">{name}</a>'
        rows.append(
            f"<tr><td>{link}</td>"
            f'<td class="n">{c[SEND]:,}</td><td class="n">{c[REPLACE]:,}</td>'
            f'<td class="n">{c[CANCEL]:,}</td>'
            f'<td class="n{" blocked" if c[BLOCKED] else ""}">{c[BLOCKED]:,}</td>'
            f'<td class="n">{e(" + ".join(recips) or "–")}</td><td>{e(_first(camp))}</td>'
            f"<td>{e(counts_phrase(also) if also else '')}</td></tr>"  # type: ignore[arg-type]
        )
    counts = plan.counts()
    total_recipients = sum(c.recipients for c in view.campaigns)
    total_broadcasts = sum(c.broadcasts for c in view.campaigns)
    recipients = f"{total_recipients:,}" + (
        f" + {plural(total_broadcasts, 'broadcast')}" if total_broadcasts else ""
    )
    rows.append(
        f'<tr class="total"><td>total</td><td class="n">{counts[SEND]:,}</td>'
        f'<td class="n">{counts[REPLACE]:,}</td><td class="n">{counts[CANCEL]:,}</td>'
        f'<td class="n">{counts[BLOCKED]:,}</td><td class="n">{e(recipients)}</td><td></td>'
        "<td></td></tr>"
    )
    head = (
        "<tr><th>campaign</th><th>send</th><th>replace</th><th>cancel</th><th>blocked</th>"
        "<th>recipients</th><th>first send</th><th>also</th></tr>"
    )
    return f'<table class="summary">{head}{"".join(rows)}</table>'


def _sources() -> str:
    items = []
    for sid, spec in display_profiles().items():
        for src in spec.get("sources", []):
            items.append(
                f"<li>{e(sid)}: {e(src['what'])} ({e(src['url'])}, read {e(src['read'])})</li>"
            )
    for sid, src in vendor_limits()["sources"].items():
        items.append(
            f"<li>vendor limits, {e(sid)}: {e(src['what'])} ({e(src['url'])}, "
            f"read {e(src['read'])})</li>"
        )
    return (
        "<footer><p>Device cuts are typical figures (the real cut depends on the device, its "
        "font size and screen); vendor limits are the vendors' published hard limits. Sources:"
        f"</p><ul>{''.join(items)}</ul></footer>"
    )


def render_html(
    plan: Plan,
    campaigns: Iterable[Campaign] | None = None,
    config: Config | None = None,
    secrets: Iterable[str] = (),
    *,
    view: PlanView | None = None,
) -> str:
    """The report (mask the result too)."""
    secrets = tuple(secrets)
    view = view if view is not None else group_plan(plan, campaigns, config)
    sandbox = " (sandbox)" if plan.sandbox else ""
    commit = f"commit {plan.git_commit[:12]}, " if plan.git_commit else ""
    out = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>pushops plan: {e(plan.environment)}{sandbox}</title>",
        f"<style>{STYLE}</style></head><body><main>",
        f"<h1>pushops plan · <code>{e(plan.environment)}</code>{sandbox}</h1>",
        f'<p class="meta">{e(commit)}ledger {e(plan.lineage)} serial {plan.serial}, planned '
        f"with now = {e(iso(plan.now))}</p>",
        f'<p class="planline">{e(summary_line(plan))}</p>',
    ]
    blocking = [f for f in plan.findings if f.blocks]
    stopped = blocking_phrase(plan)
    if stopped:
        out.append(
            f'<div class="alert bad">{e(stopped)}: apply refuses this plan until they '
            "are fixed.</div>"
        )
    note = in_progress_note(plan)
    if note:  # its calls are in flight, not left pending: this plan is a snapshot mid-run
        out.append(f'<div class="alert warn in-progress">{e(note)}</div>')
    held = len(plan.blocked) - len(plan.refusals)
    if held:
        out.append(
            f'<div class="alert warn">{plural(held, "delivery")} {"is" if held == 1 else "are"} '
            "held until <code>pushops state "
            "resolve</code>; apply sends the rest without them.</div>"
        )
    if plan.resolves:
        out.append(
            f'<div class="alert warn">{plural(len(plan.resolves), "pending call")} from an '
            "interrupted "
            "run to settle first.</div>"
        )
    if not plan.has_changes and not plan.blocked:
        out.append(f"<p>{e(no_changes_line(plan))}</p>")
    if view.campaigns:
        out.append("<h2>Summary</h2>" + _summary(view, plan))
    if plan.findings:
        warnings = len(plan.findings) - len(blocking)
        where_ = sorted({f.campaign for f in plan.findings if f.campaign})
        links = ", ".join(f'<a href="#{e("c-" + c)}">{e(c)}</a>' for c in where_)
        out.append(
            f'<p class="{"alert bad" if blocking else "alert warn"}">Findings: '
            f"{len(blocking):,} blocking, {plural(warnings, 'warning')}"
            + (f" in {links}" if links else "")
            + ".</p>"
        )
    if view.findings:
        items = "".join(_finding(f, secrets) for f in view.findings)
        out.append(f'<h2>Findings</h2><ul class="findings">{items}</ul>')
    out.extend(_campaign(c, secrets) for c in view.by_attention() if not c.unchanged)
    out.append(_sources())
    out.append("</main></body></html>")
    return "\n".join(out) + "\n"
