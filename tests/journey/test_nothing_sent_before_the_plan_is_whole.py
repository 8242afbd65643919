"""`pushops apply --auto-approve` without a plan file sends nothing before its whole plan is
made and checked: a delivery refused at the last row of a large fan-out, or a run-wide policy
only the whole campaign exceeds, stops the run before its first push, never halfway.

This is why apply without a plan file takes about as long as plan and apply together rather
than overlapping them (bench/README.md): a push cannot be taken back. Through the real CLI,
from a fresh repository (`pushops init`), the fan-out rendered in its own process as a large
one is; what is checked is where a person would look: the sandbox's emulator and ledger.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from pushops.plan.renderproc import MODE_ENV

ROWS = 3000
CAMPAIGN = """\
id: coupons
revision: 1
app: mobile
tasks:
  - id: coupon
    fan_out:
      data: data/people.csv
      key: "{{ row.device }}"
    DeviceType: "{{ row.kind }}"
    PushType: NOTICE
    Target: DEVICE
    TargetValue: "{{ row.device }}"
    Title: "{{ row.name }}, your coupon"
    Body: Use it within 7 days.
    AndroidOpenType: APPLICATION
"""
BLAST_RADIUS = f"""
policies:
  - name: big-sends-need-a-reason
    kind: blast-radius
    level: hard
    environments: [staging]
    max_recipients: {ROWS}
"""


def _pushops(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "ALIBABA_CLOUD_ACCESS_KEY_ID": "",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "",
        MODE_ENV: "always",  # rendered and checked in its own process, as a large fan-out is
    }
    return subprocess.run(
        [sys.executable, "-m", "pushops", *args],
        cwd=root, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    made = _pushops(tmp_path, "init")
    assert made.returncode == 0, made.stdout + made.stderr
    (tmp_path / "campaigns" / "coupons.yaml").write_text(CAMPAIGN)
    (tmp_path / "data").mkdir()
    return tmp_path


def _people(root: Path, last_kind: str) -> None:
    rows = [f"dev{n:05d},Name {n},ANDROID\n" for n in range(ROWS - 1)]
    rows.append(f"dev{ROWS - 1:05d},Name {ROWS - 1},{last_kind}\n")
    (root / "data" / "people.csv").write_text("device,name,kind\n" + "".join(rows))


def _received(root: Path) -> int:
    """Devices the sandbox's emulator accepted a push for (none when it never started)."""
    found = list((root / ".pushops").glob("*emulator*.db"))
    if not found:
        return 0
    with sqlite3.connect(found[0]) as conn:
        return sum(
            len(json.loads(data)["params"]["TargetValue"].split(","))
            for (data,) in conn.execute("SELECT data FROM deliveries")
        )


def _recorded(root: Path) -> int:
    """Deliveries the sandbox ledger records (none when it was never written)."""
    found = [p for p in (root / ".pushops").glob("sandbox*.db") if "emulator" not in p.name]
    if not found:
        return 0
    with sqlite3.connect(found[0]) as conn:
        return conn.execute("SELECT COUNT(*) FROM deliveries").fetchone()[0]


def test_a_delivery_refused_at_the_last_row_stops_the_run_before_its_first_push(
    repo: Path,
) -> None:
    _people(repo, "TOASTER")

    done = _pushops(repo, "apply", "--sandbox", "--auto-approve")

    assert done.returncode == 1, done.stdout + done.stderr
    assert "TOASTER" in done.stdout + done.stderr and "nothing sent" in done.stderr
    assert _received(repo) == 0  # not the 2,999 rows before it, nor the example campaign
    assert _recorded(repo) == 0


def test_a_blast_radius_the_whole_campaign_exceeds_stops_the_run_before_its_first_push(
    repo: Path,
) -> None:
    _people(repo, "ANDROID")  # every row sendable: the campaign's size is what is refused
    with (repo / "pushops.yaml").open("a") as config:
        config.write(BLAST_RADIUS)  # 3,000 devices and the example's 2 pass it only together

    done = _pushops(repo, "apply", "--sandbox", "--auto-approve")

    assert done.returncode == 5, done.stdout + done.stderr  # a hard policy's exit code
    assert "big-sends-need-a-reason" in done.stderr and "nothing sent" in done.stderr
    assert _received(repo) == 0
    assert _recorded(repo) == 0


def test_the_same_campaign_within_its_limits_is_sent_whole(repo: Path) -> None:
    _people(repo, "ANDROID")  # what the two refusals above would have sent

    done = _pushops(repo, "apply", "--sandbox", "--auto-approve")

    assert done.returncode == 0, done.stdout + done.stderr
    assert _received(repo) == ROWS + 2  # and the example campaign's two devices
    assert _recorded(repo) == ROWS + 1  # its one delivery names both
