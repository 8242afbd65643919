"""EMAS MassPush, CancelPush and QueryPushRecords: the documented behaviour and error codes."""

from __future__ import annotations

import threading
import time
import uuid

import httpx
import pytest
from emulator_helpers import Caller, error_code, iso, task

from pushops.emulator import Emulator


def test_one_message_id_per_task_in_order(emu: Emulator, call: Caller) -> None:
    r = call.mass_push([task(TargetValue=f"d{i}") for i in range(3)])
    ids = r.json()["MessageIds"]["MessageId"]
    assert len(ids) == len(set(ids)) == 3
    assert [d["message_id"] for d in emu.deliveries()] == ids
    assert [d["params"]["TargetValue"] for d in emu.deliveries()] == ["d0", "d1", "d2"]


def test_delivery_entries_have_the_documented_shape(emu: Emulator, call: Caller) -> None:
    call.mass_push([task()], token=str(uuid.uuid4()))
    (d,) = emu.deliveries()
    assert set(d) == {
        *("product", "action", "app", "message_id", "idempotent_token"),
        *("msgkey", "params", "received_at", "status", "source"),
    }
    assert (d["product"], d["action"], d["app"], d["status"]) == (
        "emas",
        "MassPush",
        "23267207",
        "sent",
    )


def test_hundred_tasks_are_accepted(call: Caller) -> None:
    r = call.mass_push([task(TargetValue=f"d{i}") for i in range(100)])
    assert len(r.json()["MessageIds"]["MessageId"]) == 100


def test_more_than_hundred_tasks_is_rejected(emu: Emulator, call: Caller) -> None:
    r = call.mass_push([task() for _ in range(101)])
    assert r.status_code == 400 and error_code(r) == "InvalidPushTask.LengthExceed"
    assert emu.deliveries() == []


def test_no_tasks_is_missing_push_task(call: Caller) -> None:
    assert error_code(call.mass_push([])) == "MissingPushTask"


def test_missing_app_key_is_missing_app_key(call: Caller) -> None:
    r = call.v1("MassPush", "2016-08-01", None, {"PushTask.1.DeviceType": "ANDROID"})
    assert error_code(r) == "MissingAppKey"


def test_gap_in_task_indexes_is_invalid_push_task_format(call: Caller) -> None:
    form = {f"PushTask.2.{k}": v for k, v in task().items()}
    r = call.v1("MassPush", "2016-08-01", {"AppKey": "1"}, form)
    assert error_code(r) == "InvalidPushTask.Format"


def test_missing_required_task_field_is_missing_name(call: Caller) -> None:
    r = call.mass_push([task(), task(TargetValue=None)])
    assert r.status_code == 400 and error_code(r) == "MissingTargetValue"
    assert "PushTask.2.TargetValue" in r.json()["Message"]


def test_title_required_for_android_by_condition(call: Caller) -> None:
    assert error_code(call.mass_push([task(Title=None)])) == "MissingTitle"
    assert call.mass_push([task(DeviceType="iOS", Title=None)]).status_code == 200


def test_empty_required_field_is_invalid_name_empty(call: Caller) -> None:
    assert error_code(call.mass_push([task(TargetValue="")])) == "InvalidTargetValue.Empty"


def test_value_outside_the_allowed_set_is_invalid_name_format(call: Caller) -> None:
    assert error_code(call.mass_push([task(DeviceType="WINDOWS")])) == "InvalidDeviceType.Format"


def test_non_integer_is_invalid_name_format(call: Caller) -> None:
    r = call.mass_push([task(DeviceType="iOS", iOSBadge="three")])
    assert error_code(r) == "InvalidiOSBadge.Format"


def test_title_over_200_bytes_is_bytes_exceed(call: Caller) -> None:
    assert call.mass_push([task(Title="世" * 66)]).status_code == 200  # 198 bytes
    r = call.mass_push([task(Title="世" * 67)])  # 201 bytes
    assert error_code(r) == "InvalidTitle.BytesExceed"


