"""``pushops refresh --apply``: the changes the provider's records prove, into the ledger.

Only what :mod:`pushops.refresh.compare` marked provable (a difference with ``changes``) is
written, in one ledger transaction, each key as a ``refreshed`` event whose evidence is the
provider's record as refresh read it. Ambiguous and report-only drift is never written.
"""

from __future__ import annotations

from typing import Any

from pushops.ledger import Ledger, ProvenCall, ProvenStatus
from pushops.refresh.model import Drift, Refresh


def _evidence(drift: Drift) -> dict[str, Any]:
    return {
        "drift": drift.kind,
        "provider": drift.provider,
        "app": drift.app,
        "provider_status": drift.provider_status,
        "records": drift.evidence,
    }


def record_changes(ledger: Ledger, result: Refresh, actor: str) -> int:
    """Write every provable change of ``result``; how many keys changed."""
    statuses: list[ProvenStatus] = []
    calls: list[ProvenCall] = []
    for drift in result.drift:
        if not drift.provable:
            continue
        if drift.changes[0].call_id is not None:  # an unsettled call, settled as a whole
            ids = {c.position or 0: c.message_id for c in drift.changes}
            calls.append(ProvenCall(call_id=drift.changes[0].call_id, message_ids=ids,
                                    evidence=_evidence(drift)))  # fmt: skip
            continue
        statuses.extend(
            ProvenStatus(
                key=c.key,
                status_from=c.status_from,
                status_to=c.status_to,
                evidence=_evidence(drift),
            )
            for c in drift.changes
        )
    return ledger.record_refreshed(statuses, calls, actor)
