"""The official SDKs (test-only oracles) meet each documented refusal of the emulator: the
codes, HTTP statuses and messages of api-facts §5.3, throttling as 400 (and 429 with
``x-acs-retry-after``), the limits the tables take from the SDK models."""

from __future__ import annotations

from typing import Any

import pytest
from emulator_helpers import AK, SECRET

from pushops.emulator import Emulator

TASK: dict[str, Any] = {
    "DeviceType": "ANDROID",
    "PushType": "NOTICE",
    "Target": "DEVICE",
    "TargetValue": "device-1",
    "Title": "Hello",
    "Body": "World",
}


def tea_mass_push(emu: Emulator, *tasks: dict[str, Any], algorithm: str | None = "v2") -> Any:
    from alibabacloud_push20160801 import models
    from alibabacloud_push20160801.client import Client
    from alibabacloud_tea_openapi.models import Config

    config = Config(
        access_key_id=AK,
        access_key_secret=SECRET,
        endpoint=emu.url.removeprefix("http://"),
        protocol="http",
        signature_algorithm=algorithm,
    )
    request = models.MassPushRequest(
        app_key=23267207,
        push_task=[models.MassPushRequestPushTask().from_map(t) for t in tasks or (TASK,)],
    )
    return Client(config).mass_push(request)


def legacy_mass_push(emu: Emulator, *tasks: dict[str, Any]) -> bytes:
    from aliyunsdkcore.client import AcsClient
    from aliyunsdkpush.request.v20160801.MassPushRequest import MassPushRequest

    request = MassPushRequest()
    request.set_AppKey(23267207)
    request.set_PushTasks(list(tasks or (TASK,)))
    request.set_endpoint(emu.url.removeprefix("http://"))
    request.set_protocol_type("http")
    return AcsClient(AK, SECRET, "cn-hangzhou", auto_retry=False).do_action_with_exception(request)


# What the task carries -> (code, message) the documents give (api-facts §5.3).
REFUSALS: dict[str, tuple[dict[str, Any], str, str]] = {
    "length": (
        {"AndroidPopupActivity": "a.B", "AndroidPopupBody": "b", "AndroidPopupTitle": "x" * 51},
        "InvalidAndroidPopupTitle.LengthExceed",
        "The specified PushTask.1.AndroidPopupTitle length cannot be greater than 50.",
    ),
    "bytes": (
        {"Title": "标" * 67},
        "InvalidTitle.BytesExceed",
        "The specified PushTask.1.Title exceeds the 200 bytes limit.",
    ),
    "empty": ({"Body": ""}, "InvalidBody.Empty", "The specified PushTask.1.Body cannot be empty."),
    "missing-body": (
        {"Body": None},
        "MissingBody",
        "PushTask.1.Body is mandatory for this action.",
    ),
    "int32": (
        {"AndroidNotificationNotifyId": 2**31},
        "InvalidAndroidNotificationNotifyId.Format",
        "The specified PushTask.1.AndroidNotificationNotifyId format is invalid.",
    ),
    "nan": (
        {"AndroidExtParameters": '{"x": NaN}'},
        "InvalidAndroidExtParameters.Format",
        "The specified PushTask.1.AndroidExtParameters format is invalid.",
    ),
    "target": ({"Target": "TAG"}, "TargetNotSupported", "Target is not supported for batch push."),
}


def _task(overrides: dict[str, Any]) -> dict[str, Any]:
    merged = {**TASK, **overrides}
    return {k: v for k, v in merged.items() if v is not None}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_tea_sdk_gets_the_documented_code_and_message(emu: Emulator, case: str) -> None:
    from alibabacloud_tea_openapi.exceptions import ClientException

    overrides, code, message = REFUSALS[case]
    with pytest.raises(ClientException) as raised:
        tea_mass_push(emu, _task(overrides))
    assert (raised.value.status_code, raised.value.code) == (400, code)
    assert f"code: 400, {message} request id:" in raised.value.message
    assert emu.deliveries() == []


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_legacy_sdk_gets_the_documented_code_and_message(emu: Emulator, case: str) -> None:
    from aliyunsdkcore.acs_exception.exceptions import ServerException

    overrides, code, message = REFUSALS[case]
    with pytest.raises(ServerException) as raised:
        legacy_mass_push(emu, _task(overrides))
    assert (raised.value.get_http_status(), raised.value.get_error_code()) == (400, code)
    assert raised.value.get_error_msg() == message


