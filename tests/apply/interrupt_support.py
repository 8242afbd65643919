"""Helpers for the specs that interrupt a real ``pushops apply`` process.

apply runs as a subprocess (its own signal handling, its own ledger connections); the
emulator runs in the test process on loopback, so it is another process from apply's point
of view and the test can read what it accepted directly.
"""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from plan.support import AKID, SECRET, Project

from pushops.apply.gateway import push_tasks
from pushops.apply.records import pending_records
from pushops.emulator import Emulator
from pushops.ledger import open_ledger
from pushops.plan.planfile import plan_key, read_plan
from pushops.providers import BlockingProviders, Credentials

PACED_CONFIG = """\
version: 1
default_environment: staging
environments:
  staging:
    apps:
      wallet: {{provider: mpaas, app_id: ONEX570DA89211721, workspace_id: test, rate_limit: {rate}}}
"""


def broadcasts(n: int, cid: str = "notices") -> str:
    """One mPaaS campaign of ``n`` broadcasts: ``n`` calls, each named by its TaskName."""
    out = [f"id: {cid}", "app: wallet", "broadcasts:"]
    for i in range(n):
        out += [
            f"  - id: b{i:03d}",
            f"    TaskName: Notice {i:03d}",
            "    DeliveryType: 1",
            "    TemplateName: announcement",
            "    TemplateKeyValue: {title: Wallet}",
            "    ExpiredSeconds: 3600",
            "    PushStatus: 0",
            "    BindPeriod: 4",
        ]
    return "\n".join(out) + "\n"


def paced_project(project: Project, calls: int, rate: float) -> None:
    """``calls`` broadcasts to an app paced at ``rate`` calls/s: a run spans calls/rate s."""
    (project.root / "pushops.yaml").write_text(PACED_CONFIG.format(rate=rate))
    project.write("notices.yaml", broadcasts(calls))


def start_apply(project: Project, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "pushops", "apply", "--auto-approve", *args],
        cwd=project.root,
        env={**os.environ, **project.env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def run_cli(project: Project, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pushops", *args],
        cwd=project.root,
        env={**os.environ, **project.env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(0.02)


def task_names(emulator: Emulator) -> Counter[str]:
    return Counter(str(d["params"].get("TaskName")) for d in emulator.deliveries())


def assert_no_traceback(output: str) -> None:
    assert "Traceback" not in output, output


def ledger_statuses(project: Project) -> dict[str, str]:
    """The current status of every key, read through the ledger layer."""
    with project.open_ledger() as ledger:
        return {d.key: d.status for d in ledger.current_deliveries(with_request=False)}


def task_name_of(key: str) -> str:
    # staging/notices/r1/b007 -> "Notice 007" (what broadcasts() sends for that key)
    return f"Notice {key.rsplit('/b', 1)[1]}"


def leave_pending(project: Project, emulator: Emulator, *, age: timedelta, sent: bool) -> str:
    """What a run killed right after writing ahead (and, if ``sent``, after sending) leaves."""
    assert project.run("plan", "--out", "p.plan").exit_code == 0
    plan = read_plan(project.root / "p.plan").verified(plan_key(AKID, SECRET, "staging"))
    call = next(iter(plan.calls))
    target = project.env["PUSHOPS_STATE_DSN"]
    schema = project.env.get("PUSHOPS_STATE_SCHEMA") or None
    then = datetime.now(timezone.utc) - age
    with open_ledger(target, root=project.root, schema=schema, clock=lambda: then) as ledger:
        ledger.record_pending_many([pending_records(call, plan, "crashed-run")])
    if sent:
        with BlockingProviders(Credentials.of(AKID, SECRET)) as providers:
            if call.provider == "emas":
                client = providers.emas(call.query["AppKey"], endpoint=emulator.url)
                client.mass_push(push_tasks(call.form), call.token)
            else:
                providers.mpaas(endpoint=emulator.url).push_broadcast(call.form)
    return call.call_id


def on_terminal(
    project: Project,
    *args: str,
    answer: str | None = None,
    timeout: float = 60,
    until: Callable[[bytes], bool] | None = None,
    then: Callable[[subprocess.Popen[bytes]], None] | None = None,
) -> tuple[int, str]:
    """Run ``pushops ARGS`` on a pseudo-terminal and read it to the end: ``answer`` its first
    question; once ``until(output so far)`` holds, call ``then(process)`` (e.g. a signal)."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "pushops", *args],
        cwd=project.root, env={**os.environ, **project.env, "COLUMNS": "160"},
        stdin=follower, stdout=follower, stderr=follower, close_fds=True,
    )  # fmt: skip
    os.close(follower)
    seen, answered, acted = b"", answer is None, then is None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
            if not answered and b"[y/N]" in seen:
                os.write(leader, (answer or "").encode() + b"\n")
                answered = True
            if not acted and until is not None and until(seen) and then is not None:
                then(process)
                acted = True
        elif process.poll() is not None:
            break
    os.close(leader)
    code = process.wait(timeout=30)
    return code, seen.decode(errors="replace").replace("\r\n", "\n")
