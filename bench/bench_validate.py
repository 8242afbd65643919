"""pushops validate throughput: one campaign of 10,000 PushTasks, and 1,000 campaign files.

    python bench/bench_validate.py [--quick]

Each case runs `validate` in a fresh child process over a generated repo (so start-up, YAML
parsing, schema checks and rules are all counted) and reports wall time, PushTasks per second
and the child's peak RSS. Linearity: the same campaign at 2,500, 5,000 and 10,000 tasks; the
per-task time of the largest over the smallest should stay near 1. Target on the project's
2-core machine: at least 5,000 tasks per second. ``run(quick)`` returns the figures for the
``python -m bench`` runner as a list of {figure, value, target, pass}.
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
TASKS_PER_SECOND_TARGET = 5_000.0
LINEARITY_TARGET = 1.5
NOW = "2026-11-22T09:00:00Z"

CHILD = (
    PEAK_RSS
    + r"""
import json, resource, sys, time
from datetime import datetime, timezone
from pathlib import Path

start = time.perf_counter()
from pushops.config import load_config
from pushops.check.validate import validate
root = Path(sys.argv[1])
result = validate([], root, load_config(root), datetime(2026, 11, 22, 9, tzinfo=timezone.utc))
elapsed = time.perf_counter() - start
errors = [d.format() for d in result.report.errors]
print(json.dumps({"seconds": elapsed, "errors": errors[:3], "error_count": len(errors),
                  "rss_mb": peak_rss_mb()}))
"""
)


def task_yaml(i: int) -> str:
    platform = ("ANDROID", "iOS", "HARMONY")[i % 3]
    lines = [
        f"  - id: t{i}",
        f"    DeviceType: {platform}",
        "    PushType: NOTICE",
        "    Target: DEVICE",
        f"    TargetValue: dev{i:08d}a,dev{i:08d}b,dev{i:08d}c",
        f"    Title: 限时优惠 {i} — sale for you",
        f"    Body: Your personal offer number {i} is waiting. 点击查看。",
        "    StoreOffline: true",
    ]
    if platform == "ANDROID":
        lines += [
            "    AndroidOpenType: URL",
            f"    AndroidOpenUrl: https://shop.example.com/o/{i}",
            "    AndroidNotificationChannel: promotions",
            "    AndroidMessageOppoCategory: MARKETING",
            "    AndroidMessageOppoNotifyLevel: 2",
            f"    AndroidExtParameters: {{campaign: bench, n: '{i}'}}",
        ]
    elif platform == "iOS":
        lines += ["    iOSApnsEnv: PRODUCT", "    iOSBadge: 1", "    iOSRelevanceScore: 0.5"]
    else:
        lines += ["    HarmonyActionType: APP_CUSTOM_PAGE", f"    HarmonyUri: app://offer/{i}"]
    return "\n".join(lines) + "\n"


def make_repo(folder: Path, campaigns: int, tasks_each: int) -> None:
    shutil.copy(REPO / "pushops.yaml", folder / "pushops.yaml")
    (folder / "campaigns").mkdir()
    n = 0
    for c in range(campaigns):
        body = "".join(task_yaml(n + t) for t in range(tasks_each))
        n += tasks_each
        text = f"id: bench-{c}\napp: shop\ntasks:\n{body}"
        (folder / "campaigns" / f"bench-{c:04d}.yaml").write_text(text, encoding="utf-8")


def measure(campaigns: int, tasks_each: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        make_repo(folder, campaigns, tasks_each)
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(folder)], capture_output=True, text=True, check=True
        )
    result = json.loads(out.stdout)
    if result["error_count"]:
        raise SystemExit(f"generated campaigns are not valid: {result['errors']}")
    tasks = campaigns * tasks_each
    result["tasks"] = tasks
    result["tasks_per_s"] = tasks / result["seconds"]
    return result


def _figure(name: str, value: float, target: float | None, higher: bool) -> Figure:
    if target is None:  # shown, not judged
        return {"figure": name, "value": round(value, 2), "target": None, "pass": None}
    ok = value >= target if higher else value <= target
    return {
        "figure": name,
        "value": round(value, 2),
        "target": (">= " if higher else "<= ") + f"{target:g}",
        "pass": ok,
    }


def run(quick: bool = False) -> list[Figure]:
    sizes = (1_000, 2_000, 4_000) if quick else (2_500, 5_000, 10_000)
    files = 200 if quick else 1_000
    figures: list[Figure] = []
    per_task = {}
    for size in sizes:
        r = measure(1, size)
        per_task[size] = r["seconds"] / size
        print(
            f"one campaign, {size:>6} tasks: {r['seconds']:6.2f} s, "
            f"{r['tasks_per_s']:8.0f} tasks/s, peak RSS {r['rss_mb']:.0f} MB"
        )
    largest = measure(1, sizes[-1])
    figures.append(
        _figure(
            f"validate.one_campaign_{sizes[-1]}_tasks.tasks_per_s",
            largest["tasks_per_s"],
            None if quick else TASKS_PER_SECOND_TARGET,  # --quick: a smoke run, not a timing
            True,
        )
    )
    figures.append(
        _figure(
            f"validate.one_campaign_{sizes[-1]}_tasks.peak_rss_mb", largest["rss_mb"], 1024, False
        )
    )
    ratio = per_task[sizes[-1]] / per_task[sizes[0]]
    print(f"per-task time at {sizes[-1]} over {sizes[0]} tasks: {ratio:.2f} (1.0 is linear)")
    figures.append(_figure("validate.linearity_ratio", ratio, LINEARITY_TARGET, False))
    r = measure(files, 10)
    print(
        f"{files} campaign files of 10 tasks: {r['seconds']:6.2f} s, "
        f"{r['tasks_per_s']:8.0f} tasks/s, peak RSS {r['rss_mb']:.0f} MB"
    )
    figures.append(
        _figure(
            f"validate.{files}_files.tasks_per_s",
            r["tasks_per_s"],
            None if quick else TASKS_PER_SECOND_TARGET,
            True,
        )
    )
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, a few seconds")
    args = parser.parse_args(argv)
    figures = run(quick=args.quick)
    failed = [f["figure"] for f in figures if not f["pass"]]
    print("all figures within target" if not failed else f"over target: {failed}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
