"""What the sandbox's bounds cost per template evaluation.

    python bench/bench_sandbox.py [--quick]

Renders typical per-row templates (each fan-out row renders its row templates once) through
``Renderer.run``, the call every command makes, and prints evaluations per second of process
CPU time (not wall time, so a busy machine skews it less), the best of several rounds. The
first template takes the direct fast path (:mod:`pushops.render.fastpath`), the others Jinja
inside the sandbox with every bound on: the budget, the watchdog, the text-form checks. To
see what the bounds cost, run it against another checkout too (``PYTHONPATH=that/checkout``)
and compare. Target: a sandboxed evaluation of a simple template stays under 62 us of CPU, the
whole per-row budget at the render target of 16,000 deliveries/s, so the bounds are never
what keeps render from it. ``run(quick)`` returns the figures for ``python -m bench``.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ROW_BUDGET_US = 1e6 / 16_000  # CPU per delivery at the render target

TEMPLATES = {
    "fast path": "{{ row.name }}, your {{ row.tier | title }} offer",
    "condition": "{% if row.tier == 'gold' %}VIP {% endif %}{{ row.name }}",
    "filters": "{{ row.name | truncate(20) }}: code {{ row.code | upper }} at {{ brand }}",
    "loop": "{% for t in row.tags %}{{ t }}{% if not loop.last %}, {% endif %}{% endfor %}",
}
ROW = {"name": "用户12345", "tier": "gold", "code": "c0042", "tags": ["a", "bb", "ccc"]}

Figure = dict[str, object]


def measure(evaluations: int, rounds: int) -> dict[str, float]:
    from pushops.config import load_config
    from pushops.render.engine import Renderer

    renderer = Renderer(load_config(REPO), datetime(2026, 11, 22, 9, tzinfo=timezone.utc))
    context = {**renderer.sandbox.globals, "brand": "Acme", "row": ROW}
    out = {}
    for name, source in TEMPLATES.items():
        compiled = renderer.compile(source)
        run = renderer.run
        best = float("inf")
        for _ in range(rounds):
            started = time.process_time()
            for _ in range(evaluations):
                run(compiled, context)
            best = min(best, time.process_time() - started)
        out[name] = evaluations / best
    return out


def run(quick: bool = False) -> list[Figure]:
    evaluations, rounds = (5_000, 3) if quick else (20_000, 5)
    rates = measure(evaluations, rounds)
    figures: list[Figure] = []
    for name, rate in rates.items():
        micros = 1e6 / rate
        print(f"{name:>10}: {rate:10,.0f} evaluations/s of CPU, {micros:6.1f} us each")
        figures.append(
            {
                "figure": f"sandbox.{name.replace(' ', '_')}.us_per_evaluation",
                "value": round(micros, 2),
                "target": f"<= {ROW_BUDGET_US:g}",
                "pass": micros <= ROW_BUDGET_US,
            }
        )
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter rounds")
    args = parser.parse_args(argv)
    figures = run(quick=args.quick)
    for figure in figures:
        mark = "ok  " if figure["pass"] else "FAIL"
        print(f"{mark} {figure['figure']}: {figure['value']} (target {figure['target']})")
    return 0 if all(f["pass"] for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
