"""Schema version 4, on both backends and on ledgers made before it (readers read them as
they are, writers migrate them): a call's request lives in a table of its own, written once
with the call, so settling the call rewrites only its small row; PostgreSQL's deliveries
have no foreign key to their call (the check cost a trigger and a row lock per delivery)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from pushops.ledger import Ledger, migrations
from pushops.ledger.codec import unpacked_text
from pushops.ledger.migrations import EVENTS_AND_STATS, INITIAL, POLICY_OVERRIDES, upgrade_sql

from .support import Target, call, delivery, sent

# A MassPush of 100 tasks is ~29 KB of encoded form: big enough for SQLite's overflow pages
# and PostgreSQL's TOAST, where the cost of storing it was.
BODY = "&".join(f"PushTask.{n}.Body=hello%20user%20{n}%20this%20week" for n in range(1, 700))


def _request(call_id: str) -> dict[str, object]:
    return {"query": {"Action": "MassPush"}, "body": f"{BODY}&id={call_id}", "rendered_at": "t"}


def _write(ledger: Ledger, call_id: str, *tasks: str, settle: bool) -> None:
    ledger.record_pending(call(call_id, request=_request(call_id)), [delivery(t) for t in tasks])
    if settle:
        ledger.record_sent(call_id, {0: f"msg-{call_id}"})


@pytest.fixture
def version_3(target: Target, monkeypatch: pytest.MonkeyPatch) -> Iterator[Target]:
    """A ledger as the pushops before call_requests made it: a sent call and a pending one."""
    with monkeypatch.context() as patch:
        patch.setattr(migrations, "MIGRATIONS", [INITIAL, POLICY_OVERRIDES, EVENTS_AND_STATS])
        with target.open() as ledger:
            _write(ledger, "c1", "a", settle=True)
            _write(ledger, "c2", "b", settle=False)
            assert ledger.meta().schema_version == 3
    yield target


def test_a_calls_request_is_stored_once_apart_from_the_row_that_settles(target: Target) -> None:
    with target.open() as ledger:
        _write(ledger, "c1", "a", settle=True)
        got = ledger.get_call("c1")
    assert got is not None and got.status == "sent" and got.request == _request("c1")
    with target.raw() as conn:
        assert conn.execute("SELECT request FROM calls").fetchall() == [("",)]
        stored = conn.execute("SELECT call_id, request FROM call_requests").fetchall()
    assert [(c, json.loads(unpacked_text(r))) for c, r in stored] == [("c1", _request("c1"))]


def test_a_reader_of_a_version_3_ledger_reads_each_request_where_it_was(
    version_3: Target,
) -> None:
    with version_3.open(create=False, migrate=False) as reader:
        assert reader.schema_behind == (3, migrations.latest_version())
        first = reader.get_call("c1")
        assert first is not None and first.request == _request("c1")
        assert [c.request for c in reader.pending_calls("production")] == [_request("c2")]
    with version_3.raw() as conn:
        assert conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] == 3


def test_migrating_a_version_3_ledger_moves_every_request_and_exports_the_same_records(
    version_3: Target,
) -> None:
    with version_3.open(create=False, migrate=False) as reader:
        before = list(reader.export())
    with version_3.open() as ledger:
        assert ledger.meta().schema_version == migrations.latest_version()
        after = list(ledger.export())
        # The call written ahead before the upgrade settles after it, its request intact.
        ledger.record_sent("c2", {0: "msg-c2"})
        settled = ledger.get_call("c2")
    assert after[1:] == before[1:]  # the header names the schema version; nothing else moved
    assert settled is not None and settled.status == "sent"
    assert settled.request == _request("c2")
    with version_3.raw() as conn:
        assert conn.execute("SELECT DISTINCT request FROM calls").fetchall() == [("",)]
        assert conn.execute("SELECT COUNT(*) FROM call_requests").fetchone()[0] == 2


def test_an_import_stores_each_request_apart(target: Target, tmp_path: Path) -> None:
    with target.open() as ledger:
        sent(ledger, "c1", "a")
        _write(ledger, "c2", "b", settle=True)
        text = "".join(ledger.export())
    with target.sibling(tmp_path) as other:
        with other.open() as copy:
            copy.import_(text.splitlines(keepends=True))
            assert "".join(copy.export()) == text
            got = copy.get_call("c2")
        assert got is not None and got.request == _request("c2")
        with other.raw() as conn:
            assert conn.execute("SELECT COUNT(*) FROM call_requests").fetchone()[0] == 2
            assert conn.execute("SELECT DISTINCT request FROM calls").fetchall() == [("",)]


def _foreign_keys(target: Target) -> list[str]:
    with target.raw() as conn:
        return [
            r[0]
            for r in conn.execute(
                "SELECT conname FROM pg_constraint WHERE contype = 'f' "
                "AND conrelid = 'deliveries'::regclass"
            ).fetchall()
        ]


@pytest.mark.postgres
def test_postgresql_deliveries_have_no_foreign_key_to_their_call(pg_target: Target) -> None:
    with pg_target.open() as ledger:
        sent(ledger, "c1", "a")
    assert _foreign_keys(pg_target) == []


@pytest.mark.postgres
def test_migrating_a_postgresql_ledger_drops_the_foreign_key(
    pg_target: Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as patch:
        patch.setattr(migrations, "MIGRATIONS", [INITIAL, POLICY_OVERRIDES, EVENTS_AND_STATS])
        with pg_target.open() as ledger:
            sent(ledger, "c1", "a")
    assert _foreign_keys(pg_target) == ["deliveries_call_id_fkey"]
    with pg_target.open() as ledger:
        assert ledger.meta().schema_version == migrations.latest_version()
    assert _foreign_keys(pg_target) == []


def test_the_upgrade_script_drops_the_foreign_key_on_postgresql_only() -> None:
    for_postgresql = upgrade_sql(3, "t")
    for_sqlite = upgrade_sql(3, "t", backend="sqlite")
    assert "DROP CONSTRAINT IF EXISTS deliveries_call_id_fkey" in for_postgresql
    assert "DROP CONSTRAINT" not in for_sqlite
    assert "CREATE TABLE call_requests" in for_sqlite
