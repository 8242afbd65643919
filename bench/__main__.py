"""Run every benchmark under bench/ and print one table of figures.

    python -m bench [--quick] [--only NAME ...] [--json FILE]

Each ``bench/bench_*.py`` module exposes ``run(quick) -> list[{figure, value, target, pass}]``
and prints its own detail as it goes. This runner collects the figures, prints them as one
table (figure, value, target, pass or fail) and writes them as JSON with the machine they ran
on (default ``bench/results/latest.json``). Exit 1 when any figure misses its target.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def modules() -> list[str]:
    return sorted(p.stem for p in HERE.glob("bench_*.py"))


def machine() -> dict[str, Any]:
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average_1m_at_start": round(load[0], 2),
    }


def _verdict(passed: bool | None) -> str:
    return "info" if passed is None else ("pass" if passed else "FAIL")


def table(figures: list[dict[str, Any]]) -> str:
    rows = [("figure", "value", "target", "result")] + [
        (str(f["figure"]), str(f["value"]), str(f["target"] or ""), _verdict(f["pass"]))
        for f in figures
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: under a minute")
    parser.add_argument("--only", nargs="*", default=None, help="bench module names to run")
    parser.add_argument("--json", type=Path, default=HERE / "results" / "latest.json")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(HERE))
    started = time.time()
    about = machine()
    figures: list[dict[str, Any]] = []
    for name in modules():
        if args.only and name not in args.only and name.removeprefix("bench_") not in args.only:
            continue
        print(f"\n===== {name} =====", flush=True)
        module = importlib.import_module(name)
        for figure in module.run(quick=args.quick):
            figures.append({"bench": name, **figure})
    print("\n" + table(figures))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(
        json.dumps(
            {
                "version": 1,
                "quick": args.quick,
                "machine": about,
                "seconds": round(time.time() - started, 1),
                "figures": figures,
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"\nwritten to {args.json}")
    # Figures without a target (pass None) are reported for information only.
    return 0 if all(f["pass"] is not False for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
