"""pushops report: the provider's delivery statistics of what was applied, through the real CLI
from a fresh repository against the emulator; counts arrive late, and only what can still
change is read again."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta, timezone

from plan.support import Project, emas_campaign, mpaas_campaign

from pushops.emulator import Emulator
from pushops.emulator import stats as derived
from pushops.emulator.store import Delivery
from pushops.report.model import Message

STAT_QUERIES = {"QueryPushStatByMsg", "QueryPushAnalysisTaskDetail", "QueryPushAnalysisCoreIndex"}


def applied(project: Project, *campaigns: tuple[str, str]) -> None:
    for name, text in campaigns:
        project.write(name, text)
    result = project.run("apply", "--auto-approve")
    assert result.exit_code == 0, result.output


def later(emulator: Emulator, hours: float) -> str:
    """Move the emulator's clock ``hours`` on; the time to run pushops at (``--now``)."""
    emulator.advance(hours * 3600)
    at = datetime.fromtimestamp(emulator.app.clock.time(), timezone.utc)
    return at.isoformat(timespec="seconds")


def report(project: Project, at: str, *args: str) -> dict:
    result = project.run("report", "--format", "json", "--now", at, *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def queries(emulator: Emulator, since: int) -> list[str]:
    return [c["action"] for c in emulator.calls()[since:] if c["action"] in STAT_QUERIES]


def held(emulator: Emulator, message_id: str) -> Delivery:
    found = emulator.app.store.get(message_id, emulator.app.clock.time())
    assert found is not None
    return found


def test_report_shows_the_counts_the_emulator_derived_then_reads_only_what_can_change(
    project: Project, emulator: Emulator
) -> None:
    applied(project, ("sale.yaml", emas_campaign()), ("notice.yaml", mpaas_campaign()))
    start = len(emulator.calls())
    doc = report(project, later(emulator, 2))
    by_campaign = {m["campaign"]: m for m in doc["messages"]}
    sale, notice = by_campaign["sale"], by_campaign["notice"]
    expected = derived.counts(held(emulator, sale["message_id"]), emulator.app.clock.time())
    assert sale["counts"]["AcceptCount"] == expected.targets == 2
    assert (sale["counts"]["ReceivedCount"], sale["counts"]["OpenedCount"]) == (
        expected.received,
        expected.opened,
    )
    assert sale["keys"] == ["staging/sale/r1/android"] and sale["app"] == "shop"
    assert notice["summary"]["accepted"] == derived.MPAAS_AUDIENCE
    assert not sale["final"] and not notice["final"] and doc["read_now"] == 2
    assert sorted(queries(emulator, start)) == sorted(STAT_QUERIES)
    with project.open_ledger() as ledger:
        cached = {s.message_id: s for s in ledger.provider_stats("staging")}
    assert cached[sale["message_id"]].counts == sale["counts"]

    # A day on, both are read once more (they could still grow) and become final ...
    start = len(emulator.calls())
    doc = report(project, later(emulator, 24))
    assert all(m["final"] and m["read_now"] for m in doc["messages"])
    assert len(queries(emulator, start)) == 3
    settled = derived.counts(held(emulator, sale["message_id"]), emulator.app.clock.time())
    sale = next(m for m in doc["messages"] if m["campaign"] == "sale")
    assert sale["counts"]["OpenedCount"] == settled.opened

    # ... and are never asked about again.
    start = len(emulator.calls())
    doc = report(project, later(emulator, 1))
    assert queries(emulator, start) == [] and doc["read_now"] == 0
    assert all(m["final"] and m["counts"] for m in doc["messages"])


def test_text_says_when_the_counts_were_read_and_that_they_arrive_late(
    sqlite_project: Project, emulator: Emulator
) -> None:
    applied(sqlite_project, ("sale.yaml", emas_campaign()))
    result = sqlite_project.run("report", "--now", later(emulator, 1))
    assert result.exit_code == 0, result.output
    text = result.output
    assert "Delivery statistics of staging as of " in text
    assert "Counts can still grow until 24 h after sending" in text
    assert "can still grow" in text.splitlines()[-1] and "ACCEPTED" in text


def test_a_throttled_statistics_query_is_retried(
    sqlite_project: Project, emulator: Emulator
) -> None:
    applied(sqlite_project, ("sale.yaml", emas_campaign()))
    emulator.enqueue_fault(code="Throttling.User", action="QueryPushStatByMsg")
    start = len(emulator.calls())
    doc = report(sqlite_project, later(emulator, 1))
    assert doc["messages"][0]["counts"]["SentCount"] == 2
    statuses = [c["status"] for c in emulator.calls()[start:]]
    assert statuses == [400, 200]


def test_markdown_escapes_a_hostile_campaign_id(
    sqlite_project: Project, emulator: Emulator
) -> None:
    hostile = "a__b__www.evil.example"
    applied(sqlite_project, ("evil.yaml", emas_campaign(cid=hostile)))
    result = sqlite_project.run("report", "--format", "markdown", "--now", later(emulator, 1))
    assert result.exit_code == 0, result.output
    text = result.output
    assert text.startswith("## pushops report: staging\n")
    assert hostile not in text and "__b__" not in text
    assert "| a\\_\\_b\\_\\_w\u200bww.evil.example | `shop` |" in text  # no link, no emphasis
    assert "| accepted | sent | received | opened | deleted |" in text


def test_a_scheduled_push_not_yet_due_is_shown_and_not_asked_about(
    sqlite_project: Project, emulator: Emulator
) -> None:
    applied(sqlite_project, ("sale.yaml", emas_campaign(push_in=timedelta(hours=3))))
    start = len(emulator.calls())
    doc = report(sqlite_project, later(emulator, 1))
    (message,) = doc["messages"]
    assert message["status"] == "scheduled" and message["counts"] is None
    assert queries(emulator, start) == []


def test_a_message_the_provider_does_not_know_is_a_clear_error_and_the_rest_is_shown(
    sqlite_project: Project, emulator: Emulator
) -> None:
    applied(sqlite_project, ("sale.yaml", emas_campaign()), ("notice.yaml", mpaas_campaign()))
    with sqlite3.connect(sqlite_project.root / ".pushops/state.db") as db:  # an id it never gave
        db.execute("UPDATE deliveries SET message_id = '999' WHERE campaign = 'sale'")
    result = sqlite_project.run("report", "--format", "json", "--now", later(emulator, 1))
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "emas message 999 (sale): InvalidMessageId.NotFound" in result.output
    assert "statistics of 1 of 2 messages could not be read" in result.output
    with sqlite_project.open_ledger() as ledger:
        assert [s.provider for s in ledger.provider_stats("staging")] == ["mpaas"]


def test_report_reads_the_ledger_s_serial_unchanged(
    sqlite_project: Project, emulator: Emulator
) -> None:
    applied(sqlite_project, ("sale.yaml", emas_campaign()))
    with sqlite_project.open_ledger() as ledger:
        serial = ledger.meta().serial
    report(sqlite_project, later(emulator, 1))
    with sqlite_project.open_ledger() as ledger:
        assert ledger.meta().serial == serial
        assert len(ledger.provider_stats("staging")) == 1


def test_plan_and_state_history_read_a_ledger_from_before_events_without_migrating_it(
    sqlite_project: Project, emulator: Emulator, monkeypatch
) -> None:
    from pushops.ledger import migrations
    from pushops.ledger.migrations import INITIAL, POLICY_OVERRIDES

    path = sqlite_project.root / ".pushops/state.db"
    for made in (path, sqlite_project.root / "pushops.ledgers.yaml"):
        made.unlink()
    with monkeypatch.context() as older:  # a pushops from before schema 3 made it and applied
        older.setattr(migrations, "MIGRATIONS", [INITIAL, POLICY_OVERRIDES])
        sqlite_project.init_ledger()
        applied(sqlite_project, ("sale.yaml", emas_campaign()))
    version = "SELECT MAX(version) FROM schema_version"
    assert sqlite3.connect(path).execute(version).fetchone()[0] == 2
    plan = sqlite_project.run("plan")
    assert plan.exit_code == 0, plan.output
    history = sqlite_project.run("state", "history", "staging/sale/r1/android")
    assert history.exit_code == 0 and " sent " in history.output
    assert sqlite3.connect(path).execute(version).fetchone()[0] == 2  # readers left it as it was
    report(sqlite_project, later(emulator, 1))  # a writer (of the cache) migrates it
    assert sqlite3.connect(path).execute(version).fetchone()[0] == migrations.latest_version()


def test_a_loop_can_still_grow_until_a_day_after_its_last_occurrence(
    sqlite_project: Project, emulator: Emulator
) -> None:
    from apply.test_loops import loop_campaign

    applied(sqlite_project, ("digest.yaml", loop_campaign(days=3)))
    (message,) = report(sqlite_project, later(emulator, 26))["messages"]
    assert message["repeats_until"] and message["counts"] and not message["final"]
    (message,) = report(sqlite_project, later(emulator, 4 * 24))["messages"]
    assert message["final"]


def test_a_message_sent_in_the_second_the_report_starts_is_read() -> None:
    # The report's clock is read to the second; the ledger's send times to the microsecond.
    now = datetime(2026, 12, 2, 6, 23, 44, tzinfo=timezone.utc)
    sent = Message("sale", "emas", "shop", "1", "sent", now.replace(microsecond=500_000))
    later = Message("sale", "emas", "shop", "2", "scheduled", now + timedelta(seconds=1))

    assert sent.due(now)
    assert not later.due(now)


def test_an_mpaas_broadcast_reported_in_the_second_it_went_out_counts_its_audience(
    project: Project, emulator: Emulator
) -> None:
    applied(project, ("notice.yaml", mpaas_campaign()))
    with project.open_ledger() as ledger:
        (sent,) = ledger.sent_messages("staging")
    assert sent.at is not None
    same_second = sent.at.replace(microsecond=0).isoformat()  # the report's clock: seconds

    (notice,) = report(project, same_second)["messages"]

    assert notice["read_now"]
    assert notice["summary"]["accepted"] == derived.MPAAS_AUDIENCE
