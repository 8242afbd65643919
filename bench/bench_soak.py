"""Fault soak: apply, killed at random moments, against a faulty emulator in another process.

    python bench/bench_soak.py [--quick] [--rows N] [--kills N] [--seed N]

One fan-out campaign of ``rows`` PushTasks (each CSV row its own title, so nothing merges;
1,000,000 in the full form, 10,000 in the quick one) is applied to an emulator running in its
own process with 5% InternalError, 1% dropped responses (processed, never answered) and
bursts of throttling (a quota of a few calls per second switched on and off through
``/_emulator/faults``). Apply runs in a subprocess and is SIGKILLed at seeded random moments,
some while it plans, most while it sends. On PostgreSQL one run also loses a ledger
connection to ``pg_terminate_backend`` mid-send, and one run loses its sending process
(``pushops.apply.sender``, SIGKILLed while apply itself runs on). Apply is then re-run until
it has nothing left to do. At the end:

- the emulator holds every planned delivery exactly once (by target; none lost, none twice);
- the ledger agrees: every key ``sent``, its MessageId the emulator's for that target;
- no ledger lock is left behind.

Every loop is bounded in count and time. ``run(quick)`` returns the figures for
``python -m bench``; :func:`soak` is what the short test in tests/hardening calls.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

Figure = dict[str, object]
PG_DSN = os.environ.get("PUSHOPS_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")
AKID = "LTAIsoakbench"
SECRET = "soak-Secret-Distinctive-5e4d3c"
ERROR_RATE = 0.05
DROP_RATE = 0.01
THROTTLE_QUOTA = 5  # calls per second while a burst of throttling is on
FULL_ROWS, QUICK_ROWS = 1_000_000, 10_000  # the test in tests/hardening runs 20,000
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
id: soak
app: shop
tasks:
  - id: offer
    fan_out:
      data: data/soak.csv
      key: "{{ row.device_id }}"
    DeviceType: ANDROID
    PushType: NOTICE
    Target: DEVICE
    TargetValue: "{{ row.device_id }}"
    Title: "{{ row.name }}, an offer"
    Body: Open the app to see it.
"""


@dataclass
class SoakResult:
    backend: str
    planned: int = 0
    delivered: int = 0
    duplicates: int = 0
    lost: int = 0
    ledger_mismatches: int = 0
    locks_left: int = 0
    kills: int = 0
    kills_while_sending: int = 0
    kills_while_rendering: int = 0  # apply killed while its rendering process ran
    runs: int = 0
    pg_terminations: int = 0
    sender_kills: int = 0  # runs whose sending process was killed, apply itself left running
    throttle_bursts: int = 0
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (
            not self.problems
            and self.planned > 0
            and self.delivered == self.planned
            and not (self.duplicates or self.lost or self.ledger_mismatches or self.locks_left)
        )


def write_repo(root: Path, rows: int) -> None:
    (root / "campaigns").mkdir(parents=True)
    (root / "data").mkdir()
    (root / "pushops.yaml").write_text(CONFIG)
    (root / "campaigns" / "soak.yaml").write_text(CAMPAIGN)
    with (root / "data" / "soak.csv").open("w") as out:
        out.write("device_id,name\n")
        for start in range(0, rows, 10_000):
            out.write("".join(f"d{i:08d},N{i}\n" for i in range(start, min(rows, start + 10_000))))


class EmulatorProcess:
    """``pushops emulator`` in its own process, with the soak's faults."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pushops", "emulator", "--port", "0",
             "--credentials", f"{AKID}:{SECRET}",
             "--error-rate", str(ERROR_RATE), "--drop-rate", str(DROP_RATE)],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        line = self.proc.stdout.readline() if self.proc.stdout else ""
        if not line.startswith("pushops emulator listening on "):
            self.stop()
            raise RuntimeError(f"the emulator did not start: {line!r}")
        self.url = line.split()[-1]

    def control(self, path: str, doc: dict[str, Any] | None = None, timeout: float = 600) -> Any:
        data = None if doc is None else json.dumps(doc).encode()
        request = urllib.request.Request(f"{self.url}/_emulator/{path}", data=data)
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.load(response)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)


class Throttler(threading.Thread):
    """Bursts of throttling: a low quota on for ``on_s``, off for ``off_s``; stops by itself."""

    def __init__(self, emulator: EmulatorProcess, rng: random.Random, deadline: float) -> None:
        super().__init__(daemon=True)
        self.emulator, self.rng, self.deadline = emulator, rng, deadline
        self.stopped = threading.Event()
        self.bursts = 0

    def run(self) -> None:
        while not self.stopped.wait(self.rng.uniform(1.0, 3.0)) and time.time() < self.deadline:
            self.emulator.control("faults", {"quota": THROTTLE_QUOTA}, timeout=10)
            self.bursts += 1
            self.stopped.wait(self.rng.uniform(0.3, 1.0))
            self.emulator.control("faults", {"quota": None}, timeout=10)

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=15)
        self.emulator.control("faults", {"quota": None}, timeout=10)


def local_ports(pid: int) -> set[int]:
    """The local TCP ports of ``pid``'s sockets (Linux /proc), to find its PostgreSQL sessions."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        match = re.fullmatch(r"socket:\[(\d+)\]", target)
        if match:
            inodes.add(match.group(1))
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            if parts[9] in inodes:
                ports.add(int(parts[1].rsplit(":", 1)[1], 16))
    return ports


