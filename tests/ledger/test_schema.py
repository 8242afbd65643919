"""Schema versions: create, migrate forward in one transaction, refuse newer, reject garbage."""

from __future__ import annotations

from pathlib import Path

import pytest

from pushops.ledger import (
    LedgerCorruptError,
    LedgerError,
    MigrationError,
    SchemaVersionError,
    migrations,
    open_ledger,
)
from pushops.ledger.migrations import Migration

from .support import Target, sent


def _set_version(target: Target, version: int) -> None:
    with target.raw() as conn:
        conn.execute(f"INSERT INTO schema_version VALUES ({version}, '2030-01-01')")


LATEST = migrations.latest_version()


def test_a_ledger_from_a_newer_schema_is_refused_naming_both_versions(target: Target) -> None:
    target.open().close()
    _set_version(target, 7)
    with pytest.raises(SchemaVersionError, match=rf"version 7.*version {LATEST}") as caught:
        target.open()
    assert (caught.value.found, caught.value.supported) == (7, LATEST)


def test_a_refused_newer_ledger_is_left_untouched(target: Target) -> None:
    with target.open() as ledger:
        sent(ledger, "c1", "a")
    _set_version(target, 7)
    with pytest.raises(SchemaVersionError):
        target.open()
    with target.raw() as conn:
        assert conn.execute("SELECT serial FROM meta").fetchone()[0] == 2
        assert conn.execute("SELECT COUNT(*) FROM schema_version").fetchone()[0] == LATEST + 1


def test_an_older_ledger_migrates_forward_keeping_its_records(
    target: Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    with target.open() as ledger:
        sent(ledger, "c1", "a")
        lineage = ledger.meta().lineage
    v2 = Migration(LATEST + 1, "a note on calls", ("ALTER TABLE calls ADD COLUMN note TEXT",))
    monkeypatch.setattr(migrations, "MIGRATIONS", [*migrations.MIGRATIONS, v2])
    with target.open() as ledger:
        meta = ledger.meta()
        assert (meta.schema_version, meta.lineage, meta.serial) == (LATEST + 1, lineage, 2)
        assert ledger.get_call("c1") is not None
    with target.raw() as conn:
        assert conn.execute("SELECT COUNT(note) FROM calls").fetchone()[0] == 0


def test_a_failing_migration_rolls_back_every_step(
    target: Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    target.open().close()
    v2 = Migration(LATEST + 1, "good", ("ALTER TABLE calls ADD COLUMN note TEXT",))
    v3 = Migration(LATEST + 2, "bad", ("ALTER TABLE no_such_table ADD COLUMN x TEXT",))
    monkeypatch.setattr(migrations, "MIGRATIONS", [*migrations.MIGRATIONS, v2, v3])
    with pytest.raises(MigrationError, match=f"from schema version {LATEST} to {LATEST + 2}"):
        target.open()
    monkeypatch.undo()
    with target.open() as ledger:
        assert ledger.meta().schema_version == LATEST
    with target.raw() as conn, pytest.raises(Exception):  # noqa: B017 - any driver error
        conn.execute("SELECT note FROM calls")


def test_a_garbage_sqlite_file_is_a_clear_error_and_is_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    junk = b"this is not a database at all\n" * 200
    path.write_bytes(junk)
    with pytest.raises(LedgerCorruptError, match=r"state\.db.*damaged or not a database"):
        open_ledger(path)
    assert path.read_bytes() == junk


def test_a_damaged_page_in_a_sqlite_ledger_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    with open_ledger(path) as ledger:
        for i in range(30):
            sent(ledger, f"c{i}", *(f"t{i}-{j}" for j in range(20)))
    raw = bytearray(path.read_bytes())
    page = 4096
    assert len(raw) > page * 8 and not path.with_name("state.db-wal").exists()
    raw[page * 2 :] = b"\xa5" * (len(raw) - page * 2)  # keep the header, ruin the tables
    path.write_bytes(bytes(raw))
    with pytest.raises(LedgerCorruptError, match="damaged"), open_ledger(path) as ledger:
        list(ledger.export())


def test_a_foreign_sqlite_database_is_not_taken_over(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER)")
    with pytest.raises(LedgerCorruptError, match=r"not a pushops ledger.*invoices"):
        open_ledger(path)


def test_a_missing_directory_for_a_new_sqlite_ledger_is_created(tmp_path: Path) -> None:
    with open_ledger(tmp_path / "deep" / ".pushops" / "state.db") as ledger:
        assert ledger.meta().serial == 0


def test_an_unwritable_sqlite_location_is_a_ledger_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(LedgerError):
        open_ledger(blocker / "state.db")
