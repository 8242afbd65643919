"""The official SDKs (test-only oracles) talk to the emulator over loopback and succeed."""

from __future__ import annotations

import json
from typing import Any

import pytest
from emulator_helpers import AK, SECRET

from pushops.emulator import Emulator

TASK = {
    "DeviceType": "ANDROID",
    "PushType": "NOTICE",
    "Target": "DEVICE",
    "TargetValue": "device-1",
    "Title": "Hello 世界",
    "Body": "Body with spaces & symbols *~+/=",
    "StoreOffline": "true",
}
LEGACY_BROADCAST = {
    "AppId": "ONEX570DA89211721",
    "WorkspaceId": "default",
    "DeliveryType": 1,
    "Msgkey": "legacy-1",
    "ExpiredSeconds": 300,
    "TemplateName": "tmpl",
    "TaskName": "broadcast task",
    "PushStatus": 1,
    "UnBindPeriod": 1,
}


def _legacy(emu: Emulator, request: Any, secret: str = SECRET) -> bytes:
    from aliyunsdkcore.client import AcsClient

    request.set_endpoint(emu.url.removeprefix("http://"))
    request.set_protocol_type("http")
    client = AcsClient(AK, secret, "cn-hangzhou", auto_retry=False)
    return client.do_action_with_exception(request)


def _legacy_mass_push() -> Any:
    from aliyunsdkpush.request.v20160801.MassPushRequest import MassPushRequest

    request = MassPushRequest()
    request.set_AppKey(23267207)
    request.set_IdempotentToken("c2a1d8f0-8a0b-4b1e-9c55-3f2d1b7e9a10")
    request.set_PushTasks([TASK, {**TASK, "TargetValue": "device-2"}])
    return request


def _legacy_broadcast() -> Any:
    from aliyunsdkmpaas.request.v20190821.PushBroadcastRequest import PushBroadcastRequest

    request = PushBroadcastRequest()
    for name, value in LEGACY_BROADCAST.items():
        getattr(request, f"set_{name}")(value)
    return request


def _tea_config(emu: Emulator, algorithm: str | None, secret: str = SECRET) -> Any:
    from alibabacloud_tea_openapi.models import Config

    return Config(
        access_key_id=AK,
        access_key_secret=secret,
        endpoint=emu.url.removeprefix("http://"),
        protocol="http",
        signature_algorithm=algorithm,
    )


def _tea_mass_push(emu: Emulator, algorithm: str | None, secret: str = SECRET) -> Any:
    from alibabacloud_push20160801 import models
    from alibabacloud_push20160801.client import Client

    task = models.MassPushRequestPushTask().from_map({**TASK, "StoreOffline": True})
    request = models.MassPushRequest(app_key=23267207, push_task=[task])
    return Client(_tea_config(emu, algorithm, secret)).mass_push(request)


def _tea_broadcast(emu: Emulator, algorithm: str | None, secret: str = SECRET) -> Any:
    from alibabacloud_mpaas20201028 import models
    from alibabacloud_mpaas20201028.client import Client

    request = models.PushBroadcastRequest().from_map(
        {
            **LEGACY_BROADCAST,
            "Msgkey": f"tea-{algorithm}",
            "ThirdChannelCategory": {"hms": "1", "vivo": "1"},
            "NotifyLevel": {"hms": "2"},
            "TransparentMessagePayload": {"hms": {"k": "v"}},
            "TransparentMessageUrgency": "HIGH",
        }
    )
    return Client(_tea_config(emu, algorithm, secret)).push_broadcast(request)


def test_legacy_sdk_mass_push_succeeds(emu: Emulator) -> None:
    body = json.loads(_legacy(emu, _legacy_mass_push()))
    assert len(body["MessageIds"]["MessageId"]) == 2
    delivered = emu.deliveries()
    assert [d["params"]["TargetValue"] for d in delivered] == ["device-1", "device-2"]
    assert delivered[0]["params"]["Body"] == TASK["Body"]
    assert delivered[0]["idempotent_token"] == "c2a1d8f0-8a0b-4b1e-9c55-3f2d1b7e9a10"


def test_legacy_sdk_mpaas_2019_push_broadcast_succeeds(emu: Emulator) -> None:
    body = json.loads(_legacy(emu, _legacy_broadcast()))
    assert body["ResultCode"] == "100" and body["PushResult"]["Success"] is True
    (delivery,) = emu.deliveries()
    assert delivery["product"] == "mpaas" and delivery["msgkey"] == "legacy-1"


