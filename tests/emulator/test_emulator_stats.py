"""The statistics queries: EMAS QueryPushStatByMsg, mPaaS QueryPushAnalysisTaskDetail and
QueryPushAnalysisCoreIndex, answered as the official SDK models describe them (the SDKs,
test-only oracles, parse them), with counts that arrive late and then settle."""

from __future__ import annotations

import time
from typing import Any

import pytest
from emulator_helpers import APP_KEY, Caller, broadcast, iso, task, tea_client

from pushops.emulator import Emulator
from pushops.emulator.stats import MPAAS_AUDIENCE, WINDOW

MPAAS = "2020-10-28"


# Calls are signed at the emulator's time: it judges timestamps by its own clock, which the
# tests move a day ahead.
def _now(emu: Emulator) -> str:
    return iso(emu.app.clock.time())


def _pushed(
    emu: Emulator, call: Caller, targets: str = "d1,d2,d3,d4,d5,d6,d7,d8,d9,d10", **extra: str
) -> str:
    answer = call.mass_push([task(TargetValue=targets, **extra)], timestamp=_now(emu)).json()
    return str(answer["MessageIds"]["MessageId"][0])


def _stat(emu: Emulator, call: Caller, message_id: str) -> dict[str, Any]:
    answer = call.emas("QueryPushStatByMsg", {"MessageId": message_id}, timestamp=_now(emu))
    assert answer.status_code == 200, answer.text
    (stat,) = answer.json()["PushStats"]["PushStat"]
    return dict(stat)


def test_the_tea_sdk_parses_query_push_stat_by_msg(emu: Emulator, call: Caller) -> None:
    from alibabacloud_push20160801 import models

    # The SDK signs with the real time: push a day ago, then query at the real time.
    emu.advance(-WINDOW)
    message_id = _pushed(emu, call)
    emu.app.clock.reset()
    request = models.QueryPushStatByMsgRequest(app_key=int(APP_KEY), message_id=message_id)
    body = tea_client(emu.url, "alibabacloud_push20160801").query_push_stat_by_msg(request).body
    (stat,) = body.push_stats.push_stat
    assert stat.message_id == message_id
    assert (stat.accept_count, stat.sent_count) == (10, 10)
    assert 7 <= stat.received_count <= 10 and 0 < stat.opened_count <= stat.received_count
    assert stat.sms_sent_count == 0 and body.request_id


def test_counts_arrive_late_grow_with_the_clock_and_then_settle(
    emu: Emulator, call: Caller
) -> None:
    message_id = _pushed(emu, call)
    at_once = _stat(emu, call, message_id)
    assert (at_once["AcceptCount"], at_once["SentCount"], at_once["ReceivedCount"]) == (10, 10, 0)
    emu.advance(WINDOW / 8)
    early = _stat(emu, call, message_id)
    emu.advance(WINDOW)
    settled = _stat(emu, call, message_id)
    emu.advance(WINDOW)
    assert _stat(emu, call, message_id) == settled
    assert early["ReceivedCount"] <= settled["ReceivedCount"]
    assert early["OpenedCount"] < settled["OpenedCount"]


def test_counts_are_the_same_every_time_for_a_message(emu: Emulator, call: Caller) -> None:
    first = _pushed(emu, call)
    emu.advance(WINDOW)
    assert _stat(emu, call, first) == _stat(emu, call, first)


def test_a_scheduled_push_counts_nothing_sent_before_its_push_time(
    emu: Emulator, call: Caller
) -> None:
    later = iso(emu.app.clock.time() + 3600)
    message_id = _pushed(emu, call, "d1,d2", PushTime=later)
    stat = _stat(emu, call, message_id)
    assert (stat["AcceptCount"], stat["SentCount"]) == (2, 0)
    emu.advance(3600 + WINDOW)
    assert _stat(emu, call, message_id)["SentCount"] == 2


def test_an_unknown_message_id_is_not_found(call: Caller) -> None:
    answer = call.emas("QueryPushStatByMsg", {"MessageId": "123456"})
    assert (answer.status_code, answer.json()["Code"]) == (404, "InvalidMessageId.NotFound")


