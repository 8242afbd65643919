"""A throwaway push repository bound to an emulator, and ``pushops`` run in it in a fresh
process: what the benchmarks of the provider-facing commands (refresh, report) share."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from pushops.emulator import Emulator

Run = Callable[..., subprocess.CompletedProcess[str]]


def repo_with_ledger(root: Path, config: str, emulator: Emulator, akid: str, secret: str) -> Run:
    """Write ``config`` as ``root``'s pushops.yaml, create and bind a SQLite ledger
    (``root/ledger.db``) to its ``production`` environment; returns ``pushops(*args)``."""
    (root / "pushops.yaml").write_text(config)
    (root / "campaigns").mkdir()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PUSHOPS_")},
        "ALIBABA_CLOUD_ACCESS_KEY_ID": akid,
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": secret,
        "PUSHOPS_EMAS_ENDPOINT": emulator.url,
        "PUSHOPS_MPAAS_ENDPOINT": emulator.url,
        "PUSHOPS_STATE_DSN": str(root / "ledger.db"),
    }

    def pushops(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pushops", *args], cwd=root, env=env,
            capture_output=True, text=True, timeout=3600,
        )  # fmt: skip

    made = pushops("state", "init", "--env", "production")
    if made.returncode != 0:
        raise SystemExit(made.stderr)
    return pushops
