"""Planned calls -> the ledger's write-ahead records.

The call's request is the compiled wire request (business parameters only: no AccessKeyId,
Signature or SecurityToken, which the client adds when it signs) plus the clock the campaign
was rendered with, so a later plan can compare a sent delivery as it rendered then.
"""

from __future__ import annotations

from pushops.ledger import Call as LedgerCall
from pushops.ledger import Delivery as LedgerDelivery
from pushops.plan.engine import RENDERED_AT, iso
from pushops.plan.model import Plan, PlannedCall


def wire_request(call: PlannedCall, plan: Plan) -> dict[str, object]:
    return {"query": call.query, "form": call.form, RENDERED_AT: iso(plan.now)}


def pending_records(
    call: PlannedCall, plan: Plan, actor: str | None
) -> tuple[LedgerCall, list[LedgerDelivery]]:
    record = LedgerCall(
        call_id=call.call_id,
        environment=plan.environment,
        provider=call.provider,
        app=call.app,
        action=call.action,
        token=call.token,
        request=wire_request(call, plan),
        git_commit=plan.git_commit,
        actor=actor,
    )
    deliveries = [
        LedgerDelivery(
            key=d.key,
            environment=plan.environment,
            campaign=d.campaign,
            task=d.message,
            fingerprint=d.fingerprint,
            request=d.request,
            call_id=call.call_id,
            position=d.position,
            due_at=d.due_at,
            expires_at=d.expires_at,
        )
        for d in call.deliveries
    ]
    return record, deliveries
