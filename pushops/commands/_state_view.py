"""How ``pushops state`` shows ledger records: plain data for ``--format json``, lines for text.

The JSON shapes are versioned (``"version": 1``) and deterministic: fields in a fixed order,
records in the ledger's order (deliveries by key, generations oldest first, calls by id),
times as ISO 8601 UTC. Beside the ledger's ``status``, ``outcome`` says what became of a
record: ``not_sent`` for one whose call failed without ever reaching the provider (an
interrupted run, say), which text calls "not sent (why)" rather than "failed". Requests are
shown exactly as recorded: apply redacted the secrets before writing them, and nothing here
adds any.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from pushops.ledger import Call, Delivery, KeyHistory, LedgerMeta, LockInfo
from pushops.ledger.records import outcome, outcome_words
from pushops.ledger.timeline import Step

FORMAT_VERSION = 1
FINGERPRINT_SHORT = 12


def when(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def ledger_json(meta: LedgerMeta) -> dict[str, Any]:
    return {
        "backend": meta.backend,
        "location": meta.location,
        "lineage": meta.lineage,
        "serial": meta.serial,
        "schema_version": meta.schema_version,
    }


def delivery_json(
    d: Delivery, with_request: bool = False, code: str | None = None
) -> dict[str, Any]:
    """``code``: the error code its call ended with, if it failed."""
    data: dict[str, Any] = {
        "key": d.key,
        "environment": d.environment,
        "campaign": d.campaign,
        "task": d.task,
        "generation": d.generation,
        "current": d.current,
        "status": d.status,
        "outcome": outcome(d.status, code),
        "fingerprint": d.fingerprint,
        "call_id": d.call_id,
        "position": d.position,
        "message_id": d.message_id,
        "due_at": when(d.due_at),
        "expires_at": when(d.expires_at),
        "created_at": when(d.created_at),
        "updated_at": when(d.updated_at),
        "git_commit": d.git_commit,
        "actor": d.actor,
        "cancelled_by": d.cancelled_by,
    }
    if with_request:
        data["request"] = d.request
    return data


def call_json(c: Call) -> dict[str, Any]:
    return {
        "call_id": c.call_id,
        "environment": c.environment,
        "provider": c.provider,
        "app": c.app,
        "action": c.action,
        "status": c.status,
        "outcome": outcome(c.status, c.error_code),
        "token": c.token,
        "attempts": c.attempts,
        "error_code": c.error_code,
        "error_message": c.error_message,
        "request_id": c.request_id,
        "created_at": when(c.created_at),
        "sent_at": when(c.sent_at),
        "updated_at": when(c.updated_at),
        "git_commit": c.git_commit,
        "actor": c.actor,
        "request": c.request,
        "response": c.response,
    }


def lock_json(info: LockInfo) -> dict[str, Any]:
    return {
        "lock_id": info.lock_id,
        "holder": info.holder,
        "operation": info.operation,
        "started_at": when(info.started_at),
        "pid": info.pid,
        "hostname": info.hostname,
        "session": info.session,
        "stale": info.stale,
    }


def document(meta: LedgerMeta, **parts: Any) -> dict[str, Any]:
    return {"version": FORMAT_VERSION, "ledger": ledger_json(meta), **parts}


# ---------------------------------------------------------------- text


def table(rows: list[tuple[str, ...]], header: tuple[str, ...]) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    ]


def delivery_line(d: Delivery, code: str | None = None) -> tuple[str, ...]:
    return (
        d.key,
        outcome_words(d.status, code),
        d.fingerprint[:FINGERPRINT_SHORT],
        d.message_id or "-",
        when(d.updated_at) or "-",
    )


DELIVERY_HEADER = ("KEY", "STATUS", "FINGERPRINT", "MESSAGE ID", "UPDATED")


def lock_lines(locks: list[LockInfo]) -> list[str]:
    if not locks:
        return ["no ledger lock is held"]
    rows = [
        (
            i.lock_id,
            i.holder + (f" (pid {i.pid} on {i.hostname})" if i.pid is not None else ""),
            i.operation,
            when(i.started_at) or "-",
            "stale: its holder is gone" if i.stale else "held",
        )
        for i in locks
    ]
    return table(rows, ("LOCK ID", "HOLDER", "OPERATION", "SINCE", "STATE"))


def _indented(value: Any) -> list[str]:
    text = json.dumps(value, indent=2, ensure_ascii=False)
    # The line feed alone: JSON leaves U+2028 and U+0085 in a string, which splitlines breaks at.
    return ["    " + line for line in text.split("\n")]


def history_lines(history: KeyHistory, calls: list[Call]) -> list[str]:
    lines = [f"key {history.key}"]
    codes = {c.call_id: c.error_code for c in calls}
    for d in history.generations:
        status = outcome_words(d.status, codes.get(d.call_id or ""))
        lines += [
            "",
            f"generation {d.generation}{' (current)' if d.current else ''}: {status}",
            f"  fingerprint  {d.fingerprint}",
            f"  call         {d.call_id or '-'} (position {d.position})",
            f"  message id   {d.message_id or '-'}",
        ]
        if d.due_at or d.expires_at:
            lines.append(f"  due {when(d.due_at) or '-'}, expires {when(d.expires_at) or '-'}")
        if d.cancelled_by:
            lines.append(f"  cancelled by {d.cancelled_by}")
        lines += [
            f"  created {when(d.created_at)}, updated {when(d.updated_at)}",
            f"  git commit {d.git_commit or '-'}, actor {d.actor or '-'}",
            "  request:",
            *_indented(d.request),
        ]
    for c in calls:
        lines += [
            "",
            f"call {c.call_id}: {outcome_words(c.status, c.error_code)} ({c.provider} "
            f"{c.action}, app {c.app}, environment {c.environment})",
            f"  token {c.token}, attempts {c.attempts}",
            f"  created {when(c.created_at)}, sent {when(c.sent_at) or '-'}, "
            f"updated {when(c.updated_at)}",
        ]
        if c.error_code or c.error_message:
            lines.append(f"  error {c.error_code or '-'}: {c.error_message or '-'}")
        if c.request_id:
            lines.append(f"  request id {c.request_id}")
        lines += ["  request:", *_indented(c.request)]
        if c.response is not None:
            lines += ["  response:", *_indented(c.response)]
    return lines


# ---------------------------------------------------------------- history (state history)


def _fact(value: object) -> object:
    return when(value) if isinstance(value, datetime) else value


def step_json(step: Step) -> dict[str, Any]:
    return {
        "at": when(step.at),
        "what": step.what,
        "generation": step.generation,
        "call_id": step.call_id,
        "actor": step.actor,
        "status_from": step.status_from,
        "status_to": step.status_to,
        **{name: _fact(value) for name, value in step.facts.items()},
    }


_FACT_WORDS = {
    "git_commit": "commit",
    "message_id": "MessageId",
    "request_id": "RequestId",
    "due_at": "due",
    "error_code": "code",
    "error_message": "message",
}


def step_line(step: Step) -> str:
    parts = []
    if step.generation is not None:
        parts.append(f"generation {step.generation}")
    if step.call_id:
        parts.append(f"call {step.call_id}")
    if step.status_from and step.status_to and step.status_from != step.status_to:
        parts.append(f"{step.status_from} -> {step.status_to}")
    parts.append(f"by {step.actor or 'someone unrecorded'}")
    for name, value in step.facts.items():
        if name == "evidence":
            shown = json.dumps(value, ensure_ascii=False, sort_keys=True)
            parts.append(f"evidence {shown}")
        elif value is not None:
            parts.append(f"{_FACT_WORDS.get(name, name)} {_fact(value)}")
    return f"{when(step.at) or '-':20}  {step.what:10}  {', '.join(parts)}"


def steps_lines(key: str, found: list[Step]) -> list[str]:
    return [f"history of {key} (oldest first)", *(step_line(s) for s in found)]
