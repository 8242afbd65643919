"""The fault soak on a SQLite ledger, short form: with no ledger session to end, every round
is a kill (of apply, or once of its sending process); nothing lost or doubled."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.bench_soak import SoakResult, soak

ROWS = 5_000
KILLS = 4


@pytest.fixture(scope="module")
def soaked() -> tuple[SoakResult, list[str]]:
    lines: list[str] = []
    result = soak(ROWS, KILLS, seed=20261203, postgres=False, time_limit_s=240, log=lines.append)
    return result, lines


@pytest.mark.slow
def test_a_sqlite_soak_spends_no_round_on_a_session_it_cannot_end(
    soaked: tuple[SoakResult, list[str]],
) -> None:
    # The PostgreSQL round (end a ledger session, then let the run go on) once caught every
    # SQLite round from the KILLS-th on, and those runs were never killed.
    result, lines = soaked
    assert result.backend == "sqlite"
    assert result.pg_terminations == 0
    assert not [line for line in lines if "lost a ledger connection" in line]


@pytest.mark.slow
def test_a_sqlite_soak_delivers_each_planned_push_once_and_agrees_with_its_ledger(
    soaked: tuple[SoakResult, list[str]],
) -> None:
    result, _ = soaked
    assert result.problems == []
    assert (result.planned, result.delivered, result.duplicates, result.lost) == (ROWS, ROWS, 0, 0)
    assert (result.ledger_mismatches, result.locks_left) == (0, 0)
