"""What the policies keep in the ledger (overrides) and read from it (deliveries by time),
on both backends."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from pushops.ledger import Ledger, PolicyOverride, migrations
from pushops.ledger.migrations import INITIAL

from .support import ENV, Target, call, delivery, pending, sent

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=timezone.utc)


def override(policy: str, when: datetime, reason: str = "launch day") -> PolicyOverride:
    return PolicyOverride(
        override_id=f"o-{policy}-{when.timestamp():.0f}",
        environment=ENV,
        policy=policy,
        level="soft",
        reason=reason,
        actor="alice",
        created_at=when,
        findings=[{"policy": policy, "count": 3, "message": "3 recipients"}],
        git_commit="abc123",
    )


def test_a_ledger_made_before_overrides_migrates_and_keeps_its_records(
    target: Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as patch:
        patch.setattr(migrations, "MIGRATIONS", [INITIAL])
        with target.open() as ledger:
            sent(ledger, "c1", "a")
            assert ledger.meta().schema_version == 1
    with target.open() as ledger:
        assert ledger.meta().schema_version == migrations.latest_version() >= 2
        assert ledger.get_call("c1") is not None
        assert ledger.overrides(ENV) == []
        ledger.record_overrides([override("big", T0)])
        assert [o.policy for o in ledger.overrides(ENV)] == ["big"]


def test_overrides_are_recorded_in_one_write_and_read_newest_first(ledger: Ledger) -> None:
    serial = ledger.meta().serial
    ledger.record_overrides([override("a", T0), override("b", T0 + timedelta(hours=1))])
    assert ledger.meta().serial == serial + 1
    found = ledger.overrides(ENV)
    assert [(o.policy, o.reason, o.actor) for o in found] == [
        ("b", "launch day", "alice"),
        ("a", "launch day", "alice"),
    ]
    assert found[0].findings == [{"policy": "b", "count": 3, "message": "3 recipients"}]
    assert found[0].created_at == T0 + timedelta(hours=1)
    assert ledger.overrides(ENV, limit=1)[0].policy == "b"
    assert ledger.overrides("elsewhere") == []


def test_export_and_import_carry_the_overrides(ledger: Ledger, target: Target, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from pushops.ledger import open_ledger

    sent(ledger, "c1", "a")
    ledger.record_overrides([override("big", T0)])
    text = "".join(ledger.export())
    assert '"kind":"override"' in text and '"overrides":1' in text
    with open_ledger(tmp_path / "copy.db") as copy:
        copy.import_(text.splitlines(keepends=True))
        assert [o.reason for o in copy.overrides(ENV)] == ["launch day"]
        assert "".join(copy.export()) == text


def test_an_export_from_before_overrides_still_imports(ledger: Ledger, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from pushops.ledger import open_ledger

    sent(ledger, "c1", "a")
    lines = list(ledger.export())
    assert lines[-1].startswith('{"kind":"end"')
    old_end = lines[-1].replace(',"overrides":0', "")
    with open_ledger(tmp_path / "copy.db") as copy:
        copy.import_([*lines[:-1], old_end])
        assert copy.get_call("c1") is not None


def test_delivered_between_reads_what_is_or_may_be_out_there_by_when_it_lands(
    ledger: Ledger,
) -> None:
    sent(ledger, "now", "immediate")  # lands when its call was sent
    sent(ledger, "later", "scheduled", due_at=T0 + timedelta(days=400))  # far outside
    sent(ledger, "soon", "due", due_at=T0 + timedelta(hours=2))
    pending(ledger, "open", "pending")  # may have gone out: counts
    pending(ledger, "bad", "failed")
    ledger.record_failed("bad", "InternalError", "no")
    sent(ledger, "gone", "cancelled", due_at=T0 + timedelta(hours=3))
    ledger.mark_cancelled(delivery("cancelled").key)
    sent(ledger, "bc", "broadcast", due_at=T0 - timedelta(days=100))
    ledger.record_pending(
        call("mp", provider="mpaas"), [delivery("loop", due_at=T0 - timedelta(days=90))]
    )
    ledger.record_sent("mp", {0: "u1"})
    now = datetime.now(timezone.utc)
    found = {
        d.key.rsplit("/", 1)[1]: d
        for d in ledger.delivered_between(
            ENV, T0 - timedelta(days=1), max(now, T0) + timedelta(days=1)
        )
    }
    assert set(found) == {"immediate", "due", "pending", "loop"}  # mPaaS: whenever it started
    assert found["due"].at == T0 + timedelta(hours=2)
    assert found["due"].status == "scheduled" and found["pending"].status == "pending"
    assert found["loop"].provider == "mpaas" and found["immediate"].app == "app-1"
    assert found["immediate"].request["TargetValue"] == "device-1"
