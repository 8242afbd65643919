"""What the reviewer's views cost on top of a plan: grouping, vendor limits, text, Markdown, HTML.

    python bench/bench_review.py [--quick]

A generated repo holds one EMAS campaign fanned out over a CSV, every row with its own title
(a personalised fan-out: no two rows merge, the worst case for grouping). In a fresh child
process the plan is built on an empty ledger (every row a send), then, timed one by one: the
grouping (``group_plan``: one pass over the calls and one over the actions), the vendor-limit
findings (one pass over the calls), and the text, Markdown and HTML views rendered from the
grouped plan. The grouping's own memory is measured in a second run under tracemalloc (its
peak while it runs): it keeps counts and a few samples per message, so it must not grow with
the rows.

Targets: grouping plus vendor limits at most 15% of the plan's own time (they must not
dominate a plan of 1,000,000 rows); the grouping's memory peak under 5 MB at any size.
``--quick``: 10,000 rows, the share for information only. ``run(quick)`` returns the
figures as {figure, value, target, pass}.
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
    from bench.bench_plan import CAMPAIGN, CONFIG, NOW, write_csv
except ImportError:  # run as a script: bench/ is on sys.path
    from bench_plan import CAMPAIGN, CONFIG, NOW, write_csv

Figure = dict[str, object]
SHARE_TARGET = 0.15
GROUP_MEMORY_TARGET_MB = 5.0

CHILD = r"""
import json, sys, time, tracemalloc
from datetime import datetime
from pathlib import Path
from pushops.campaign import load_campaigns
from pushops.config import load_config
from pushops.diagnostics import Report
from pushops.ledger import open_ledger
from pushops.plan.engine import build_plan
from pushops.plan.grouped import group_plan
from pushops.plan.html import render_html
from pushops.plan.markdown import render_markdown
from pushops.plan.text import render_text
from pushops.plan.vendorcheck import vendor_findings

root = Path(sys.argv[1])
now = datetime.fromisoformat(sys.argv[2].replace("Z", "+00:00"))
config = load_config(root)
report = Report()
campaigns = load_campaigns([], root, report)
out = {}
with open_ledger(str(root / ".pushops" / "state.db"), root=root) as ledger:
    start = time.perf_counter()
    plan = build_plan(config, None, ledger, campaigns, now, report)
    out["plan"] = time.perf_counter() - start
assert report.ok, report.errors[:3]
out["deliveries"] = sum(len(c.deliveries) for c in plan.calls)
start = time.perf_counter()
plan.findings.extend(vendor_findings(plan, campaigns))
out["vendor"] = time.perf_counter() - start
start = time.perf_counter()
view = group_plan(plan, campaigns, config)
out["group"] = time.perf_counter() - start
tracemalloc.start()  # a second run for memory: tracing slows every allocation down
group_plan(plan, campaigns, config)
out["group_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
tracemalloc.stop()
for name, render in (("text", render_text), ("markdown", render_markdown), ("html", render_html)):
    start = time.perf_counter()
    size = len(render(plan, view=view))
    out[name] = time.perf_counter() - start
    out[name + "_chars"] = size
print(json.dumps(out))
"""


def measure(rows: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="pushops-bench-review-") as tmp:
        root = Path(tmp)
        (root / "pushops.yaml").write_text(CONFIG)
        (root / "campaigns").mkdir()
        (root / "campaigns" / "offer.yaml").write_text(CAMPAIGN)
        (root / "data").mkdir()
        write_csv(root / "data" / "recipients.csv", rows)
        env = {**os.environ, "PUSHOPS_STATE_DSN": "", "PUSHOPS_STATE_SCHEMA": ""}
        done = subprocess.run(
            [sys.executable, "-c", CHILD, str(root), NOW],
            capture_output=True, text=True, env=env, check=True,
        )  # fmt: skip
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    if result["deliveries"] != rows:
        raise SystemExit(f"bench review planned {result['deliveries']} of {rows} rows")
    return result


def run(quick: bool = False) -> list[Figure]:
    rows = 10_000 if quick else 100_000
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    r = measure(rows)
    share = (r["group"] + r["vendor"]) / r["plan"]
    print(
        f"review of a {rows:,}-row personalised fan-out (load {load:.1f}): plan {r['plan']:.2f} s; "
        f"grouping {r['group']:.2f} s + vendor limits {r['vendor']:.2f} s = {share:.1%} of the "
        f"plan; grouping peak {r['group_peak_mb']:.2f} MB; text {r['text']:.3f} s "
        f"({r['text_chars']:,} chars), Markdown {r['markdown']:.3f} s "
        f"({r['markdown_chars']:,} chars), HTML {r['html']:.3f} s ({r['html_chars']:,} chars)"
    )
    return [
        {  # --quick: fixed costs weigh more in a small plan; the figure is for information
            "figure": f"review.{rows}_rows.group_and_vendor_share_of_plan",
            "value": round(share, 3),
            "target": None if quick else f"<= {SHARE_TARGET:g}",
            "pass": None if quick else share <= SHARE_TARGET,
        },
        {
            "figure": f"review.{rows}_rows.group_seconds",
            "value": round(r["group"], 3),
            "target": None,
            "pass": None,
        },
        {
            "figure": f"review.{rows}_rows.group_peak_mb",
            "value": round(r["group_peak_mb"], 2),
            # --quick: shown, not judged (the target is the full size's).
            "target": None if quick else f"<= {GROUP_MEMORY_TARGET_MB:g}",
            "pass": None if quick else r["group_peak_mb"] <= GROUP_MEMORY_TARGET_MB,
        },
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    figures = run(parser.parse_args().quick)
    sys.exit(0 if all(f["pass"] is not False for f in figures) else 1)
