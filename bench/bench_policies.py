"""Policies in plan: time against the same plan without them, and memory that stays flat.

    python bench/bench_policies.py [--quick]

1. **Plan time.** A generated repo holds one EMAS campaign fanned out over 100,000 CSV rows
   (``--quick``: 10,000), each row with its own Title (nothing merges), its own time zone
   (12 zones, ``fan_out.time_zone``) and ``PushTime: '09:00' | next_local(row.tz)``. The
   ledger already holds an earlier campaign to the same devices, due three hours before the
   plan's clock, so a 24-hour frequency cap has to read all of it. ``pushops plan`` runs in a
   fresh child process with a frequency cap (3 per device in 24h) and quiet hours
   (22:00-07:00 in each recipient's zone) and without them (the same ``pushops.yaml`` minus
   ``policies:``), alternately, three times each; the best of each is compared. Target: with
   policies <= 1.5 x without (issue 16).
2. **Flat memory.** The policy evaluation alone (the same two policies), in a child process,
   over 100,000 and 1,000,000 deliveries made on the fly (``--quick``: 10,000 and 100,000):
   peak RSS of each and their ratio. Target: ratio <= 1.25 (the counting is on disk; what
   stays in memory is a few bytes per delivery).

``run(quick)`` returns the figures as a list of {figure, value, target, pass}.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

try:
    from bench._child import PEAK_RSS, RECORD_SENT
except ImportError:  # run as a script: bench/ is on sys.path
    from _child import PEAK_RSS, RECORD_SENT

Figure = dict[str, object]
NOW = "2026-11-22T09:00:00Z"
EARLIER_NOW = "2026-11-22T03:00:00Z"  # the earlier campaign was planned then, due 06:00
RATIO_TARGET = 1.5
FLAT_TARGET = 1.25
ZONES = [
    "Asia/Shanghai", "Asia/Tokyo", "Asia/Singapore", "Asia/Kolkata", "Europe/Berlin",
    "Europe/London", "America/New_York", "America/Los_Angeles", "America/Sao_Paulo",
    "Australia/Sydney", "Africa/Lagos", "Pacific/Auckland",
]  # fmt: skip

CONFIG = """\
version: 1
environments:
  staging:
    apps:
      shop: {provider: emas, app_key: 23267207}
"""
POLICIES = """\
policies:
  - name: three-a-day
    kind: frequency-cap
    level: soft
    max: 3
    window: 24h
  - name: no-night
    kind: quiet-hours
    level: advisory
    start: "22:00"
    end: "07:00"
"""
EARLIER = """\
id: earlier
app: shop
tasks:
  - id: news
    fan_out:
      data: data/recipients.csv
      key: "{{ row.device_id }}"
    DeviceType: ANDROID
    PushType: NOTICE
    Target: DEVICE
    TargetValue: "{{ row.device_id }}"
    Title: "{{ row.name }}, the news"
    Body: Read it in the app.
    PushTime: "2026-11-22T06:00:00Z"
"""
MORNING = """\
id: morning
app: shop
tasks:
  - id: offer
    fan_out:
      data: data/recipients.csv
      key: "{{ row.device_id }}"
      time_zone: "{{ row.tz }}"
    DeviceType: ANDROID
    PushType: NOTICE
    Target: DEVICE
    TargetValue: "{{ row.device_id }}"
    Title: "{{ row.name }}, good morning"
    Body: "Use code {{ row.code }} today."
    PushTime: "{{ '09:00' | next_local(row.tz) }}"
"""

# Plans the earlier campaign at its own clock and records every call as sent, as apply would.
SEED = (
    RECORD_SENT
    + r"""
import sys
from datetime import datetime
from pathlib import Path
from pushops.campaign import load_campaigns
from pushops.config import load_config
from pushops.diagnostics import Report
from pushops.ledger import open_ledger
from pushops.plan.engine import build_plan
root, target = Path(sys.argv[1]), sys.argv[2]
config = load_config(root)
report = Report()
now = datetime.fromisoformat(sys.argv[3].replace("Z", "+00:00"))
with open_ledger(target, root=root) as ledger:
    plan = build_plan(config, None, ledger, load_campaigns([], root, report), now, report)
    assert report.ok, report.errors[:3]
    print(record_sent(ledger, plan, "bench"))