def terminate_ledger_connection(pid: int, rng: random.Random) -> bool:
    """pg_terminate_backend one of apply's own ledger sessions (never anyone else's)."""
    import psycopg

    ports = local_ports(pid)
    if not ports:
        return False
    with psycopg.connect(PG_DSN, autocommit=True, connect_timeout=5) as conn:
        pids = [
            row[0]
            for row in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE client_port = ANY(%s) ORDER BY pid",
                (sorted(ports),),
            )
        ]
        if not pids:
            return False
        victim = rng.choice(pids)
        row = conn.execute("SELECT pg_terminate_backend(%s)", (victim,)).fetchone()
        return bool(row and row[0])


def sending_processes(pid: int) -> list[int]:
    """The pids of apply ``pid``'s sending processes (pushops.apply.sender): one, or none."""
    return child_processes(pid, b"pushops.apply.sender")


def running(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie, ended but not yet reaped, does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def child_processes(pid: int, module: bytes) -> list[int]:
    """The pids of ``pid``'s children running ``python -m module``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError, IndexError):
            continue
        if parent == pid and module in command:
            found.append(int(entry.name))
    return found


class Apply:
    """One ``pushops apply --auto-approve`` subprocess; notes when its plan is printed."""

    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pushops", "apply", "--auto-approve"],
            cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.planned_at: float | None = None
        self.out: list[str] = []
        self.err: list[str] = []
        self._readers = [
            threading.Thread(target=self._read, args=(self.proc.stdout, self.out, True)),
            threading.Thread(target=self._read, args=(self.proc.stderr, self.err, False)),
        ]
        for reader in self._readers:
            reader.daemon = True
            reader.start()

    def _read(self, stream: Any, into: list[str], marks_plan: bool) -> None:
        for line in stream:
            if marks_plan and self.planned_at is None:
                self.planned_at = time.monotonic()
            if len(into) < 200 or "rror" in line or "Traceback" in line:
                into.append(line)

    def wait_for_plan(self, limit_s: float) -> bool:
        end = time.monotonic() + limit_s
        while self.planned_at is None and self.proc.poll() is None and time.monotonic() < end:
            time.sleep(0.02)
        return self.planned_at is not None

    def kill(self) -> bool:
        """SIGKILL; True when it was still running."""
        alive = self.proc.poll() is None
        if alive:
            self.proc.send_signal(signal.SIGKILL)
        self.finish(60)
        return alive

    def finish(self, timeout: float) -> int:
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait(timeout=30)
        for reader in self._readers:
            reader.join(timeout=10)
        return code

    @property
    def done(self) -> bool:
        return any("No changes. Nothing to apply." in line for line in self.out)


def traceback_check(run: Apply, result: SoakResult) -> None:
    """A run that was not killed ends with a message, never a traceback."""
    if any("Traceback" in line for line in run.err):
        result.problems.append(f"run {result.runs} ended in a traceback: {run.err[-1].strip()}")


def check_end_state(
    result: SoakResult, emulator: EmulatorProcess, root: Path, env: dict[str, str]
) -> None:
    from pushops.ledger import open_ledger

    deliveries = emulator.control("deliveries")["deliveries"]
    by_target: dict[str, list[str]] = {}
    for d in deliveries:
        for target in str(d["params"].get("TargetValue", "")).split(","):
            by_target.setdefault(target, []).append(str(d["message_id"]))
    counts = Counter({t: len(ids) for t, ids in by_target.items()})
    result.delivered = len(counts)
    result.duplicates = sum(c - 1 for c in counts.values() if c > 1)
    result.lost = max(0, result.planned - result.delivered)
    ledger = open_ledger(
        env["PUSHOPS_STATE_DSN"], root=root, schema=env.get("PUSHOPS_STATE_SCHEMA") or None
    )
    try:
        seen = 0
        for record in ledger.current_deliveries("staging", with_request=False):
            seen += 1
            target = record.key.rsplit("/", 1)[-1]
            ids = by_target.get(target, [])
            if record.status != "sent" or ids != [record.message_id]:
                result.ledger_mismatches += 1
                if len(result.problems) < 5:
                    result.problems.append(
                        f"ledger {record.key}: {record.status} {record.message_id}, emulator {ids}"
                    )
        result.ledger_mismatches += abs(seen - result.planned)
        result.locks_left = len(ledger.lock_info())
    finally:
        ledger.close()


def postgres_available() -> str | None:
    try:
        import psycopg

        with psycopg.connect(PG_DSN, connect_timeout=3):
            return None
    except Exception as exc:  # any failure to connect means: soak on SQLite instead
        return f"{type(exc).__name__}: {exc}".splitlines()[0]


def soak(
    rows: int,
    kills: int,
    seed: int = 20261122,
    *,
    postgres: bool = True,
    time_limit_s: float = 3600,
    log: Any = print,
) -> SoakResult:
    """Run the soak (see the module docstring); bounded by ``kills`` and ``time_limit_s``."""
    started = time.monotonic()
    deadline = time.time() + time_limit_s
    rng = random.Random(seed)
    if postgres and postgres_available() is not None:
        postgres = False
    result = SoakResult(backend="postgres" if postgres else "sqlite")
    schema = f"pushops_soak_{uuid.uuid4().hex[:12]}"
    with tempfile.TemporaryDirectory(prefix="pushops-soak-") as tmp:
        root = Path(tmp) / "repo"
        write_repo(root, rows)
        emulator = EmulatorProcess()
        env = {
            **os.environ,
            "ALIBABA_CLOUD_ACCESS_KEY_ID": AKID,
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET": SECRET,
            "ALIBABA_CLOUD_SECURITY_TOKEN": "",
            "PUSHOPS_EMAS_ENDPOINT": emulator.url,
            "PUSHOPS_STATE_DSN": PG_DSN if postgres else str(root / ".pushops" / "state.db"),
            "PUSHOPS_STATE_SCHEMA": schema if postgres else "",
            "PUSHOPS_NOW": "",
            "PUSHOPS_MAX_PLAN_AGE": "",
            # Every size sends from apply's sending process, which one run loses mid-send.
            "PUSHOPS_SEND_PROCESS": "always",
        }
        throttler = Throttler(emulator, random.Random(seed + 1), deadline)
        try:
            result.planned = rows  # one delivery per row; the plan below confirms it
            subprocess.run(  # the ledger, created once as a team does (docs/state.md)
                [sys.executable, "-m", "pushops", "state", "init"],
                cwd=root, env=env, capture_output=True, check=True, timeout=60,
            )  # fmt: skip
            plan = subprocess.run(
                [sys.executable, "-m", "pushops", "plan", "--format", "json"],
                cwd=root, env=env, capture_output=True, text=True, timeout=time_limit_s,
            )  # fmt: skip
            sends = sum(1 for a in json.loads(plan.stdout)["actions"] if a["action"] == "send")
            if sends != rows:
                result.problems.append(f"plan has {sends} sends for {rows} rows")
            result.planned = sends
            plan_s = time.monotonic() - started
            # The quota's own time: apply cannot be done sooner, so a kill within it lands
            # while it sends (at 200 calls/s assumed before, a faster apply was done first).
            send_s = max(1.0, rows / 100 / 500)
            log(f"soak: {rows:,} rows planned in {plan_s:.1f}s on {result.backend}")
            throttler.start()
            # On PostgreSQL the first run, which has everything to send, loses a ledger
            # connection (or the next one if it ended first). SQLite has no session to end: a
            # SQLite soak once took this branch from its seventh round on, and those rounds ran
            # to the end unkilled (1 kill of 6).
            for _ in range(kills * 2):  # runs that end before their kill do not count
                if result.kills >= kills and (result.pg_terminations or not postgres):
                    break
                if time.time() > deadline:
                    result.problems.append("time limit reached while killing")
                    break
                run = Apply(root, env)
                result.runs += 1
                if postgres and not result.pg_terminations:
                    # This run loses a ledger connection mid-send, then runs on (or fails).
                    if run.wait_for_plan(plan_s * 3 + 60):
                        time.sleep(rng.uniform(0.02, min(0.3, send_s)))
                        if run.proc.poll() is None:
                            result.pg_terminations += terminate_ledger_connection(run.proc.pid, rng)
                    code = run.finish(send_s * 20 + plan_s * 3 + 120)
                    last = run.err[-1].strip() if run.err else ""
                    log(f"soak: run {result.runs} lost a ledger connection, exit {code}: {last}")
                    traceback_check(run, result)
                    continue
                if rng.random() < 0.25:  # while it plans (or recovers)
                    # At the latest as its plan is printed: a run plans faster than the soak's
                    # first `plan --format json` (40-45 s against 90 at a million on SQLite),
                    # and a fixed sleep of up to 1.2x that often woke after the run had sent
                    # everything left; every round after it then had nothing to kill (a 1M
                    # SQLite soak landed 1-2 kills of 6). Half the soak's plan: apply renders
                    # a million in a process of its own (pushops.plan.renderproc) and plans in
                    # about half the time of the soak's first plan.
                    run.wait_for_plan(rng.uniform(0.0, plan_s * 0.5))
                elif run.wait_for_plan(plan_s * 3 + 60):  # while it sends
                    time.sleep(rng.uniform(0.0, send_s))
                sending = run.planned_at is not None
                child = None
                if sending and not result.sender_kills:
                    end = time.monotonic() + 3.0  # it starts once recovery is done
                    while child is None and run.proc.poll() is None and time.monotonic() < end:
                        child = next(iter(sending_processes(run.proc.pid)), None)
                        time.sleep(0.02)
                if child is not None and run.proc.poll() is None:
                    # Its sending process dies instead: apply must stop by itself, clearly.
                    os.kill(child, signal.SIGKILL)
                    result.sender_kills += 1
                    code = run.finish(send_s * 20 + 120)
                    last = run.err[-1].strip() if run.err else ""
                    log(f"soak: run {result.runs} lost its sending process, exit {code}: {last}")
                    traceback_check(run, result)
                    continue
                renderers = child_processes(run.proc.pid, b"pushops.plan.renderproc")
                killed = run.kill()
                result.kills += killed
                result.kills_while_sending += killed and sending
                result.kills_while_rendering += bool(killed and renderers)
                end = time.monotonic() + 5.0  # it dies with apply (PR_SET_PDEATHSIG)
                while any(map(running, renderers)) and time.monotonic() < end:
                    time.sleep(0.02)
                if any(map(running, renderers)):
                    result.problems.append(
                        f"run {result.runs}: a rendering process outlived its killed apply"
                    )
            for _ in range(20):  # then let it finish
                if time.time() > deadline:
                    result.problems.append("time limit reached before apply finished")
                    break
                run = Apply(root, env)
                result.runs += 1
                code = run.finish(max(60.0, deadline - time.time()))
                log(f"soak: finishing run {result.runs}: exit {code}")
                traceback_check(run, result)
                if run.done:
                    break
            else:
                result.problems.append("apply never reached a state with no changes")
            throttler.stop()
            result.throttle_bursts = throttler.bursts
            check_end_state(result, emulator, root, env)
        finally:
            throttler.stopped.set()
            emulator.stop()
            if postgres:
                import psycopg

                with psycopg.connect(PG_DSN, autocommit=True) as conn:
                    conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    result.seconds = round(time.monotonic() - started, 1)
    return result


INFO = ("planned", "kills", "kills_while_sending", "kills_while_rendering", "runs",
        "pg_terminations", "sender_kills", "throttle_bursts", "seconds")  # fmt: skip


def run(quick: bool) -> list[Figure]:
    rows = QUICK_ROWS if quick else FULL_ROWS
    # --quick keeps `python -m bench --quick` under a minute; the full form takes ~25 min.
    result = soak(rows, kills=4, time_limit_s=600 if quick else 5400)
    print(json.dumps(asdict(result), indent=2))
    name = f"soak.{rows}_tasks"
    info: list[Figure] = [
        {"figure": f"{name}.{k}", "value": getattr(result, k), "target": None, "pass": None}
        for k in INFO
    ]
    return [
        {"figure": f"{name}.delivered", "value": result.delivered,
         "target": f"== {result.planned}", "pass": result.delivered == result.planned},
        {"figure": f"{name}.duplicates", "value": result.duplicates, "target": "== 0",
         "pass": result.duplicates == 0},
        {"figure": f"{name}.ledger_mismatches", "value": result.ledger_mismatches,
         "target": "== 0", "pass": result.ledger_mismatches == 0},
        {"figure": f"{name}.locks_left", "value": result.locks_left, "target": "== 0",
         "pass": result.locks_left == 0},
        *info,
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rows", type=int)
    parser.add_argument("--kills", type=int, default=6)
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--sqlite", action="store_true", help="soak the SQLite ledger instead")
    args = parser.parse_args()
    rows = args.rows or (QUICK_ROWS if args.quick else FULL_ROWS)
    result = soak(rows, args.kills, args.seed, postgres=not args.sqlite)
    print(json.dumps({**asdict(result), "ok": result.ok}, indent=2))


if __name__ == "__main__":
    main()
