"""End to end: a million personalised pushes, planned and sent the way CI does it (issue 15).

    python bench/bench_e2e.py [--quick] [--rows N ...] [--backend sqlite|postgresql|both]
                              [--baseline REV] [--no-direct] [--no-checking]

A generated push repository holds one EMAS campaign fanned out over a CSV, every row with its
own Title (so nothing merges: every row is one PushTask, a hundred to a MassPush call). For
each size and ledger backend, against ``pushops emulator --latency-ms 50 --quota 500`` in its
own process:

1. ``pushops plan --out p.plan`` on an empty ledger: seconds, peak RSS, plan file bytes per
   delivery;
2. ``pushops apply p.plan``: seconds, its share of the quota (the quota's own time for the
   calls, ``rows / 100 / 500`` s, over apply's), peak RSS; then the deliveries the emulator
   holds, which must equal the rows (each target once);
3. ``pushops apply --auto-approve`` without a plan file, on a fresh ledger and emulator: its
   seconds against the larger of plan's and apply's (planning overlaps sending when it is
   close to the larger, not their sum), and against its physical limit: the CPU seconds of
   plan and apply PLANFILE, with the emulator and database they kept busy, over the
   machine's CPUs (the "overlap floor": no overlap of the same work can beat it), and its
   own CPU seconds, counted the same way, over the CPUs: the least time its own work could
   take (it skips writing and reading a plan file, so this floor may sit a little below);
   when it sent its first call and its last (the emulator's call log).
4. ``pushops validate`` of the fan-out: seconds, peak RSS; then ``pushops plan`` (SQLite) of
   the same fan-out with DeviceType taken from the wrong column, so that every row is
   refused: seconds, peak RSS, exit code, and the rows it lists and counts (each of them, so
   every row was checked).

Peak RSS is the largest sum of the resident memory of the command's process and its children
(sampled every 20 ms) and at least the main process's own ``VmHWM``. The emulator is not
counted. ``--baseline REV`` runs the same measurement with pushops as it was at git revision
REV (extracted to a temporary directory and put first on PYTHONPATH) first, for a before and
after in one run of the machine. Every figure is printed with its target; the load average
is printed with each measurement, since the machine may be shared.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

try:
    from bench._child import PEAK_RSS
except ImportError:  # run as a script: bench/ is on sys.path
    from _child import PEAK_RSS

Figure = dict[str, object]
HERE = Path(__file__).resolve().parent
PG_DSN = os.environ.get("PUSHOPS_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")
AKID = "LTAIe2ebench"
SECRET = "e2e-Secret-Distinctive-7a6b5c"
QUOTA = 500  # MassPush calls per second per account
LATENCY_MS = 50
TASKS_PER_CALL = 100
FULL_SIZES = (100_000, 1_000_000)
QUICK_SIZES = (2_000, 10_000)
# Targets at a million rows (issue 15); --quick has none for time and memory.
TARGET_ROWS = 1_000_000
# Judged at TARGET_ROWS and above: at 100,000 rows the quota's own time is 2 s, and apply's
# start (interpreter, ledger, the plan file's check, its sending process) is a third of it.
APPLY_QUOTA_SHARE = 0.80
PLAN_SECONDS_PER_MILLION = 60.0
PEAK_RSS_MB = 400.0
RSS_FLATNESS = 1.25
PLAN_FILE_BYTES = 150.0
OVERLAP = 1.25  # apply without a plan file: at most this times the larger of plan and apply

CONFIG = """\
version: 1
default_environment: staging
state:
  backend: sqlite
  path: .pushops/state.db
environments:
  staging:
    apps:
      shop: {provider: emas, app_key: 23267207}
"""
CAMPAIGN = """\
id: coupons
app: shop
tasks:
  - id: coupon
    fan_out:
      data: data/recipients.csv
      key: "{{ row.device_id }}"
    DeviceType: ANDROID
    PushType: NOTICE
    Target: DEVICE
    TargetValue: "{{ row.device_id }}"
    Title: "{{ row.name }}, your coupon"
    Body: "Use code {{ row.code }} within 7 days."
    AndroidOpenType: APPLICATION
    StoreOffline: true
