"""Export and import: a ledger moves between backends without losing anything."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pushops.ledger import (
    ImportFormatError,
    Ledger,
    LedgerConflictError,
    migrations,
    open_ledger,
)

from .support import FUTURE, Target, call, delivery, key, pending, sent


def populate(ledger: Ledger) -> None:
    """A ledger with every status, history, two environments and awkward values."""
    sent(ledger, "c1", "a", "b")
    ledger.record_pending(
        call("c2", request={"z": 1.5, "a": ["ü", None, True], "nested": {"k": "v"}}),
        [delivery("later", due_at=FUTURE, expires_at=FUTURE)],
    )
    ledger.record_sent("c2", {0: "m-later"}, {"RequestId": "r", "MessageIds": ["m-later"]}, "r")
    ledger.mark_cancelled(key("later"), actor="alice", cancel_call_id="c1")
    pending(ledger, "c3", "later")
    pending(ledger, "c4", "failing")
    ledger.record_failed("c4", "InvalidParameter", "bad “title”", "req-4")
    pending(ledger, "c5", "lost")
    ledger.record_attempt("c5")
    ledger.record_unknown("c5")
    pending(ledger, "s1", "a", env="staging")


def exported(tmp_path: Path) -> list[str]:
    """The export lines of a populated SQLite ledger."""
    with open_ledger(tmp_path / "source.db") as source:
        populate(source)
        return list(source.export())


def export_text(ledger: Ledger) -> str:
    return "".join(ledger.export())


def test_export_starts_with_a_versioned_header_and_ends_with_counts(ledger: Ledger) -> None:
    populate(ledger)
    lines = [json.loads(line) for line in ledger.export()]
    meta = ledger.meta()
    assert lines[0] == {
        "kind": "pushops-ledger",
        "format_version": 1,
        "schema_version": migrations.latest_version(),
        "lineage": meta.lineage,
        "serial": meta.serial,
        "created_at": lines[0]["created_at"],
    }
    kinds = [line["kind"] for line in lines[1:-1]]
    # calls, then deliveries, then the events of the writes besides sending (resolve, cancel)
    assert kinds == sorted(kinds) and set(kinds) == {"call", "delivery", "event"}
    assert lines[-1] == {
        "kind": "end",
        "calls": 6,
        "deliveries": 7,
        "overrides": 0,
        "events": 1,  # the cancel
    }


def test_export_then_import_into_the_same_backend_is_identical(
    ledger: Ledger, target: Target, tmp_path: Path
) -> None:
    populate(ledger)
    text = export_text(ledger)
    with target.sibling(tmp_path) as other, other.open() as copy:
        meta = copy.import_(text.splitlines(keepends=True))
        assert (meta.lineage, meta.serial) == (ledger.meta().lineage, ledger.meta().serial)
        assert export_text(copy) == text
        assert list(copy.current_deliveries()) == list(ledger.current_deliveries())
        assert copy.get(key("later")) == ledger.get(key("later"))


@pytest.mark.postgres
def test_sqlite_to_postgresql_to_sqlite_round_trip_is_identical(
    sqlite_target: Target, pg_target: Target, tmp_path: Path
) -> None:
    with sqlite_target.open() as source:
        populate(source)
        original = export_text(source)
    with pg_target.open() as middle:
        middle.import_(original.splitlines(keepends=True))
        via_pg = export_text(middle)
    with open_ledger(tmp_path / "back.db") as back:
        back.import_(via_pg.splitlines(keepends=True))
        assert export_text(back) == original
        pending(back, "c9", "new")  # and it carries on as the same ledger
        assert back.meta().serial == json.loads(original.splitlines()[0])["serial"] + 1


def test_import_refuses_a_ledger_that_has_records(ledger: Ledger) -> None:
    populate(ledger)
    with pytest.raises(LedgerConflictError, match="empty"):
        ledger.import_(list(ledger.export()))


def test_a_truncated_export_imports_nothing(ledger: Ledger, tmp_path: Path) -> None:
    lines = exported(tmp_path)
    with pytest.raises(ImportFormatError, match="truncated"):
        ledger.import_(lines[:-3])
    assert ledger.meta().serial == 0
    assert list(ledger.current_deliveries()) == [] and ledger.get_call("c1") is None


def test_an_end_line_that_disagrees_with_the_records_imports_nothing(ledger: Ledger) -> None:
    lines = [
        json.dumps(
            {
                "kind": "pushops-ledger",
                "format_version": 1,
                "lineage": "x",
                "serial": 1,
                "created_at": "2030-01-01T00:00:00+00:00",
            }
        ),
        json.dumps({"kind": "end", "calls": 1, "deliveries": 0}),
    ]
    with pytest.raises(ImportFormatError, match="counts 1 calls"):
        ledger.import_(lines)


def test_a_malformed_line_is_named_by_number(ledger: Ledger, tmp_path: Path) -> None:
    lines = exported(tmp_path)
    lines[3] = "{not json\n"
    with pytest.raises(ImportFormatError, match="line 4"):
        ledger.import_(lines)


def test_a_record_with_unexpected_fields_is_refused(ledger: Ledger, tmp_path: Path) -> None:
    lines = exported(tmp_path)
    record = json.loads(lines[1])
    record["surprise"] = 1
    lines[1] = json.dumps(record)
    with pytest.raises(ImportFormatError, match=r"line 2.*surprise"):
        ledger.import_(lines)


def test_a_delivery_whose_call_the_export_lacks_imports_nothing(
    ledger: Ledger, tmp_path: Path
) -> None:
    lines = exported(tmp_path)
    number, record = next(
        (n, json.loads(line))
        for n, line in enumerate(lines, 1)
        if json.loads(line)["kind"] == "delivery"
    )
    record["call_id"] = "no-such-call"
    lines[number - 1] = json.dumps(record) + "\n"
    with pytest.raises(ImportFormatError, match=f"line {number}: .*'no-such-call'"):
        ledger.import_(lines)
    assert ledger.meta().serial == 0 and ledger.get_call("c1") is None


def test_an_export_of_an_unknown_format_version_is_refused(ledger: Ledger) -> None:
    header = {"kind": "pushops-ledger", "format_version": 99}
    with pytest.raises(ImportFormatError, match="99"):
        ledger.import_([json.dumps(header)])
