"""Where plan and apply read from: the ledger (real or sandbox), the git commit, durations.

The sandbox has a ledger of its own (``.pushops/sandbox.db``), so what the emulator accepted
never marks a real delivery as sent.
"""

from __future__ import annotations

import os
import re
import subprocess
from datetime import timedelta
from pathlib import Path

from pushops.config import Config
from pushops.diagnostics import PushopsError
from pushops.ledger import Ledger, open_ledger

SANDBOX_LEDGER = ".pushops/sandbox.db"
SANDBOX_EMULATOR_DB = ".pushops/sandbox-emulator.db"
SCHEMA_ENV = "PUSHOPS_STATE_SCHEMA"  # PostgreSQL schema of the ledger (default ``pushops``)


def state_target(config: Config, state: str | None, sandbox: bool) -> str:
    if sandbox:
        return str(config.root / SANDBOX_LEDGER)
    if state:
        return state
    return config.state_location()


def open_state(config: Config, state: str | None, sandbox: bool) -> Ledger:
    target = state_target(config, state, sandbox)
    return open_ledger(target, root=config.root, schema=os.environ.get(SCHEMA_ENV) or None)


def git_commit(root: Path) -> str | None:
    """HEAD of the repo the campaigns are in (None outside git)."""
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = out.stdout.strip()
    return commit if out.returncode == 0 and re.fullmatch(r"[0-9a-f]{40}", commit) else None


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str, what: str) -> timedelta:
    """``300``, ``300s``, ``5m``, ``1h``, ``2d``."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", text or "")
    if not match:
        raise PushopsError(f"{what}: {text!r} is not a duration such as 300s, 5m, 1h or 2d")
    return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2) or "s"])
