"""Schema version 6, on both backends and on ledgers made before it: the requests of the
deliveries a call writes ahead are stored once, with the call (one zstd frame), each row
holding the empty text in their place; every reader gets each delivery's own request back,
exactly, and rows stored before keep theirs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import zstandard

from pushops.ledger import Ledger, LedgerCorruptError, SchemaVersionError, codec, migrations
from pushops.ledger.migrations import DELIVERY_REQUESTS, upgrade_sql

from .support import ENV, Target, call, delivery, key

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
PAST = datetime(2020, 1, 1, tzinfo=timezone.utc)
SOON = datetime(2099, 1, 1, tzinfo=timezone.utc)


def _request(task: str) -> dict[str, Any]:
    """A request whose JSON types must come back as they went in."""
    return {
        "DeviceType": "ANDROID",
        "TargetValue": f"device-{task}",
        # Escaped by JSON (tab, line feed, CR) and not (U+2028, U+0085): each a line break
        # to str.splitlines, none to the pack's lines.
        "Title": f'Hé {task} <b>"quoted"</b>\ttab\nline\rcr\u2028sep\x85nel',
        "StoreOffline": True,
        "ExpireTime": None,
        "Priority": 2,
        "Ratio": 0.25,
        "Huge": 2**70 + 1,  # beyond 64 bits: kept exactly, as before
        "AndroidExtParameters": {"coupon": task, "nested": [1, "2", {"k": False}]},
    }


def _write(ledger: Ledger, call_id: str, *tasks: str, provider: str = "emas") -> None:
    ds = [delivery(t, request=_request(t)) for t in tasks]
    ledger.record_pending(call(call_id, provider=provider), ds)


def _raw(target: Target, query: str, *params: Any) -> list[tuple[Any, ...]]:
    mark = "?" if target.kind == "sqlite" else "%s"
    with target.raw() as conn:
        return list(conn.execute(query.replace("?", mark), params).fetchall())


def test_a_calls_delivery_requests_are_written_once_with_the_call(target: Target) -> None:
    with target.open() as ledger:
        _write(ledger, "c1", "a", "b", "c")
    rows = _raw(target, "SELECT key, request FROM deliveries ORDER BY key")
    assert [r[1] for r in rows] == [codec.IN_CALL] * 3
    ((pack,),) = _raw(target, "SELECT delivery_requests FROM call_requests WHERE call_id = ?", "c1")
    pack = bytes(pack)
    assert pack.startswith(ZSTD_MAGIC)
    lines = zstandard.decompress(pack).decode().split("\n")[:-1]
    assert [line.split("\t", 1)[0] for line in lines] == [key("a"), key("b"), key("c")]


def test_every_reader_gets_each_deliverys_own_request_back_exactly(target: Target) -> None:
    with target.open() as ledger:
        _write(ledger, "c1", "a", "b")
        ledger.record_sent("c1", {0: "m-a", 1: "m-b"})
        _write(ledger, "c2", "m", provider="mpaas")
        ledger.record_sent("c2", {0: "m-m"})
        by_call = {d.key: d.request for d in ledger.call_deliveries("c1")}
        current = {d.key: d.request for d in ledger.current_deliveries(ENV)}
        history = ledger.get(key("b"))
        counted = {d.key: d.request for d in ledger.delivered_between(ENV, PAST, SOON)}
        reported = {m.key: m.request for m in ledger.sent_messages(ENV)}
        exported = [json.loads(line) for line in ledger.export()]
    assert by_call == {key("a"): _request("a"), key("b"): _request("b")}
    assert current == {**by_call, key("m"): _request("m")}
    assert history is not None and [g.request for g in history.generations] == [_request("b")]
    assert counted == current
    # What report reads: an mPaaS broadcast's request (a loop's end), none for EMAS.
    assert reported == {key("a"): None, key("b"): None, key("m"): _request("m")}
    assert {e["key"]: e["request"] for e in exported if e["kind"] == "delivery"} == current
    assert type(current[key("a")]["Huge"]) is int and current[key("a")]["Huge"] == 2**70 + 1


def test_a_ledger_reads_without_requests_as_before(target: Target) -> None:
    with target.open() as ledger:
        _write(ledger, "c1", "a")
        (found,) = ledger.current_deliveries(ENV, with_request=False)
    assert found.key == key("a") and found.request is None


def test_rows_read_in_an_order_that_jumps_between_calls_find_their_requests(
    target: Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A data file not sorted by its key: reading by key goes from call to call and back, past
    # what a read keeps decoded and fetched.
    monkeypatch.setattr(codec, "PACKS_KEPT", 2)
    monkeypatch.setattr(codec, "BLOBS_KEPT", 2)
    tasks = [f"t{n:02d}" for n in range(12)]
    with target.open() as ledger:
        for c in range(4):
            _write(ledger, f"c{c}", *tasks[c::4])
        found = {d.key: d.request for d in ledger.current_deliveries(ENV)}
        exported = [json.loads(line) for line in ledger.export()]
    assert found == {key(t): _request(t) for t in tasks}
    assert [e["key"] for e in exported if e["kind"] == "delivery"] == sorted(found)


def test_what_frequency_caps_read_takes_each_calls_requests_once_whatever_its_keys_order(
    target: Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The read of every delivery in a window goes call by call: with nothing kept between
    # calls, each call's pack is still fetched once, not once per row of it.
    monkeypatch.setattr(codec, "PACKS_KEPT", 1)
    monkeypatch.setattr(codec, "BLOBS_KEPT", 1)
    fetched: list[str] = []
    packs = Ledger.call_packs

    def counted(ledger: Ledger, tx: Any) -> codec.CallPacks:
        found = packs(ledger, tx)
        fetch = found._fetch
        found._fetch = lambda call_id: fetched.append(call_id) or fetch(call_id)
        return found

    monkeypatch.setattr(Ledger, "call_packs", counted)
    tasks = [f"t{n:02d}" for n in range(12)]
    with target.open() as ledger:
        for c in range(4):
            _write(ledger, f"c{c}", *tasks[c::4])
        counted_rows = {d.key: d.request for d in ledger.delivered_between(ENV, PAST, SOON)}
    assert counted_rows == {key(t): _request(t) for t in tasks}
    assert sorted(fetched) == ["c0", "c1", "c2", "c3"]


def test_the_export_is_the_same_whether_requests_are_kept_per_call_or_per_row(
    target: Target, tmp_path: Path
) -> None:
    with target.open() as ledger:
        _write(ledger, "c1", "a", "b")
        ledger.record_sent("c1", {0: "m-a", 1: "m-b"})
        packed = list(ledger.export())
    with target.sibling(tmp_path) as other:
        with other.open() as copy:
            copy.import_(packed)  # import writes each row's own request
            per_row = list(copy.export())
        assert {r[0] for r in _raw(other, "SELECT request FROM deliveries")} != {codec.IN_CALL}
    assert per_row == packed


@pytest.fixture
def version_5(target: Target, monkeypatch: pytest.MonkeyPatch) -> Iterator[Target]:
    """A ledger as the pushops before packed delivery requests made it: a sent call and a
    pending one, each delivery row holding its own request."""
    with monkeypatch.context() as patch:
        patch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:5])
        with target.open() as ledger:
            _write(ledger, "c1", "a")
            ledger.record_sent("c1", {0: "m-a"})
            _write(ledger, "c2", "b")
            assert ledger.meta().schema_version == 5
    yield target


def test_migrating_a_version_5_ledger_keeps_its_rows_and_packs_what_comes_after(
    version_5: Target,
) -> None:
    with version_5.open(create=False, migrate=False) as reader:
        before = list(reader.export())
    with version_5.open() as ledger:
        assert ledger.meta().schema_version == DELIVERY_REQUESTS.version
        after = list(ledger.export())
        ledger.record_sent("c2", {0: "m-b"})  # written ahead before the upgrade
        _write(ledger, "c3", "c")
        found = {d.key: d.request for d in ledger.current_deliveries(ENV)}
    assert after[1:] == before[1:]  # the header names the schema version; nothing else moved
    assert found == {key(t): _request(t) for t in "abc"}
    stored = dict(_raw(version_5, "SELECT key, request FROM deliveries"))
    assert json.loads(stored[key("a")]) == _request("a")
    assert stored[key("c")] == codec.IN_CALL


def test_a_pushops_that_knows_only_version_5_refuses_a_ledger_of_packed_deliveries(
    target: Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    # It would read the empty text as a request; it must not touch the ledger at all.
    with target.open() as ledger:
        _write(ledger, "c1", "a")
    monkeypatch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:5])
    with pytest.raises(SchemaVersionError):
        target.open(create=False).close()


def test_a_damaged_pack_is_a_clear_error_naming_the_row(target: Target) -> None:
    with target.open() as ledger:
        _write(ledger, "c1", "a")
    mark = "?" if target.kind == "sqlite" else "%s"
    with target.raw() as conn:
        conn.execute(
            f"UPDATE call_requests SET delivery_requests = {mark} WHERE call_id = 'c1'",
            (ZSTD_MAGIC + b"not a frame",),
        )
        conn.commit()
    with target.open() as ledger, pytest.raises(LedgerCorruptError) as caught:
        list(ledger.current_deliveries(ENV))
    assert key("a") in str(caught.value) and "delivery requests" in str(caught.value)


def test_a_row_whose_call_holds_no_requests_is_a_clear_error(target: Target) -> None:
    with target.open() as ledger:
        _write(ledger, "c1", "a")
    with target.raw() as conn:
        conn.execute("UPDATE call_requests SET delivery_requests = NULL")
        conn.commit()
    with target.open() as ledger, pytest.raises(LedgerCorruptError) as caught:
        ledger.call_deliveries("c1")
    assert "call c1" in str(caught.value) and "holds none" in str(caught.value)


def test_the_upgrade_script_adds_the_column_on_both_backends() -> None:
    for backend in ("postgresql", "sqlite"):
        script = upgrade_sql(5, "t", backend=backend)
        assert "ALTER TABLE call_requests ADD COLUMN delivery_requests BYTEA" in script
        assert f"VALUES ({DELIVERY_REQUESTS.version}, 't')" in script


def test_a_pending_call_written_ahead_in_the_last_second_keeps_its_requests_through_settling(
    target: Target,
) -> None:
    # Settling rewrites the rows' status and MessageId; the requests stay with the call.
    due = datetime.now(timezone.utc) + timedelta(hours=1)
    with target.open() as ledger:
        ds = [delivery(t, request=_request(t), due_at=due) for t in "ab"]
        ledger.record_pending(call("c1"), ds)
        ledger.record_sent("c1", {1: "m-b"})
        got = {d.key: (d.status, d.message_id, d.request) for d in ledger.call_deliveries("c1")}
    assert got == {
        key("a"): ("scheduled", None, _request("a")),
        key("b"): ("scheduled", "m-b", _request("b")),
    }
