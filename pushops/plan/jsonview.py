"""The plan as versioned JSON: one entry per delivery under ``actions``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pushops.plan.engine import iso
from pushops.plan.mask import mask
from pushops.plan.model import ACTIONS, Plan

FORMAT_VERSION = 1


def plan_json(plan: Plan, secrets: Iterable[str] = ()) -> dict[str, Any]:
    secrets = tuple(secrets)
    counts = plan.counts()
    return {
        "format_version": FORMAT_VERSION,
        "lineage": plan.lineage,
        "serial": plan.serial,
        "environment": plan.environment,
        "git_commit": plan.git_commit,
        "now": iso(plan.now),
        "sandbox": plan.sandbox,
        "summary": {name: counts[name] for name in ACTIONS},
        "changes": plan.has_changes,
        "pending_calls": list(plan.resolves),
        "actions": [
            {
                "key": a.key,
                "action": a.action,
                "reason": a.reason,
                "fingerprint_before": a.fingerprint_before,
                "fingerprint_after": a.fingerprint_after,
                "diff": mask(a.diff, secrets) if a.diff is not None else None,
                "request": mask(a.request, secrets) if a.request is not None else None,
                "call_id": a.call_id,
                "due_at": iso(a.due_at),
            }
            for a in plan.actions
        ],
    }
