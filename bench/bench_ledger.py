"""Ledger write and read throughput on both backends (issue 5's ledger share of plan's budget).

    python bench/bench_ledger.py [--quick]

For SQLite (a temporary file) and PostgreSQL (a throwaway schema on ``PUSHOPS_TEST_PG_DSN``,
default the local server; left out with a note if none answers):

1. write 100,000 deliveries in calls of 100 (each call's request its encoded form, as apply
   records it), one call at a time: ``record_pending`` then
   ``record_sent`` per call, each its own transaction (for comparison);
   and the same in batches, the way apply's ledger writer does (pushops/apply/writer.py: up
   to 100 calls written ahead per transaction, outcomes settled 100 at a time, each with
   the provider's answer): ``record_pending_many`` then ``record_sent_many`` per batch,
   into a fresh ledger, the write-ahead and settle paths timed apart and together;
2. read them back with ``current_deliveries`` into a dict by key, as plan does: seconds, and
   the same read without decoding requests, and the process's peak RSS after it;
3. last, the peak Python memory of holding them all (tracemalloc, in its own pass after every
   timing and RSS reading, since its bookkeeping slows and swells the process).

Apply at the provider quota sends 500 calls/s; the batched figures say whether the ledger,
at two fsync'd transactions per batch, keeps up with room to spare: at least 600 calls of
100 deliveries a second through write-ahead and settle together (issue 15).

Plan's whole budget is 10 s and 1 GB for 100,000 deliveries with 90% in the ledger; the
ledger's share here is held to 2 s and 300 MB. ``run(quick)`` returns the figures for the
``python -m bench`` runner as a list of {figure, value, target, pass}.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import threading
import time
import tracemalloc
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from pushops.apply.writer import BATCH, SETTLE_AT
from pushops.ledger import Call, Delivery, Ledger, SentResult, open_ledger

Figure = dict[str, object]
ENV = "production"
PG_DSN = os.environ.get("PUSHOPS_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")
PER_CALL = 100
BATCH_CALLS = min(BATCH, SETTLE_AT)  # calls per record_pending_many / record_sent_many
FULL, QUICK = 100_000, 10_000
READ_S_TARGET = 2.0
READ_MB_TARGET = 300.0
# Apply at the provider quota is 500 calls/s; the ledger should not be what holds it back.
WRITE_CALLS_TARGET = 600.0


def _task(n: int) -> dict[str, object]:
    # A realistic EMAS PushTask, secrets already redacted by the caller.
    return {
        "DeviceType": "ANDROID",
        "PushType": "NOTICE",
        "Target": "DEVICE",
        "TargetValue": f"device-{n:08d}",
        "Title": "Your weekly summary is ready",
        "Body": f"Hello user {n}, here is what happened this week in your account.",
        "AndroidOpenType": "ACTIVITY",
        "AndroidActivity": "com.example.app.MainActivity",
        "AndroidExtParameters": '{"campaign":"weekly","variant":"b"}',
        "StoreOffline": "true",
        "ExpireTime": "2030-01-01T00:00:00Z",
    }


def _call(i: int) -> tuple[Call, list[Delivery]]:
    call_id = f"call-{i:06d}"
    deliveries = [
        Delivery(
            key=f"{ENV}/weekly/1/task-{i * PER_CALL + j:07d}",
            environment=ENV,
            campaign="weekly",
            task=f"task-{i * PER_CALL + j:07d}",
            fingerprint=uuid.uuid5(uuid.NAMESPACE_OID, str(i * PER_CALL + j)).hex,
            request=_task(i * PER_CALL + j),
        )
        for j in range(PER_CALL)
    ]
    # The call's request as apply records it: the query and the encoded form of its tasks,
    # 52 KB for these 100 (no secret is ever in it; the client adds them when it signs).
    form = {"AppKey": "23267207"} | {
        f"PushTask.{n}.{name}": value
        for n, d in enumerate(deliveries, 1)
        for name, value in d.request.items()
    }
    request = {
        "query": {"Action": "MassPush", "Format": "JSON", "Version": "2016-08-01"},
        "body": urlencode(form),
        "rendered_at": "2026-12-02T00:00:00.000000+00:00",
    }
    call = Call(
        call_id=call_id,
        environment=ENV,
        provider="emas",
        app="app",
        action="MassPush",
        token=str(uuid.uuid5(uuid.NAMESPACE_URL, call_id)),
        request=request,
        git_commit="0" * 40,
        actor="bench",
    )
    return call, deliveries


@contextmanager
def _sqlite() -> Iterator[Ledger]:
    with tempfile.TemporaryDirectory() as tmp, open_ledger(Path(tmp) / "state.db") as ledger:
        yield ledger


@contextmanager
def _postgres() -> Iterator[Ledger]:
    import psycopg

    schema = f"pushops_bench_{uuid.uuid4().hex[:8]}"
    try:
        with open_ledger(PG_DSN, schema=schema) as ledger:
            yield ledger
    finally:
        with psycopg.connect(PG_DSN, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _pg_problem() -> str | None:
    try:
        import psycopg

        with psycopg.connect(PG_DSN, connect_timeout=3):
            return None
    except Exception as exc:  # no driver or no server: the bench says so and goes on
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _read(ledger: Ledger, with_request: bool) -> dict[str, Delivery]:
    return {d.key: d for d in ledger.current_deliveries(ENV, with_request=with_request)}


def _timed(fn: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def bench_speed(name: str, ledger: Ledger, count: int, quick: bool = False) -> list[Figure]:
    read_target = None if quick else READ_S_TARGET * count / FULL
    # Each call is built outside the timed part and dropped after, so the bench's own data
    # does not swell the process's peak RSS.
    write_s = 0.0
    for i in range(count // PER_CALL):
        call, deliveries = _call(i)
        start = time.perf_counter()
        ledger.record_pending(call, deliveries)
        ledger.record_sent(call.call_id, {j: f"msg-{j}" for j in range(PER_CALL)})
        write_s += time.perf_counter() - start

    read_s, got = _timed(lambda: _read(ledger, True))
    assert isinstance(got, dict) and len(got) == count, "read back fewer than written"
    rss_mb = _peak_rss_mb()
    del got
    bare_s, _ = _timed(lambda: _read(ledger, False))

    calls_per_s = count / PER_CALL / write_s
    print(f"\n== {name}: {count:,} deliveries in calls of {PER_CALL}")
    print(f"  write one call at a time{write_s:8.2f} s   {calls_per_s:8.0f} calls/s")
    print(f"  read current            {read_s:8.2f} s")
    print(f"  read without requests   {bare_s:8.2f} s")
    print(f"  process peak RSS        {rss_mb:8.0f} MB after the read")
    return [
        _figure(f"{name}.write_single.calls_per_s", calls_per_s, None),
        # --quick: a read of a fifth of a second is mostly noise: shown, not judged.
        _figure(f"{name}.read_current.seconds", read_s, read_target),
        _figure(f"{name}.read_current_no_request.seconds", bare_s, read_target),
        _figure(f"{name}.process.peak_rss_mb", rss_mb, 1024),
    ]


def _sent(call_id: str) -> SentResult:
    """A MassPush answer as apply records it: a MessageId per task, the response body."""
    ids = {j: f"{call_id}-msg-{j}" for j in range(PER_CALL)}
    body = {"RequestId": f"req-{call_id}", "MessageIds": {"MessageId": list(ids.values())}}
    return SentResult(call_id, ids, body, f"req-{call_id}")


def bench_batched(
    name: str, make: Callable[[], Any], count: int, quick: bool = False
) -> list[Figure]:
    """Write ahead and settle in batches of BATCH_CALLS calls, into a fresh ledger."""
    ahead_s = settle_s = 0.0
    with make() as ledger:
        for first in range(0, count // PER_CALL, BATCH_CALLS):
            last = min(first + BATCH_CALLS, count // PER_CALL)
            items = [_call(i) for i in range(first, last)]
            results = [_sent(c.call_id) for c, _ in items]
            start = time.perf_counter()
            ledger.record_pending_many(items)
            written = time.perf_counter()
            ledger.record_sent_many(results)
            ahead_s += written - start
            settle_s += time.perf_counter() - written
    calls = count / PER_CALL
    both = calls / (ahead_s + settle_s)
    target = WRITE_CALLS_TARGET
    print(f"  batches of {BATCH_CALLS} calls: write ahead {calls / ahead_s:6.0f} calls/s, "
          f"settle {calls / settle_s:6.0f} calls/s")  # fmt: skip
    print(f"  write ahead and settle  {ahead_s + settle_s:8.2f} s   {both:8.0f} calls/s")
    return [
        _figure(f"{name}.write_ahead.calls_per_s", calls / ahead_s, None),
        _figure(f"{name}.settle.calls_per_s", calls / settle_s, None),
        # At --quick's size a run is a few batches, mostly start-up: shown, not judged.
        _figure(f"{name}.write_batched.calls_per_s", both, None if quick else target, True),
    ]


def bench_overlapped(
    name: str, make: Callable[[], Any], count: int, quick: bool = False
) -> list[Figure]:
    """As apply writes: each batch written ahead while the one before is settled, on the
    ledger's second writer (its own session, in a thread) where the backend has one; SQLite
    has none, and takes the two in turn."""
    batches = count // PER_CALL // BATCH_CALLS
    with make() as ledger:
        second = ledger.second_writer()
        try:
            elapsed = 0.0
            previous: list[SentResult] = []
            for first in range(0, count // PER_CALL, BATCH_CALLS):
                last = min(first + BATCH_CALLS, count // PER_CALL)
                items = [_call(i) for i in range(first, last)]
                start = time.perf_counter()
                if second is None:
                    ledger.record_pending_many(items)
                    ledger.record_sent_many(previous)
                else:
                    settling = threading.Thread(target=second.record_sent_many, args=(previous,))
                    settling.start()
                    ledger.record_pending_many(items)
                    settling.join()
                elapsed += time.perf_counter() - start
                previous = [_sent(c.call_id) for c, _ in items]
            start = time.perf_counter()
            (second or ledger).record_sent_many(previous)
            elapsed += time.perf_counter() - start
        finally:
            if second is not None:
                second.close()
    calls = count / PER_CALL
    how = "overlapped, settled on a second session" if second else "in turn, one writer"
    print(f"  as apply writes ({how}): {calls / elapsed:6.0f} calls/s over {batches} batches")
    target = None if quick else WRITE_CALLS_TARGET
    return [_figure(f"{name}.write_as_apply.calls_per_s", calls / elapsed, target, True)]


def bench_memory(name: str, ledger: Ledger, count: int) -> list[Figure]:
    # Last, after every RSS reading: tracemalloc's own bookkeeping inflates the process.
    tracemalloc.start()
    kept = _read(ledger, True)
    peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    del kept
    print(f"  {name}: read current, peak {peak_mb:6.1f} MB (tracemalloc)")
    return [_figure(f"{name}.read_current.peak_mb", peak_mb, READ_MB_TARGET * count / FULL)]


def _figure(name: str, value: float, target: float | None, higher: bool = False) -> Figure:
    # No target: a figure shown for comparison only.
    if target is None:
        return {"figure": name, "value": round(value, 3), "target": "-", "pass": True}
    ok = value >= target if higher else value <= target
    shown = f">= {target:g}" if higher else f"<= {target:g}"
    return {"figure": name, "value": round(value, 3), "target": shown, "pass": ok}


def run(quick: bool = False) -> list[Figure]:
    count = QUICK if quick else FULL
    problem = _pg_problem()
    backends = [("sqlite", _sqlite)] + ([("postgresql", _postgres)] if problem is None else [])
    if problem is not None:
        print(f"\n== postgresql: left out, no server at {PG_DSN} ({problem})")
    figures: list[Figure] = []
    with ExitStack() as stack:
        opened = [(name, stack.enter_context(make())) for name, make in backends]
        for (name, ledger), (_, make) in zip(opened, backends, strict=True):
            figures += bench_speed(name, ledger, count, quick)
            figures += bench_batched(name, make, count, quick)
            figures += bench_overlapped(name, make, count, quick)
        print("\n== memory of holding every current delivery, as plan does")
        for name, ledger in opened:
            figures += bench_memory(name, ledger, count)
    return figures


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 deliveries instead")
    args = parser.parse_args(argv)
    figures = run(quick=args.quick)
    failed = [f["figure"] for f in figures if not f["pass"]]
    print("\n" + ("all figures within target" if not failed else f"over target: {failed}"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
