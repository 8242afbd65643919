"""mPaaS PushBroadcast and the scheduler APIs: business errors are HTTP 200 + ResultCode."""

from __future__ import annotations

import json
import time

import pytest
from emulator_helpers import Caller, broadcast, result_code

from pushops.emulator import Emulator


def _ms(seconds_from_now: float) -> int:
    return int((time.time() + seconds_from_now) * 1000)


def test_push_broadcast_succeeds_with_a_task_id(emu: Emulator, call: Caller) -> None:
    body = call.mpaas("PushBroadcast", broadcast(Msgkey="k1")).json()
    assert body["ResultCode"] == "100" and body["ResultMessage"] == "SUCCESS"
    assert body["PushResult"]["Success"] is True
    (d,) = emu.deliveries()
    assert (d["product"], d["action"], d["msgkey"], d["message_id"]) == (
        "mpaas",
        "PushBroadcast",
        "k1",
        body["PushResult"]["Data"],
    )


def test_version_2019_keeps_only_its_fields(emu: Emulator, call: Caller) -> None:
    form = broadcast(PushStatus="1", UnBindPeriod="1", BindPeriod=None, AndroidChannel="1")
    assert result_code(call.mpaas("PushBroadcast", form, version="2019-08-21")) == "100"
    assert "AndroidChannel" not in emu.deliveries()[0]["params"]


def test_repeated_msgkey_is_rejected_with_the_first_task_id(emu: Emulator, call: Caller) -> None:
    first = call.mpaas("PushBroadcast", broadcast(Msgkey="once")).json()
    again = call.mpaas("PushBroadcast", broadcast(Msgkey="once")).json()
    assert again["ResultCode"] == "3028" and "DUPLICATE_MSGKEY" in again["ResultMessage"]
    assert again["PushResult"] == {
        "Success": False,
        "ResultMsg": again["ResultMessage"],
        "Data": first["PushResult"]["Data"],
    }
    assert len(emu.deliveries()) == 1


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"AppId": None}, "3003"),
        ({"WorkspaceId": ""}, "3003"),
        ({"TaskName": None}, "3019"),
        ({"ExpiredSeconds": "0"}, "3020"),
        ({"ExpiredSeconds": "soon"}, "3020"),
        ({"ExpiredSeconds": str(73 * 3600)}, "3026"),
        ({"TemplateName": None}, "3025"),
        ({"DeliveryType": "5"}, "3009"),
        ({"Msgkey": None}, "3028"),
        ({"BindPeriod": None}, "3028"),
        ({"ExtendedParams": json.dumps({f"k{i}": "v" for i in range(21)})}, "3035"),
        ({"ExtendedParams": "{not json"}, "3044"),
        ({"StrategyType": "1"}, "3028"),
    ],
    ids=lambda v: str(v)[:40],
)
def test_business_errors_are_http_200_with_result_codes(
    emu: Emulator, call: Caller, overrides: dict[str, str | None], code: str
) -> None:
    r = call.mpaas("PushBroadcast", broadcast(**overrides))
    assert result_code(r) == code
    assert r.json()["PushResult"]["Success"] is False
    assert emu.deliveries() == []


def test_twenty_extended_params_are_accepted(call: Caller) -> None:
    params = json.dumps({f"k{i}": "v" for i in range(20)})
    assert result_code(call.mpaas("PushBroadcast", broadcast(ExtendedParams=params))) == "100"


def _scheduled(call: Caller, fixed_in: float = 3600, **overrides: str) -> str:
    content = json.dumps({"fixedTime": _ms(fixed_in)})
    r = call.mpaas(
        "PushBroadcast", broadcast(StrategyType="1", StrategyContent=content, **overrides)
    )
    assert result_code(r) == "100", r.text
    return r.json()["PushResult"]["Data"]


def test_scheduled_broadcast_is_held_and_cancellable(emu: Emulator, call: Caller) -> None:
    task_id = _scheduled(call)
    assert emu.deliveries()[0]["status"] == "scheduled"
    form = {"AppId": "ONEX570DA89211721", "WorkspaceId": "default", "UniqueIds": task_id}
    r = call.mpaas("CancelPushScheduler", form)
    assert result_code(r) == "100" and r.json()["ResultContent"] == task_id
    assert emu.deliveries()[0]["status"] == "cancelled"
    assert result_code(call.mpaas("CancelPushScheduler", form)) == "3028"


def test_scheduled_broadcast_is_sent_when_due(emu: Emulator, call: Caller) -> None:
    _scheduled(call, fixed_in=60)
    emu.advance(61)
    assert emu.deliveries()[0]["status"] == "sent"


