"""What ``pushops refresh`` costs against a provider holding many pushes, and that it keeps
QueryPushRecords under its documented quota.

    python bench/bench_refresh.py [--quick]

The emulator (in this process) holds N pushes made "in the console" (none of them the
ledger's, so every one is drift and every page must be read); ``pushops refresh --format
json`` runs in a fresh process against it and an empty bound SQLite ledger. From the
emulator's log of every call it received: the QueryPushRecords pages, the most that fell in
any one second (the documented quota is 10 queries/s per account), and the time the pages
took against the physical floor ``(pages - 1) / 10`` s that the quota sets.

Targets: at most 10 QueryPushRecords in any one second; every push reported (paging
complete); only query actions received. ``run(quick)`` returns {figure, value, target, pass}.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from bench._repo import repo_with_ledger
from pushops.emulator import Emulator

Figure = dict[str, object]
QUOTA = 10  # QueryPushRecords per second (the EMAS document)
PAGE = 100  # the most QueryPushRecords answers per page
AKID, SECRET = "LTAIbenchrefresh", "bench-refresh-secret"
CONFIG = """\
version: 1
default_environment: production
environments:
  production:
    apps:
      shop: {provider: emas, app_key: 24780031}
"""
QUERIES = {"QueryPushRecords", "QueryPushSchedulerList", "QueryPushAnalysisTaskList"}


def busiest_second(times: list[float]) -> int:
    """The most calls in any window of one second (two pointers over sorted times)."""
    times = sorted(times)
    best, first = 0, 0
    for last, at in enumerate(times):
        while at - times[first] >= 1.0:
            first += 1
        best = max(best, last - first + 1)
    return best


def measure(pushes: int) -> dict[str, float]:
    with Emulator(credentials={AKID: SECRET}) as emulator, tempfile.TemporaryDirectory() as tmp:
        for n in range(pushes):
            emulator.console_push(
                "emas",
                {"DeviceType": "ANDROID", "PushType": "NOTICE", "Target": "DEVICE",
                 "TargetValue": f"d{n}", "Title": f"Console push {n}", "Body": "b"},
                app="24780031",
            )  # fmt: skip
        root = Path(tmp)
        pushops = repo_with_ledger(root, CONFIG, emulator, AKID, SECRET)
        done = pushops("refresh", "--format", "json")
        if done.returncode != 2:
            raise SystemExit(f"refresh exited {done.returncode}: {done.stderr}")
        report = json.loads(done.stdout)
        calls = emulator.calls()
    pages = [c["time"] for c in calls if c["action"] == "QueryPushRecords"]
    return {
        "pages": len(pages),
        "span": max(pages) - min(pages),
        "busiest": busiest_second(pages),
        "reported": report["counts"]["unmanaged"],
        "only_queries": all(c["action"] in QUERIES for c in calls),
    }


def run(quick: bool = False) -> list[Figure]:
    pushes = 2_000 if quick else 10_000
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    r = measure(pushes)
    floor = (r["pages"] - 1) / QUOTA
    print(
        f"refresh over {pushes:,} console pushes (load {load:.1f}): {r['pages']} "
        f"QueryPushRecords pages in {r['span']:.2f} s (the quota's floor {floor:.2f} s: "
        f"{floor / r['span'] if r['span'] else 1:.0%} of it), at most {r['busiest']} in any "
        f"second (quota {QUOTA}); {r['reported']:,} reported as drift"
    )
    return [
        {
            "figure": f"refresh.{pushes}_pushes.query_push_records_busiest_second",
            "value": r["busiest"],
            "target": f"<= {QUOTA}",
            "pass": r["busiest"] <= QUOTA,
        },
        {
            "figure": f"refresh.{pushes}_pushes.pages_seconds",
            "value": round(r["span"], 2),
            "target": None,
            "pass": None,
        },
        {
            "figure": f"refresh.{pushes}_pushes.reported",
            "value": r["reported"],
            "target": f"== {pushes}",
            "pass": r["reported"] == pushes and r["pages"] == -(-pushes // PAGE),
        },
        {
            "figure": f"refresh.{pushes}_pushes.only_queries",
            "value": r["only_queries"],
            "target": "True",
            "pass": r["only_queries"],
        },
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    figures = run(parser.parse_args().quick)
    sys.exit(0 if all(f["pass"] is not False for f in figures) else 1)
