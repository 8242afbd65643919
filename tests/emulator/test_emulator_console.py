"""Pushes made and cancelled in the console (or by another tool): the query APIs show them as
they show API pushes, and the call log records every API call received."""

from __future__ import annotations

import json
import time

import httpx
from emulator_helpers import APP_KEY, Caller, broadcast, iso, result_code, task, tea_client

from pushops.emulator import Emulator

WINDOW = {"StartTime": iso(time.time() - 3600), "EndTime": iso(time.time() + 8 * 86400)}
MPAAS_APP = {"AppId": "ONEX570DA89211721", "WorkspaceId": "default"}


def _records(call: Caller, **query: str) -> list[dict[str, object]]:
    body = call.emas("QueryPushRecords", {**WINDOW, **query}).json()
    return body["PushInfos"]["PushInfo"]


def test_a_console_push_is_listed_by_query_push_records_with_source_console(
    emu: Emulator, call: Caller, http: httpx.Client
) -> None:
    call.mass_push([task(Title="from the api")])
    answer = http.post(
        f"{emu.url}/_emulator/console/push",
        json={"product": "emas", "app": APP_KEY, "params": task(Title="from the console")},
    )
    assert answer.status_code == 200, answer.text
    made = answer.json()["message_id"]
    records = _records(call)
    assert [(r["Title"], r["Source"]) for r in records] == [
        ("from the api", "API"),
        ("from the console", "CONSOLE"),
    ]
    assert records[1]["MessageId"] == made and records[1]["Status"] == "SENT"
    assert [r["MessageId"] for r in _records(call, Source="CONSOLE")] == [made]


def test_a_console_cancel_withdraws_a_scheduled_push_as_cancel_push_would(
    emu: Emulator, call: Caller, http: httpx.Client
) -> None:
    answer = call.mass_push([task(PushTime=iso(time.time() + 3600))])
    (message_id,) = answer.json()["MessageIds"]["MessageId"]
    cancelled = http.post(f"{emu.url}/_emulator/console/cancel", json={"message_id": message_id})
    assert cancelled.status_code == 200, cancelled.text
    assert [r["Status"] for r in _records(call)] == ["CANCELLED"]
    again = http.post(f"{emu.url}/_emulator/console/cancel", json={"message_id": message_id})
    assert again.status_code == 409 and "cancelled" in again.json()["error"]
    unknown = http.post(f"{emu.url}/_emulator/console/cancel", json={"message_id": "1"})
    assert unknown.status_code == 404


def test_a_console_broadcast_is_in_the_task_list_and_a_scheduled_one_in_the_scheduler_list(
    emu: Emulator, call: Caller
) -> None:
    immediate = emu.console_push("mpaas", {**MPAAS_APP, "TaskName": "by hand",
                                           "TemplateName": "tpl", "DeliveryType": "1"})  # fmt: skip
    content = json.dumps({"fixedTime": int((time.time() + 7200) * 1000)})
    scheduled = emu.console_push(
        "mpaas",
        {**MPAAS_APP, "TaskName": "later", "TemplateName": "tpl", "DeliveryType": "1",
         "StrategyType": "1", "StrategyContent": content},
    )  # fmt: skip
    tasks = call.mpaas("QueryPushAnalysisTaskList", {**MPAAS_APP, "StartTime": "0"}).json()
    assert {t["TaskId"] for t in tasks["ResultContent"]["Data"]} == {immediate, scheduled}
    form = {**MPAAS_APP, "StartTime": "0", "EndTime": str(2**53)}
    listed = call.mpaas("QueryPushSchedulerList", form).json()["ResultContent"]["Data"]["List"]
    assert [(e["UniqueId"], e["ExecutedStatus"]) for e in listed] == [(scheduled, 0)]
    emu.console_cancel(scheduled)
    listed = call.mpaas("QueryPushSchedulerList", form).json()["ResultContent"]["Data"]["List"]
    assert [(e["UniqueId"], e["ExecutedStatus"]) for e in listed] == [(scheduled, 2)]
    # An API cancel of what the console cancelled finds nothing waiting.
    refused = call.mpaas("CancelPushScheduler", {**MPAAS_APP, "UniqueIds": scheduled})
    assert result_code(refused) == "3028"


def test_a_console_push_missing_what_the_query_apis_show_is_refused_with_its_name(
    emu: Emulator, http: httpx.Client
) -> None:
    answer = http.post(
        f"{emu.url}/_emulator/console/push",
        json={"product": "emas", "app": APP_KEY, "params": {"Title": "t"}},
    )
    assert answer.status_code == 400 and "DeviceType" in answer.json()["error"]
    other = http.post(f"{emu.url}/_emulator/console/push", json={"product": "fcm", "params": {}})
    assert other.status_code == 400 and "'product'" in other.json()["error"]
    assert emu.deliveries() == []


def test_the_call_log_records_every_api_call_and_none_of_the_controls(
    emu: Emulator, call: Caller, http: httpx.Client
) -> None:
    call.mass_push([task()])
    call.emas("QueryPushRecords", WINDOW)
    call.mpaas("PushBroadcast", broadcast())
    call.emas("CancelPush", {"MessageId": "1"})  # refused: still a call received
    emu.console_push("emas", task(), app=APP_KEY)
    logged = http.get(f"{emu.url}/_emulator/calls").json()
    assert [(c["action"], c["status"]) for c in logged["calls"]] == [
        ("MassPush", 200),
        ("QueryPushRecords", 200),
        ("PushBroadcast", 200),
        ("CancelPush", 404),
    ]
    assert [c["app"] for c in emu.calls()] == [APP_KEY, APP_KEY, MPAAS_APP["AppId"], APP_KEY]
    emu.reset()
    assert emu.calls() == []


def test_the_tea_sdk_parses_query_push_records_listing_a_console_push(emu: Emulator) -> None:
    from alibabacloud_push20160801 import models

    made = emu.console_push("emas", task(Title="by hand"), app=APP_KEY)
    request = models.QueryPushRecordsRequest(
        app_key=int(APP_KEY), start_time=WINDOW["StartTime"], end_time=WINDOW["EndTime"],
        source="CONSOLE", page=1, page_size=100,
    )  # fmt: skip
    body = tea_client(emu.url, "alibabacloud_push20160801").query_push_records(request).body
    (info,) = body.push_infos.push_info
    assert (info.message_id, info.source, info.status, info.title) == (
        made, "CONSOLE", "SENT", "by hand",
    )  # fmt: skip
    assert (body.total, body.page, body.page_size) == (1, 1, 100)


def test_the_tea_sdk_parses_the_scheduler_list_showing_a_console_cancel(emu: Emulator) -> None:
    from alibabacloud_mpaas20201028 import models

    content = json.dumps({"fixedTime": int((time.time() + 7200) * 1000)})
    made = emu.console_push(
        "mpaas", {**MPAAS_APP, "TaskName": "later", "TemplateName": "tpl", "DeliveryType": "1",
                  "StrategyType": "1", "StrategyContent": content},
    )  # fmt: skip
    emu.console_cancel(made)
    request = models.QueryPushSchedulerListRequest(
        app_id=MPAAS_APP["AppId"], workspace_id=MPAAS_APP["WorkspaceId"],
        start_time=0, end_time=2**53, page_number=1, page_size=100,
    )  # fmt: skip
    body = tea_client(emu.url, "alibabacloud_mpaas20201028").query_push_scheduler_list(request).body
    (entry,) = body.result_content.data.list
    assert (entry.unique_id, entry.executed_status, entry.push_title) == (made, 2, "later")
