"""Provider failures, sorted by what the caller should do about them.

Three classes (issue 4, item 4):

- retryable: the same request, with the same IdempotentToken/Msgkey, may succeed later
  (InternalError, Timeout, Throttling.*, HTTP 5xx, lost connections, mPaaS 8011 and 9000);
- fatal for the request: this request is wrong and no retry fixes it (Invalid*, Missing*,
  mPaaS 3xxx), the rest of the run carries on;
- fatal for the run: nothing this run sends can succeed (bad signature or key, no
  permission, disabled account), so the run stops before sending more.

Two deliberate readings beyond the issue's list: ``InvalidTimeStamp.*`` is fatal for the run
(our clock is off or our formatting is broken, so every request would fail the same way) and
``SignatureNonceUsed`` is retryable (each attempt carries a fresh nonce).
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping

from pushops.diagnostics import PushopsError


class Severity(str, enum.Enum):
    RETRYABLE = "retryable"
    FATAL_REQUEST = "fatal-request"
    FATAL_RUN = "fatal-run"


MPAAS_SUCCESS = "100"

_RUN_CODES = frozenset(
    {
        "SignatureDoesNotMatch",
        "IncompleteSignature",
        "InvalidSignatureMethod",
        "InvalidAccessKeySecret",
        "PermissionDenied",
        "AccountDisabled",
        "InvalidProduct.NotFound",
        "InvalidApi.NotFound",
        "InvalidProtocol.NeedSsl",
        "-1",  # mPaaS SIGNATURE_MISMATCH
        "8014",  # mPaaS ACCOUNT_NO_PERMISSION
    }
)
_RUN_PREFIXES = ("InvalidAccessKeyId.", "InvalidSecurityToken.", "InvalidTimeStamp.")

_RETRY_CODES = frozenset(
    {
        "InternalError",
        "ServiceUnavailable",
        "Timeout",
        "SignatureNonceUsed",
        "8011",  # mPaaS FLOW_CONTROL_ERROR
        "9000",  # mPaaS system error
    }
)
_RETRY_PREFIXES = ("Throttling", "Timeout.", "Transport.")


def classify(code: str, http_status: int | None = None) -> Severity:
    """The class of a provider error code; the HTTP status decides only for unknown codes."""
    if code in _RUN_CODES or code.startswith(_RUN_PREFIXES):
        return Severity.FATAL_RUN
    if code in _RETRY_CODES or code.startswith(_RETRY_PREFIXES):
        return Severity.RETRYABLE
    if http_status is not None and (http_status >= 500 or http_status == 429):
        return Severity.RETRYABLE
    # Invalid*, Missing*, mPaaS 3xxx/8012/8013 and whatever else a 4xx or ResultCode says:
    # the provider understood and refused this request.
    return Severity.FATAL_REQUEST


class ProviderError(PushopsError):
    """A provider refused or failed a request.

    ``outcome_unknown`` is true when the request may have been executed although no answer
    said so (lost connection, timeout, 5xx): the caller must not treat it as "not sent".
    """

    severity: Severity = Severity.FATAL_REQUEST

    def __init__(
        self,
        code: str,
        message: str,
        *,
        request_id: str | None = None,
        http_status: int | None = None,
        retry_after: float | None = None,
        outcome_unknown: bool = False,
        action: str | None = None,
    ) -> None:
        self.code = code
        self.message = message
        self.request_id = request_id
        self.http_status = http_status
        self.retry_after = retry_after
        self.outcome_unknown = outcome_unknown
        self.action = action
        self.attempts = 1
        self.body: Mapping[str, object] = {}  # the provider's answer, when it was JSON
        super().__init__(self._summary())

    def _summary(self) -> str:
        where = [f"HTTP {self.http_status}"] if self.http_status else []
        if self.request_id:
            where.append(f"RequestId {self.request_id}")
        suffix = f" ({', '.join(where)})" if where else ""
        prefix = f"{self.action}: " if self.action else ""
        return f"{prefix}{self.code}: {self.message}{suffix}"

    def __str__(self) -> str:
        tail = f" after {self.attempts} attempts" if self.attempts > 1 else ""
        return self._summary() + tail

    def to_json(self) -> dict[str, object]:
        return {
            "code": self.code,
            "message": self.message,
            "request_id": self.request_id,
            "http_status": self.http_status,
            "severity": self.severity.value,
            "attempts": self.attempts,
            "outcome_unknown": self.outcome_unknown,
        }


class RetryableError(ProviderError):
    severity = Severity.RETRYABLE


class RequestError(ProviderError):
    severity = Severity.FATAL_REQUEST


class RunFatalError(ProviderError):
    severity = Severity.FATAL_RUN


class RunStopped(RunFatalError):
    """Not sent: an earlier request of this run hit an error that is fatal for the run."""

    def __init__(self, cause: ProviderError, action: str | None = None) -> None:
        super().__init__(
            cause.code,
            f"run stopped before sending, after: {cause}",
            action=action,
        )
        self.cause = cause


_BY_SEVERITY: dict[Severity, type[ProviderError]] = {
    Severity.RETRYABLE: RetryableError,
    Severity.FATAL_REQUEST: RequestError,
    Severity.FATAL_RUN: RunFatalError,
}


def make_error(
    code: str, message: str, *, http_status: int | None = None, **kwargs: object
) -> ProviderError:
    """An instance of the class :func:`classify` picks for ``code``."""
    cls = _BY_SEVERITY[classify(code, http_status)]
    return cls(code, message, http_status=http_status, **kwargs)  # type: ignore[arg-type]


def _first(body: Mapping[str, object], *keys: str) -> str | None:
    for key in keys:
        value = body.get(key)
        if value is not None:
            return str(value)
    return None


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """``x-acs-retry-after`` is milliseconds; only a positive integer counts (as in Tea)."""
    raw = headers.get("x-acs-retry-after")
    if raw is None:
        return None
    try:
        millis = int(raw.strip())
    except ValueError:
        return None
    return millis / 1000.0 if millis > 0 else None


def parse_json_body(content: bytes) -> dict[str, object] | None:
    try:
        body = json.loads(content)
    except (ValueError, UnicodeDecodeError):
        return None
    return body if isinstance(body, dict) else None


_STS_MARKER = "string to sign is:"


def _without_string_to_sign(message: str) -> str:
    # SignatureDoesNotMatch echoes the server's string to sign, and for signature v1 that
    # holds every signed parameter, the STS SecurityToken included: never keep it.
    head, marker, _ = message.partition(_STS_MARKER)
    return f"{head}{marker} [omitted]" if marker else message


def error_from_http(
    status: int, headers: Mapping[str, str], content: bytes, action: str | None = None
) -> ProviderError:
    """The error an HTTP 4xx/5xx answer in the POP envelope stands for."""
    body = parse_json_body(content) or {}
    code = _first(body, "Code", "code") or f"HTTP{status}"
    message = _first(body, "Message", "message") or content[:200].decode("utf-8", "replace")
    message = _without_string_to_sign(message)
    return make_error(
        code,
        message,
        http_status=status,
        request_id=_first(body, "RequestId", "requestId"),
        retry_after=retry_after_seconds(headers),
        outcome_unknown=status >= 500,
        action=action,
    )


def error_from_result_code(body: Mapping[str, object], action: str | None = None) -> ProviderError:
    """The error an mPaaS HTTP 200 answer with ResultCode other than "100" stands for."""
    code = _first(body, "ResultCode", "resultCode") or "?"
    error = make_error(
        code,
        _first(body, "ResultMessage", "resultMessage") or "",
        http_status=200,
        request_id=_first(body, "RequestId", "requestId"),
        # 9000 is a server-side failure: the push may or may not have been accepted.
        outcome_unknown=code == "9000",
        action=action,
    )
    error.body = body
    return error
