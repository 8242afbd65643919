"""Code the benchmarks' child processes share (prepended to each child's program text)."""

# VmHWM resets at exec; ru_maxrss keeps the parent's high-water mark across fork+exec, so
# under `python -m bench` it reported the runner's size, not the child's.
PEAK_RSS = """
import resource


def peak_rss_mb():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
"""

# A ledger seeded as if a plan had been applied: its calls written ahead and settled as sent,
# 50 at a time, streamed from the plan (its calls are a spool on disk, not a list).
RECORD_SENT = """
from itertools import islice
from pushops.apply.records import pending_records
from pushops.ledger import SentResult


def record_sent(ledger, plan, actor):
    calls, done, deliveries = iter(plan.calls), 0, 0
    while chunk := list(islice(calls, 50)):
        ledger.record_pending_many([pending_records(c, plan, actor) for c in chunk])
        ledger.record_sent_many([
            SentResult(c.call_id, {i: str(10**9 + done * 100 + i)
                                   for i in range(len(c.deliveries))})
            for c in chunk
        ])
        done += len(chunk)
        deliveries += sum(len(c.deliveries) for c in chunk)
    return deliveries
"""
