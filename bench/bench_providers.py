"""Provider client throughput against the emulator in another process (issue 4's benchmark).

    python bench/bench_providers.py [--quick]

1. N MassPush calls of 10 PushTasks each through pushops (client rate limit = quota) to
   ``pushops emulator --latency-ms 50 --quota 500`` running as a subprocess: calls/s, ratio to
   the quota, throttled calls, duplicates (from /_emulator/deliveries), p50/p99 latency.
2. The first 200 of those calls one by one through the official legacy SDK (aliyunsdkcore
   AcsClient + MassPushRequest) pointed at the same emulator, and the throughput ratio.
3. The pushops run again with 100 PushTasks per call.

Also reported: CPU used by this process and by the emulator during each run, so a
bottleneck shows where it is. ``run(quick)`` returns the figures for the ``python -m bench``
runner as a list of {figure, value, target, pass}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from pushops.providers.client import Providers
from pushops.providers.credentials import Credentials
from pushops.providers.transport import TransportOptions

AKID = "bench-access-key-id"
SECRET = "bench-access-key-secret"
APP_KEY = "23267207"
QUOTA = 500
LATENCY_MS = 50
TOKENS = uuid.UUID("6a0e2f43-5b7e-4c1b-9d55-1f3a0c2b8e10")

Figure = dict[str, object]


@dataclass(frozen=True)
class Scale:
    calls_10: int  # MassPush calls of 10 tasks
    sdk_calls: int  # the first N of them through the official SDK
    calls_100: int  # MassPush calls of 100 tasks


# 100-task calls: 3,000 (300,000 deliveries, 6 s at the quota), not 10,000: the emulator keeps
# every delivery in memory and /_emulator/deliveries returns them all as one JSON document.
FULL = Scale(calls_10=10_000, sdk_calls=200, calls_100=3_000)
QUICK = Scale(calls_10=2_500, sdk_calls=40, calls_100=1_000)


# --- the emulator subprocess ----------------------------------------------------------------


@dataclass
class EmulatorProcess:
    url: str
    pid: int

    def cpu_seconds(self) -> float:
        # utime + stime of the emulator (fields 14 and 15 of /proc/PID/stat, in clock ticks).
        with open(f"/proc/{self.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def get(self, path: str) -> dict[str, object]:
        with urllib.request.urlopen(self.url + path, timeout=120) as r:
            return json.loads(r.read())

    def post(self, path: str) -> None:
        request = urllib.request.Request(self.url + path, data=b"{}", method="POST")
        request.add_header("content-type", "application/json")
        with urllib.request.urlopen(request, timeout=60) as r:
            r.read()


@contextmanager
def emulator_process() -> Iterator[EmulatorProcess]:
    command = [
        sys.executable, "-m", "pushops", "emulator", "--port", "0",
        "--latency-ms", str(LATENCY_MS), "--quota", str(QUOTA),
        "--credentials", f"{AKID}:{SECRET}",
    ]  # fmt: skip
    with tempfile.TemporaryFile() as stderr:
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr, text=True)
        try:
            assert proc.stdout is not None
            first = proc.stdout.readline()
            match = re.search(r"listening on (http://\S+)", first)
            if not match:
                stderr.seek(0)
                raise RuntimeError(f"emulator did not start: {first!r} {stderr.read()[-2000:]!r}")
            # Keep draining stdout so a chatty emulator never blocks on a full pipe.
            threading.Thread(target=proc.stdout.read, daemon=True).start()
            yield EmulatorProcess(match.group(1).rstrip("/"), proc.pid)
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


# --- workload ------------------------------------------------------------------------------------


def make_calls(count: int, tasks_per_call: int) -> list[tuple[str, list[dict[str, str]]]]:
    """(IdempotentToken, PushTasks) per call, deterministic, as compile would hand them over."""
    calls = []
    for i in range(count):
        token = str(uuid.uuid5(TOKENS, f"{tasks_per_call}/{i}"))
        tasks = [
            {
                "DeviceType": "ANDROID",
                "PushType": "NOTICE",
                "Target": "DEVICE",
                "TargetValue": f"device-{i}-{j}",
                "Title": "Weekly digest",
                "Body": f"Hello reader {i}.{j}, your digest is ready",
                "JobKey": f"bench-{i}",
            }
            for j in range(tasks_per_call)
        ]
        calls.append((token, tasks))
    return calls


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass
class RunResult:
    calls: int
    tasks_per_call: int
    elapsed: float
    errors: dict[str, int]
    throttled: int
    deliveries: int
    unique_deliveries: int
    p50_ms: float
    p99_ms: float
    client_cpu: float
    emulator_cpu: float
    host_load: float  # 1-minute load average at the end: other work competing for the CPUs

    @property
    def calls_per_s(self) -> float:
        return self.calls / self.elapsed


# Calls started at once, as apply keeps about a batch in flight (apply/engine.py send_all):
# starting all 10,000 together spent ~0.9 s of CPU setting them up before the first one went
# out (4% of the 10-task run, 9% of the 100-task one), which no user of pushops sees.
WINDOW = 250


async def _bounded(starts: list, window: int) -> list:
    """Run the coroutines ``starts[i]()`` with at most ``window`` of them started and not
    finished; results (or exceptions) in order."""
    results: list = [None] * len(starts)
    pending = iter(enumerate(starts))

    async def worker() -> None:
        for i, start in pending:
            try:
                results[i] = await start()
            except Exception as exc:  # counted by the caller, as with gather(return_exceptions)
                results[i] = exc

    await asyncio.gather(*(worker() for _ in range(min(window, len(starts)))))
    return results


async def _send_all(url: str, calls: list[tuple[str, list[dict[str, str]]]]) -> tuple:
    options = TransportOptions(collect_latencies=True)
    async with Providers(Credentials.of(AKID, SECRET), options, env={}) as providers:
        emas = providers.emas(APP_KEY, endpoint=url, mass_push_rate=QUOTA)
        transport = providers.transport
        started = time.perf_counter()
        results = await _bounded(
            [lambda t=tasks, k=token: emas.mass_push(t, k) for token, tasks in calls], WINDOW
        )
        elapsed = time.perf_counter() - started
    errors: dict[str, int] = {}
    for r in results:
        if isinstance(r, BaseException):
            key = getattr(r, "code", type(r).__name__)
            errors[key] = errors.get(key, 0) + 1
    throttled = sum(n for code, n in transport.failures.items() if code.startswith("Throttling"))
    return elapsed, errors, throttled, transport.latencies


def _delivery_counts(emulator: EmulatorProcess) -> tuple[int, int]:
    listing = emulator.get("/_emulator/deliveries")
    deliveries = listing["deliveries"]
    assert isinstance(deliveries, list)
    # The same PushTask accepted twice (same token, same parameters) is a duplicate.
    unique = {
        (d.get("idempotent_token"), json.dumps(d.get("params"), sort_keys=True)) for d in deliveries
    }
    return int(str(listing["count"])), len(unique)


def pushops_run(emulator: EmulatorProcess, count: int, tasks_per_call: int) -> RunResult:
    calls = make_calls(count, tasks_per_call)
    emulator.post("/_emulator/reset")
    cpu0, emu0 = time.process_time(), emulator.cpu_seconds()
    elapsed, errors, throttled, latencies = asyncio.run(_send_all(emulator.url, calls))
    cpu1, emu1 = time.process_time(), emulator.cpu_seconds()
    delivered, unique = _delivery_counts(emulator)
    return RunResult(
        count, tasks_per_call, elapsed, errors, throttled, delivered, unique,
        percentile(latencies, 0.50) * 1e3, percentile(latencies, 0.99) * 1e3,
        (cpu1 - cpu0) / elapsed, (emu1 - emu0) / elapsed, os.getloadavg()[0],
    )  # fmt: skip


def sdk_run(emulator: EmulatorProcess, count: int) -> float:
    """Calls/s of the official legacy SDK sending the first ``count`` calls one by one."""
    from aliyunsdkcore.client import AcsClient
    from aliyunsdkpush.request.v20160801.MassPushRequest import MassPushRequest

    calls = make_calls(count, 10)
    emulator.post("/_emulator/reset")
    host = emulator.url.split("://", 1)[1]
    client = AcsClient(AKID, SECRET, "cn-hangzhou", auto_retry=False)
    started = time.perf_counter()
    for token, tasks in calls:
        request = MassPushRequest()
        request.set_endpoint(host)
        request.set_protocol_type("http")
        request.set_AppKey(APP_KEY)
        request.set_IdempotentToken(token)
        request.set_PushTasks(tasks)
        client.do_action_with_exception(request)
    return count / (time.perf_counter() - started)


# --- report --------------------------------------------------------------------------------------


def _figure(name: str, value: float, target: str | None = None) -> Figure:
    passed = None
    if target is not None:
        op, bound = target.split()
        passed = value >= float(bound) if op == ">=" else value == float(bound)
    return {"figure": name, "value": round(value, 4), "target": target, "pass": passed}


def _run_figures(
    prefix: str, r: RunResult, sdk_rate: float | None, quick: bool = False
) -> list[Figure]:
    # --quick: a few seconds of sending, start-up included, on a machine running other
    # things: the quota share is shown, not judged (exactly-once figures are, at any size).
    figures = [
        _figure(f"{prefix}.calls_per_s", r.calls_per_s),
        _figure(f"{prefix}.quota_ratio", r.calls_per_s / QUOTA, None if quick else ">= 0.95"),
        _figure(f"{prefix}.throttled_calls", r.throttled, "== 0"),
        _figure(f"{prefix}.duplicates", r.deliveries - r.unique_deliveries, "== 0"),
        _figure(f"{prefix}.missing_deliveries", r.calls * r.tasks_per_call - r.unique_deliveries,
                "== 0"),
        _figure(f"{prefix}.failed_calls", sum(r.errors.values()), "== 0"),
        _figure(f"{prefix}.p50_ms", r.p50_ms),
        _figure(f"{prefix}.p99_ms", r.p99_ms),
        _figure(f"{prefix}.client_cpu_cores", r.client_cpu),
        _figure(f"{prefix}.emulator_cpu_cores", r.emulator_cpu),
        _figure(f"{prefix}.host_load_1min", r.host_load),
    ]  # fmt: skip
    if sdk_rate:
        figures.append(_figure(f"{prefix}.throughput_vs_sdk", r.calls_per_s / sdk_rate))
    return figures


def _print_run(title: str, r: RunResult) -> None:
    print(f"\n== {title}: {r.calls} MassPush calls x {r.tasks_per_call} PushTasks")
    print(f"  calls/s achieved     {r.calls_per_s:8.1f}   ({r.calls_per_s / QUOTA:.1%} of quota)")
    print(f"  throttled calls      {r.throttled:8d}")
    print(f"  deliveries           {r.deliveries:8d}   unique {r.unique_deliveries}, "
          f"duplicates {r.deliveries - r.unique_deliveries}")  # fmt: skip
    print(f"  failed calls         {sum(r.errors.values()):8d}   {r.errors or ''}")
    print(f"  latency p50 / p99    {r.p50_ms:8.1f} / {r.p99_ms:.1f} ms")
    print(f"  CPU client/emulator  {r.client_cpu:8.2f} / {r.emulator_cpu:.2f} cores   "
          f"(host load {r.host_load:.1f} on {os.cpu_count()} CPUs)")  # fmt: skip


def run(quick: bool = False) -> list[Figure]:
    scale = QUICK if quick else FULL
    with emulator_process() as emulator:
        small = pushops_run(emulator, scale.calls_10, 10)
        _print_run("pushops", small)
        sdk_rate = sdk_run(emulator, scale.sdk_calls)
        print(f"\n== official SDK (aliyunsdkcore AcsClient), first {scale.sdk_calls} calls "
              "one by one")  # fmt: skip
        print(f"  calls/s              {sdk_rate:8.1f}")
        print(f"  pushops / SDK        {small.calls_per_s / sdk_rate:8.1f}x")
        large = pushops_run(emulator, scale.calls_100, 100)
        _print_run("pushops", large)
    figures = _run_figures("masspush_10", small, sdk_rate, quick)
    figures.append(_figure("sdk_sequential.calls_per_s", sdk_rate))
    figures += _run_figures("masspush_100", large, None, quick)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="scaled-down counts (~20 s)")
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = parser.parse_args(argv)
    figures = run(quick=args.quick)
    failed = [f["figure"] for f in figures if f["pass"] is False]
    if args.json:
        print(json.dumps(figures, indent=2))
    print("\nall targets met" if not failed else f"\ntargets missed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
