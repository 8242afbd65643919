"""MassPush, CancelPush and QueryPushRecords against the emulator over real HTTP."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest
from provider_helpers import AKID, APP_KEY, SECRET, deliveries, providers, task, token

from pushops.providers.rpc import ACS3, V1


@pytest.mark.parametrize("scheme", [V1, ACS3])
def test_mass_push_is_accepted_with_either_signature_scheme(emulator, scheme: str) -> None:
    tasks = [task(1), task(2), task(3)]

    async def go():
        async with providers(signature=scheme) as p:
            return await p.emas(APP_KEY, endpoint=emulator.url).mass_push(tasks, token())

    result = asyncio.run(go())
    assert len(result.message_ids) == 3
    assert result.attempts == 1
    assert result.request_id
    sent = deliveries(emulator)
    assert sorted(d["params"]["TargetValue"] for d in sent) == ["device-1", "device-2", "device-3"]


def test_mass_push_refuses_more_than_100_tasks_before_sending(emulator) -> None:
    async def go():
        async with providers() as p:
            await p.emas(APP_KEY, endpoint=emulator.url).mass_push([task()] * 101, token())

    with pytest.raises(ValueError, match="1 to 100"):
        asyncio.run(go())
    assert deliveries(emulator) == []


def test_repeated_token_returns_the_first_result_and_sends_nothing_more(emulator) -> None:
    same = token()

    async def go():
        async with providers() as p:
            emas = p.emas(APP_KEY, endpoint=emulator.url)
            first = await emas.mass_push([task(1)], same)
            second = await emas.mass_push([task(1)], same)
            return first, second

    first, second = asyncio.run(go())
    assert first.message_ids == second.message_ids
    assert len(deliveries(emulator)) == 1


def test_scheduled_push_can_be_queried_and_cancelled(emulator) -> None:
    later = (datetime.now(timezone.utc) + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    start = (datetime.now(timezone.utc) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    end = (datetime.now(timezone.utc) + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%SZ")

    async def go():
        async with providers() as p:
            emas = p.emas(APP_KEY, endpoint=emulator.url)
            pushed = await emas.mass_push([task(7, PushTime=later)], token())
            page = await emas.query_push_records(start, end, PageSize="100")
            cancelled = await emas.cancel_push(pushed.message_ids[0])
            return pushed, page, cancelled

    pushed, page, cancelled = asyncio.run(go())
    assert pushed.message_ids[0] in {str(r.get("MessageId")) for r in page.records}
    assert cancelled.request_id


def test_blocking_facade_sends_without_an_event_loop(emulator) -> None:
    from pushops.providers import BlockingProviders, Credentials

    with BlockingProviders(Credentials.of(AKID, SECRET), env={}) as p:
        result = p.emas(APP_KEY, endpoint=emulator.url).mass_push([task(5)], token())
    assert len(result.message_ids) == 1
    assert len(deliveries(emulator)) == 1


def test_endpoint_override_from_the_environment_reaches_the_emulator(emulator) -> None:
    from pushops.providers import Credentials, Providers

    async def go():
        env = {"PUSHOPS_EMAS_ENDPOINT": emulator.url}
        async with Providers(Credentials.of(AKID, SECRET), env=env) as p:
            emas = p.emas(APP_KEY, endpoint="https://cloudpush.aliyuncs.com")
            return await emas.mass_push([task()], token())

    assert asyncio.run(go()).message_ids
