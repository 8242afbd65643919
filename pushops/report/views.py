"""``pushops report`` output: text for people, JSON for programs, Markdown for a comment.

Campaign ids, app names and message ids come from campaign files and pushops.yaml: text shows
them on one line (:func:`~pushops.diagnostics.printable`), Markdown escapes every one of them
(:mod:`pushops.plan.mdescape`). Every format says when the counts were read and that they can
still grow: the providers' statistics arrive late.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from pushops.diagnostics import printable
from pushops.plan import mdescape
from pushops.report.model import FORMAT_VERSION, SUMMARY, WINDOW, Message, Report
from pushops.wording import plural


def _utc(moment: datetime | None, *, date: bool = True) -> str:
    if moment is None:
        return "-"
    shown = moment.astimezone(timezone.utc)
    return shown.strftime("%Y-%m-%d %H:%M UTC" if date else "%H:%M UTC")


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def headline(report: Report) -> str:
    cached = sum(1 for m in report.messages if m.final and not m.read_now)
    return (
        f"Delivery statistics of {report.environment} as of {_utc(report.now)}: "
        f"{plural(len(report.messages), 'message')} ({report.read_now} read from the provider "
        f"now, {cached} final from the ledger's cache)."
    )


def late_note() -> str:
    return (
        f"Counts can still grow until {WINDOW.total_seconds() // 3600:.0f} h after sending; "
        "the next report reads again only those that can."
    )


def state(m: Message, now: datetime) -> str:
    """Where a message's numbers stand, in words."""
    if m.error is not None:
        return f"not read: {m.error}"
    if not m.due(now):
        return f"scheduled for {_utc(m.at)}: nothing sent yet"
    if m.counts is None:
        return "not read yet"
    growth = "final" if m.final else "can still grow"
    same_day = m.fetched_at is not None and m.fetched_at.date() == now.date()
    return f"as of {_utc(m.fetched_at, date=not same_day)}, {growth}"


def _cells(m: Message) -> list[str]:
    summary = m.summary()
    return ["-" if summary[c] is None else f"{summary[c]:,}" for c in SUMMARY]


HEADER = ("CAMPAIGN", "APP", "MESSAGE ID", "SENT AT", *(c.upper() for c in SUMMARY), "COUNTS")


def render_text(report: Report) -> str:
    lines = [headline(report), late_note()]
    if not report.messages:
        scope = f" of campaign {report.campaign}" if report.campaign else ""
        return "\n".join([*lines, f"No sent message{scope} in the ledger yet."]) + "\n"
    rows = [
        (
            printable(m.campaign),
            printable(m.app),
            printable(m.message_id),
            _utc(m.at),
            *_cells(m),
            state(m, report.now),
        )
        for m in report.messages
    ]
    widths = [max(len(r[i]) for r in [HEADER, *rows]) for i in range(len(HEADER))]
    table = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in [HEADER, *rows]
    ]
    return "\n".join([*lines, "", *table]) + "\n"


def render_markdown(report: Report) -> str:
    esc = mdescape.text
    lines = [
        f"## pushops report: {esc(report.environment)}",
        "",
        esc(headline(report)),
        "",
        esc(late_note()),
        "",
    ]
    if not report.messages:
        return "\n".join([*lines, "No sent message in the ledger yet."]) + "\n"
    lines += [
        "| campaign | app | message | sent at | " + " | ".join(SUMMARY) + " | counts |",
        "|---|---|---|---|" + "---:|" * len(SUMMARY) + "---|",
    ]
    for m in report.messages:
        cells = [
            esc(m.campaign, cell=True),
            mdescape.code(m.app, cell=True),
            mdescape.code(m.message_id, cell=True),
            esc(_utc(m.at), cell=True),
            *_cells(m),
            esc(state(m, report.now), cell=True),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def render_json(report: Report) -> dict[str, Any]:
    return {
        "version": FORMAT_VERSION,
        "environment": report.environment,
        "campaign": report.campaign,
        "as_of": _iso(report.now),
        "window_hours": WINDOW.total_seconds() / 3600,
        "read_now": report.read_now,
        "messages": [
            {
                "campaign": m.campaign,
                "provider": m.provider,
                "app": m.app,
                "message_id": m.message_id,
                "status": m.status,
                "sent_at": _iso(m.at),
                "repeats_until": _iso(m.until),
                "keys": m.keys,
                "counts": m.counts,
                "summary": m.summary(),
                "fetched_at": _iso(m.fetched_at),
                "final": m.final,
                "read_now": m.read_now,
                "error": m.error,
            }
            for m in report.messages
        ],
    }
