"""Crash test: apply SIGKILLed at random moments, re-run until done; every delivery exactly once.

The emulator runs in its own process (as a provider would), apply in another, both on
loopback. Both apps are paced at a few calls per second so that sending spans many runs and
the kills land before, during and after write-ahead, sends and settlements: a quarter at any
moment of a run, the rest at a moment of its sending (once the emulator has received
something from it: on a busy machine start-up alone can take seconds).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path

import pytest
from plan.support import AKID, SECRET, base_env, fanout_campaign

from .interrupt_support import broadcasts

KILLS = 50
SEED = 20261122
CONFIG = """\
version: 1
environments:
  staging:
    apps:
      shop: {provider: emas, app_key: 23267207, rate_limit: 2}
      wallet: {provider: mpaas, app_id: ONEX570DA89211721, workspace_id: test, rate_limit: 2}
"""


@pytest.fixture
def emulator_process():  # type: ignore[no-untyped-def]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pushops",
            "emulator",
            "--port",
            "0",
            "--credentials",
            f"{AKID}:{SECRET}",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        assert line.startswith("pushops emulator listening on "), line
        yield line.split()[-1]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _sending(url: str, before: int, proc: subprocess.Popen[bytes], limit_s: float) -> bool:
    """Wait until the run has delivered something (it is sending); False if it ended or
    the limit passed first (a run with nothing left to send)."""
    end = time.monotonic() + limit_s
    while time.monotonic() < end and proc.poll() is None:
        if len(deliveries(url)) > before:
            return True
        time.sleep(0.05)
    return False


def deliveries(url: str) -> list[dict[str, object]]:
    with urllib.request.urlopen(f"{url}/_emulator/deliveries", timeout=10) as response:
        data = json.load(response)
    return data["deliveries"] if isinstance(data, dict) else data


@pytest.mark.slow
def test_apply_killed_at_random_moments_sends_every_delivery_exactly_once(
    tmp_path: Path, emulator_process: str
) -> None:
    root = tmp_path / "repo"
    (root / "campaigns").mkdir(parents=True)
    (root / "pushops.yaml").write_text(CONFIG)
    campaign, csv = fanout_campaign("offers", 1000, "data/offers.csv")
    (root / "data").mkdir()
    (root / "data" / "offers.csv").write_text(csv)
    (root / "campaigns" / "offers.yaml").write_text(campaign)
    (root / "campaigns" / "notices.yaml").write_text(broadcasts(60))
    env = {**os.environ, **base_env(emulator_process), "PUSHOPS_STATE_DSN": ""}
    pushops = [sys.executable, "-m", "pushops"]

    init = subprocess.run([*pushops, "state", "init"], cwd=root, env=env, capture_output=True)
    assert init.returncode == 0, init.stderr
    started = time.monotonic()
    plan = subprocess.run(
        [*pushops, "plan", "--format", "json"], cwd=root, env=env, capture_output=True, text=True
    )
    # On a busy machine a run takes seconds just to start: stretch the kill times to match
    # (0.8 s is a plan's start on a quiet one), so they still land across its sending.
    stretch = max(1.0, (time.monotonic() - started) / 0.8)
    planned = sum(1 for a in json.loads(plan.stdout)["actions"] if a["action"] == "send")
    assert planned == 1060

    rng = random.Random(SEED)
    killed_while_sending = 0
    for _ in range(KILLS):
        before = len(deliveries(emulator_process))
        proc = subprocess.Popen([*pushops, "apply", "--auto-approve"], cwd=root, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        if rng.random() < 0.25:  # at any moment: starting, recovering, planning or sending
            time.sleep(rng.uniform(0.2, 1.6) * stretch)
        elif _sending(emulator_process, before, proc, limit_s=60 * stretch):
            time.sleep(rng.uniform(0.0, 0.8) * stretch)  # at a moment of its sending
        proc.kill()
        proc.wait(timeout=30)
        killed_while_sending += len(deliveries(emulator_process)) > before
    for _ in range(20):  # then let it finish
        done = subprocess.run([*pushops, "apply", "--auto-approve"], cwd=root, env=env,
                              capture_output=True, text=True, timeout=300)  # fmt: skip
        if "No changes. Nothing to apply." in done.stdout:
            break
    else:
        pytest.fail("apply never reached a state with no changes")
    final = subprocess.run(
        [*pushops, "plan", "--detailed-exitcode"], cwd=root, env=env, capture_output=True, text=True
    )
    assert final.returncode == 0, final.stdout + final.stderr

    got = deliveries(emulator_process)
    names = Counter(
        str(d["params"].get("TargetValue") or d["params"].get("TaskName"))  # type: ignore[union-attr]
        for d in got
    )
    assert [n for n, c in names.items() if c > 1] == []  # no duplicate
    assert len(got) == planned  # and none lost
    assert killed_while_sending >= 10  # the kills did land while it was sending
