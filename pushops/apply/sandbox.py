"""``--sandbox``: the emulator in-process on loopback, with throwaway credentials.

Its records live in ``.pushops/sandbox-emulator.db`` beside the sandbox ledger, so a later
run's recovery asks an emulator that remembers what earlier runs sent.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from pushops.emulator import Emulator
from pushops.plan.session import SANDBOX_EMULATOR_DB
from pushops.providers import Credentials

SANDBOX_KEY_ID = "pushops-sandbox"


def start_sandbox(root: Path) -> tuple[Emulator, Credentials]:
    secret = secrets.token_urlsafe(24)  # throwaway: lives as long as this process
    db = root / SANDBOX_EMULATOR_DB
    db.parent.mkdir(parents=True, exist_ok=True)
    emulator = Emulator(credentials={SANDBOX_KEY_ID: secret}, db=db, host="127.0.0.1", port=0)
    emulator.start()
    return emulator, Credentials.of(SANDBOX_KEY_ID, secret)
