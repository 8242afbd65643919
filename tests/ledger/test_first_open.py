"""Two processes that open a new SQLite ledger at the same moment (two applies started together
on a fresh checkout) both get it: neither is told the ledger "stayed busy" while the other
creates it."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from pushops.ledger.sqlite import SqliteLedger

ROUNDS = 30  # the race lost about one round in eight before the fix


def _open(
    path: str, start: multiprocessing.synchronize.Barrier, failures: multiprocessing.Queue
) -> None:
    start.wait(timeout=10)
    try:
        SqliteLedger(path).close()
    except Exception as exc:  # reported to the test, which names it
        failures.put(f"{type(exc).__name__}: {exc}")


def test_two_processes_opening_a_new_ledger_at_once_both_get_it(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    failures: multiprocessing.Queue = context.Queue()
    for round_ in range(ROUNDS):
        path = str(tmp_path / f"round-{round_}" / "state.db")
        start = context.Barrier(2)
        openers = [context.Process(target=_open, args=(path, start, failures)) for _ in range(2)]
        for opener in openers:
            opener.start()
        for opener in openers:
            opener.join(timeout=30)
            assert opener.exitcode == 0
    found = []
    while not failures.empty():
        found.append(failures.get(timeout=1))
    assert found == []
