"""What apply says when it is done: honest counts, and every call that did not end as sent.

Plain lines (text, and whether it belongs on stderr); the command prints them. Counts are
of deliveries; a call that was not sent is named with what the provider said (code, message,
RequestId), never just counted. Advice per code lives in docs/errors.md, which the lines
point to rather than repeat.
"""

from __future__ import annotations

from collections.abc import Iterator

from pushops.apply.engine import Failure, Summary
from pushops.apply.recovery import Recovery
from pushops.wording import duration, plural

MAX_LISTED = 50  # calls named one by one per kind; the rest are counted
ERRORS_DOC = "docs/errors.md"

Line = tuple[str, bool]  # (text, to stderr)


def _call(failure: Failure) -> str:
    keys = ", ".join(failure.keys[:3]) + (" …" if len(failure.keys) > 3 else "")
    said = f"{failure.code}: {failure.message}" if failure.code else (failure.message or "")
    rid = f" (RequestId {failure.request_id})" if failure.request_id else ""
    return f"{failure.call_id} [{keys}]: {said}{rid}"


def _listed(label: str, failures: list[Failure], what: str) -> Iterator[Line]:
    for failure in failures[:MAX_LISTED]:
        yield f"{label}: {_call(failure)}", True
    if len(failures) > MAX_LISTED:
        yield f"… and {plural(len(failures) - MAX_LISTED, 'more call')} {what}", True


def recovery_lines(r: Recovery) -> Iterator[Line]:
    if r.settled:
        parts = []
        if r.resent:
            parts.append(
                f"{r.resent} confirmed sent by repeating {'it' if r.resent == 1 else 'them'} "
                "with the same token (the provider sends a token at most once)"
            )
        if r.found:
            parts.append(f"{r.found} found at the provider")
        if r.not_sent:
            parts.append(f"{r.not_sent} not sent")
        delivered = plural(r.deliveries_sent, "delivery")
        yield (
            f"Settled {plural(r.settled, 'pending call')} an interrupted run left "
            f"({delivered} out there, {r.deliveries_not_sent} not sent): {'; '.join(parts)}.",
            False,
        )
    if r.unknown:
        yield (
            f"{plural(len(r.unknown), 'pending call')} could not be settled and "
            f"{'is' if len(r.unknown) == 1 else 'are'} marked unknown: "
            "their keys are blocked until `pushops state resolve KEY --sent|--not-sent`.",
            True,
        )
    if r.still_pending:
        yield (
            f"{plural(len(r.still_pending), 'pending call')} got no answer again; "
            "the next run settles them.",
            True,
        )


def summary_lines(summary: Summary) -> Iterator[Line]:
    yield from recovery_lines(summary.recovery)
    yield from _listed("failed", summary.failures, "failed")
    yield from _listed("pending (may have gone out)", summary.unanswered, "left pending")
    codes = sorted({f.code for f in [*summary.failures, *summary.unanswered] if f.code})
    if codes:
        yield (
            f"What {', '.join(codes)} mean{'s' if len(codes) == 1 else ''} and what to do: "
            f"{ERRORS_DOC} (Provider errors).",
            True,
        )
    if summary.stopped:
        yield f"Apply {summary.stopped}.", True
    yield totals(summary), False


def totals(summary: Summary) -> str:
    rate = summary.sent / summary.seconds if summary.seconds > 0 else 0.0
    parts = [
        f"{plural(summary.sent, 'delivery')} sent in {plural(summary.calls, 'call')}"
        + (f" ({summary.scheduled} scheduled)" if summary.scheduled else ""),
        f"{summary.cancelled:,} cancelled",
        f"{summary.failed:,} failed",
    ]
    r = summary.recovery
    if r.settled:
        parts.insert(
            1,
            f"{plural(r.deliveries_sent + r.deliveries_not_sent, 'delivery')} of an interrupted "
            f"run settled ({r.deliveries_sent} out there, {r.deliveries_not_sent} not sent)",
        )
    if summary.pending:
        parts.append(f"{summary.pending:,} pending (the next run settles them)")
    if summary.not_sent:
        why = f"{summary.not_sent_why}; " if summary.not_sent_why else ""
        parts.append(f"{summary.not_sent:,} not sent ({why}the next plan sends them)")
    word = "complete" if summary.ok else "finished with problems"
    speed = f", {rate:,.0f} deliveries/s" if summary.sent else ""
    took = f"{summary.seconds:.1f} s" if summary.seconds < 60 else duration(summary.seconds)
    return f"Apply {word}: {', '.join(parts)}; {took}{speed}."