"""

# The same fan-out with a mistake a person makes once: DeviceType from the wrong column, so
# the provider schema refuses every row. Plan must fail in a plan's time and memory.
REFUSED_CAMPAIGN = CAMPAIGN.replace("DeviceType: ANDROID", 'DeviceType: "{{ row.code }}"')
REFUSED_RULE = "[emas.device-type-values]"
MORE_REFUSED = re.compile(r"([0-9,]+) more errors? in this message's deliveries")

# The command runs in a child that writes its own VmHWM at exit (see bench/_child.py).
CHILD = (
    PEAK_RSS
    + """
import atexit, os, sys
def _report():
    cpu = os.times()
    with open(os.environ["BENCH_PEAK_FILE"], "w") as out:
        # With the children it waited for: apply's sending process (pushops.apply.sender).
        used = cpu.user + cpu.system + cpu.children_user + cpu.children_system
        out.write(f"{peak_rss_mb()} {used}")
atexit.register(_report)
sys.argv = ["pushops", *sys.argv[1:]]
from pushops.cli import main
main()
"""
)


CPUS = os.cpu_count() or 1


def cpu_budget_ms() -> float:
    """CPU time a call may cost, everything on this machine together, for apply to reach
    its target share of the quota: the physical limit the CPU figures are set against."""
    return CPUS / (APPLY_QUOTA_SHARE * QUOTA) * 1000


def load() -> float:
    return round(os.getloadavg()[0], 2)


def write_repo(root: Path, rows: int) -> None:
    (root / "campaigns").mkdir(parents=True)
    (root / "data").mkdir()
    (root / "pushops.yaml").write_text(CONFIG)
    (root / "campaigns" / "coupons.yaml").write_text(CAMPAIGN)
    with (root / "data" / "recipients.csv").open("w") as out:
        out.write("device_id,name,code\n")
        for start in range(0, rows, 10_000):
            out.write(
                "".join(
                    f"d{i:08d},Name{i},C{i * 7919 % 1_000_003:07d}\n"
                    for i in range(start, min(rows, start + 10_000))
                )
            )


def _tree_rss_kb(pid: int) -> int:
    """Resident memory of ``pid`` and its descendants (Linux /proc), in KiB."""
    total = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            with open(f"/proc/{current}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
                        break
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        pending.extend(int(c) for c in children)
    return total


@dataclass
class Run:
    seconds: float
    peak_mb: float
    code: int
    out: str
    err: str
    cpu_s: float = 0.0  # the command's CPU time (user + system), its sending process's too
    emulator_cpu_s: float = 0.0  # the emulator's, while the command ran
    database_cpu_s: float = 0.0  # every PostgreSQL server process's, while the command ran
    started_at: float = 0.0  # time.time() when the command started
    # When the emulator received the command's first and last MassPush (time.time()); 0: none
    first_send_at: float = 0.0
    last_send_at: float = 0.0

    @property
    def before_first_send_s(self) -> float:
        """From the command's start to its first call: all it did before anything went out."""
        return self.first_send_at - self.started_at if self.first_send_at else 0.0

    @property
    def sending_s(self) -> float:
        """From its first call to its last, as the emulator received them."""
        return self.last_send_at - self.first_send_at if self.first_send_at else 0.0

    @property
    def busy_cpu_s(self) -> float:
        """Its CPU seconds with what it kept busy: its processes, the emulator, the database."""
        return self.cpu_s + self.emulator_cpu_s + self.database_cpu_s


def process_cpu_s(pid: int, *, reaped: bool = False) -> float:
    """User + system CPU seconds of process ``pid`` so far (0 when it is gone); with
    ``reaped``, also those of its children that have ended."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])
    if reaped:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / os.sysconf("SC_CLK_TCK")


def postgres_cpu_s() -> float:
    """CPU seconds of every PostgreSQL server process on this machine (its backends,
    WAL writer, checkpointer, autovacuum): what the database costs the shared cores. A
    backend that ended (apply's own, once it disconnects) counts in its postmaster's."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    parent = (entry / "stat").read_text().rsplit(")", 1)[1].split()[1]
                    postmaster = (Path("/proc") / parent / "comm").read_text().strip() != "postgres"
                    total += process_cpu_s(int(entry.name), reaped=postmaster)
            except OSError:
                continue
    return total