def test_more_than_10000_tasks_times_targets_is_invalid_parameter(emu: Emulator) -> None:
    from alibabacloud_tea_openapi.exceptions import ClientException

    wide = {**TASK, "TargetValue": ",".join(f"d{i}" for i in range(1000))}
    tea_mass_push(emu, *[wide] * 10)  # 10 x 1000 = 10000: allowed
    assert len(emu.deliveries()) == 10
    with pytest.raises(ClientException) as raised:
        tea_mass_push(emu, *[wide] * 11)
    assert raised.value.code == "Invalid.Parameter"
    assert "The specified parameter is invalid: 11 PushTasks x 1000" in raised.value.message
    assert len(emu.deliveries()) == 10


@pytest.mark.parametrize(
    ("code", "status", "exception"),
    [
        ("InternalError", 500, "ServerException"),
        ("Timeout", 500, "ServerException"),
        ("Throttling.User", 400, "ClientException"),
        ("Throttling.Api", 400, "ClientException"),
    ],
)
def test_sdks_see_server_errors_and_throttling_as_documented(
    emu: Emulator, code: str, status: int, exception: str
) -> None:
    from alibabacloud_tea_openapi import exceptions
    from aliyunsdkcore.acs_exception.exceptions import ServerException as LegacyServerException

    emu.enqueue_fault(code=code, action="MassPush")
    with pytest.raises(getattr(exceptions, exception)) as raised:
        tea_mass_push(emu)
    assert (raised.value.status_code, raised.value.code) == (status, code)
    emu.enqueue_fault(code=code, action="MassPush")
    with pytest.raises(LegacyServerException) as legacy:
        legacy_mass_push(emu)
    assert (legacy.value.get_http_status(), legacy.value.get_error_code()) == (status, code)
    assert emu.deliveries() == []


def test_tea_sdk_reads_the_retry_after_of_an_injected_429(emu: Emulator) -> None:
    from alibabacloud_tea_openapi.exceptions import ThrottlingException

    emu.enqueue_fault(status=429, action="MassPush", retry_after_ms=1500)
    with pytest.raises(ThrottlingException) as raised:
        tea_mass_push(emu, algorithm=None)
    assert (raised.value.status_code, raised.value.code) == (429, "Throttling.User")
    assert raised.value.retry_after == 1500


def test_the_quota_can_refuse_with_429_and_a_retry_after(emu: Emulator) -> None:
    from alibabacloud_tea_openapi.exceptions import ClientException, ThrottlingException

    emu.configure(quota=1)
    with pytest.raises(ClientException) as default:
        for _ in range(3):
            tea_mass_push(emu)
    assert (default.value.status_code, default.value.code) == (400, "Throttling.User")
    emu.configure(quota=1, throttle_status=429, retry_after_ms=800)
    with pytest.raises(ThrottlingException) as raised:
        for _ in range(3):
            tea_mass_push(emu)
    assert raised.value.status_code == 429 and raised.value.retry_after == 800


def test_tea_sdk_broadcast_without_push_status_or_bind_period_gets_3028(emu: Emulator) -> None:
    from alibabacloud_mpaas20201028 import models
    from alibabacloud_mpaas20201028.client import Client
    from alibabacloud_tea_openapi.models import Config

    client = Client(
        Config(
            access_key_id=AK,
            access_key_secret=SECRET,
            endpoint=emu.url.removeprefix("http://"),
            protocol="http",
            signature_algorithm="v2",
        )
    )
    base = {"AppId": "ONEX570DA89211721", "WorkspaceId": "default", "DeliveryType": 1,
            "ExpiredSeconds": 300, "TemplateName": "tpl", "TaskName": "t"}  # fmt: skip
    # PushStatus defaults to 0 (bound users), which needs BindPeriod.
    refused = client.push_broadcast(models.PushBroadcastRequest().from_map({**base, "Msgkey": "a"}))
    assert refused.body.result_code == "3028" and "BindPeriod" in refused.body.result_message
    sent = client.push_broadcast(
        models.PushBroadcastRequest().from_map({**base, "Msgkey": "b", "BindPeriod": 1})
    )
    assert sent.body.result_code == "100"
    assert [d["msgkey"] for d in emu.deliveries()] == ["b"]
