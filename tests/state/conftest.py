"""``pushops state`` through click's CliRunner, on a tmp SQLite file and a fresh PostgreSQL schema.

The backends come from the ledger tests' conventions: PostgreSQL at ``PUSHOPS_TEST_PG_DSN``
(default the local server), a fresh schema per test, skipped with the reason when no server
answers unless ``CI`` is set.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from pushops.cli import cli
from pushops.ledger import Ledger
from tests.ledger.conftest import _pg_target
from tests.ledger.support import Target

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@dataclass
class State:
    """One ledger and a way to run ``pushops state ...`` against it."""

    target: Target
    cwd: Path

    def args(self) -> list[str]:
        found = ["--state", self.target.location]
        return [*found, "--schema", self.target.schema] if self.target.schema else found

    def run(self, *args: str, input: str | None = None, **kwargs: Any) -> Result:
        """``pushops state ARGS --state ...``: the ledger options after the subcommand."""
        return CliRunner().invoke(cli, ["state", *args, *self.args()], input=input, **kwargs)

    def open(self) -> Ledger:
        return self.target.open()

    def create(self) -> State:
        """Make the ledger exist (as `pushops state init` would): the other subcommands
        refuse a missing ledger rather than create an empty one."""
        self.target.open().close()
        return self


def _sqlite(tmp_path: Path, name: str = "state.db") -> Target:
    return Target("sqlite", str(tmp_path / ".pushops" / name))


@pytest.fixture(params=BACKENDS)
def state(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[State]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PUSHOPS_STATE_DSN", raising=False)
    monkeypatch.delenv("PUSHOPS_STATE_SCHEMA", raising=False)
    if request.param == "sqlite":
        yield State(_sqlite(tmp_path), tmp_path).create()
    else:
        for target in _pg_target():
            yield State(target, tmp_path).create()


@pytest.fixture
def pg_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[State]:
    monkeypatch.chdir(tmp_path)
    for target in _pg_target():
        yield State(target, tmp_path).create()


@pytest.fixture
def sqlite_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> State:
    monkeypatch.chdir(tmp_path)
    return State(_sqlite(tmp_path, "other.db"), tmp_path).create()
