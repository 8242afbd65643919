"""What a person finds in the ledger after a personalised campaign goes out, through the real
CLI: each delivery's own request, exactly as it was sent, although apply keeps the requests
once per call (schema version 6) rather than in every delivery's row.

`pushops init` in a fresh git repository, a fan-out of 250 rows (three MassPush calls) whose
CSV is not sorted by its key, `pushops apply --sandbox --auto-approve`, then `pushops state
show` and `pushops state export` as a person would run them, checked against what the
sandbox's emulator received for the same device.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROWS = 250
CAMPAIGN = """\
id: coupons
revision: 1
app: mobile
tasks:
  - id: coupon
    fan_out:
      data: data/people.csv
      key: "{{ row.device }}"
    DeviceType: ANDROID
    PushType: NOTICE
    Target: DEVICE
    TargetValue: "{{ row.device }}"
    Title: "{{ row.name }}, <b>your</b> coupon"
    Body: "Use code {{ row.code }} within 7 days."
    AndroidOpenType: APPLICATION
    StoreOffline: true
"""


def _pushops(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ALIBABA_CLOUD_ACCESS_KEY_ID": "", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": ""}
    done = subprocess.run(
        [sys.executable, "-m", "pushops", *args],
        cwd=root, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done


@pytest.fixture(scope="module")
def applied(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("repo")
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    _pushops(root, "init")
    (root / "campaigns" / "coupons.yaml").write_text(CAMPAIGN)
    people = [f"dev{n:05d},Name {n} é,C{n * 7919 % 100003:06d}\n" for n in range(ROWS)]
    random.Random(15).shuffle(people)  # the data file's order is not its keys' order
    (root / "data").mkdir()
    (root / "data" / "people.csv").write_text("device,name,code\n" + "".join(people))
    out = _pushops(root, "apply", "--sandbox", "--auto-approve").stdout
    assert "Apply complete" in out, out
    return root


def _sandbox_ledger(root: Path) -> Path:
    (found,) = [p for p in (root / ".pushops").glob("sandbox*.db") if "emulator" not in p.name]
    return found


def _received(root: Path) -> dict[str, dict[str, Any]]:
    """What the sandbox's emulator accepted, by device."""
    emulators = list((root / ".pushops").glob("*emulator*.db"))
    assert emulators, sorted(p.name for p in (root / ".pushops").iterdir())
    with sqlite3.connect(emulators[0]) as conn:
        found = {}
        for (data,) in conn.execute("SELECT data FROM deliveries"):
            params = json.loads(data)["params"]
            found[params["TargetValue"]] = params
    return found


def test_the_ledger_keeps_the_requests_once_per_call(applied: Path) -> None:
    with sqlite3.connect(_sandbox_ledger(applied)) as conn:
        stored = conn.execute(
            "SELECT request FROM deliveries WHERE key LIKE 'staging/coupons/%'"
        ).fetchall()
        packs = conn.execute(
            "SELECT COUNT(*) FROM call_requests WHERE delivery_requests IS NOT NULL"
        ).fetchone()
    assert len(stored) == ROWS and {r[0] for r in stored} == {""}
    assert packs[0] >= 3  # the campaign's three calls (and the example's own)


def test_state_show_gives_a_deliverys_request_as_it_was_sent(applied: Path) -> None:
    received = _received(applied)
    for device in ("dev00000", "dev00137", "dev00249"):
        key = f"staging/coupons/r1/coupon/{device}"
        out = _pushops(applied, "state", "show", key, "--sandbox", "--format", "json").stdout
        (shown,) = [g["request"] for g in json.loads(out)["generations"]]
        assert shown["TargetValue"] == device
        assert shown["StoreOffline"] is True  # a JSON boolean still, not the form's "true"
        sent = received[device]
        assert (shown["Title"], shown["Body"]) == (sent["Title"], sent["Body"])
        assert shown["Title"].endswith(", <b>your</b> coupon")


def test_the_export_carries_every_deliverys_own_request(applied: Path) -> None:
    received = _received(applied)
    out = _pushops(applied, "state", "export", "--sandbox").stdout
    records = [json.loads(line) for line in out.splitlines()]
    exported = {
        r["request"]["TargetValue"]: r["request"]
        for r in records
        if r["kind"] == "delivery" and r["key"].startswith("staging/coupons/")
    }
    assert len(exported) == ROWS
    for device, request in exported.items():
        assert (request["Title"], request["Body"]) == (
            received[device]["Title"],
            received[device]["Body"],
        )
