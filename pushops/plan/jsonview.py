"""The plan as versioned JSON, for programs.

``format_version`` 1. Additions keep the version; a change or removal of a field bumps it.

- ``actions``: one entry per delivery (key, action, reason, fingerprints, diff, request).
- ``campaigns``: the plan grouped as the other views show it: per campaign and message the
  counts by action, recipients, calls, send and expiry times, and ``cards``: each distinct
  text (or, for a personalised message, the samples and why they were chosen) with its
  fields, how each device surface shows it (``surfaces``, with what it cut) and the vendor
  channels that refuse it; ``listed`` keys per action (bounded; ``actions`` has them all).
- ``findings``: every finding of the checks of the whole plan (policies, vendor limits):
  source, level, message, campaign, count, example key, file/line/column, whether it blocks
  apply, and an override's reason and actor.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from datetime import datetime
from typing import Any

from pushops.campaign import Campaign
from pushops.config import Config
from pushops.plan.cards import Card, cards, summary
from pushops.plan.engine import iso
from pushops.plan.findings import Finding
from pushops.plan.grouped import CampaignGroup, MessageGroup, PlanView, action_order, group_plan
from pushops.plan.mask import mask
from pushops.plan.model import ACTIONS, Plan

FORMAT_VERSION = 1


def finding_json(f: Finding, secrets: tuple[str, ...] = ()) -> dict[str, Any]:
    """One finding in the versioned JSON shape (:meth:`Finding.to_json`), secrets masked."""
    data = f.to_json()
    data["message"] = mask(f.message, secrets)
    data["key"] = mask(f.key, secrets) if f.key is not None else None
    return data


def _time(moment: datetime | None) -> str | None:
    return iso(moment)


def _card(card: Card) -> dict[str, Any]:
    return {
        "key": card.key,
        "label": card.label,
        "notification": asdict(card.notification),
        "fields": [{"name": n, "value": v} for n, v in card.fields],
        "surfaces": [
            {
                "id": s.id,
                "platform": s.platform,
                "label": s.label,
                "title": s.title,
                "subtitle": s.subtitle,
                "body": s.body,
                "lines": list(s.lines),
                "picture_url": s.picture_url,
                "badge": s.badge,
                "cut": {name: {"width": w, "shown": b} for name, (w, b) in s.cuts.items()},
            }
            for s in card.surfaces
        ],
        "refused_by": card.refusals,
    }


def _message(group: MessageGroup, camp: CampaignGroup, secrets: tuple[str, ...]) -> dict[str, Any]:
    facts = summary(group, camp.zone)
    return {
        "message": group.message,
        "provider": group.provider,
        "app": group.app,
        "summary": {a: group.counts[a] for a in sorted(group.counts, key=action_order)},
        "what": facts.what,
        "deliveries": group.deliveries,
        "recipients": group.recipients,
        "broadcasts": group.broadcasts,
        "calls": group.calls,
        "first_send": _time(group.first_send),
        "last_send": _time(group.last_send),
        "at_apply": group.at_apply,
        "sends": facts.sends,
        "expires": facts.expires,
        "personalised": group.personalised,
        "distinct": len(group.variants) if group.variants is not None else None,
        "cards": [_card(c) for c in cards(group, camp.zone, secrets)],
        "listed": {
            action: [mask(a.key, secrets) for a in kept]
            for action, kept in sorted(group.listed.items(), key=lambda kv: action_order(kv[0]))
        },
        "file": group.position[0] if group.position else None,
        "line": group.position[1] if group.position else None,
    }


def _campaign(camp: CampaignGroup, secrets: tuple[str, ...]) -> dict[str, Any]:
    counts = camp.counts()
    return {
        "campaign": camp.campaign,
        "file": camp.file,
        "description": camp.description,
        "app": camp.app,
        "provider": camp.provider,
        "removed": camp.removed,
        "summary": {a: counts[a] for a in sorted(counts, key=action_order)},
        "recipients": camp.recipients,
        "broadcasts": camp.broadcasts,
        "calls": camp.calls,
        "first_send": _time(camp.first_send),
        "at_apply": camp.at_apply,
        "messages": [_message(g, camp, secrets) for g in camp.messages.values()],
    }


def plan_json(
    plan: Plan,
    secrets: Iterable[str] = (),
    campaigns: Iterable[Campaign] | None = None,
    config: Config | None = None,
    view: PlanView | None = None,
) -> dict[str, Any]:
    secrets = tuple(secrets)
    view = view if view is not None else group_plan(plan, campaigns, config)
    counts = plan.counts()
    return {
        "format_version": FORMAT_VERSION,
        "lineage": plan.lineage,
        "serial": plan.serial,
        "environment": plan.environment,
        "git_commit": plan.git_commit,
        "now": iso(plan.now),
        "sandbox": plan.sandbox,
        "summary": {name: counts[name] for name in [*ACTIONS, *sorted(set(counts) - set(ACTIONS))]},
        "changes": plan.has_changes,
        "pending_calls": list(plan.resolves),
        # Another run held the ledger lock as this plan was made (its calls are "in-flight").
        "in_progress": None
        if plan.in_progress is None
        else {
            "operation": plan.in_progress.operation,
            "holder": plan.in_progress.holder,
            "since": iso(plan.in_progress.since),
            "lock_id": plan.in_progress.lock_id,
        },
        "findings": [finding_json(f, secrets) for f in plan.findings],
        "campaigns": [_campaign(c, secrets) for c in view.campaigns],
        # The latest policy overrides the ledger records for this environment, newest first.
        "overrides": [mask(o, secrets) for o in plan.overrides],
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
