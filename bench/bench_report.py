"""What ``pushops report`` costs over many sent messages, and that it keeps QueryPushStatByMsg
under its documented quota and asks nothing again once the statistics are final.

    python bench/bench_report.py [--quick]

The emulator (in this process) holds N pushes; a SQLite ledger records them as sent by
pushops (N deliveries, 100 to a MassPush call, each with its MessageId). ``pushops report
--format json`` then runs three times in a fresh process: now (every message is read), a day
later (every message is read once more and becomes final) and an hour after that (nothing is
read: every count is final, from the ledger's cache). From the emulator's call log: the
QueryPushStatByMsg calls of each run, the most that fell in any one second (the documented
quota is 50 queries/s per account) and the span of the first run against the physical floor
``(N - 1) / 50`` s that the quota sets.

Targets: at most 50 QueryPushStatByMsg in any one second; every message read in each of the
first two runs; none in the third. ``run(quick)`` returns {figure, value, target, pass}.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

from bench._repo import repo_with_ledger
from bench.bench_refresh import busiest_second
from pushops.emulator import Emulator
from pushops.ledger import Call, Delivery, SentResult, open_ledger

Figure = dict[str, object]
QUOTA = 50  # QueryPushStatByMsg per second (the EMAS document)
PER_CALL = 100
AKID, SECRET = "LTAIbenchreport", "bench-report-secret"
APP_KEY = "24780031"
CONFIG = f"""\
version: 1
default_environment: production
environments:
  production:
    apps:
      shop: {{provider: emas, app_key: {APP_KEY}}}
"""


def _ledger(path: Path, message_ids: list[str]) -> None:
    """The ledger of an apply that sent these messages, 100 to a MassPush call."""
    with open_ledger(path) as ledger:
        for start in range(0, len(message_ids), PER_CALL):
            chunk = message_ids[start : start + PER_CALL]
            call = Call(
                call_id=f"production/shop/{uuid.uuid4()}",
                environment="production",
                provider="emas",
                app="shop",
                action="MassPush",
                token=str(uuid.uuid4()),
                request={"AppKey": APP_KEY},
                actor="bench",
            )
            deliveries = [
                Delivery(
                    key=f"production/weekly/r1/m{start + n:07d}",
                    environment="production",
                    campaign="weekly",
                    task=f"m{start + n:07d}",
                    fingerprint=f"fp{start + n}",
                    request={"Title": "Weekly"},
                    position=n,
                )
                for n in range(len(chunk))
            ]
            ledger.record_pending_many([(call, deliveries)])
            ledger.record_sent_many([SentResult(call.call_id, dict(enumerate(chunk)))])


def measure(messages: int) -> dict[str, object]:
    with Emulator(credentials={AKID: SECRET}) as emulator, tempfile.TemporaryDirectory() as tmp:
        ids = [
            emulator.console_push(
                "emas",
                {
                    "DeviceType": "ANDROID",
                    "PushType": "NOTICE",
                    "Target": "DEVICE",
                    "TargetValue": f"d{n}",
                    "Title": "Weekly",
                    "Body": "b",
                },
                app=APP_KEY,
            )
            for n in range(messages)
        ]
        root = Path(tmp)
        pushops = repo_with_ledger(root, CONFIG, emulator, AKID, SECRET)
        _ledger(root / "ledger.db", ids)
        runs = []
        for hours in (0, 24, 1):
            emulator.advance(hours * 3600)
            at = datetime.fromtimestamp(emulator.app.clock.time(), timezone.utc)
            start, began = len(emulator.calls()), time.monotonic()
            done = pushops("report", "--format", "json", "--now", at.isoformat())
            took = time.monotonic() - began
            if done.returncode != 0:
                raise SystemExit(f"report exited {done.returncode}: {done.stderr}")
            doc = json.loads(done.stdout)
            queries = [c for c in emulator.calls()[start:] if c["action"] == "QueryPushStatByMsg"]
            times = [float(c["time"]) for c in queries]
            runs.append(
                {
                    "queries": len(queries),
                    "busiest": busiest_second(times) if times else 0,
                    "span": (max(times) - min(times)) if times else 0.0,
                    "seconds": took,
                    "final": sum(1 for m in doc["messages"] if m["final"]),
                    "throttled": sum(1 for c in queries if c["status"] != 200),
                }
            )
    return {"runs": runs}


def run(quick: bool = False) -> list[Figure]:
    messages = 500 if quick else 2_000
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    first, second, third = measure(messages)["runs"]  # type: ignore[misc]
    floor = (messages - 1) / QUOTA
    print(
        f"report over {messages:,} sent messages (load {load:.1f}): {first['queries']:,} "
        f"QueryPushStatByMsg in {first['span']:.2f} s (the quota's floor {floor:.2f} s: "
        f"{floor / first['span'] if first['span'] else 1:.0%} of it), at most "
        f"{max(first['busiest'], second['busiest'])} in any second (quota {QUOTA}), "
        f"{first['throttled'] + second['throttled']} throttled; a day later "
        f"{second['queries']:,} read again, {second['final']:,} final; an hour after that "
        f"{third['queries']} read, the report from the cache in {third['seconds']:.2f} s"
    )
    return [
        {
            "figure": f"report.{messages}_messages.stat_queries_busiest_second",
            "value": max(first["busiest"], second["busiest"]),
            "target": f"<= {QUOTA}",
            "pass": max(first["busiest"], second["busiest"]) <= QUOTA,
        },
        {
            "figure": f"report.{messages}_messages.first_read_seconds",
            "value": round(first["span"], 2),
            "target": f">= {floor:.2f} (the quota's floor)",
            "pass": None,
        },
        {
            "figure": f"report.{messages}_messages.read_then_final",
            "value": f"{first['queries']}, {second['queries']} ({second['final']} final)",
            "target": f"{messages}, {messages} ({messages} final)",
            "pass": first["queries"] == second["queries"] == second["final"] == messages,
        },
        {
            "figure": f"report.{messages}_messages.queries_once_final",
            "value": third["queries"],
            "target": "== 0",
            "pass": third["queries"] == 0,
        },
        {
            "figure": f"report.{messages}_messages.cached_report_seconds",
            "value": round(third["seconds"], 2),
            "target": None,
            "pass": None,
        },
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    figures = run(parser.parse_args().quick)
    sys.exit(0 if all(f["pass"] is not False for f in figures) else 1)
