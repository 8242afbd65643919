"""The statistics queries against the emulator over real HTTP: EMAS QueryPushStatByMsg paced
within its quota with throttling retried, and the mPaaS push-analysis queries."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timezone

from provider_helpers import APP_KEY, providers, task, token

from pushops.emulator.stats import WINDOW
from pushops.providers.emas import STAT_QUERY_QUOTA

APP_ID, WORKSPACE = "ONEX570DA89211721", "default"


def _sent_a_day_ago(emulator, targets: str) -> str:
    """A MassPush the emulator received a day ago (signed at its clock), its clock back now."""
    emulator.advance(-WINDOW)

    async def go():
        clock = lambda: datetime.fromtimestamp(emulator.app.clock.time(), timezone.utc)  # noqa: E731
        async with providers(clock=clock) as p:
            emas = p.emas(APP_KEY, endpoint=emulator.url)
            return await emas.mass_push([task(1, TargetValue=targets)], token())

    sent = asyncio.run(go())
    emulator.app.clock.reset()
    return sent.message_ids[0]


def test_query_push_stat_by_msg_reads_the_counts_by_their_model_names(emulator) -> None:
    message_id = _sent_a_day_ago(emulator, "a,b,c,d")

    async def go():
        async with providers() as p:
            return await p.emas(APP_KEY, endpoint=emulator.url).query_push_stat_by_msg(message_id)

    stat = asyncio.run(go())
    assert stat.message_id == message_id and stat.request_id
    assert (stat.counts["AcceptCount"], stat.counts["SentCount"]) == (4, 4)
    assert set(stat.counts) >= {"ReceivedCount", "OpenedCount", "DeletedCount", "SmsSentCount"}


def test_a_throttled_stat_query_is_retried(emulator) -> None:
    message_id = _sent_a_day_ago(emulator, "a")
    emulator.enqueue_fault(code="Throttling.User", action="QueryPushStatByMsg")

    async def go():
        async with providers() as p:
            return await p.emas(APP_KEY, endpoint=emulator.url).query_push_stat_by_msg(message_id)

    stat = asyncio.run(go())
    assert stat.attempts == 2 and stat.counts["SentCount"] == 1


def test_stat_queries_are_paced_under_the_documented_quota(emulator) -> None:
    message_id = _sent_a_day_ago(emulator, "a")
    count = 75

    async def go():
        async with providers() as p:
            emas = p.emas(APP_KEY, endpoint=emulator.url)
            return await asyncio.gather(
                *(emas.query_push_stat_by_msg(message_id) for _ in range(count))
            )

    started = time.monotonic()
    results = asyncio.run(go())
    elapsed = time.monotonic() - started
    assert all(r.counts["SentCount"] == 1 for r in results)
    # 75 queries at 49/s take over half a second; none was refused for the quota
    assert elapsed >= (count - STAT_QUERY_QUOTA) / STAT_QUERY_QUOTA
    received = [c for c in emulator.calls() if c["action"] == "QueryPushStatByMsg"]
    assert len(received) == count and all(c["status"] == 200 for c in received)


def test_the_mpaas_task_detail_and_core_index_answer_for_a_broadcast(emulator) -> None:
    emulator.advance(-WINDOW)
    form = {"AppId": APP_ID, "WorkspaceId": WORKSPACE, "DeliveryType": "1", "Msgkey": token(),
            "ExpiredSeconds": "300", "TemplateName": "t", "TaskName": "n", "PushStatus": "1", "UnBindPeriod": "1"}  # fmt: skip

    async def send():
        clock = lambda: datetime.fromtimestamp(emulator.app.clock.time(), timezone.utc)  # noqa: E731
        async with providers(clock=clock) as p:
            return await p.mpaas(endpoint=emulator.url).push_broadcast(form)

    task_id = asyncio.run(send()).data
    emulator.app.clock.reset()
    now_ms = int(time.time() * 1000)

    async def go():
        async with providers() as p:
            mpaas = p.mpaas(endpoint=emulator.url)
            detail = await mpaas.query_push_analysis_task_detail(APP_ID, WORKSPACE, task_id)
            index = await mpaas.query_push_analysis_core_index(
                APP_ID, WORKSPACE, now_ms - 2 * WINDOW * 1000, now_ms, TaskId=task_id
            )
            return detail, index

    detail, index = asyncio.run(go())
    assert detail.content["Data"]["PushNum"] == index.content["Data"]["PushNum"] == 1000
    assert index.content["Data"]["OpenNum"] > 0