@pytest.mark.parametrize("algorithm", ["v2", None], ids=["v1", "acs3"])
def test_tea_sdk_mass_push_succeeds(emu: Emulator, algorithm: str | None) -> None:
    response = _tea_mass_push(emu, algorithm)
    assert len(response.body.message_ids.message_id) == 1
    assert emu.deliveries()[0]["params"]["StoreOffline"] == "True"


@pytest.mark.parametrize("algorithm", ["v2", None], ids=["v1", "acs3"])
def test_tea_sdk_mpaas_push_broadcast_succeeds(emu: Emulator, algorithm: str | None) -> None:
    response = _tea_broadcast(emu, algorithm)
    assert response.body.result_code == "100"
    assert response.body.push_result.success is True
    (delivery,) = emu.deliveries()
    assert delivery["params"]["ThirdChannelCategory"] == '{"hms":"1","vivo":"1"}'
    # Tea flattens the dict; the emulator folds it back into one JSON object.
    assert delivery["params"]["TransparentMessagePayload"] == '{"hms":{"k":"v"}}'


def test_legacy_sdk_with_wrong_secret_gets_signature_does_not_match(emu: Emulator) -> None:
    from aliyunsdkcore.acs_exception.exceptions import ServerException

    with pytest.raises(ServerException) as raised:
        _legacy(emu, _legacy_mass_push(), secret="wrong")
    # The legacy SDK compares our "server string to sign" with its own; equal strings mean
    # only the secret differs, which it reports under its own name for SignatureDoesNotMatch.
    assert raised.value.get_http_status() == 400
    assert raised.value.get_error_code() == "InvalidAccessKeySecret"
    assert emu.deliveries() == []


def test_legacy_mpaas_sdk_with_wrong_secret_gets_signature_does_not_match(emu: Emulator) -> None:
    from aliyunsdkcore.acs_exception.exceptions import ServerException

    with pytest.raises(ServerException) as raised:
        _legacy(emu, _legacy_broadcast(), secret="wrong")
    assert raised.value.get_error_code() == "InvalidAccessKeySecret"


@pytest.mark.parametrize("algorithm", ["v2", None], ids=["v1", "acs3"])
def test_tea_sdks_with_wrong_secret_get_signature_does_not_match(
    emu: Emulator, algorithm: str | None
) -> None:
    from alibabacloud_tea_openapi.exceptions import ClientException

    for send in (_tea_mass_push, _tea_broadcast):
        with pytest.raises(ClientException) as raised:
            send(emu, algorithm, secret="wrong")
        assert raised.value.code == "SignatureDoesNotMatch"
        assert raised.value.status_code == 400
    assert emu.deliveries() == []


TRICKY_KEYS = {"a/b": "slash", "a-b": "dash", "名": "cjk"}


@pytest.mark.parametrize("algorithm", ["v2", None], ids=["v1", "acs3"])
def test_emulator_accepts_tea_requests_with_flattened_tricky_keys(
    emu: Emulator, algorithm: str | None
) -> None:
    # v1 signs these names in raw order; an emulator sorting encoded names refused them.
    from alibabacloud_mpaas20201028 import models as mpaas_models
    from alibabacloud_mpaas20201028.client import Client as MpaasClient
    from alibabacloud_push20160801 import models as push_models
    from alibabacloud_push20160801.client import Client as PushClient

    broadcast = mpaas_models.PushBroadcastRequest().from_map(
        {**LEGACY_BROADCAST, "Msgkey": f"tricky-{algorithm}",
         "TransparentMessagePayload": {"hms": dict(TRICKY_KEYS)}}
    )  # fmt: skip
    assert MpaasClient(_tea_config(emu, algorithm)).push_broadcast(broadcast).body.result_code == (
        "100"
    )
    task = push_models.MassPushRequestPushTask().from_map(
        {**TASK, "StoreOffline": True, "AndroidOppoPrivateContentParameters": dict(TRICKY_KEYS)}
    )
    request = push_models.MassPushRequest(app_key=23267207, push_task=[task])
    PushClient(_tea_config(emu, algorithm)).mass_push(request)
    sent_broadcast, sent_task = emu.deliveries()
    assert json.loads(sent_broadcast["params"]["TransparentMessagePayload"]) == {"hms": TRICKY_KEYS}
    assert json.loads(sent_task["params"]["AndroidOppoPrivateContentParameters"]) == TRICKY_KEYS