def run_cli(args: list[str], root: Path, env: dict[str, str], timeout: float = 3600) -> Run:
    """``pushops ARGS`` in a fresh process: wall time, peak RSS of its tree, output."""
    with tempfile.NamedTemporaryFile(prefix="bench-peak-", delete=False) as peak_file:
        pass
    env = {**env, "BENCH_PEAK_FILE": peak_file.name}
    started, started_at = time.perf_counter(), time.time()
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, *args],
        cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    sampled = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.02):
            sampled[0] = max(sampled[0], _tree_rss_kb(proc.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    try:
        own, cpu = (float(v) for v in Path(peak_file.name).read_text().split())
    except (OSError, ValueError):
        own = cpu = 0.0
    os.unlink(peak_file.name)
    return Run(
        seconds, max(own, sampled[0] / 1024), proc.returncode, out, err, cpu,
        started_at=started_at,
    )  # fmt: skip


class Emulator:
    """``pushops emulator --latency-ms 50 --quota 500`` in its own process."""

    def __init__(self, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pushops", "emulator", "--port", "0",
             "--credentials", f"{AKID}:{SECRET}", "--latency-ms", str(LATENCY_MS),
             "--quota", str(QUOTA)],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env,
        )  # fmt: skip
        line = self.proc.stdout.readline() if self.proc.stdout else ""
        if not line.startswith("pushops emulator listening on "):
            self.stop()
            raise RuntimeError(f"the emulator did not start: {line!r}")
        self.url = line.split()[-1]

    def control(self, path: str, post: bool = False) -> Any:
        request = urllib.request.Request(
            f"{self.url}/_emulator/{path}", data=b"{}" if post else None
        )
        with urllib.request.urlopen(request, timeout=600) as response:
            return json.load(response)

    def delivered(self) -> tuple[int, int]:
        """(distinct targets, duplicates) of what the emulator accepted."""
        seen: set[str] = set()
        duplicates = 0
        for d in self.control("deliveries")["deliveries"]:
            for target in str(d["params"].get("TargetValue", "")).split(","):
                if target in seen:
                    duplicates += 1
                seen.add(target)
        return len(seen), duplicates

    def send_span(self, run: Run) -> None:
        """Set ``run``'s first and last send from the emulator's call log (it keeps the
        newest 100,000 calls: a million rows are 10,000)."""
        times = [
            c["time"] for c in self.control("calls")["calls"]
            if c["action"] == "MassPush" and c["time"] >= run.started_at
        ]  # fmt: skip
        if times:
            run.first_send_at, run.last_send_at = min(times), max(times)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)


def pg_problem() -> str | None:
    try:
        import psycopg

        with psycopg.connect(PG_DSN, connect_timeout=3):
            return None
    except Exception as exc:  # no driver or no server: the bench says so and goes on
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def drop_schema(schema: str) -> None:
    import psycopg

    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@dataclass
