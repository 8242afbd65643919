"""Schema version 5, on both backends and on ledgers made before it: a call's request is
stored as a zstd frame of its JSON text (a MassPush of 100 tasks: ~29 KB of form, ~2 KB
stored), every reader gets the text back, and requests stored before stay readable."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import zstandard

from pushops.ledger import Ledger, LedgerCorruptError, SchemaVersionError, migrations
from pushops.ledger.migrations import PACKED_REQUESTS, upgrade_sql

from .support import Target, call, delivery

BODY = "&".join(f"PushTask.{n}.Body=hello%20user%20{n}%20this%20week" for n in range(1, 700))
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def _request(call_id: str) -> dict[str, object]:
    return {"query": {"Action": "MassPush"}, "body": f"{BODY}&id={call_id}", "rendered_at": "t"}


def _write(ledger: Ledger, call_id: str, task: str, *, settle: bool) -> None:
    ledger.record_pending(call(call_id, request=_request(call_id)), [delivery(task)])
    if settle:
        ledger.record_sent(call_id, {0: f"msg-{call_id}"})


def _stored(target: Target, call_id: str) -> bytes | str:
    with target.raw() as conn:
        row = conn.execute(
            "SELECT request FROM call_requests WHERE call_id = "
            + ("?" if target.kind == "sqlite" else "%s"),
            (call_id,),
        ).fetchone()
    return row[0]


@pytest.fixture
def version_4(target: Target, monkeypatch: pytest.MonkeyPatch) -> Iterator[Target]:
    """A ledger as the pushops before packed requests made it: a sent call, a pending one."""
    with monkeypatch.context() as patch:
        patch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:4])
        with target.open() as ledger:
            _write(ledger, "c1", "a", settle=True)
            _write(ledger, "c2", "b", settle=False)
            assert ledger.meta().schema_version == 4
    yield target


def test_a_calls_request_is_stored_as_a_zstd_frame_of_its_text(target: Target) -> None:
    with target.open() as ledger:
        _write(ledger, "c1", "a", settle=True)
        got = ledger.get_call("c1")
    assert got is not None and got.request == _request("c1")
    stored = _stored(target, "c1")
    assert isinstance(stored, bytes) and stored.startswith(ZSTD_MAGIC)
    text = zstandard.decompress(stored).decode()
    assert json.loads(text) == _request("c1")
    assert len(stored) * 5 < len(text)  # what the ledger writes per call ahead, and why


def test_a_reader_of_a_version_4_ledger_reads_its_text_requests(version_4: Target) -> None:
    with version_4.open(create=False, migrate=False) as reader:
        assert reader.schema_behind == (4, migrations.latest_version())
        first = reader.get_call("c1")
        assert first is not None and first.request == _request("c1")
        assert [c.request for c in reader.pending_calls("production")] == [_request("c2")]
    assert isinstance(_stored(version_4, "c1"), str)


def test_migrating_a_version_4_ledger_keeps_every_request_and_exports_the_same_records(
    version_4: Target,
) -> None:
    with version_4.open(create=False, migrate=False) as reader:
        before = list(reader.export())
    with version_4.open() as ledger:
        assert ledger.meta().schema_version == migrations.latest_version()
        after = list(ledger.export())
        # The call written ahead before the upgrade settles after it, its request intact,
        # and a call written after it is stored packed beside the older text.
        ledger.record_sent("c2", {0: "msg-c2"})
        settled = ledger.get_call("c2")
        _write(ledger, "c3", "c", settle=True)
    assert after[1:] == before[1:]  # the header names the schema version; nothing else moved
    assert settled is not None and settled.status == "sent"
    assert settled.request == _request("c2")
    old, new = _stored(version_4, "c2"), _stored(version_4, "c3")
    assert not bytes(old.encode() if isinstance(old, str) else old).startswith(ZSTD_MAGIC)
    assert isinstance(new, bytes) and new.startswith(ZSTD_MAGIC)


def test_a_pushops_that_knows_only_version_4_refuses_a_ledger_of_packed_requests(
    target: Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    # It would read a frame as text; it must not touch the ledger at all.
    with target.open() as ledger:
        _write(ledger, "c1", "a", settle=False)
    monkeypatch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:4])
    with pytest.raises(SchemaVersionError):
        target.open(create=False).close()


def test_the_upgrade_script_turns_requests_into_bytes_on_postgresql_and_records_sqlite_only() -> (
    None
):
    for_postgresql = _section(upgrade_sql(4, "t"), PACKED_REQUESTS.version)
    for_sqlite = _section(upgrade_sql(4, "t", backend="sqlite"), PACKED_REQUESTS.version)
    assert "ALTER COLUMN request TYPE BYTEA" in for_postgresql
    assert "ALTER" not in for_sqlite
    assert f"VALUES ({PACKED_REQUESTS.version}, 't')" in for_sqlite


def _section(script: str, version: int) -> str:
    """What an upgrade script does for one version (from its comment to the next one's)."""
    start = script.index(f"-- {version}: ")
    end = script.find(f"-- {version + 1}: ", start)
    return script[start : None if end < 0 else end]


@pytest.mark.postgres
def test_postgresql_compresses_the_text_requests_an_upgrade_keeps_with_lz4(
    pg_target: Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pg_target.raw() as conn:
        if conn.execute("SHOW server_version_num").fetchone()[0] < "140000":
            pytest.skip("PostgreSQL before 14 has only pglz")
    with monkeypatch.context() as patch:
        patch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:4])
        with pg_target.open() as ledger:
            _write(ledger, "c1", "a", settle=True)
    with pg_target.open() as ledger:
        assert ledger.meta().schema_version == migrations.latest_version()
    with pg_target.raw() as conn:
        method = conn.execute("SELECT pg_column_compression(request) FROM call_requests")
        assert method.fetchone()[0] == "lz4"


def test_a_damaged_request_frame_is_a_damaged_ledger_not_a_traceback(target: Target) -> None:
    with target.open() as ledger:
        _write(ledger, "c1", "a", settle=False)
    broken = bytes(_stored(target, "c1"))[:40]  # a frame cut short, as a damaged disk leaves it
    mark = "?" if target.kind == "sqlite" else "%s"
    with target.raw() as conn:
        conn.execute(f"UPDATE call_requests SET request = {mark}", (broken,))
    with target.open() as ledger, pytest.raises(LedgerCorruptError) as caught:
        ledger.get_call("c1")
    assert "is damaged" in str(caught.value) and "zstd frame" in str(caught.value)