def test_fixed_time_in_the_past_is_rejected(call: Caller) -> None:
    content = json.dumps({"fixedTime": _ms(-60)})
    r = call.mpaas("PushBroadcast", broadcast(StrategyType="1", StrategyContent=content))
    assert result_code(r) == "3028"


@pytest.mark.parametrize(
    "content",
    [
        {"startTime": _ms(3600), "endTime": _ms(60), "circleType": 1, "time": "10:00:00"},
        {"startTime": _ms(60), "endTime": _ms(200 * 86400), "circleType": 1, "time": "10:00:00"},
        {"startTime": _ms(-3 * 86400), "endTime": _ms(86400), "circleType": 1, "time": "10:00:00"},
        {"startTime": _ms(60), "endTime": _ms(86400), "circleType": 2, "circleValue": [8]},
    ],
    ids=["end-before-start", "beyond-180-days", "before-today", "weekday-8"],
)
def test_loop_strategy_rules_are_enforced(call: Caller, content: dict) -> None:
    form = broadcast(StrategyType="2", StrategyContent=json.dumps(content))
    assert result_code(call.mpaas("PushBroadcast", form)) == "3028"


def test_loop_strategy_is_scheduled_until_its_end(emu: Emulator, call: Caller) -> None:
    content = {
        "startTime": _ms(60),
        "endTime": _ms(7 * 86400),
        "circleType": 2,
        "circleValue": [1, 3],
        "time": "09:30:00",
    }
    form = broadcast(StrategyType="2", StrategyContent=json.dumps(content))
    assert result_code(call.mpaas("PushBroadcast", form)) == "100"
    emu.advance(86400)
    assert emu.deliveries()[0]["status"] == "scheduled"


def test_query_push_scheduler_list_answers_from_what_it_holds(call: Caller) -> None:
    first = _scheduled(call)
    _scheduled(call, fixed_in=7200)
    call.mpaas("PushBroadcast", broadcast())  # immediate: not a scheduler entry
    form = {"AppId": "ONEX570DA89211721", "WorkspaceId": "default",
            "StartTime": "0", "EndTime": str(2**53)}  # fmt: skip
    body = call.mpaas("QueryPushSchedulerList", form).json()
    data = body["ResultContent"]["Data"]
    assert body["ResultCode"] == "100" and data["TotalCount"] == 2
    assert data["List"][0]["UniqueId"] == first
    assert data["List"][0]["ExecutedStatus"] == 0  # not executed (the scheduled-task page)
    assert data["List"][0]["Type"] == 3  # a group (broadcast) push
    one = call.mpaas("QueryPushSchedulerList", {**form, "UniqueId": first}).json()
    assert one["ResultContent"]["Data"]["TotalCount"] == 1
    # The window is of trigger times, and both ends are required (the official model).
    later = call.mpaas("QueryPushSchedulerList", {**form, "EndTime": str(2**40)}).json()
    assert later["ResultContent"]["Data"]["TotalCount"] == 0
    assert result_code(call.mpaas("QueryPushSchedulerList", {**form, "StartTime": ""})) == "3028"


def test_query_push_analysis_task_list_finds_immediate_broadcasts_by_name(call: Caller) -> None:
    call.mpaas("PushBroadcast", broadcast(TaskName="Weekly digest"))
    _scheduled(call)
    form = {"AppId": "ONEX570DA89211721", "WorkspaceId": "default", "StartTime": "0"}
    every = call.mpaas("QueryPushAnalysisTaskList", form).json()["ResultContent"]["Data"]
    assert len(every) == 2
    named = call.mpaas("QueryPushAnalysisTaskList", {**form, "TaskName": "Weekly digest"})
    (task,) = named.json()["ResultContent"]["Data"]
    assert task["TaskName"] == "Weekly digest" and task["TemplateName"] == "tmpl"
    assert task["TaskId"] and task["GmtCreate"] > 0
    since = {**form, "StartTime": str(task["GmtCreate"] + 60_000)}
    assert call.mpaas("QueryPushAnalysisTaskList", since).json()["ResultContent"]["Data"] == []
    assert result_code(call.mpaas("QueryPushAnalysisTaskList", {**form, "StartTime": ""})) == (
        "3028"
    )


def test_scheduler_apis_need_app_and_workspace(call: Caller) -> None:
    assert result_code(call.mpaas("QueryPushSchedulerList", {"AppId": "a"})) == "3003"
    assert result_code(call.mpaas("CancelPushScheduler", {"WorkspaceId": "w"})) == "3003"