class Measure:
    """One size on one backend with one pushops."""

    label: str
    backend: str
    rows: int
    plan: Run | None = None
    apply: Run | None = None
    direct: Run | None = None
    plan_file_bytes: int = 0
    delivered: int = 0
    duplicates: int = 0
    direct_delivered: int = 0
    loads: list[float] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def quota_seconds(self) -> float:
        return self.rows / TASKS_PER_CALL / QUOTA

    @property
    def both_stages_cpu_s(self) -> float:
        """The CPU seconds plan and apply PLANFILE took, with everything they kept busy (the
        rendering and sending processes, the emulator, the database)."""
        return sum(r.busy_cpu_s for r in (self.plan, self.apply) if r is not None)

    @property
    def overlap_floor_s(self) -> float:
        """The least time apply without a plan file could take on this machine's CPUs if it
        overlapped planning with sending perfectly: both stages' CPU over the CPUs. Apply
        without a file does the same work (it plans, then sends) but for writing and
        reading the plan file; its own floor, measured when it runs, is :attr:`own_floor_s`.
        Its target, OVERLAP x the larger stage, is below this when the two stages' CPU is
        more than CPUS x OVERLAP x the larger stage."""
        return self.both_stages_cpu_s / CPUS

    @property
    def own_floor_s(self) -> float:
        """The least time apply without a plan file could take on this machine's CPUs doing
        the work it did (its CPU seconds, with the emulator and database it kept busy), however
        it scheduled that work: 0 when it was not run."""
        return 0.0 if self.direct is None else self.direct.busy_cpu_s / CPUS

    @property
    def plan_first_floor_s(self) -> float:
        """The least time apply without a plan file can take while it sends nothing before
        its whole plan is made and checked (a refused row, a run-wide policy, are known only
        then): its measured time to the first send plus the quota's own time. 0: not run."""
        d = self.direct
        if d is None or not d.first_send_at:
            return 0.0
        return d.before_first_send_s + self.quota_seconds

    def print(self) -> None:
        p, a, d = self.plan, self.apply, self.direct
        print(f"  [{self.label}] {self.backend}, {self.rows:,} rows (load {self.loads})")
        if p is not None:
            print(
                f"    plan --out      {p.seconds:8.1f} s  {p.peak_mb:7.0f} MB  "
                f"{self.plan_file_bytes / max(1, self.rows):7.0f} B/delivery  "
                f"{self.rows / p.seconds:9,.0f} deliveries/s"
            )
        if a is not None:
            print(
                f"    apply PLANFILE  {a.seconds:8.1f} s  {a.peak_mb:7.0f} MB  "
                f"{self.quota_seconds / a.seconds:7.0%} of the quota "
                f"(the quota's own time: {self.quota_seconds:.1f} s)  "
                f"delivered {self.delivered:,}, duplicates {self.duplicates}"
            )
        if a is not None and a.cpu_s:
            calls = self.rows / TASKS_PER_CALL
            parts = [("apply", a.cpu_s), ("emulator", a.emulator_cpu_s)]
            if self.backend == "postgresql":
                parts.append(("PostgreSQL", a.database_cpu_s))
            total = sum(cpu for _, cpu in parts) / calls * 1000
            print(
                "    CPU a call     "
                + ", ".join(f"{name} {cpu / calls * 1000:.2f} ms" for name, cpu in parts)
                + f" = {total:.2f} ms; at {APPLY_QUOTA_SHARE:.0%} of the quota "
                f"({APPLY_QUOTA_SHARE * QUOTA:.0f} calls/s) {CPUS} CPUs give "
                f"{cpu_budget_ms():.2f} ms a call"
            )
            # Whether apply waits (on the database, the provider) or is its own limit: one
            # process whose Python runs under one GIL is busy about one CPU at most.
            machine = sum(cpu for _, cpu in parts) / a.seconds
            print(
                f"    CPUs busy      apply {a.cpu_s / a.seconds:.2f}, everything "
                f"{machine:.2f} of {CPUS}"
            )
        if a is not None and a.first_send_at:
            print(
                f"    its sends      the first at {a.before_first_send_s:.1f} s, then "
                f"{a.sending_s:.1f} s of sending (the quota's own time: "
                f"{self.quota_seconds:.1f} s)"
            )
        if d is not None:
            print(
                f"    apply (no file) {d.seconds:8.1f} s  {d.peak_mb:7.0f} MB  "
                f"delivered {self.direct_delivered:,}"
            )
            if d.first_send_at:
                print(
                    f"    its sends      the first at {d.before_first_send_s:.1f} s (the "
                    f"whole plan is made and checked first: a push cannot be taken back), "
                    f"then {d.sending_s:.1f} s of sending\n"
                    f"    plan-first floor  {self.plan_first_floor_s:.1f} s: that first send "
                    f"plus the quota's own time ({self.quota_seconds:.1f} s), however fast "
                    "it sends"
                )
            if d.cpu_s:
                print(
                    f"    its own floor  {self.own_floor_s:.1f} s: it took "
                    f"{d.busy_cpu_s:.1f} CPU s with what it kept busy, {CPUS} CPUs "
                    "here; no scheduling of that work is faster"
                )
        if p is not None and a is not None and p.cpu_s and a.cpu_s:
            larger = max(p.seconds, a.seconds)
            print(
                f"    overlap floor  {self.overlap_floor_s:.1f} s: plan and apply took "
                f"{self.both_stages_cpu_s:.1f} CPU s with what they kept busy, {CPUS} CPUs "
                f"here;\n                   apply without a plan file, the same work but "
                f"for the file, cannot beat it by more than the file's share, however it "
                f"overlaps them\n                   (its target, {OVERLAP:g} x the larger stage: "
                f"{OVERLAP * larger:.1f} s)"
            )
        for problem in self.problems:
            print(f"    PROBLEM: {problem}")