def test_query_push_stat_by_msg_is_throttled_above_its_documented_50_per_second(
    emu: Emulator, call: Caller
) -> None:
    message_id = _pushed(emu, call)
    codes = []
    # The emulator counts in fixed one-second windows of the monotonic clock: start the burst
    # as one begins, so that 60 calls in under a second all fall in it (on a loaded machine a
    # burst started mid-window was split between two, 30 and 30, and nothing was throttled).
    time.sleep(1.0 - time.monotonic() % 1.0)
    window = int(time.monotonic())
    for _ in range(60):
        answer = call.emas("QueryPushStatByMsg", {"MessageId": message_id}, timestamp=_now(emu))
        codes.append(answer.json().get("Code", "OK") if answer.status_code != 200 else "OK")
    if int(time.monotonic()) != window:
        pytest.skip("60 calls took over a second on this machine: no window to overflow")
    assert "Throttling.User" in codes and codes.count("OK") >= 50
    # the quota is this API's own: other calls in the same second still pass
    assert call.emas("QueryPushRecords", {"StartTime": "2020-01-01T00:00:00Z",
                                          "EndTime": "2099-01-01T00:00:00Z"}).status_code == 200  # fmt: skip


def _mpaas_task(emu: Emulator, call: Caller) -> str:
    answer = call.v1("PushBroadcast", MPAAS, {}, broadcast(), timestamp=_now(emu)).json()
    return str(answer["PushResult"]["Data"])


def test_the_tea_sdk_parses_the_mpaas_task_detail(emu: Emulator, call: Caller) -> None:
    from alibabacloud_mpaas20201028 import models

    emu.advance(-WINDOW)
    task_id = _mpaas_task(emu, call)
    emu.app.clock.reset()
    request = models.QueryPushAnalysisTaskDetailRequest(
        app_id="ONEX570DA89211721", workspace_id="default", task_id=task_id
    )
    body = (
        tea_client(emu.url, "alibabacloud_mpaas20201028")
        .query_push_analysis_task_detail(request)
        .body
    )
    assert body.result_code == "100"
    data = body.result_content.data
    assert (str(data.task_id), data.push_num, data.push_success_num) == (
        task_id,
        MPAAS_AUDIENCE,
        MPAAS_AUDIENCE,
    )
    assert 0.7 * MPAAS_AUDIENCE <= data.push_arrival_num <= MPAAS_AUDIENCE
    assert data.end_time - data.start_time == WINDOW * 1000


def test_the_tea_sdk_parses_the_mpaas_core_index_of_one_task(emu: Emulator, call: Caller) -> None:
    from alibabacloud_mpaas20201028 import models

    emu.advance(-WINDOW)
    task_id = _mpaas_task(emu, call)
    _mpaas_task(emu, call)  # another task, not counted
    emu.app.clock.reset()
    now_ms = int(emu.app.clock.time() * 1000)
    request = models.QueryPushAnalysisCoreIndexRequest(
        app_id="ONEX570DA89211721",
        workspace_id="default",
        task_id=task_id,
        start_time=now_ms - 2 * WINDOW * 1000,
        end_time=now_ms,
    )
    body = (
        tea_client(emu.url, "alibabacloud_mpaas20201028")
        .query_push_analysis_core_index(request)
        .body
    )
    data = body.result_content.data
    assert (data.push_total_num, data.push_num) == (MPAAS_AUDIENCE, MPAAS_AUDIENCE)
    assert data.ignore_num == data.arrival_num - data.open_num
    assert data.open_rate == round(data.open_num / data.arrival_num, 4)


def test_an_unknown_mpaas_task_is_a_result_code(call: Caller) -> None:
    form = {"AppId": "ONEX570DA89211721", "WorkspaceId": "default", "TaskId": "42"}
    body = call.v1("QueryPushAnalysisTaskDetail", MPAAS, {}, form).json()
    assert body["ResultCode"] == "3028" and "TASK_NOT_FOUND" in body["ResultMessage"]
