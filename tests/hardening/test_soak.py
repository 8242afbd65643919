"""The fault soak's short form: 20,000 PushTasks against a faulty emulator in another process,
apply SIGKILLed at random moments, a ledger connection terminated and a sending process killed;
nothing lost or doubled.

The full form (1,000,000 PushTasks) runs from ``python -m bench``; see bench/bench_soak.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.bench_soak import SoakResult, soak

ROWS = 20_000
KILLS = 6


@pytest.fixture(scope="module")
def result() -> SoakResult:
    return soak(ROWS, KILLS, seed=20261122, time_limit_s=240)


@pytest.mark.slow
@pytest.mark.postgres
def test_the_soak_ran_to_completion_within_its_bounds(result: SoakResult) -> None:
    assert result.problems == []
    assert result.planned == ROWS
    assert result.kills >= 1 and result.runs <= KILLS + 20


@pytest.mark.slow
@pytest.mark.postgres
def test_the_emulator_holds_each_planned_delivery_exactly_once(result: SoakResult) -> None:
    assert (result.delivered, result.duplicates, result.lost) == (ROWS, 0, 0)


@pytest.mark.slow
@pytest.mark.postgres
def test_the_ledger_agrees_with_the_emulator(result: SoakResult) -> None:
    assert result.ledger_mismatches == 0


@pytest.mark.slow
@pytest.mark.postgres
def test_no_lock_is_left_behind(result: SoakResult) -> None:
    assert result.locks_left == 0


@pytest.mark.slow
@pytest.mark.postgres
def test_a_ledger_connection_was_terminated_mid_run(result: SoakResult) -> None:
    if result.backend != "postgres":
        pytest.skip("no PostgreSQL server answers; the soak ran on SQLite")
    assert result.pg_terminations == 1


@pytest.mark.slow
@pytest.mark.postgres
def test_a_run_lost_its_sending_process_mid_send_and_stopped_by_itself(
    result: SoakResult,
) -> None:
    # The soak sends from apply's sending process (PUSHOPS_SEND_PROCESS=always) and killed it once, leaving apply to stop without a traceback (checked above).
    assert result.sender_kills == 1