def run_cli_counted(args: list[str], root: Path, env: dict[str, str], emulator: Emulator) -> Run:
    """:func:`run_cli`, with the CPU the emulator and the database spent meanwhile."""
    emulator_before, database_before = process_cpu_s(emulator.proc.pid), postgres_cpu_s()
    run = run_cli(args, root, env)
    run.emulator_cpu_s = process_cpu_s(emulator.proc.pid) - emulator_before
    run.database_cpu_s = postgres_cpu_s() - database_before
    return run


def measure(
    label: str,
    backend: str,
    rows: int,
    base_env: dict[str, str],
    *,
    direct: bool,
    log: Any = print,
) -> Measure:
    result = Measure(label, backend, rows)
    with tempfile.TemporaryDirectory(prefix="pushops-e2e-") as tmp:
        root = Path(tmp) / "repo"
        write_repo(root, rows)
        emulator = Emulator(base_env)
        schemas: list[str] = []

        def ledger_env(name: str) -> dict[str, str]:
            if backend == "postgresql":
                schema = f"pushops_e2e_{uuid.uuid4().hex[:10]}"
                schemas.append(schema)
                return {"PUSHOPS_STATE_DSN": PG_DSN, "PUSHOPS_STATE_SCHEMA": schema}
            return {"PUSHOPS_STATE_DSN": str(root / ".pushops" / f"{name}.db"),
                    "PUSHOPS_STATE_SCHEMA": ""}  # fmt: skip

        env = _cli_env(base_env, ALIBABA_CLOUD_SECURITY_TOKEN="",
                       PUSHOPS_EMAS_ENDPOINT=emulator.url, PUSHOPS_MAX_PLAN_AGE="")  # fmt: skip

        def init_ledger(ledger: dict[str, str]) -> None:
            """Create the ledger once, as a team does (docs/state.md); pushops from before
            `state init` (a --baseline) creates it on first use instead."""
            (root / "pushops.ledgers.yaml").unlink(missing_ok=True)
            done = subprocess.run(
                [sys.executable, "-m", "pushops", "state", "init"], cwd=root, env=ledger,
                capture_output=True, text=True, timeout=120,
            )  # fmt: skip
            if done.returncode != 0 and "No such command" not in done.stderr:
                result.problems.append(f"state init exit {done.returncode}: {done.stderr[-300:]}")

        try:
            saved = {**env, **ledger_env("planned")}
            init_ledger(saved)
            result.loads.append(load())
            plan = result.plan = run_cli_counted(["plan", "--out", "p.plan"], root, saved, emulator)
            if plan.code != 0:
                result.problems.append(f"plan exit {plan.code}: {plan.err.strip()[-300:]}")
                return result
            result.plan_file_bytes = (root / "p.plan").stat().st_size
            log(f"  {label} {backend} {rows:,}: plan {plan.seconds:.1f}s {plan.peak_mb:.0f}MB")
            result.loads.append(load())
            apply = result.apply = run_cli_counted(["apply", "p.plan"], root, saved, emulator)
            if apply.code != 0:
                result.problems.append(f"apply exit {apply.code}: {apply.err.strip()[-300:]}")
            result.delivered, result.duplicates = emulator.delivered()
            emulator.send_span(apply)
            log(f"  {label} {backend} {rows:,}: apply {apply.seconds:.1f}s {apply.peak_mb:.0f}MB")
            if direct:
                emulator.control("reset", post=True)
                result.loads.append(load())
                fresh = {**env, **ledger_env("direct")}
                init_ledger(fresh)
                run = result.direct = run_cli_counted(
                    ["apply", "--auto-approve"], root, fresh, emulator
                )
                if run.code != 0:
                    result.problems.append(f"apply (no file) exit {run.code}: {run.err[-300:]}")
                result.direct_delivered, dup = emulator.delivered()
                emulator.send_span(run)
                result.duplicates += dup
                log(f"  {label} {backend} {rows:,}: apply (no file) {run.seconds:.1f}s")
        finally:
            emulator.stop()
            for schema in schemas:
                drop_schema(schema)
    return result