"""
)

PLAN_CHILD = (
    PEAK_RSS
    + r"""
import contextlib, io, json, os, sys, time

start = time.perf_counter()
os.chdir(sys.argv[1])
from pushops.cli import cli
out, err = io.StringIO(), io.StringIO()
code = None
with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
    try:
        cli.main(["plan", "--now", sys.argv[2]], prog_name="pushops")
    except SystemExit as exc:
        code = exc.code
elapsed = time.perf_counter() - start
text = out.getvalue()
summary = [line for line in text.splitlines() if line.startswith("Plan: ")][-1]
found = [line for line in text.splitlines() if line.startswith("Policy findings: ")]
print(json.dumps({"seconds": elapsed, "exit": code, "rss_mb": peak_rss_mb(),
                  "sends": int(summary.split()[1]),
                  "findings": int(found[0].split()[2].rstrip(",")) if found else 0}))
"""
)

EVALUATOR_CHILD = (
    PEAK_RSS
    + r"""
import json, sys, time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from pushops.campaign import load_campaign
from pushops.compile.model import make_delivery
from pushops.config import load_config
from pushops.policy.evaluate import Evaluator
from pushops.policy.loading import load_policies

root, rows = Path(sys.argv[1]), int(sys.argv[2])
zones = json.loads(sys.argv[3])
config = load_config(root)
policies, problems = load_policies(config)
assert policies and not problems, problems
campaign, _ = load_campaign(root / "campaigns" / "morning.yaml", root)
now = datetime(2026, 11, 22, 9, tzinfo=timezone.utc)
start = time.perf_counter()
evaluator = Evaluator(policies, config, "staging", now)
for i in range(rows):
    device = f"dev{i:012d}"
    due = now + timedelta(hours=1 + i % 20)
    params = {"DeviceType": "ANDROID", "PushType": "NOTICE", "Target": "DEVICE",
              "TargetValue": device, "Title": f"User{i}, good morning", "Body": "Hi",
              "PushTime": due.strftime("%Y-%m-%dT%H:%M:%SZ")}
    delivery = make_delivery(f"staging/morning/r1/offer/{device}", "staging", "morning", 1,
                             "offer", device, "emas", "shop", params, "sha256:x", due, None,
                             ("campaigns/morning.yaml", 5, 5), None, None, zones[i % len(zones)])
    evaluator.observe(campaign, delivery, "send")
evaluator.conclude(None, {"morning": campaign})
found = evaluator.findings()
evaluator.close()
print(json.dumps({"seconds": time.perf_counter() - start, "rss_mb": peak_rss_mb(),
                  "findings": len(found)}))
