"""Delivery events (every write besides apply's sending, in that write's transaction) and the
provider statistics cache, on both backends; and older ledgers read as they are."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from pushops.ledger import FailedResult, Ledger, LedgerError, PolicyOverride, migrations
from pushops.ledger.migrations import INITIAL, POLICY_OVERRIDES
from pushops.ledger.records import DeliveryEvent, ProviderStats

from .support import ENV, FUTURE, Target, key, pending, sent

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)


def shape(events: list[DeliveryEvent]) -> list[tuple[object, ...]]:
    return [(e.kind, e.key, e.call_id, e.actor, e.status_from, e.status_to) for e in events]


def test_resolve_records_who_said_what_in_the_same_write(ledger: Ledger) -> None:
    pending(ledger, "c1", "a")
    serial = ledger.meta().serial
    ledger.resolve(key("a"), True, "alice")
    assert ledger.meta().serial == serial + 1
    [event] = ledger.events_for(key("a"))
    assert shape([event]) == [("resolved", key("a"), "c1", "alice", "pending", "sent")]
    assert event.serial == serial + 1 and event.environment == ENV
    assert event.evidence == {"said": "it went out"}
    assert event.at is not None


def test_a_refused_resolve_records_no_event(ledger: Ledger) -> None:
    sent(ledger, "c1", "a")
    with pytest.raises(LedgerError):
        ledger.resolve(key("a"), True, "alice")
    assert ledger.events_for(key("a")) == []


def test_the_change_is_rolled_back_when_its_event_cannot_be_written(
    target: Target, ledger: Ledger
) -> None:
    pending(ledger, "c1", "a")
    with target.raw() as conn:
        conn.execute("DROP TABLE delivery_events")  # the event's insert fails mid-write
    with pytest.raises(Exception):  # noqa: B017 - the driver's error, whatever it is
        ledger.resolve(key("a"), False, "alice")
    history = ledger.get(key("a"))
    assert history is not None and history.current is not None
    assert history.current.status == "pending"


def test_cancel_and_rm_are_events_of_the_key_oldest_first(ledger: Ledger) -> None:
    pending(ledger, "c1", "later", due_at=FUTURE)
    ledger.record_sent("c1", {0: "m1"})
    ledger.mark_cancelled(key("later"), actor="apply@ci", cancel_call_id="c9")
    sent(ledger, "c2", "b")
    ledger.remove(key("b"), "bob")
    assert shape(ledger.events_for(key("later"))) == [
        ("cancelled", key("later"), "c1", "apply@ci", "scheduled", "cancelled")
    ]
    assert ledger.events_for(key("later"))[0].evidence == {"cancel_call": "c9"}
    assert shape(ledger.events_for(key("b"))) == [
        ("removed", key("b"), "c2", "bob", "sent", "cancelled")
    ]
    assert [e.kind for e in ledger.events(ENV)] == ["cancelled", "removed"]


def test_abandoning_whole_calls_is_one_event_per_call_found_through_its_keys(
    ledger: Ledger,
) -> None:
    pending(ledger, "c1", "a", "b")
    ledger.record_unknown("c1")
    serial = ledger.meta().serial
    ledger.abandon_calls([FailedResult("c1", "Abandoned", "given up")], "carol")
    assert ledger.meta().serial == serial + 1
    call = ledger.get_call("c1")
    assert call is not None and (call.status, call.error_code) == ("failed", "Abandoned")
    for task in ("a", "b"):
        assert shape(ledger.events_for(key(task))) == [
            ("abandoned", None, "c1", "carol", "unknown", "failed")
        ]


def test_an_override_is_an_event_of_its_environment(ledger: Ledger) -> None:
    ledger.record_overrides(
        [
            PolicyOverride(
                override_id="o1",
                environment=ENV,
                policy="cap",
                level="soft",
                reason="launch",
                actor="dana",
                created_at=T0,
                findings=[],
            )
        ]
    )
    [event] = ledger.events(ENV)
    assert (event.kind, event.key, event.actor, event.at) == ("overridden", None, "dana", T0)
    assert event.evidence == {
        "override_id": "o1",
        "policy": "cap",
        "level": "soft",
        "reason": "launch",
    }


def test_record_events_writes_them_in_order_in_one_write(ledger: Ledger) -> None:
    serial = ledger.meta().serial
    ledger.record_events(
        [
            DeliveryEvent(environment=ENV, kind="refreshed", key=key("x"), actor="r1"),
            DeliveryEvent(environment=ENV, kind="refreshed", key=key("x"), actor="r2"),
        ]
    )
    found = ledger.events_for(key("x"))
    assert [(e.actor, e.serial, e.position) for e in found] == [
        ("r1", serial + 1, 0),
        ("r2", serial + 1, 1),
    ]


def test_an_unknown_event_kind_is_refused_before_writing(ledger: Ledger) -> None:
    serial = ledger.meta().serial
    with pytest.raises(ValueError, match="unknown delivery event kind"):
        ledger.record_events([DeliveryEvent(environment=ENV, kind="teleported")])
    assert ledger.meta().serial == serial


def test_provider_stats_are_a_cache_that_leaves_the_serial_alone(ledger: Ledger) -> None:
    serial = ledger.meta().serial
    first = ProviderStats(
        environment=ENV,
        provider="emas",
        app="app-1",
        message_id="m1",
        counts={"SentCount": 10},
        fetched_at=T0,
    )
    ledger.save_provider_stats([first])
    later = ProviderStats(
        environment=ENV,
        provider="emas",
        app="app-1",
        message_id="m1",
        counts={"SentCount": 10, "OpenedCount": 3},
        fetched_at=T0 + timedelta(hours=1),
        final=True,
    )
    ledger.save_provider_stats([later])
    assert ledger.provider_stats(ENV) == [later]
    assert ledger.provider_stats("elsewhere") == []
    assert ledger.meta().serial == serial


def test_export_and_import_carry_the_events(ledger: Ledger, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from pushops.ledger import open_ledger

    pending(ledger, "c1", "a")
    ledger.resolve(key("a"), False, "alice")
    text = "".join(ledger.export())
    assert '"kind":"event"' in text and '"event":"resolved"' in text and '"events":1' in text
    with open_ledger(tmp_path / "copy.db") as copy:
        copy.import_(text.splitlines(keepends=True))
        assert shape(copy.events_for(key("a"))) == shape(ledger.events_for(key("a")))
        assert "".join(copy.export()) == text


def _older_ledger(target: Target, monkeypatch: pytest.MonkeyPatch) -> None:
    """A ledger made by a pushops from before events (schema version 2), with a sent key
    and a pending one."""
    with monkeypatch.context() as patch:
        patch.setattr(migrations, "MIGRATIONS", [INITIAL, POLICY_OVERRIDES])
        with target.open() as ledger:
            sent(ledger, "c1", "a")
            pending(ledger, "c2", "b")
            assert ledger.meta().schema_version == 2


def test_a_reader_reads_an_older_ledger_as_it_is(
    target: Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    _older_ledger(target, monkeypatch)
    with target.open(create=False, migrate=False) as reader:
        assert reader.meta().schema_version == 2
        assert not reader.has_events
        assert reader.events_for(key("a")) == []
        assert reader.events(ENV) == []
        assert reader.provider_stats(ENV) == []
        assert reader.get(key("a")) is not None
        assert '"events":0' in "".join(reader.export())
    with target.raw() as conn:
        cur = conn.execute("SELECT MAX(version) FROM schema_version")
        assert cur.fetchone()[0] == 2  # nothing was changed by reading


def test_the_first_write_of_a_reader_handle_migrates_then_records_its_event(
    target: Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    _older_ledger(target, monkeypatch)
    with target.open(create=False, migrate=False) as handle:
        handle.resolve(key("b"), False, "erin")
        assert handle.meta().schema_version == migrations.latest_version()
        assert shape(handle.events_for(key("b"))) == [
            ("resolved", key("b"), "c2", "erin", "pending", "failed")
        ]


@pytest.mark.postgres
def test_a_read_only_postgresql_role_reads_an_older_ledger(
    pg_target: Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The plan role of docs/state.md (USAGE and SELECT only) on a ledger a pushops from
    before events made: it reads, and it could not have migrated it."""
    import uuid

    import psycopg
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    from pushops.ledger import open_ledger

    from .support import PG_DSN

    _older_ledger(pg_target, monkeypatch)
    role = f"reader_{uuid.uuid4().hex[:10]}"
    schema = pg_target.schema
    with psycopg.connect(PG_DSN, autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {role} LOGIN")
        admin.execute(f'GRANT USAGE ON SCHEMA "{schema}" TO {role}')
        admin.execute(f'GRANT SELECT ON ALL TABLES IN SCHEMA "{schema}" TO {role}')
    try:
        dsn = make_conninfo(**{**conninfo_to_dict(PG_DSN), "user": role})
        with open_ledger(dsn, schema=schema, create=False, migrate=False) as reader:
            assert reader.meta().schema_version == 2
            assert reader.get(key("a")) is not None and reader.events_for(key("a")) == []
        with pytest.raises(LedgerError):  # a writer must migrate, and this role cannot
            open_ledger(dsn, schema=schema, create=False)
    finally:
        with psycopg.connect(PG_DSN, autocommit=True) as admin:
            admin.execute(f'REVOKE ALL ON ALL TABLES IN SCHEMA "{schema}" FROM {role}')
            admin.execute(f'REVOKE ALL ON SCHEMA "{schema}" FROM {role}')
            admin.execute(f"DROP ROLE {role}")
