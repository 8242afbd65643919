"""One fresh ledger per test, on each backend: a tmp SQLite file or a fresh PostgreSQL schema.

PostgreSQL comes from ``PUSHOPS_TEST_PG_DSN`` (default the local server). Without a server
its tests skip with the reason, except under CI (``CI`` set), where that is a failure.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from pushops.ledger import Ledger

from .support import PG_DSN, Target, skip_or_fail_without_pg

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def _pg_target() -> Iterator[Target]:
    skip_or_fail_without_pg()
    import psycopg

    target = Target("postgresql", PG_DSN, f"pushops_test_{uuid.uuid4().hex[:12]}")
    try:
        yield target
    finally:
        with psycopg.connect(PG_DSN, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{target.schema}" CASCADE')


def _sqlite_target(tmp_path: Path) -> Target:
    return Target("sqlite", str(tmp_path / ".pushops" / "state.db"))


@pytest.fixture(params=BACKENDS)
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    if request.param == "sqlite":
        yield _sqlite_target(tmp_path)
    else:
        yield from _pg_target()


@pytest.fixture
def sqlite_target(tmp_path: Path) -> Target:
    return _sqlite_target(tmp_path)


@pytest.fixture
def pg_target() -> Iterator[Target]:
    yield from _pg_target()


@pytest.fixture
def ledger(target: Target) -> Iterator[Ledger]:
    handle = target.open()
    try:
        yield handle
    finally:
        handle.close()
