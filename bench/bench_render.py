"""Render + compile throughput and memory: one campaign personalised over a CSV.

    python bench/bench_render.py [--quick]

A generated repo holds one EMAS campaign whose task fans out over a CSV of N rows, every row
with its own name in the Title (so no two rows merge: one PushTask per row, the worst case for
throughput). A fresh child process renders and compiles it to calls and reports wall time,
PushTasks per second and its peak RSS (``ru_maxrss``, the whole process: interpreter, Jinja,
the tables). It renders as every command does, with the fan-out duplicate-key check on (the
default). Memory must stay flat as N grows from 100,000 to 1,000,000 rows (``--quick``: 10,000
to 100,000): peak RSS at the large size over the small one is ``render.rss_growth_ratio``.
Targets on the project's 2-core machine: at least 20,000 PushTasks per second, under 300 MB
peak, a ratio of at most 1.25. ``run(quick)`` returns the figures for the ``python -m bench``
runner as a list of {figure, value, target, pass}.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

try:
    from bench._child import PEAK_RSS
except ImportError:  # run as a script: bench/ is on sys.path
    from _child import PEAK_RSS

Figure = dict[str, object]
REPO = Path(__file__).resolve().parents[1]
TASKS_PER_SECOND_TARGET = 20_000.0
PEAK_RSS_TARGET_MB = 300.0
FLATNESS_TARGET = 1.25  # peak RSS at the large size over the small one

CAMPAIGN = """\
id: personal-offer
app: shop
tasks:
  - id: offer
    fan_out:
      data: data/recipients.csv
      key: "{{ row.device_id }}"
    DeviceType: ANDROID
    PushType: NOTICE
    Target: DEVICE
    TargetValue: "{{ row.device_id }}"
    Title: "{{ row.name }}, your {{ row.tier | title }} offer"
    Body: "Use code {{ row.code }} within 7 days at {{ brand }}."
    ExpireTime: "{{ now | add_hours(48) | api_time }}"
    AndroidOpenType: URL
    AndroidOpenUrl: "https://{{ deep_link_host }}/offer/{{ row.code }}"
    AndroidExtParameters:
      code: "{{ row.code }}"
      source: push
"""

CHILD = (
    PEAK_RSS
    + r"""
import json, os, resource, sys, time
from datetime import datetime, timezone
from pathlib import Path

start = time.perf_counter()
from pushops.compile import compile_calls
from pushops.config import load_config
from pushops.diagnostics import Report
from pushops.campaign import load_campaigns
from pushops.render import render_deliveries
root = Path(sys.argv[1])
report = Report()
config = load_config(root)
now = datetime(2026, 11, 22, 9, tzinfo=timezone.utc)
campaigns = load_campaigns([], root, report)
deliveries = render_deliveries(campaigns, config, "staging", now, report)
calls = tasks = delivered = 0
for call in compile_calls(deliveries, config):
    calls += 1
    tasks += len(call.tasks)
    delivered += len(call.deliveries)
elapsed = time.perf_counter() - start
print(json.dumps({"seconds": elapsed, "calls": calls, "tasks": tasks, "deliveries": delivered,
                  "errors": [d.format() for d in report.errors[:3]],
                  "rss_mb": peak_rss_mb()}))
"""
)

TIERS = ("gold", "silver", "platinum", "bronze")


def make_repo(folder: Path, rows: int) -> None:
    shutil.copy(REPO / "pushops.yaml", folder / "pushops.yaml")
    (folder / "campaigns").mkdir()
    (folder / "campaigns" / "offer.yaml").write_text(CAMPAIGN, encoding="utf-8")
    (folder / "data").mkdir()
    with (folder / "data" / "recipients.csv").open("w", encoding="utf-8") as out:
        out.write("device_id,name,tier,code\n")
        for i in range(rows):
            out.write(f"dev{i:012d},用户{i},{TIERS[i % 4]},C{i % 997:04d}\n")


def measure(rows: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="pushops-bench-render-") as tmp:
        folder = Path(tmp)
        make_repo(folder, rows)
        done = subprocess.run(
            [sys.executable, "-c", CHILD, str(folder)],
            capture_output=True,
            text=True,
            check=True,
        )
    result = json.loads(done.stdout)
    if result["errors"] or result["deliveries"] != rows:
        raise SystemExit(f"bench campaign did not render cleanly: {result}")
    result["tasks_per_s"] = result["tasks"] / result["seconds"]
    return result


def _figure(name: str, value: float, target: float | None, higher: bool) -> Figure:
    if target is None:  # shown, not judged
        return {"figure": name, "value": round(value, 2), "target": None, "pass": None}
    ok = value >= target if higher else value <= target
    sign = ">= " if higher else "<= "
    return {"figure": name, "value": round(value, 2), "target": f"{sign}{target:g}", "pass": ok}


def _show(rows: int, r: dict[str, float]) -> None:
    print(
        f"{rows:>9,} rows: {r['seconds']:7.2f} s, {r['tasks']:>9,} PushTasks in "
        f"{r['calls']:>6,} calls, {r['tasks_per_s']:8.0f} PushTasks/s, "
        f"peak RSS {r['rss_mb']:.0f} MB"
    )


def run(quick: bool = False) -> list[Figure]:
    small, large = (10_000, 100_000) if quick else (100_000, 1_000_000)
    figures: list[Figure] = []
    measured = {}
    for rows in (small, large):
        measured[rows] = measure(rows)
        _show(rows, measured[rows])
    figures.append(
        _figure(
            f"render.{small}_rows.tasks_per_s",
            measured[small]["tasks_per_s"],
            None if quick else TASKS_PER_SECOND_TARGET,  # --quick: a smoke run, not a timing
            True,
        )
    )
    for rows in (small, large):
        peak = measured[rows]["rss_mb"]
        figures.append(_figure(f"render.{rows}_rows.peak_rss_mb", peak, PEAK_RSS_TARGET_MB, False))
    # With the duplicate-key check on: past its first keys it spills them to disk.
    ratio = measured[large]["rss_mb"] / measured[small]["rss_mb"]
    print(f"peak RSS at {large:,} over {small:,} rows: {ratio:.2f}")
    figures.append(_figure("render.rss_growth_ratio", ratio, FLATNESS_TARGET, False))
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 and 100,000 rows")
    args = parser.parse_args(argv)
    figures = run(quick=args.quick)
    for figure in figures:
        mark = "ok  " if figure["pass"] else "FAIL"
        print(f"{mark} {figure['figure']}: {figure['value']} (target {figure['target']})")
    failed = [f["figure"] for f in figures if not f["pass"]]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
