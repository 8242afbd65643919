"""Planned calls -> the ledger's write-ahead records.

The call's request is the compiled wire request (business parameters only: no AccessKeyId,
Signature or SecurityToken, which the client adds when it signs): its ``query`` and its form
as the wire carries it, encoded (``body``; ledgers written before kept the fields decoded,
as ``form``), plus the clock the campaign was rendered with, so a later plan can compare a
sent delivery as it rendered then.
"""

from __future__ import annotations

from typing import Any

from pushops.ledger import Call as LedgerCall
from pushops.ledger import Delivery as LedgerDelivery
from pushops.plan.engine import RENDERED_AT, iso
from pushops.plan.model import Plan, PlannedCall, decode_form


def wire_request(call: PlannedCall, plan: Plan) -> dict[str, object]:
    return {"query": call.query, "body": call.body, RENDERED_AT: iso(plan.now)}


def recorded_form(request: Any) -> dict[str, str]:
    """The form fields of a call request the ledger recorded (either shape)."""
    if not isinstance(request, dict):
        return {}
    body = request.get("body")
    if isinstance(body, str):
        return decode_form(body)
    form = request.get("form")
    return form if isinstance(form, dict) else {}


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
