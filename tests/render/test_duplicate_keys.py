"""Duplicate fan-out keys in bounded memory: the first keys are checked in memory and a repeat
of one is reported at once; later keys are spilled to a temporary database and their repeats
reported once the data file has been read. The in-memory limit is lowered so a few rows
exercise both halves."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import ClassVar

import pytest

from pushops.campaign import load_campaigns
from pushops.compile import Delivery
from pushops.config import load_config
from pushops.diagnostics import Report
from pushops.render import engine, keyindex, render_deliveries
from tests.render.conftest import NOW, NOW_TEXT, PushRepo, emas

LIMIT = 4
PERSONAL = {
    "TargetValue": "{{ row.device }}",
    "Title": "{{ row.tier | title }} member",
    "fan_out": {"data": "data/rows.csv", "key": "{{ row.device }}"},
}


@pytest.fixture(autouse=True)
def small_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keyindex, "IN_MEMORY_KEYS", LIMIT)
    monkeypatch.setattr(keyindex, "SPILL_BATCH", 3)


def write_devices(repo: PushRepo, devices: list[str]) -> None:
    repo.write("data/rows.csv", "device,tier\n" + "".join(f"{d},gold\n" for d in devices))


def stream(repo: PushRepo, report: Report) -> Iterator[Delivery]:
    config = load_config(repo.root)
    return render_deliveries(load_campaigns([], repo.root, report), config, "staging", NOW, report)


def messages_while_streaming(repo: PushRepo) -> tuple[list[tuple[str, list[str]]], list[str]]:
    """Each delivery's key with the problems reported by the time it was yielded, and the
    problems reported in all."""
    report = Report()
    seen = []
    for delivery in stream(repo, report):
        seen.append((delivery.fan_out_key, [d.message for d in report.diagnostics]))
    return seen, [d.message for d in report.diagnostics]


def test_a_repeat_among_the_first_keys_is_reported_at_once_and_its_row_skipped(
    repo: PushRepo,
) -> None:
    write_devices(repo, ["d1", "d2", "d1", "d3"])
    repo.campaign("c", emas(**PERSONAL))
    seen, problems = messages_while_streaming(repo)
    message = (
        "key 'd1' is also the key of an earlier row; each row needs its own key "
        "in row 3 (data/rows.csv:4)"
    )
    assert seen == [("d1", []), ("d2", []), ("d3", [message])]
    assert problems == [message]


def test_a_late_row_repeating_one_of_the_first_keys_is_reported_at_once(
    repo: PushRepo,
) -> None:
    write_devices(repo, [f"d{n}" for n in range(1, 9)] + ["d2", "d10"])
    repo.campaign("c", emas(**PERSONAL))
    seen, problems = messages_while_streaming(repo)
    message = (
        "key 'd2' is also the key of an earlier row; each row needs its own key "
        "in row 9 (data/rows.csv:10)"
    )
    assert seen[-1] == ("d10", [message])
    assert problems == [message]


def test_a_repeat_between_two_rows_past_the_limit_is_reported_after_the_file_is_read(
    repo: PushRepo,
) -> None:
    write_devices(repo, [f"d{n}" for n in range(1, 9)] + ["d6", "d10"])
    repo.campaign("c", emas(**PERSONAL))
    seen, _ = messages_while_streaming(repo)
    assert [key for key, _ in seen] == [*(f"d{n}" for n in range(1, 9)), "d6", "d10"]
    assert all(problems == [] for _, problems in seen)
    _, problems = repo.deliveries()
    (problem,) = problems
    assert (problem.file, problem.path, problem.rule) == (
        "campaigns/c.yaml",
        "tasks[0].fan_out.key",
        "fan-out.duplicate-key",
    )
    assert problem.message == (
        "key 'd6' of row 9 (data/rows.csv:10) is also the key of row 6 (data/rows.csv:7); "
        "each row needs its own key"
    )


def test_repeats_past_the_limit_are_listed_up_to_the_row_error_cap_then_counted(
    repo: PushRepo,
) -> None:
    devices = [f"d{n}" for n in range(1, 31)]
    write_devices(repo, devices + devices[LIMIT:])  # 26 repeats, all past the limit
    repo.campaign("c", emas(**PERSONAL))
    _, problems = repo.deliveries()
    messages = [p.message for p in problems]
    listed = [m for m in messages if "is also the key of row" in m]
    assert len(listed) == engine.MAX_ROW_ERRORS
    assert "key 'd5' of row 31 (data/rows.csv:32) is also the key of row 5" in " ".join(listed)
    assert [m for m in messages if m not in listed] == [
        "6 more rows of data/rows.csv repeat an earlier row's key"
    ]


def test_a_large_file_of_unique_keys_has_no_duplicate(
    repo: PushRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(keyindex, "IN_MEMORY_KEYS", 64)
    monkeypatch.setattr(keyindex, "SPILL_BATCH", 100)
    write_devices(repo, [f"device-{n}" for n in range(5000)])
    repo.campaign("c", emas(**PERSONAL))
    deliveries, problems = repo.deliveries()
    assert problems == []
    assert len(deliveries) == 5000


class RecordingKeyCheck(keyindex.KeyCheck):
    """Keeps every temporary database it opens, to look at after rendering."""

    opened: ClassVar[list[sqlite3.Connection]] = []

    def _flush(self) -> None:
        super()._flush()
        if self._db is not None and self._db not in self.opened:
            self.opened.append(self._db)


@pytest.fixture
def databases(monkeypatch: pytest.MonkeyPatch) -> list[sqlite3.Connection]:
    opened: ClassVar[list[sqlite3.Connection]] = []
    monkeypatch.setattr(RecordingKeyCheck, "opened", opened)
    monkeypatch.setattr(engine, "KeyCheck", RecordingKeyCheck)
    return opened


def is_closed(db: sqlite3.Connection) -> bool:
    try:
        db.execute("SELECT 1")
    except sqlite3.ProgrammingError:
        return True
    return False


def test_the_temporary_database_is_closed_once_the_stream_is_read(
    repo: PushRepo, databases: list[sqlite3.Connection]
) -> None:
    write_devices(repo, [f"d{n}" for n in range(20)])
    repo.campaign("c", emas(**PERSONAL))
    deliveries, _ = repo.deliveries()
    assert len(deliveries) == 20
    (db,) = databases
    assert is_closed(db)


def test_the_temporary_database_is_closed_when_the_consumer_stops_early(
    repo: PushRepo, databases: list[sqlite3.Connection]
) -> None:
    write_devices(repo, [f"d{n}" for n in range(20)])
    repo.campaign("c", emas(**PERSONAL))
    deliveries = stream(repo, Report())
    for delivery in deliveries:
        if delivery.fan_out_key == "d10":
            break
    (db,) = databases
    assert not is_closed(db)
    deliveries.close()  # what dropping the generator does
    assert is_closed(db)


def test_validate_and_render_fail_on_a_repeat_found_after_the_file_is_read(
    repo: PushRepo,
) -> None:
    write_devices(repo, [f"d{n}" for n in range(1, 9)] + ["d6", "d10"])
    repo.campaign("c", emas(**PERSONAL))
    message = (
        "tasks[0].fan_out.key: key 'd6' of row 9 (data/rows.csv:10) is also the key of row 6 "
        "(data/rows.csv:7); each row needs its own key [fan-out.duplicate-key]"
    )
    validated = repo.validate()
    assert validated.exit_code == 1
    assert message in validated.output
    rendered = repo.cli("render", "--now", NOW_TEXT, "--format", "yaml")
    assert rendered.exit_code == 1
    assert "campaigns/c.yaml:1:" in rendered.stderr
    assert message in rendered.stderr
    assert "1 error; nothing rendered" in rendered.stderr


def _refuse_temporary_database(*args: object, **kwargs: object) -> sqlite3.Connection:
    raise sqlite3.OperationalError("unable to open database file")


def test_a_temporary_directory_that_cannot_be_written_is_a_located_error_not_a_traceback(
    repo: PushRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(keyindex.sqlite3, "connect", _refuse_temporary_database)
    write_devices(repo, [f"d{n}" for n in range(1, 12)])
    repo.campaign("c", emas(**PERSONAL))
    validated = repo.validate()
    assert validated.exit_code == 1
    assert "Traceback" not in validated.output
    assert (
        "tasks[0].fan_out.key: could not check the keys for repeats in a temporary file "
        "(unable to open database file)" in validated.output
    )
    assert "[fan-out.duplicate-key]" in validated.output


def test_a_disk_filling_up_while_repeats_are_read_refuses_the_plan(
    repo: PushRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(self: keyindex.KeyCheck, limit: int) -> object:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(keyindex.KeyCheck, "_repeats", full)
    write_devices(repo, [f"d{n}" for n in range(1, 12)])
    repo.campaign("c", emas(**PERSONAL))
    repo.init_ledger()
    planned = repo.cli("plan", "--now", NOW_TEXT)
    assert planned.exit_code == 1
    assert "database or disk is full" in planned.output + planned.stderr
    assert "Traceback" not in planned.output + planned.stderr
