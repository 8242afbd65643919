"""A ledger of an older schema (made before a newer pushops added tables) on both backends:
readers use it as it is and never write; only writers migrate; a newer one is refused."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pushops.ledger import SchemaVersionError, migrations
from pushops.ledger.migrations import INITIAL, table_since, upgrade_sql

from .support import ENV, Target, sent
from .test_policy_records import T0, override

LATEST = migrations.latest_version()


@pytest.fixture
def older(target: Target, monkeypatch: pytest.MonkeyPatch) -> Iterator[Target]:
    """A version-1 ledger holding one sent call, as the first pushops made it."""
    with monkeypatch.context() as patch:
        patch.setattr(migrations, "MIGRATIONS", [INITIAL])
        with target.open() as ledger:
            sent(ledger, "c1", "a", "b")
    yield target


def _state(target: Target) -> tuple[int, int, list[str]]:
    """(schema version, serial, tables) as the store holds them."""
    with target.raw() as conn:
        version = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0]
        serial = conn.execute("SELECT serial FROM meta").fetchone()[0]
        if target.kind == "sqlite":
            query = "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
        else:
            query = (
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                "ORDER BY tablename"
            )
        return version, serial, [r[0] for r in conn.execute(query).fetchall()]


def test_a_reader_reads_an_older_ledger_as_it_is_and_writes_nothing(older: Target) -> None:
    before = _state(older)
    with older.open(create=False, migrate=False) as ledger:
        assert ledger.schema_behind == (1, LATEST)
        assert sorted(d.key for d in ledger.current_deliveries(ENV)) == [
            f"{ENV}/welcome/1/a",
            f"{ENV}/welcome/1/b",
        ]
        assert ledger.meta().schema_version == 1
        assert ledger.overrides(ENV) == []  # a table it does not have yet reads as empty
        exported = list(ledger.export())
    assert _state(older) == before
    assert '"overrides":0' in exported[-1]


def test_a_write_through_a_readers_handle_migrates_first(older: Target) -> None:
    with older.open(migrate=False) as ledger:
        ledger.record_overrides([override("big", T0)])
        assert ledger.schema_behind is None
        assert [o.policy for o in ledger.overrides(ENV)] == ["big"]
    assert _state(older)[0] == LATEST


def test_a_reader_says_once_what_upgrades_an_older_ledger(older: Target) -> None:
    with older.open(migrate=False) as ledger:
        notice = ledger.schema_notice()
    assert notice is not None
    assert notice.startswith(f"ledger schema 1, this pushops knows {LATEST}: the next apply")
    with older.open() as ledger:
        assert ledger.schema_notice() is None


def test_a_writer_migrates_an_older_ledger_keeping_its_records(older: Target) -> None:
    serial = _state(older)[1]
    with older.open() as ledger:
        assert ledger.schema_behind is None
        ledger.record_overrides([override("big", T0)])
        assert [o.policy for o in ledger.overrides(ENV)] == ["big"]
    version, after, tables = _state(older)
    assert version == LATEST and "policy_overrides" in tables
    assert after == serial + 1  # the override; the migration itself leaves the serial alone


def test_migrate_under_the_lock_reports_both_versions(older: Target) -> None:
    with older.open(migrate=False) as ledger, ledger.lock("state migrate"):
        assert ledger.migrate() == (1, LATEST)
        assert ledger.schema_behind is None
    with older.open() as ledger, ledger.lock("state migrate"):
        assert ledger.migrate() == (LATEST, LATEST)


def test_a_reader_refuses_a_newer_ledger_and_leaves_it_untouched(target: Target) -> None:
    target.open().close()
    with target.raw() as conn:
        conn.execute("INSERT INTO schema_version VALUES (99, '2030-01-01')")
    before = _state(target)
    with pytest.raises(SchemaVersionError, match=rf"version 99, newer than version {LATEST}"):
        target.open(migrate=False)
    assert _state(target) == before


def test_the_upgrade_sql_is_what_migrate_does(older: Target) -> None:
    text = upgrade_sql(1, "2030-01-01T00:00:00.000000+00:00", backend=older.kind)
    with older.raw() as conn:
        if older.kind == "sqlite":
            conn.executescript(text)
        else:
            conn.execute(text)
    with older.open(migrate=False) as ledger:
        assert ledger.schema_behind is None
        ledger.record_overrides([override("big", T0)])
    assert upgrade_sql(LATEST, "x").startswith(f"-- The ledger is at schema version {LATEST}")


def test_every_table_is_known_by_the_version_that_created_it() -> None:
    assert table_since("calls") == 1
    assert table_since("policy_overrides") == 2
    assert table_since("call_requests") == 4
    assert table_since("no_such_table") is None
