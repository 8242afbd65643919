"""Where policies stop apply, and where an override is put on record.

:func:`refuse_blocked` is the one place apply refuses a plan that a policy blocks (a hard
finding, or a soft one nobody overrode for this run), with exit code 5 (hard) or 4 (soft).
:func:`record_overrides` writes each overridden policy, its reason, who gave it and the
findings it let through to the ledger, before apply sends anything: a send that a soft
policy would have stopped never goes out without its reason on record. Later plans show
the latest overrides (:func:`recent_overrides`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

from pushops.diagnostics import PushopsError
from pushops.ledger import Ledger, PolicyOverride
from pushops.plan.findings import SOFT, level_exit_code, unblock_hint
from pushops.plan.model import Plan
from pushops.policy.evaluate import Override

RECENT = 10  # overrides a plan shows


class PolicyBlocked(PushopsError):
    """A policy stops apply: exit code 5 (hard) or 4 (soft, until overridden)."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def refuse_blocked(plan: Plan) -> None:
    """Raise :class:`PolicyBlocked` while any finding of ``plan`` blocks apply."""
    code = level_exit_code(plan.findings)
    if code is None:
        return
    hint = unblock_hint(plan.findings)
    count = len(plan.blocking)
    raise PolicyBlocked(f"{count} policy finding(s) block apply; nothing sent: {hint}", code)


def override_saved(plan: Plan, overrides: Iterable[Override]) -> None:
    """Overrides given to ``apply PLANFILE``: applied to the saved plan's soft findings."""
    given = {o.policy: o for o in overrides}
    plan.findings = [
        replace(f, override_reason=given[f.source].reason, override_actor=given[f.source].actor)
        if f.level == SOFT and f.source in given and f.override_reason is None
        else f
        for f in plan.findings
    ]


def record_overrides(ledger: Ledger, plan: Plan, *, now: datetime | None = None) -> int:
    """Put every overridden policy of ``plan`` on record (one row per policy); returns how
    many. Call it after approval and before sending."""
    by_policy: dict[str, list[Any]] = {}
    for finding in plan.findings:
        if finding.override_reason is not None:
            by_policy.setdefault(finding.source, []).append(finding)
    stamp = now or datetime.now(timezone.utc)
    rows = [
        PolicyOverride(
            override_id=str(uuid.uuid4()),
            environment=plan.environment,
            policy=name,
            level=found[0].level,
            reason=str(found[0].override_reason),
            actor=str(found[0].override_actor),
            created_at=stamp,
            findings=[f.to_json() for f in found],
            git_commit=plan.git_commit,
        )
        for name, found in sorted(by_policy.items())
    ]
    ledger.record_overrides(rows)
    return len(rows)


def recent_overrides(ledger: Ledger, environment: str) -> list[dict[str, Any]]:
    """The latest overrides on record in ``environment``, for the plan to show."""
    return [
        {
            "policy": o.policy,
            "level": o.level,
            "reason": o.reason,
            "actor": o.actor,
            "created_at": o.created_at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "git_commit": o.git_commit,
            "count": sum(int(f.get("count", 0)) for f in o.findings)
            if isinstance(o.findings, list)
            else 0,
        }
        for o in ledger.overrides(environment, RECENT)
    ]
