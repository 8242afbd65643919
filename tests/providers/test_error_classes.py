"""Every documented code maps to retryable, fatal for the request, or fatal for the run."""

from __future__ import annotations

import pytest

from pushops.providers.errors import (
    RequestError,
    RetryableError,
    RunFatalError,
    Severity,
    classify,
    error_from_http,
    error_from_result_code,
)

RETRYABLE = [
    ("InternalError", 500),
    ("ServiceUnavailable", 503),
    ("Timeout", 500),
    ("Throttling.User", 400),
    ("Throttling.Api", 400),
    ("Throttling", 429),
    ("SignatureNonceUsed", 400),
    ("SomethingNew", 502),
    ("8011", 200),
    ("9000", 200),
]
FATAL_REQUEST = [
    ("InvalidExpireTime.Format", 400),
    ("InvalidTitle.LengthExceed", 400),
    ("InvalidBody.BytesExceed", 400),
    ("InvalidTargetValue.Empty", 400),
    ("InvalidPeriod.ExceedDays", 400),
    ("InvalidMessageId.NotFound", 404),
    ("InvalidMessageId.NotCancellable", 400),
    ("MissingAppKey", 400),
    ("MissingPushTask", 400),
    ("TargetNotSupported", 400),
    ("SendSpeedNotSupported", 400),
    ("FileNotExist", 400),
    ("IncorrectPassword", 400),
    ("NotApnsCertificate", 400),
    ("SomethingNew", 400),
    ("3001", 200),
    ("3019", 200),
    ("3028", 200),
    ("3044", 200),
    ("8012", 200),
    ("8013", 200),
]
FATAL_RUN = [
    ("SignatureDoesNotMatch", 400),
    ("IncompleteSignature", 400),
    ("InvalidSignatureMethod", 400),
    ("InvalidAccessKeyId.NotFound", 400),
    ("InvalidAccessKeyId.Inactive", 400),
    ("PermissionDenied", 400),
    ("AccountDisabled", 400),
    ("InvalidTimeStamp.Expired", 400),
    ("InvalidTimeStamp.Format", 400),
    ("InvalidProtocol.NeedSsl", 404),
    ("InvalidApi.NotFound", 404),
    ("InvalidProduct.NotFound", 404),
    ("-1", 200),
    ("8014", 200),
]


@pytest.mark.parametrize(
    ("code", "status", "severity"),
    [(c, s, Severity.RETRYABLE) for c, s in RETRYABLE]
    + [(c, s, Severity.FATAL_REQUEST) for c, s in FATAL_REQUEST]
    + [(c, s, Severity.FATAL_RUN) for c, s in FATAL_RUN],
)
def test_code_is_classified(code: str, status: int, severity: Severity) -> None:
    assert classify(code, status) is severity


def test_pop_envelope_becomes_an_error_with_code_message_request_id_and_status() -> None:
    body = (
        b'{"RequestId":"R-1","HostId":"cloudpush.aliyuncs.com","Code":"Throttling.User",'
        b'"Message":"Request was denied due to user flow control.","Recommend":"x"}'
    )
    error = error_from_http(400, {"x-acs-retry-after": "1500"}, body, "MassPush")
    assert isinstance(error, RetryableError)
    assert (error.code, error.request_id, error.http_status) == ("Throttling.User", "R-1", 400)
    assert error.message.startswith("Request was denied")
    assert error.retry_after == 1.5
    assert "Throttling.User" in str(error) and "R-1" in str(error)


def test_unparseable_5xx_is_retryable_and_may_have_executed() -> None:
    error = error_from_http(502, {}, b"<html>bad gateway</html>")
    assert isinstance(error, RetryableError)
    assert error.code == "HTTP502"
    assert error.outcome_unknown


@pytest.mark.parametrize(("raw", "seconds"), [("0", None), ("-5", None), ("soon", None)])
def test_retry_after_counts_only_when_a_positive_integer(raw: str, seconds: None) -> None:
    error = error_from_http(400, {"x-acs-retry-after": raw}, b'{"Code":"Throttling.User"}')
    assert error.retry_after is seconds


def test_mpaas_result_code_body_becomes_an_error() -> None:
    body = {"RequestId": "R-2", "ResultCode": "3019", "ResultMessage": "TASKNAME_NULL"}
    error = error_from_result_code(body, "PushBroadcast")
    assert isinstance(error, RequestError)
    assert (error.code, error.message, error.http_status) == ("3019", "TASKNAME_NULL", 200)
    assert isinstance(error_from_result_code({"ResultCode": "-1"}), RunFatalError)
