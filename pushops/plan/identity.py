"""Tokens for a key's later generations.

Compile derives a call's IdempotentToken (EMAS) or Msgkey (mPaaS) from what it carries, so
the same deliveries always give the same token: a retry is recognised. But a key whose last
attempt failed or was cancelled is sent again as a new generation, and that call must not
collide with the old one (same call id in the ledger; same Msgkey, which mPaaS refuses for
ever). So from generation 2 on, the token is salted with the generation: still
deterministic, still the same for every retry of that generation.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import replace

from pushops.compile import Call

MSGKEY_LENGTH = 32


def salted(token: str, provider: str, generation: int) -> str:
    digest = hashlib.sha256(f"{token}\ngeneration {generation}".encode()).digest()
    if provider == "emas":
        return str(uuid.UUID(bytes=digest[:16], version=5))
    return digest.hex()[:MSGKEY_LENGTH]


def for_generation(call: Call, generation: int) -> Call:
    """``call`` with the token of ``generation`` (unchanged for generation 1)."""
    if generation <= 1:
        return call
    token = salted(call.token, call.provider, generation)
    query, form = dict(call.query), dict(call.form)
    if call.provider == "emas":
        query["IdempotentToken"] = token
    else:
        form["Msgkey"] = token
    return replace(
        call,
        call_id=f"{call.environment}/{call.app}/{token}",
        token=token,
        query=query,
        form=form,
    )