def test_more_than_1000_targets_is_length_exceed(call: Caller) -> None:
    many = ",".join(f"d{i}" for i in range(1001))
    assert error_code(call.mass_push([task(TargetValue=many)])) == "InvalidTargetValue.LengthExceed"


def test_popup_title_over_its_character_limit_is_length_exceed(call: Caller) -> None:
    # 50 characters (the Tea SDK model), not the older document's 30.
    popup = {"AndroidPopupActivity": "a.B", "AndroidPopupBody": "b", "AndroidPopupTitle": "题" * 50}
    assert call.mass_push([task(**popup)]).status_code == 200
    r = call.mass_push([task(**{**popup, "AndroidPopupTitle": "x" * 51})])
    assert error_code(r) == "InvalidAndroidPopupTitle.LengthExceed"
    assert r.json()["Message"] == (
        "The specified PushTask.1.AndroidPopupTitle length cannot be greater than 50."
    )


def test_ext_parameters_must_be_a_json_object(call: Caller) -> None:
    r = call.mass_push([task(AndroidExtParameters="[1,2]")])
    assert error_code(r) == "InvalidAndroidExtParameters.Format"


@pytest.mark.parametrize("target", ["TAG", "ALL"])
def test_tag_and_all_targets_are_target_not_supported(call: Caller, target: str) -> None:
    r = call.mass_push([task(Target=target)])
    assert r.status_code == 400 and error_code(r) == "TargetNotSupported"


def test_plus_in_the_body_decodes_as_space(emu: Emulator, call: Caller) -> None:
    # The caller's urlencode turns spaces into '+', and a literal '+' into %2B.
    call.mass_push([task(Title="a b+c")])
    assert emu.deliveries()[0]["params"]["Title"] == "a b+c"


@pytest.mark.parametrize("value", ["true", "True", "TRUE", "false", "False"])
def test_booleans_are_case_insensitive(call: Caller, value: str) -> None:
    assert call.mass_push([task(StoreOffline=value)]).status_code == 200


def test_boolean_that_is_not_one_is_invalid_format(call: Caller) -> None:
    assert error_code(call.mass_push([task(StoreOffline="yes")])) == "InvalidStoreOffline.Format"


def test_bad_idempotent_token_is_invalid_format(call: Caller) -> None:
    r = call.mass_push([task()], token="not-a-uuid")
    assert error_code(r) == "InvalidIdempotentToken.Format"


def test_repeated_token_returns_the_first_result_and_records_nothing(
    emu: Emulator, call: Caller
) -> None:
    token = str(uuid.uuid4())
    first = call.mass_push([task()], token=token).json()
    again = call.mass_push([task()], token=token).json()
    assert again["MessageIds"] == first["MessageIds"]
    assert len(emu.deliveries()) == 1


def test_token_is_forgotten_after_15_minutes(emu: Emulator, call: Caller) -> None:
    token = str(uuid.uuid4())
    first = call.mass_push([task()], token=token).json()
    emu.advance(15 * 60 + 1)
    later = call.mass_push([task()], token=token, timestamp=iso(time.time() + 15 * 60 + 1))
    assert later.json()["MessageIds"] != first["MessageIds"]
    assert len(emu.deliveries()) == 2


def test_failed_call_does_not_claim_its_token(emu: Emulator, call: Caller) -> None:
    token = str(uuid.uuid4())
    assert call.mass_push([task(DeviceType="X")], token=token).status_code == 400
    assert call.mass_push([task()], token=token).status_code == 200
    assert len(emu.deliveries()) == 1


def test_concurrent_calls_with_one_token_are_not_deduplicated(emu: Emulator, call: Caller) -> None:
    emu.configure(latency_ms=300)
    token = str(uuid.uuid4())

    def send() -> None:
        with httpx.Client(timeout=10) as client:
            Caller(call.url, client).mass_push([task()], token=token)

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(emu.deliveries()) == 2


def test_future_push_time_is_held_as_scheduled(emu: Emulator, call: Caller) -> None:
    call.mass_push([task(PushTime=iso(time.time() + 3600))])
    assert emu.deliveries()[0]["status"] == "scheduled"
    emu.advance(3601)
    assert emu.deliveries()[0]["status"] == "sent"