"""
)


def write_csv(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.write("device_id,name,code,tz\n")
        for i in range(rows):
            out.write(f"dev{i:012d},User{i},C{i % 997:04d},{ZONES[i % len(ZONES)]}\n")


def _child(program: str, *args: str, env: dict[str, str] | None = None) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", program, *args], capture_output=True, text=True, env=env,
        check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"bench child failed: {done.stderr[-2000:]}")
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def plan_times(rows: int, repeats: int = 3) -> tuple[dict[str, object], dict[str, object]]:
    """The best of ``repeats`` plans without and with policies, run alternately."""
    with tempfile.TemporaryDirectory(prefix="pushops-bench-policies-") as tmp:
        root = Path(tmp)
        (root / "campaigns").mkdir()
        (root / "data").mkdir()
        write_csv(root / "data" / "recipients.csv", rows)
        (root / "pushops.yaml").write_text(CONFIG)
        (root / "campaigns" / "earlier.yaml").write_text(EARLIER)
        target = str(root / ".pushops" / "state.db")
        env = {**os.environ, "PUSHOPS_STATE_DSN": target, "PUSHOPS_STATE_SCHEMA": ""}
        done = subprocess.run(
            [sys.executable, "-c", SEED, str(root), target, EARLIER_NOW],
            capture_output=True, text=True, env=env, check=True,
        )  # fmt: skip
        assert int(done.stdout.strip()) == rows, done.stdout
        (root / "campaigns" / "morning.yaml").write_text(MORNING)
        best: dict[bool, dict[str, object]] = {}
        for _ in range(repeats):
            for with_policies in (False, True):
                config = CONFIG + (POLICIES if with_policies else "")
                (root / "pushops.yaml").write_text(config)
                result = _child(PLAN_CHILD, str(root), NOW, env=env)
                if result["sends"] != rows:
                    raise SystemExit(f"bench plan did not come out as expected: {result}")
                if with_policies and result["exit"] not in (0, None):
                    raise SystemExit(f"the policies blocked the bench plan: {result}")
                kept = best.get(with_policies)
                if kept is None or _number(result, "seconds") < _number(kept, "seconds"):
                    best[with_policies] = result
    return best[False], best[True]


def evaluator_memory(rows: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="pushops-bench-policies-") as tmp:
        root = Path(tmp)
        (root / "campaigns").mkdir()
        (root / "pushops.yaml").write_text(CONFIG + POLICIES)
        (root / "campaigns" / "morning.yaml").write_text(MORNING)
        return _child(EVALUATOR_CHILD, str(root), str(rows), json.dumps(ZONES))


def _figure(name: str, value: float, target: float | None = None) -> Figure:
    return {
        "figure": f"policies.{name}",
        "value": round(value, 2),
        "target": None if target is None else f"<= {target:g}",
        "pass": None if target is None else value <= target,
    }


def _number(result: dict[str, object], name: str) -> float:
    return float(result[name])  # type: ignore[arg-type]


def run(quick: bool = False) -> list[Figure]:
    rows = 10_000 if quick else 100_000
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    without, with_ = plan_times(rows)
    ratio = _number(with_, "seconds") / _number(without, "seconds")
    print(
        f"plan of {rows:,} personalised deliveries (per-row zones, next_local), the ledger "
        f"holding {rows:,} earlier ones in the window (load {load:.2f} at the start):\n"
        f"  without policies: {_number(without, 'seconds'):.2f} s, "
        f"peak RSS {_number(without, 'rss_mb'):.0f} MB\n"
        f"  with a frequency cap and quiet hours: {_number(with_, 'seconds'):.2f} s, "
        f"peak RSS {_number(with_, 'rss_mb'):.0f} MB, {with_['findings']} finding(s)\n"
        f"  ratio {ratio:.2f} (target <= {RATIO_TARGET})"
    )
    small, large = (10_000, 100_000) if quick else (100_000, 1_000_000)
    low, high = evaluator_memory(small), evaluator_memory(large)
    growth = _number(high, "rss_mb") / _number(low, "rss_mb")
    print(
        f"policy evaluation alone: {small:,} deliveries {_number(low, 'seconds'):.2f} s, "
        f"peak RSS {_number(low, 'rss_mb'):.0f} MB; {large:,}: "
        f"{_number(high, 'seconds'):.2f} s, {_number(high, 'rss_mb'):.0f} MB; "
        f"growth {growth:.2f} (target <= {FLAT_TARGET})"
    )
    return [
        _figure(f"plan_{rows}.seconds_without", _number(without, "seconds")),
        _figure(f"plan_{rows}.seconds_with", _number(with_, "seconds")),
        _figure(f"plan_{rows}.time_ratio", ratio, RATIO_TARGET),
        _figure(f"plan_{rows}.peak_rss_mb_without", _number(without, "rss_mb")),
        _figure(f"plan_{rows}.peak_rss_mb_with", _number(with_, "rss_mb")),
        _figure(f"evaluate_{small}.peak_rss_mb", _number(low, "rss_mb")),
        _figure(f"evaluate_{large}.peak_rss_mb", _number(high, "rss_mb")),
        _figure("evaluate.rss_growth_ratio", growth, FLAT_TARGET),
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    arguments = parser.parse_args()
    for figure in run(arguments.quick):
        print(figure)
