"""Plan time and memory: 100,000 deliveries of which 90% are already in the ledger.

    python bench/bench_plan.py [--quick]

A generated repo holds one EMAS campaign fanned out over a CSV, every row with its own Title
(no two rows merge). The ledger is seeded with the first 90% of the rows as sent (through the
plan engine and the ledger's batch writes, as apply records them), then ``pushops plan``
runs in a fresh child process against the whole file: validation, rendering, the ledger
read, the comparison, compiling the 10% to send, and the text view. It reports wall time and
the child's peak RSS, on SQLite and on PostgreSQL (a throwaway schema on
``PUSHOPS_TEST_PG_DSN``; left out with the reason when no server answers). Targets on this
machine: at most 10 s and 1 GB. ``--quick``: 10,000 deliveries. ``run(quick)`` returns the
figures as a list of {figure, value, target, pass}.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

try:
    from bench._child import PEAK_RSS, RECORD_SENT
except ImportError:  # run as a script: bench/ is on sys.path
    from _child import PEAK_RSS, RECORD_SENT

Figure = dict[str, object]
PG_DSN = os.environ.get("PUSHOPS_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")
SECONDS_TARGET = 10.0
PEAK_RSS_TARGET_MB = 1024.0
NOW = "2026-11-22T09:00:00Z"

CONFIG = """\
version: 1
environments:
  staging:
    apps:
      shop: {provider: emas, app_key: 23267207}
"""

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
    Title: "{{ row.name }}, your offer"
    Body: "Use code {{ row.code }} within 7 days."
"""

SEED = (
    RECORD_SENT
    + r"""
import sys
from datetime import datetime
from pathlib import Path
from pushops.config import load_config
from pushops.diagnostics import Report
from pushops.ledger import open_ledger
from pushops.plan.engine import build_plan
from pushops.campaign import load_campaigns
root, target, schema = Path(sys.argv[1]), sys.argv[2], sys.argv[3] or None
config = load_config(root)
report = Report()
now = datetime.fromisoformat(sys.argv[4].replace("Z", "+00:00"))
with open_ledger(target, root=root, schema=schema) as ledger:
    plan = build_plan(config, None, ledger, load_campaigns([], root, report), now, report)
    assert report.ok, report.errors[:3]
    print(record_sent(ledger, plan, "bench"))
"""
)

CHILD = (
    PEAK_RSS
    + r"""
import contextlib, io, json, os, resource, sys, time

start = time.perf_counter()
os.chdir(sys.argv[1])
from pushops.cli import cli
out = io.StringIO()
code = None
with contextlib.redirect_stdout(out):
    try:
        cli.main(["plan", "--now", sys.argv[2], "--detailed-exitcode"], prog_name="pushops")
    except SystemExit as exc:
        code = exc.code
elapsed = time.perf_counter() - start
text = out.getvalue()
summary = [line for line in text.splitlines() if line.startswith("Plan:")]
rss = peak_rss_mb()
print(json.dumps({"seconds": elapsed, "exit": code, "rss_mb": rss,
                  "summary": summary[-1] if summary else text[-500:]}))
"""
)


def write_csv(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.write("device_id,name,code\n")
        for i in range(rows):
            out.write(f"dev{i:012d},User{i},C{i % 997:04d}\n")


def measure(total: int, target: str, schema: str) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="pushops-bench-plan-") as tmp:
        root = Path(tmp)
        (root / "pushops.yaml").write_text(CONFIG)
        (root / "campaigns").mkdir()
        (root / "campaigns" / "offer.yaml").write_text(CAMPAIGN)
        (root / "data").mkdir()
        csv = root / "data" / "recipients.csv"
        known = total * 9 // 10
        write_csv(csv, known)
        if target == "sqlite":
            target = str(root / ".pushops" / "state.db")
        env = {**os.environ, "PUSHOPS_STATE_DSN": target, "PUSHOPS_STATE_SCHEMA": schema}
        seeded = subprocess.run(
            [sys.executable, "-c", SEED, str(root), target, schema, NOW],
            capture_output=True, text=True, env=env, check=True,
        )  # fmt: skip
        assert int(seeded.stdout.strip()) == known, seeded.stdout
        write_csv(csv, total)
        done = subprocess.run(
            [sys.executable, "-c", CHILD, str(root), NOW],
            capture_output=True, text=True, env=env, check=True,
        )  # fmt: skip
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    expected = f"Plan: {total - known} to send"
    if result["exit"] != 2 or not str(result["summary"]).startswith(expected):
        raise SystemExit(f"bench plan did not come out as expected: {result}")
    return result


def pg_problem() -> str | None:
    try:
        import psycopg

        with psycopg.connect(PG_DSN, connect_timeout=3):
            return None
    except Exception as exc:  # any failure to connect leaves PostgreSQL out
        return f"{type(exc).__name__}: {exc}".splitlines()[0]


def _figure(name: str, value: float, target: float) -> Figure:
    return {
        "figure": name,
        "value": round(value, 2),
        "target": f"<= {target:g}",
        "pass": value <= target,
    }


def run(quick: bool = False) -> list[Figure]:
    total = 10_000 if quick else 100_000
    figures: list[Figure] = []
    backends: list[tuple[str, str, str]] = [("sqlite", "sqlite", "")]
    problem = pg_problem()
    if problem is None:
        backends.append(("postgresql", PG_DSN, f"bench_plan_{uuid.uuid4().hex[:10]}"))
    else:
        print(f"== postgresql: left out, no server at {PG_DSN} ({problem})")
    for name, target, schema in backends:
        try:
            r = measure(total, target, schema)
        finally:
            if schema:
                import psycopg

                with psycopg.connect(PG_DSN, autocommit=True) as conn:
                    conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        print(
            f"{name:<10} plan of {total:,} deliveries (90% in the ledger): "
            f"{r['seconds']:.2f} s, peak RSS {r['rss_mb']:.0f} MB  [{r['summary']}]"
        )
        figures.append(
            _figure(f"plan.{name}.{total}_deliveries.seconds", float(r["seconds"]), SECONDS_TARGET)
        )  # type: ignore[arg-type]
        figures.append(
            _figure(
                f"plan.{name}.{total}_deliveries.peak_rss_mb",
                float(r["rss_mb"]),
                PEAK_RSS_TARGET_MB,
            )
        )  # type: ignore[arg-type]
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 deliveries")
    args = parser.parse_args(argv)
    figures = run(quick=args.quick)
    for figure in figures:
        mark = "ok  " if figure["pass"] else "FAIL"
        print(f"{mark} {figure['figure']}: {figure['value']} (target {figure['target']})")
    return 1 if any(not f["pass"] for f in figures) else 0


if __name__ == "__main__":
    sys.exit(main())
