"""Delivery statistics the emulator derives from what it accepted: deterministic, and late.

No device exists behind the emulator, so the counts are made up, the same way every time:
a push reaches every target it names (EMAS: the TargetValue list; mPaaS: a broadcast reaches
an emulated audience of :data:`MPAAS_AUDIENCE` devices); a fixed fraction, from a hash of
the message id, is received, opened and deleted. The counts grow with the emulator clock
from the moment the push goes out (its PushTime for a scheduled one) and stop growing
:data:`WINDOW` later, the way the provider's statistics arrive late, so a test can advance
the clock and watch them grow, then settle. A cancelled push was accepted and nothing more.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from pushops.emulator.store import Delivery

# How long counts keep growing after a push goes out (our reading of "statistics can take
# up to a day"); pushops report treats a message older than this as final.
WINDOW = 24 * 3600
# Receipts arrive within the first quarter of the window, opens over all of it.
RECEIPT_SHARE = 4
MPAAS_AUDIENCE = 1000  # devices an emulated mPaaS app broadcasts to
_COUNTED_TARGETS = frozenset({"DEVICE", "ACCOUNT", "ALIAS"})


@dataclass(frozen=True, slots=True)
class Counts:
    targets: int  # accepted: what the push named
    sent: int
    received: int
    opened: int
    deleted: int
    sms_sent: int  # EMAS: targets not reached by push, texted instead (when SMS is asked)


def _fractions(message_id: str) -> tuple[float, float, float]:
    digest = hashlib.sha256(message_id.encode()).digest()
    a, b, c = (int.from_bytes(digest[i : i + 4], "big") / 2**32 for i in (0, 4, 8))
    # received 70-95% of sent, opened 10-50% of received, deleted 0-5% of received
    return 0.70 + 0.25 * a, 0.10 + 0.40 * b, 0.05 * c


def _half_up(x: float) -> int:
    return int(x + 0.5)


def targets(d: Delivery) -> int:
    if d.product == "mpaas":
        return MPAAS_AUDIENCE
    if d.params.get("Target") in _COUNTED_TARGETS:
        values = str(d.params.get("TargetValue", ""))
        return len([v for v in values.split(",") if v.strip()])
    return 1


def sent_at(d: Delivery) -> float | None:
    """When the push went (or goes) out; None when it never will (cancelled)."""
    if d.status == "cancelled":
        return None
    return d.due if d.due is not None else d.received_at


def counts(d: Delivery, now: float) -> Counts:
    named = targets(d)
    start = sent_at(d)
    if start is None or now < start:
        return Counts(named, 0, 0, 0, 0, 0)
    progress = min(1.0, (now - start) / WINDOW)
    receive, open_, delete = _fractions(d.message_id)
    received = _half_up(named * receive * min(1.0, progress * RECEIPT_SHARE))
    opened = _half_up(received * open_ * progress)
    deleted = _half_up(received * delete * progress)
    sms = named - received if d.params.get("SmsTemplateName") else 0
    return Counts(named, named, received, opened, deleted, sms)
