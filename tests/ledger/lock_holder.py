"""Run as a separate process by the lock tests: take the lock, say so, hold it.

Usage: lock_holder.py TARGET_JSON OPERATION HOLD_SECONDS
Prints ``locked LOCK_ID`` once it holds the lock, then sleeps; exits 0 after releasing.
"""

from __future__ import annotations

import json
import sys
import time

from pushops.ledger import open_ledger


def main() -> None:
    spec = json.loads(sys.argv[1])
    operation, hold_s = sys.argv[2], float(sys.argv[3])
    with (
        open_ledger(spec["location"], schema=spec["schema"]) as ledger,
        ledger.lock(operation, holder="holder-process", timeout_s=10) as info,
    ):
        print(f"locked {info.lock_id}", flush=True)
        time.sleep(hold_s)


if __name__ == "__main__":
    main()
