"""A team's journey, from `pushops init` to recovering a crashed apply, through the real CLI.

Every step runs `pushops` as a subprocess in a repository made by `pushops init` in a temp
dir, against the emulator in a process of its own (as a provider would be) and a PostgreSQL
ledger in a fresh schema; after each step the test reads what the emulator accepted, which is
what users would receive. The scaffold's install step itself is tested where the scaffold is
(tests/init); here pushops runs from this checkout.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

PG_DSN = os.environ.get("PUSHOPS_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")
AKID, SECRET = "LTAIjourney", "journey-Secret-5e4d3c"
BEIJING = timezone(timedelta(hours=8))
WALLET = """\
      wallet:
        provider: mpaas
        app_id: ONEX570DA89211721
        workspace_id: test
        rate_limit: 4
"""


def _skip_without_pg() -> None:
    try:
        import psycopg

        with psycopg.connect(PG_DSN, connect_timeout=3):
            return
    except Exception as exc:
        problem = f"{type(exc).__name__}: {exc}".splitlines()[0]
    if os.environ.get("CI"):
        pytest.fail(f"CI is set and PostgreSQL does not answer: {problem}")
    pytest.skip(f"no PostgreSQL server answers ({problem}); set PUSHOPS_TEST_PG_DSN to test it")


@pytest.fixture
def pg_schema() -> Iterator[str]:
    _skip_without_pg()
    import psycopg

    schema = f"pushops_journey_{uuid.uuid4().hex[:12]}"
    try:
        yield schema
    finally:
        with psycopg.connect(PG_DSN, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def provider() -> Iterator[str]:
    """The emulator in its own process; its URL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "pushops", "emulator", "--port", "0",
         "--credentials", f"{AKID}:{SECRET}"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        assert line.startswith("pushops emulator listening on "), line
        yield line.split()[-1]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


class Team:
    @classmethod
    def init(cls, root: Path, url: str, schema: str) -> Team:
        """A repository made by `pushops init`, and the team working in it."""
        made = subprocess.run(
            [sys.executable, "-m", "pushops", "init", str(root)],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert made.returncode == 0, made.stderr
        return cls(root, url, schema)

    def __init__(self, root: Path, url: str, schema: str) -> None:
        self.root = root
        self.url = url
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("PUSHOPS_")},
            "ALIBABA_CLOUD_ACCESS_KEY_ID": AKID,
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET": SECRET,
            "PUSHOPS_EMAS_ENDPOINT": url,
            "PUSHOPS_MPAAS_ENDPOINT": url,
            "PUSHOPS_STATE_DSN": PG_DSN,
            "PUSHOPS_STATE_SCHEMA": schema,
        }

    def pushops(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pushops", *args], cwd=self.root, env=self.env,
            capture_output=True, text=True, timeout=timeout,
        )  # fmt: skip

    def start(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "pushops", *args], cwd=self.root, env=self.env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip

    def write(self, name: str, text: str) -> None:
        (self.root / "campaigns" / name).write_text(text)

    def received(self) -> list[dict[str, Any]]:
        """What the provider accepted, as the emulator recorded it."""
        with urllib.request.urlopen(f"{self.url}/_emulator/deliveries", timeout=10) as answer:
            data = json.load(answer)
        return data["deliveries"] if isinstance(data, dict) else data

    def seen(self) -> Counter[tuple[str, str]]:
        """(what, status) of everything received: Title, or TaskName for mPaaS."""
        return Counter(
            (str(d["params"].get("Title") or d["params"].get("TaskName")), d["status"])
            for d in self.received()
        )


def loop_campaign() -> str:
    today = datetime.now(BEIJING).replace(hour=0, minute=0, second=0, microsecond=0)
    at = max(today, datetime.now(BEIJING) - timedelta(minutes=1))  # started a minute ago
    return f"""\
id: digest
app: wallet
broadcasts:
  - id: daily
    TaskName: Daily digest
    DeliveryType: 2
    TemplateName: digest
    TemplateKeyValue: {{content: Your daily summary.}}
    ExpiredSeconds: 3600
    PushStatus: 1
    UnBindPeriod: 3
    StrategyType: 2
    StrategyContent:
      startTime: {int(today.timestamp() * 1000)}
      endTime: {int((today + timedelta(days=14)).timestamp() * 1000)}
      circleType: 1
      time: "{at.strftime("%H:%M:%S")}"
"""


