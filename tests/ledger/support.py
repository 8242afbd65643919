"""Builders and targets shared by the ledger tests (both backends)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from pushops.ledger import Call, Delivery, Ledger, open_ledger

PG_DSN = os.environ.get("PUSHOPS_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")
REPO = Path(__file__).resolve().parents[2]
HOLDER = Path(__file__).with_name("lock_holder.py")
ENV = "production"
FUTURE = datetime(2099, 1, 1, tzinfo=timezone.utc)


def key(task: str, campaign: str = "welcome", env: str = ENV) -> str:
    return f"{env}/{campaign}/1/{task}"


def delivery(task: str, *, campaign: str = "welcome", env: str = ENV, **extra: Any) -> Delivery:
    fields: dict[str, Any] = {
        "key": key(task, campaign, env),
        "environment": env,
        "campaign": campaign,
        "task": task,
        "fingerprint": f"fp-{task}",
        "request": {"Title": "Hello", "Body": f"for {task}", "TargetValue": "device-1"},
    }
    fields.update(extra)
    return Delivery(**fields)


def call(call_id: str, *, env: str = ENV, provider: str = "emas", **extra: Any) -> Call:
    fields: dict[str, Any] = {
        "call_id": call_id,
        "environment": env,
        "provider": provider,
        "app": "app-1",
        "action": "MassPush" if provider == "emas" else "PushBroadcast",
        "token": f"token-{call_id}",
        "request": {"AppKey": "23267207", "PushTask.1.Title": "Hello", "AccessKeyId": "***"},
        "git_commit": "abc123",
        "actor": "ci",
    }
    fields.update(extra)
    return Call(**fields)


def pending(ledger: Ledger, call_id: str, *tasks: str, **extra: Any) -> list[Delivery]:
    """Write a call carrying one delivery per task ahead of sending it."""
    ds = [delivery(t, **extra) for t in tasks]
    ledger.record_pending(call(call_id, env=extra.get("env", ENV)), ds)
    return ds


def sent(ledger: Ledger, call_id: str, *tasks: str, **extra: Any) -> None:
    pending(ledger, call_id, *tasks, **extra)
    ledger.record_sent(call_id, {i: f"msg-{call_id}-{i}" for i in range(len(tasks))})


def pg_problem() -> str | None:
    """Why the test PostgreSQL server cannot be used, or None if it answers."""
    import psycopg

    try:
        with psycopg.connect(PG_DSN, connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


@dataclass
class Target:
    """Where one test's ledger lives; opens handles on it and raw connections into it."""

    kind: str
    location: str
    schema: str | None = None

    def open(self, **options: Any) -> Ledger:
        return open_ledger(self.location, schema=self.schema, **options)

    def spec(self) -> str:
        return json.dumps({"location": self.location, "schema": self.schema})

    @contextmanager
    def raw(self) -> Iterator[Any]:
        """A plain driver connection to the same store, for tampering and inspection."""
        if self.kind == "sqlite":
            conn = sqlite3.connect(self.location, isolation_level=None)
            try:
                yield conn
            finally:
                conn.close()
            return
        import psycopg

        with psycopg.connect(self.location, autocommit=True) as conn:
            conn.execute(f'SET search_path TO "{self.schema}"')
            yield conn

    @contextmanager
    def sibling(self, tmp_path: Path) -> Iterator[Target]:
        """Another, empty ledger on the same backend (an import's destination), removed after."""
        other = (
            Target(self.kind, self.location, f"{self.schema}_copy")
            if self.schema
            else Target("sqlite", str(tmp_path / "copy.db"))
        )
        try:
            yield other
        finally:
            if other.schema:
                with other.raw() as conn:
                    conn.execute(f'DROP SCHEMA IF EXISTS "{other.schema}" CASCADE')


class Holder:
    """A separate process that takes the ledger lock and keeps it until told or killed."""

    def __init__(self, target: Target, hold_s: float = 60.0, operation: str = "apply") -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(HOLDER), target.spec(), operation, str(hold_s)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        line = self.proc.stdout.readline() if self.proc.stdout else ""
        if not line.startswith("locked "):
            err = self.proc.stderr.read() if self.proc.stderr else ""
            raise AssertionError(f"holder did not lock: {line!r} {err}")
        self.lock_id = line.split()[1]

    def wait(self, timeout: float = 30.0) -> int:
        return self.proc.wait(timeout)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)


def within(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


def skip_or_fail_without_pg() -> None:
    from pushops.ledger.postgres import redact

    problem = pg_problem()
    if problem is None:
        return
    where = redact(PG_DSN)  # the test DSN may carry a password
    if os.environ.get("CI"):
        pytest.fail(f"CI is set and PostgreSQL at {where} does not answer: {problem}")
    pytest.skip(f"no PostgreSQL at {where} ({problem}); set PUSHOPS_TEST_PG_DSN to test it")
