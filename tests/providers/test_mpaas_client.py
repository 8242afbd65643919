"""PushBroadcast (both versions) and the scheduler APIs against the emulator."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from provider_helpers import broadcast, deliveries, providers

from pushops.providers.errors import RequestError
from pushops.providers.mpaas import LEGACY_VERSION


def _run(coro_fn):
    async def go():
        async with providers() as p:
            return await coro_fn(p)

    return asyncio.run(go())


def test_broadcast_2020_returns_result_code_100_and_data(emulator) -> None:
    params = broadcast(ThirdChannelCategory=json.dumps({"hms": "1"}, separators=(",", ":")))
    result = _run(lambda p: p.mpaas(endpoint=emulator.url).push_broadcast(params))
    assert result.result_code == "100"
    assert result.attempts == 1
    [sent] = deliveries(emulator)
    assert sent["msgkey"] == params["Msgkey"]


def test_broadcast_2019_sends_with_its_own_version(emulator) -> None:
    params = broadcast()
    result = _run(
        lambda p: p.mpaas(endpoint=emulator.url, version=LEGACY_VERSION).push_broadcast(params)
    )
    assert result.result_code == "100"
    assert len(deliveries(emulator)) == 1


def test_broadcast_2019_refuses_fields_it_does_not_have(emulator) -> None:
    params = broadcast(StrategyType="0", BindPeriod="1")
    with pytest.raises(ValueError, match="BindPeriod, StrategyType"):
        _run(
            lambda p: p.mpaas(endpoint=emulator.url, version=LEGACY_VERSION).push_broadcast(params)
        )
    assert deliveries(emulator) == []


def test_business_error_in_http_200_is_raised_with_result_code(emulator) -> None:
    params = broadcast()
    del params["TaskName"]
    with pytest.raises(RequestError) as caught:
        _run(lambda p: p.mpaas(endpoint=emulator.url).push_broadcast(params))
    assert caught.value.code == "3019"
    assert caught.value.http_status == 200
    assert caught.value.request_id


def test_scheduled_broadcast_is_listed_and_cancelled(emulator) -> None:
    fixed = int((time.time() + 3600) * 1000)
    params = broadcast(StrategyType="1", StrategyContent=json.dumps({"fixedTime": fixed}))

    async def go(p):
        mpaas = p.mpaas(endpoint=emulator.url)
        pushed = await mpaas.push_broadcast(params)
        listed = await mpaas.query_push_scheduler_list(
            params["AppId"], params["WorkspaceId"], fixed - 60_000, fixed + 60_000
        )
        cancelled = await mpaas.cancel_push_scheduler(
            params["AppId"], params["WorkspaceId"], [str(pushed.data)]
        )
        return pushed, listed, cancelled

    pushed, listed, cancelled = _run(go)
    assert pushed.data
    assert str(pushed.data) in json.dumps(listed.content)
    assert cancelled.result_code == "100"