def scheduled_campaign(revision: int, title: str) -> str:
    push = (datetime.now(timezone.utc) + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"""\
id: launch
revision: {revision}
app: mobile
tasks:
  - id: android
    DeviceType: ANDROID
    PushType: NOTICE
    Target: DEVICE
    TargetValue: device-a,device-b
    Title: "{title}"
    Body: Tap to see it.
    PushTime: "{push}"
"""


def notices_campaign(n: int, body: str) -> str:
    """``n`` mPaaS broadcasts: ``n`` calls at the wallet app's 4 calls/s."""
    lines = ["id: notices", "app: wallet", "broadcasts:"]
    for i in range(n):
        lines += [
            f"  - id: n{i:02d}",
            f"    TaskName: Notice {i:02d}",
            "    DeliveryType: 1",
            "    TemplateName: announcement",
            f"    TemplateKeyValue: {{title: Wallet, content: {body}}}",
            "    ExpiredSeconds: 3600",
            "    PushStatus: 0",
            "    BindPeriod: 4",
        ]
    return "\n".join(lines) + "\n"


def wait_for(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(0.05)


@pytest.mark.postgres
@pytest.mark.slow
def test_a_team_from_init_to_recovering_a_crashed_apply(
    tmp_path: Path, provider: str, pg_schema: str
) -> None:
    root = tmp_path / "pushes"
    team = Team.init(root, provider, pg_schema)
    config = root / "pushops.yaml"
    text = config.read_text()
    # The team adds its mPaaS app to staging, below the scaffold's EMAS app.
    text = text.replace("  production:", WALLET + "  production:", 1)
    config.write_text(text)

    # The shared ledger is created once and bound to the environment, as docs/state.md says.
    made = team.pushops("state", "init", "--env", "staging")
    assert made.returncode == 0, made.stdout + made.stderr
    assert (root / "pushops.ledgers.yaml").is_file()

    # 1. Campaigns from the docs: the scaffold's welcome, a running loop, a scheduled push.
    team.write("digest.yaml", loop_campaign())
    team.write("launch.yaml", scheduled_campaign(1, "Launch day"))
    assert team.pushops("validate").returncode == 0
    first = team.pushops("apply", "--auto-approve")
    assert first.returncode == 0, first.stdout + first.stderr
    assert team.seen() == Counter(
        {("Welcome to My App", "sent"): 1, ("Daily digest", "scheduled"): 1,
         ("Launch day", "scheduled"): 1}
    )  # fmt: skip
    assert team.pushops("plan", "--detailed-exitcode").returncode == 0

    # 2. The loop is deleted: its occurrences still to come are cancelled.
    (root / "campaigns" / "digest.yaml").unlink()
    planned = team.pushops("plan")
    assert "- cancel   staging/digest/r1/daily" in planned.stdout, planned.stdout
    assert team.pushops("apply", "--auto-approve").returncode == 0
    assert team.seen()[("Daily digest", "cancelled")] == 1

    # 3. The scheduled push gets a new revision: the old one is cancelled, the new one sent.
    team.write("launch.yaml", scheduled_campaign(2, "Launch moved"))
    bumped = team.pushops("apply", "--auto-approve")
    assert bumped.returncode == 0, bumped.stdout + bumped.stderr
    assert team.seen()[("Launch day", "cancelled")] == 1
    assert team.seen()[("Launch moved", "scheduled")] == 1

    # 4. A long apply: a plan made meanwhile says an apply is in progress; then it is killed.
    team.write("notices.yaml", notices_campaign(24, "Maintenance tonight."))
    running = team.start("apply", "--auto-approve")
    wait_for(lambda: sum(d["params"].get("TaskName", "").startswith("Notice")
                         for d in team.received()) >= 3, 60, "the first notices")  # fmt: skip
    running.send_signal(signal.SIGSTOP)  # alive and holding the lock, whatever the load
    during = team.pushops("plan")
    assert "Note: an apply is in progress (" in during.stdout, during.stdout + during.stderr
    assert "left pending by an interrupted run" not in during.stdout
    running.send_signal(signal.SIGKILL)
    running.communicate(timeout=30)
    sent_before = {d["params"]["TaskName"] for d in team.received()
                   if d["params"].get("TaskName", "").startswith("Notice")}  # fmt: skip
    assert 3 <= len(sent_before) < 24

    # 5. Recovering: the plan says what settling does, nothing is settled or sent until it
    # is approved (here a saved plan, as CI applies one), and nothing goes out twice.
    after = team.pushops("plan", "--out", "recover.plan")
    assert after.returncode == 0, after.stdout + after.stderr
    assert "in progress" not in after.stdout
    assert "? resolve  staging/notices/r1/" in after.stdout
    assert "left pending by an interrupted run" in after.stdout
    assert len(team.received()) == 3 + 1 + len(sent_before)  # nothing more went out
    recovered = team.pushops("apply", "recover.plan")
    assert recovered.returncode == 0, recovered.stdout + recovered.stderr
    assert "Settled " in recovered.stdout

    notices = Counter(d["params"]["TaskName"] for d in team.received()
                      if d["params"].get("TaskName", "").startswith("Notice"))  # fmt: skip
    assert notices == Counter({f"Notice {i:02d}": 1 for i in range(24)})  # each exactly once
    assert team.seen()[("Welcome to My App", "sent")] == 1  # never repeated along the way
    assert team.pushops("plan", "--detailed-exitcode").returncode == 0