def test_push_time_more_than_7_days_ahead_is_invalid(call: Caller) -> None:
    r = call.mass_push([task(PushTime=iso(time.time() + 8 * 86400))])
    assert error_code(r) == "InvalidPushTime.Format"


def test_expire_time_before_push_time_is_invalid(call: Caller) -> None:
    r = call.mass_push([task(PushTime=iso(time.time() + 3600), ExpireTime=iso(time.time() + 1800))])
    assert error_code(r) == "InvalidExpireTime.Format"
    r = call.mass_push([task(ExpireTime=iso(time.time() + 73 * 3600))])
    assert error_code(r) == "InvalidExpireTime.Format"


def test_scheduled_push_can_be_cancelled_until_due(emu: Emulator, call: Caller) -> None:
    r = call.mass_push([task(PushTime=iso(time.time() + 3600))])
    (message_id,) = r.json()["MessageIds"]["MessageId"]
    cancel = call.emas("CancelPush", {"MessageId": message_id})
    assert cancel.status_code == 200 and "RequestId" in cancel.json()
    assert emu.deliveries()[0]["status"] == "cancelled"
    again = call.emas("CancelPush", {"MessageId": message_id})
    assert error_code(again) == "InvalidMessageId.NotCancellable"


def test_due_push_cannot_be_cancelled(emu: Emulator, call: Caller) -> None:
    r = call.mass_push([task(PushTime=iso(time.time() + 60))])
    (message_id,) = r.json()["MessageIds"]["MessageId"]
    emu.advance(61)
    ts = iso(time.time() + 61)
    cancel = call.emas("CancelPush", {"MessageId": message_id}, timestamp=ts)
    assert cancel.status_code == 400 and error_code(cancel) == "InvalidMessageId.NotCancellable"


def test_cancel_of_unknown_message_is_not_found(call: Caller) -> None:
    r = call.emas("CancelPush", {"MessageId": "123"})
    assert r.status_code == 404 and error_code(r) == "InvalidMessageId.NotFound"
    assert error_code(call.emas("CancelPush", {})) == "MissingMessageId"


def test_query_push_records_answers_from_what_it_holds(call: Caller) -> None:
    call.mass_push([task(Title="alpha"), task(Title="beta", PushType="MESSAGE")])
    window = {"StartTime": iso(time.time() - 60), "EndTime": iso(time.time() + 60)}
    body = call.emas("QueryPushRecords", window).json()
    assert body["Total"] == 2 and body["Page"] == 1 and body["PageSize"] == 20
    assert [i["Title"] for i in body["PushInfos"]["PushInfo"]] == ["alpha", "beta"]
    assert body["PushInfos"]["PushInfo"][0]["Status"] == "SENT"
    only = call.emas("QueryPushRecords", {**window, "PushType": "MESSAGE"}).json()
    assert [i["Title"] for i in only["PushInfos"]["PushInfo"]] == ["beta"]
    found = call.emas("QueryPushRecords", {**window, "Keyword": "alpha"}).json()
    assert found["Total"] == 1


def test_query_push_records_needs_a_window_and_takes_any_width(call: Caller) -> None:
    assert error_code(call.emas("QueryPushRecords", {"EndTime": iso()})) == "MissingStartTime"
    # No width limit is documented; the official example spans 14 days.
    wide = call.emas("QueryPushRecords", {"StartTime": iso(0), "EndTime": iso()})
    assert wide.status_code == 200 and wide.json()["Total"] == 0
    r = call.emas("QueryPushRecords", {"StartTime": "yesterday", "EndTime": iso()})
    assert error_code(r) == "InvalidStartTime.Format"
    r = call.emas("QueryPushRecords", {"StartTime": iso(), "EndTime": iso(0)})
    assert error_code(r) == "Invalid.Parameter"


def test_task_index_with_a_leading_zero_is_invalid_push_task_format(call: Caller) -> None:
    form = {f"PushTask.01.{k}": v for k, v in task().items()}
    r = call.v1("MassPush", "2016-08-01", {"AppKey": "1"}, form)
    assert error_code(r) == "InvalidPushTask.Format"