def _cli_env(base_env: dict[str, str], **more: str) -> dict[str, str]:
    """The environment pushops runs in here: the bench's access key, the real clock."""
    return {**base_env, "ALIBABA_CLOUD_ACCESS_KEY_ID": AKID,
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET": SECRET, "PUSHOPS_NOW": "", **more}  # fmt: skip


def measure_validate(label: str, rows: int, base_env: dict[str, str], quick: bool,
                     prefix: str) -> list[Figure]:  # fmt: skip
    """``pushops validate`` of the sendable fan-out (every row rendered and checked, in each
    environment, no ledger): seconds and peak RSS."""
    with tempfile.TemporaryDirectory(prefix="pushops-e2e-validate-") as tmp:
        root = Path(tmp) / "repo"
        write_repo(root, rows)
        run = run_cli(["validate"], root, _cli_env(base_env))
    print(
        f"  [{label}] {rows:,} rows: validate {run.seconds:.1f} s, {run.peak_mb:.0f} MB, "
        f"exit {run.code}"
    )
    name = f"{prefix}e2e.{rows}_rows.validate"
    return [
        _figure(f"{name}.seconds", round(run.seconds, 1)),
        _figure(f"{name}.peak_rss_mb", round(run.peak_mb), "<=", PEAK_RSS_MB, not quick),
        _figure(f"{name}.exit_code", run.code, "==", 0),
    ]


def measure_refused(
    label: str, rows: int, base_env: dict[str, str], quick: bool, prefix: str
) -> list[Figure]:
    """``pushops plan`` of the fan-out every row of which is refused (REFUSED_CAMPAIGN), on
    an empty SQLite ledger: seconds, peak RSS, and the rows it lists and counts."""
    with tempfile.TemporaryDirectory(prefix="pushops-e2e-refused-") as tmp:
        root = Path(tmp) / "repo"
        write_repo(root, rows)
        (root / "campaigns" / "coupons.yaml").write_text(REFUSED_CAMPAIGN)
        env = _cli_env(base_env, PUSHOPS_STATE_DSN=str(root / ".pushops" / "refused.db"),
                       PUSHOPS_STATE_SCHEMA="")  # fmt: skip
        subprocess.run(
            [sys.executable, "-m", "pushops", "state", "init"], cwd=root, env=env,
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        run = run_cli(["plan"], root, env)
    said = run.out + run.err
    listed = said.count(REFUSED_RULE)
    more = MORE_REFUSED.search(said)
    counted = int(more.group(1).replace(",", "")) if more else 0
    print(
        f"  [{label}] sqlite, {rows:,} rows, every one refused: plan {run.seconds:.1f} s, "
        f"{run.peak_mb:.0f} MB, exit {run.code}; {listed} rows listed, {counted:,} more counted"
    )
    name = f"{prefix}e2e.sqlite.{rows}_rows.refused_plan"
    return [
        _figure(f"{name}.seconds", round(run.seconds, 1)),
        _figure(f"{name}.peak_rss_mb", round(run.peak_mb), "<=", PEAK_RSS_MB, not quick),
        _figure(f"{name}.exit_code", run.code, "==", 1),
        # Every row checked: the rows listed and those counted are the data file's.
        _figure(f"{name}.rows_accounted", listed + counted, "==", rows),
    ]


def _figure(name: str, value: float, op: str = "", limit: float = 0, on: bool = True) -> Figure:
    """A figure, judged against ``op limit`` when it has one and ``on``."""
    target, ok = _check(value, op, limit, bool(op) and on)
    return {"figure": name, "value": value, "target": target, "pass": ok}


def _check(value: float, op: str, limit: float, enabled: bool) -> tuple[str | None, bool | None]:
    """(target text, pass) for ``value op limit``; (None, None) when the target is off."""
    if not enabled:
        return None, None
    ok = value <= limit if op == "<=" else value >= limit if op == ">=" else value == limit
    return f"{op} {limit:g}", ok


def figures(m: Measure, quick: bool, prefix: str) -> list[Figure]:
    """The figures of one measurement; time and memory targets only at the full sizes."""
    name = f"{prefix}e2e.{m.backend}.{m.rows}_rows"
    full = not quick
    out: list[Figure] = []

    def add(figure: str, value: float, op: str = "", limit: float = 0, on: bool = True) -> None:
        out.append(_figure(f"{name}.{figure}", value, op, limit, on))

    for problem in m.problems:
        print(f"  {name}: {problem}")
    if m.plan is not None:
        plan_limit = PLAN_SECONDS_PER_MILLION * m.rows / 1_000_000
        add("plan.seconds", round(m.plan.seconds, 1), "<=", plan_limit, full)
        add("plan.peak_rss_mb", round(m.plan.peak_mb), "<=", PEAK_RSS_MB, full)
        per = round(m.plan_file_bytes / max(1, m.rows), 1)
        add("plan_file.bytes_per_delivery", per, "<=", PLAN_FILE_BYTES)  # any size
    if m.apply is not None:
        add("apply.seconds", round(m.apply.seconds, 1))
        share = round(m.quota_seconds / m.apply.seconds, 3)
        add("apply.quota_share", share, ">=", APPLY_QUOTA_SHARE, full and m.rows >= TARGET_ROWS)
        add("apply.peak_rss_mb", round(m.apply.peak_mb), "<=", PEAK_RSS_MB, full)
        calls = m.rows / TASKS_PER_CALL
        if m.apply.cpu_s:
            add("apply.cpu_ms_per_call", round(m.apply.cpu_s / calls * 1000, 2))
            add("apply.emulator_cpu_ms_per_call", round(m.apply.emulator_cpu_s / calls * 1000, 2))
            if m.backend == "postgresql":
                add("apply.database_cpu_ms_per_call",
                    round(m.apply.database_cpu_s / calls * 1000, 2))  # fmt: skip
            add("apply.cpu_budget_ms_per_call", round(cpu_budget_ms(), 2))
            # CPUs apply's own process kept busy while it ran (about 1: it is its own limit).
            add("apply.process_cpus_busy", round(m.apply.cpu_s / m.apply.seconds, 2))
        if m.apply.first_send_at:
            add("apply.first_send_seconds", round(m.apply.before_first_send_s, 1))
            add("apply.sending_seconds", round(m.apply.sending_s, 1))
        add("delivered", m.delivered, "==", m.rows)
        add("duplicates", m.duplicates, "==", 0)
    if m.plan is not None and m.apply is not None and m.plan.cpu_s and m.apply.cpu_s:
        add("plan.cpu_s", round(m.plan.cpu_s + m.plan.database_cpu_s, 1))
        # The physical limit of apply without a plan file (Measure.overlap_floor_s).
        add("apply_without_file.cpu_floor_seconds", round(m.overlap_floor_s, 1))
        larger = max(m.plan.seconds, m.apply.seconds)
        add("apply_without_file.target_seconds", round(OVERLAP * larger, 1))
    if m.direct is not None and m.plan is not None and m.apply is not None:
        larger = max(m.plan.seconds, m.apply.seconds)
        add("apply_without_file.seconds", round(m.direct.seconds, 1))
        ratio = round(m.direct.seconds / larger, 2)
        add("apply_without_file.over_larger_stage", ratio, "<=", OVERLAP, full)
        add("apply_without_file.delivered", m.direct_delivered, "==", m.rows)
        if m.direct.cpu_s:
            # The physical limit of its own work (Measure.own_floor_s).
            add("apply_without_file.own_cpu_floor_seconds", round(m.own_floor_s, 1))
        if m.direct.first_send_at:
            add("apply_without_file.first_send_seconds", round(m.direct.before_first_send_s, 1))
            add("apply_without_file.sending_seconds", round(m.direct.sending_s, 1))
            # Its limit while nothing is sent before the plan is whole (Measure.plan_first_floor_s).
            add("apply_without_file.plan_first_floor_seconds", round(m.plan_first_floor_s, 1))
    return out


def flatness(measures: list[Measure], quick: bool, prefix: str) -> list[Figure]:
    out: list[Figure] = []
    by_backend: dict[str, list[Measure]] = {}
    for m in measures:
        by_backend.setdefault(m.backend, []).append(m)
    for backend, ms in by_backend.items():
        ms = sorted(ms, key=lambda m: m.rows)
        small, large = ms[0], ms[-1]
        if small is large:
            continue
        for stage in ("plan", "apply"):
            a, b = getattr(small, stage), getattr(large, stage)
            if a is None or b is None:
                continue
            ratio = round(b.peak_mb / a.peak_mb, 2)
            out.append({
                "figure": f"{prefix}e2e.{backend}.{stage}.rss_growth_{small.rows}_to_{large.rows}",
                "value": ratio,
                "target": None if quick else f"<= {RSS_FLATNESS:g}",
                "pass": None if quick else ratio <= RSS_FLATNESS,
            })  # fmt: skip
    return out


def baseline_tree(rev: str, into: Path) -> Path:
    """pushops as it was at git revision ``rev``, extracted under ``into``."""
    repo = HERE.parent
    archive = subprocess.run(
        ["git", "-C", str(repo), "archive", rev], capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def run(
    quick: bool = False,
    *,
    sizes: tuple[int, ...] | None = None,
    backends: tuple[str, ...] = ("sqlite", "postgresql"),
    baseline: str | None = None,
    direct: bool = True,
    checking: bool = True,
) -> list[Figure]:
    sizes = sizes or (QUICK_SIZES if quick else FULL_SIZES)
    problem = pg_problem() if "postgresql" in backends else None
    if problem is not None:
        print(f"\n== postgresql: left out, no server at {PG_DSN} ({problem})")
        backends = tuple(b for b in backends if b != "postgresql")
    print(
        f"\n== end to end against the emulator (--latency-ms {LATENCY_MS} --quota {QUOTA}): "
        f"the quota's time for N rows is N / {TASKS_PER_CALL} / {QUOTA} s"
    )
    out: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="pushops-baseline-") as tmp:
        versions: list[tuple[str, dict[str, str]]] = []
        if baseline:
            tree = baseline_tree(baseline, Path(tmp))
            versions.append((f"before ({baseline})", {**os.environ, "PYTHONPATH": str(tree)}))
        versions.append(("now", dict(os.environ)))
        for label, env in versions:
            prefix = "before." if label.startswith("before") else ""
            measures = []
            for rows in sizes:
                for backend in backends:
                    m = measure(label, backend, rows, env, direct=direct and not prefix)
                    m.print()
                    measures.append(m)
                    out += figures(m, quick or bool(prefix), prefix)
                if checking and "sqlite" in backends:
                    out += measure_validate(label, rows, env, quick or bool(prefix), prefix)
                    out += measure_refused(label, rows, env, quick or bool(prefix), prefix)
            out += flatness(measures, quick or bool(prefix), prefix)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"sizes {QUICK_SIZES}, no targets")
    parser.add_argument("--rows", type=int, nargs="*", help="sizes to run instead")
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--baseline", metavar="REV", help="measure pushops at REV first")
    parser.add_argument("--no-direct", action="store_true", help="skip apply without a file")
    parser.add_argument(
        "--no-checking", action="store_true",
        help="skip validate and the plan whose every row is refused",
    )  # fmt: skip
    args = parser.parse_args(argv)
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    results = run(
        args.quick, sizes=tuple(args.rows) if args.rows else None, backends=backends,
        baseline=args.baseline, direct=not args.no_direct, checking=not args.no_checking,
    )  # fmt: skip
    for f in results:
        verdict = "info" if f["pass"] is None else ("pass" if f["pass"] else "FAIL")
        print(f"{f['figure']:70} {f['value']!s:>10} {f['target'] or '':>12} {verdict}")
    return 1 if any(f["pass"] is False for f in results) else 0


if __name__ == "__main__":
    sys.exit(main())
