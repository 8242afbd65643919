"""Errors from the emulator land in the right class; retries keep the token; run-fatal stops."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from datetime import datetime, timedelta, timezone

import pytest
from provider_helpers import AKID, APP_KEY, broadcast, deliveries, providers, task, token

from pushops.providers.credentials import Credentials
from pushops.providers.errors import (
    RequestError,
    RetryableError,
    RunFatalError,
    RunStopped,
)
from pushops.providers.mpaas import DuplicateMsgkey
from pushops.providers.retry import NO_RETRY, RetryPolicy

GATEWAY_RETRYABLE = ["Throttling.User", "InternalError", "ServiceUnavailable", "SignatureNonceUsed"]
GATEWAY_FATAL_REQUEST = [
    "InvalidMessageId.NotFound",
    "InvalidMessageId.NotCancellable",
    "InvalidPeriod.ExceedDays",
    "TargetNotSupported",
    "InvalidTitle.Format",
    "MissingTitle",
]
GATEWAY_FATAL_RUN = [
    "SignatureDoesNotMatch",
    "IncompleteSignature",
    "InvalidSignatureMethod",
    "InvalidAccessKeyId.NotFound",
    "InvalidTimeStamp.Expired",
    "InvalidTimeStamp.Format",
    "InvalidApi.NotFound",
    "PermissionDenied",
    "AccountDisabled",
]
MPAAS_RETRYABLE = ["8011", "9000"]
MPAAS_FATAL_REQUEST = ["3003", "3009", "3019", "3020", "3025", "3026", "3028", "3035", "3044",
                       "8012", "8013"]  # fmt: skip
MPAAS_FATAL_RUN = ["8014"]


def _mass_push(emulator, **options):
    async def go():
        async with providers(**options) as p:
            return await p.emas(APP_KEY, endpoint=emulator.url).mass_push([task()], token())

    return asyncio.run(go())


def _broadcast(emulator, params=None, **options):
    async def go():
        async with providers(**options) as p:
            return await p.mpaas(endpoint=emulator.url).push_broadcast(params or broadcast())

    return asyncio.run(go())


@pytest.mark.parametrize(
    ("code", "cls"),
    [(c, RetryableError) for c in GATEWAY_RETRYABLE]
    + [(c, RequestError) for c in GATEWAY_FATAL_REQUEST]
    + [(c, RunFatalError) for c in GATEWAY_FATAL_RUN],
)
def test_gateway_error_lands_in_its_class(emulator, code: str, cls: type) -> None:
    emulator.enqueue_fault(code=code)
    with pytest.raises(cls) as caught:
        _mass_push(emulator, retry=NO_RETRY)
    error = caught.value
    assert error.code == code
    assert error.request_id and error.http_status and error.http_status >= 400
    assert error.message


@pytest.mark.parametrize(
    ("code", "cls"),
    [(c, RetryableError) for c in MPAAS_RETRYABLE]
    + [(c, RequestError) for c in MPAAS_FATAL_REQUEST]
    + [(c, RunFatalError) for c in MPAAS_FATAL_RUN],
)
def test_mpaas_result_code_lands_in_its_class(emulator, code: str, cls: type) -> None:
    emulator.enqueue_fault(result_code=code)
    with pytest.raises(cls) as caught:
        _broadcast(emulator, retry=NO_RETRY)
    assert caught.value.code == code
    assert caught.value.http_status == 200


def test_http_503_without_envelope_is_retryable(emulator) -> None:
    emulator.enqueue_fault(status=503)
    with pytest.raises(RetryableError) as caught:
        _mass_push(emulator, retry=NO_RETRY)
    assert caught.value.http_status == 503
    assert caught.value.outcome_unknown


def test_invalid_parameter_from_validation_is_fatal_for_the_request_only(emulator) -> None:
    with pytest.raises(RequestError) as caught:

        async def go():
            async with providers() as p:
                emas = p.emas(APP_KEY, endpoint=emulator.url)
                try:
                    await emas.mass_push([task(DeviceType="WINDOWS")], token())
                finally:
                    # the run carries on: the next call is sent and succeeds
                    ok = await emas.mass_push([task()], token())
                    assert ok.message_ids

        asyncio.run(go())
    assert caught.value.code.startswith("Invalid")
    assert len(deliveries(emulator)) == 1


def test_retryable_errors_are_retried_with_the_same_token_until_success(emulator, caplog) -> None:
    caplog.set_level(logging.DEBUG, logger="pushops.providers")
    emulator.enqueue_fault(code="Throttling.User")
    emulator.enqueue_fault(code="InternalError")
    emulator.enqueue_fault(status=503)
    the_token = token()

    async def go():
        async with providers() as p:
            return await p.emas(APP_KEY, endpoint=emulator.url).mass_push([task(1)], the_token)

    result = asyncio.run(go())
    assert result.attempts == 4
    keys = re.findall(r"MassPush key=(\S+) ->", caplog.text)
    assert keys == [the_token] * 4
    [sent] = deliveries(emulator)
    assert sent["idempotent_token"] == the_token


def test_mpaas_flow_control_is_retried_with_the_same_msgkey(emulator, caplog) -> None:
    # 8011 refused the call (nothing executed): repeating it cannot send twice.
    caplog.set_level(logging.DEBUG, logger="pushops.providers")
    emulator.enqueue_fault(result_code="8011")
    emulator.enqueue_fault(code="Throttling.User")
    params = broadcast()
    result = _broadcast(emulator, params)
    assert result.attempts == 3
    assert re.findall(r"PushBroadcast key=(\S+) ->", caplog.text) == [params["Msgkey"]] * 3
    assert len(deliveries(emulator)) == 1


@pytest.mark.parametrize(
    "fault",
    [{"drop": True}, {"result_code": "9000"}, {"code": "InternalError"}, {"status": 503}],
    ids=["answer-lost", "9000", "InternalError", "503"],
)
def test_a_broadcast_that_may_have_executed_is_never_repeated(emulator, fault) -> None:
    # No document says what mPaaS answers to a repeated Msgkey: it may send it again.
    emulator.enqueue_fault(action="PushBroadcast", **fault)
    emulator.enqueue_fault(action="PushBroadcast", code="InternalError")  # a repeat's answer
    with pytest.raises(RetryableError) as caught:
        _broadcast(emulator, broadcast())
    assert caught.value.outcome_unknown and caught.value.attempts == 1
    assert len(emulator.app.faults.queue) == 1  # the second fault was never reached
    assert len(deliveries(emulator)) == (1 if fault.get("drop") else 0)


def test_a_mass_push_whose_answer_was_lost_is_repeated_with_its_token(emulator) -> None:
    # EMAS documents the 15-minute IdempotentToken dedup: a repeat is safe and settles it.
    emulator.enqueue_fault(drop=True, action="MassPush")
    result = _mass_push(emulator)
    assert result.attempts == 2 and len(deliveries(emulator)) == 1


def test_msgkey_used_by_an_earlier_run_is_reported_with_the_existing_task(emulator) -> None:
    params = broadcast()
    first = _broadcast(emulator, params)
    with pytest.raises(DuplicateMsgkey) as caught:
        _broadcast(emulator, params)
    assert caught.value.existing == first.data
    assert len(deliveries(emulator)) == 1


def test_retry_budget_exhausted_reports_the_last_error_and_attempts(emulator) -> None:
    for _ in range(4):
        emulator.enqueue_fault(code="InternalError")
    with pytest.raises(RetryableError) as caught:
        _mass_push(emulator)
    assert caught.value.attempts == 4
    assert "after 4 attempts" in str(caught.value)
    assert deliveries(emulator) == []


def test_fatal_for_run_stops_every_later_call_without_sending(emulator) -> None:
    emulator.enqueue_fault(code="SignatureDoesNotMatch")

    async def go():
        # One call in flight at a time, so the fault hits the first call.
        async with providers(max_in_flight=1) as p:
            emas = p.emas(APP_KEY, endpoint=emulator.url)
            results = await asyncio.gather(
                *(emas.mass_push([task(i)], token()) for i in range(5)), return_exceptions=True
            )
            return results, p.transport

    results, transport = asyncio.run(go())
    assert type(results[0]) is RunFatalError
    assert all(isinstance(r, RunStopped) for r in results[1:])
    assert transport.attempts == 1
    assert transport.stopped is results[0]
    assert deliveries(emulator) == []


def test_wrong_secret_is_fatal_for_the_run(emulator) -> None:
    with pytest.raises(RunFatalError) as caught:
        _mass_push(emulator, credentials=Credentials.of(AKID, "not-the-secret"))
    assert caught.value.code == "SignatureDoesNotMatch"


def test_unknown_access_key_is_fatal_for_the_run(emulator) -> None:
    with pytest.raises(RunFatalError) as caught:
        _mass_push(emulator, credentials=Credentials.of("nobody", "x"))
    assert caught.value.code == "InvalidAccessKeyId.NotFound"


def test_clock_skew_beyond_15_minutes_is_fatal_for_the_run(emulator) -> None:
    skewed = datetime.now(timezone.utc) - timedelta(minutes=20)

    with pytest.raises(RunFatalError) as caught:
        _mass_push(emulator, clock=lambda: skewed)
    assert caught.value.code == "InvalidTimeStamp.Expired"


def test_connection_refused_is_retryable_and_known_not_sent() -> None:
    async def go():
        async with providers(retry=NO_RETRY) as p:
            await p.emas(APP_KEY, endpoint="http://127.0.0.1:9").mass_push([task()], token())

    with pytest.raises(RetryableError) as caught:
        asyncio.run(go())
    assert caught.value.code == "Transport.ConnectError"
    assert not caught.value.outcome_unknown


def test_read_timeout_is_retryable_and_may_have_executed(emulator) -> None:
    emulator.configure(latency_ms=300)
    with pytest.raises(RetryableError) as caught:
        _mass_push(emulator, retry=NO_RETRY, read_timeout=0.05)
    assert caught.value.code == "Transport.Timeout"
    assert caught.value.outcome_unknown
    # It did execute: the provider got the call even though the answer never came in time.
    assert len(deliveries(emulator)) == 1


def test_a_429_with_retry_after_is_waited_out_then_retried(emulator) -> None:
    # x-acs-retry-after is milliseconds; the wait is at least that, whatever the backoff says.
    emulator.enqueue_fault(status=429, retry_after_ms=400, action="MassPush")
    started = time.monotonic()
    result = _mass_push(emulator)
    waited = time.monotonic() - started
    assert result.attempts == 2 and len(deliveries(emulator)) == 1
    assert waited >= 0.4


def test_the_quota_answering_429_with_retry_after_paces_the_client(emulator) -> None:
    emulator.configure(quota=2, throttle_status=429, retry_after_ms=300)

    async def go():
        # 4 calls need 2 one-second windows; each retry waits >= 0.3 s: 12 attempts is ample.
        async with providers(retry=RetryPolicy(max_attempts=12, base_delay=0.01)) as p:
            emas = p.emas(APP_KEY, endpoint=emulator.url, mass_push_rate=None)
            results = await asyncio.gather(*(emas.mass_push([task(i)], token()) for i in range(4)))
            return results, p.transport

    results, transport = asyncio.run(go())
    assert all(r.message_ids for r in results)
    assert transport.failures["Throttling.User"] > 0  # it was throttled, and recovered
    assert len(deliveries(emulator)) == 4
