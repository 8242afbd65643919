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
from pushops.plan.engine import RENDERED_AT, iso
from pushops.plan.model import Plan, PlannedCall, PlannedDelivery, decode_form


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
) -> tuple[LedgerCall, tuple[PlannedDelivery, ...]]:
    """The call's write-ahead record, and its deliveries as they are (each a
    :class:`~pushops.ledger.PendingDelivery`: the ledger takes the rest from the call)."""
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
    return record, call.deliveries
