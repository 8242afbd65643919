"""``pushops refresh`` output: text for people, JSON for programs, Markdown for an issue.

Titles, task names, keys and campaign ids come from campaign files and from whoever pushed in
the console: text output shows them on one line (:func:`printable`: a line break could start
a workflow command in an Actions log) and Markdown escapes every one of them (mdescape).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from pushops.diagnostics import printable
from pushops.plan import mdescape
from pushops.refresh.model import FORMAT_VERSION, KINDS, TITLES, Drift, Refresh
from pushops.wording import duration, plural


def _window(result: Refresh) -> str:
    return (
        f"the last {duration(result.since)} ({result.start:%Y-%m-%d %H:%M:%SZ} to "
        f"{result.now:%Y-%m-%d %H:%M:%SZ}, scheduled pushes up to {result.end:%Y-%m-%d})"
    )


def headline(result: Refresh) -> str:
    if not result.drift:
        return f"No drift: the ledger of {result.environment} agrees with the provider."
    counts = Counter(d.kind for d in result.drift)
    parts = ", ".join(f"{counts[k]} {k}" for k in KINDS if counts[k])
    provable = sum(1 for d in result.drift if d.provable)
    return (
        f"Drift in {result.environment}: {plural(len(result.drift), 'difference')} ({parts}); "
        f"{provable} can be recorded with pushops refresh --apply."
    )


def _change_text(drift: Drift) -> str:
    if not drift.changes:
        return "report only: refresh --apply changes nothing here"
    shown = "; ".join(
        f"{c.key}: {c.status_from} -> {c.status_to}"
        + (f" ({c.message_id})" if c.message_id else "")
        for c in drift.changes
    )
    return f"--apply records {shown}"


def render_text(result: Refresh) -> str:
    lines = [
        f"Compared the ledger of {result.environment} with the provider over "
        f"{_window(result)}; apps: {', '.join(result.apps) or 'none'}.",
    ]
    for kind in KINDS:
        found = [d for d in result.sorted() if d.kind == kind]
        if not found:
            continue
        lines.append("")
        lines.append(f"{TITLES[kind].capitalize()} ({len(found)}):")
        for d in found:
            where = f"{d.app} ({d.provider})"
            lines.append(printable(f"  ~ {where}: {d.summary}"))
            if d.candidates:
                lines.append(printable(f"      candidates: {', '.join(d.candidates)}"))
            lines.append(printable(f"      {_change_text(d)}"))
    lines.append("")
    lines.append(headline(result))
    return "\n".join(lines) + "\n"


def drift_json(d: Drift) -> dict[str, Any]:
    return {
        "kind": d.kind,
        "app": d.app,
        "provider": d.provider,
        "message_id": d.message_id,
        "key": d.key,
        "campaign": d.campaign,
        "call_id": d.call_id,
        "ledger_status": d.ledger_status,
        "provider_status": d.provider_status,
        "summary": d.summary,
        "changes": [
            {
                "key": c.key,
                "status_from": c.status_from,
                "status_to": c.status_to,
                "message_id": c.message_id,
                "call_id": c.call_id,
                "position": c.position,
            }
            for c in d.changes
        ],
        "candidates": d.candidates,
        "evidence": d.evidence,
    }


def render_json(result: Refresh, applied: int | None = None) -> dict[str, Any]:
    counts = Counter(d.kind for d in result.drift)
    return {
        "format_version": FORMAT_VERSION,
        "environment": result.environment,
        "now": result.now.isoformat(),
        "window": {
            "since_seconds": int(result.since.total_seconds()),
            "start": result.start.isoformat(),
            "end": result.end.isoformat(),
        },
        "apps": result.apps,
        "drift_found": bool(result.drift),
        "counts": {kind: counts[kind] for kind in KINDS},
        "drift": [drift_json(d) for d in result.sorted()],
        "applied": applied,
    }


def render_markdown(result: Refresh) -> str:
    """A summary table, then one row per difference: fit for an issue or a comment."""
    esc = mdescape.text
    lines = [
        f"## pushops refresh: {esc(result.environment)}",
        "",
        esc(headline(result)),
        "",
        esc(f"Compared over {_window(result)}."),
    ]
    if not result.drift:
        return "\n".join(lines) + "\n"
    lines += ["", "| kind | app | key or push | ledger | provider | what refresh --apply does |",
              "|---|---|---|---|---|---|"]  # fmt: skip
    for d in result.sorted():
        subject = d.key or d.message_id or ""
        cells = [
            esc(d.kind, cell=True),
            mdescape.code(d.app, cell=True),
            mdescape.code(subject, cell=True) if subject else "",
            esc(d.ledger_status or "(none)", cell=True),
            esc(d.provider_status or "(none)", cell=True),
            esc(_change_text(d), cell=True),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "<details><summary>Details</summary>", ""]
    for d in result.sorted():
        lines.append(f"- {esc(d.summary)}")
        if d.candidates:
            shown = ", ".join(mdescape.code(c) for c in d.candidates)
            lines.append(f"  - candidates: {shown}")
    lines += ["", "</details>"]
    return "\n".join(lines) + "\n"
