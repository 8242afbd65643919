"""The errors the emulator answers with, in the two shapes the real services use.

Gateway and EMAS errors: an HTTP 4xx/5xx status and the POP envelope
``{RequestId, HostId, Code, Message, Recommend}`` (api-facts §0.3, §2.5).
mPaaS business errors: HTTP 200 with a ``ResultCode`` other than ``100`` (api-facts §1.4).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

# Codes whose status and message are documented (api-facts §2.5, §5.2, §5.3), plus the few we
# emit where the docs are silent (marked "our reading" in pushops/emulator/README.md).
GATEWAY_ERRORS: dict[str, tuple[int, str]] = {
    "InvalidApi.NotFound": (404, "Specified api is not found, please check your url and method."),
    "InvalidAccessKeyId.NotFound": (400, "Specified access key is not found."),
    "InvalidTimeStamp.Format": (400, "Specified time stamp or date value is not well formatted."),
    "InvalidTimeStamp.Expired": (
        400,
        "Specified time stamp or date value is expired.",
    ),
    "SignatureNonceUsed": (400, "Specified signature nonce was used already."),
    "SignatureDoesNotMatch": (400, "Specified signature is not matched with our calculation."),
    "IncompleteSignature": (400, "The request signature does not conform to Aliyun standards."),
    "InvalidSignatureMethod": (400, "Specified signature method is not supported."),
    "Throttling.User": (400, "Request was denied due to user flow control."),
    "Throttling.Api": (400, "Request was denied due to api flow control."),
    "InternalError": (
        500,
        "The request processing has failed due to some unknown error. Please try again. "
        "If the error still exists, submit a ticket.",
    ),
    "Timeout": (500, "The request processing is timeout."),
    "ServiceUnavailable": (503, "The request has failed due to a temporary failure of the server."),
    "InvalidMessageId.NotFound": (404, "The specified MessageId is not found."),
    "InvalidMessageId.NotCancellable": (400, "The specified push has already been sent."),
    "PermissionDenied": (400, "The specified AppKey is not authorized."),
    "AccountDisabled": (400, "Your account is not enabled."),
    "TargetNotSupported": (400, "Target is not supported for batch push."),
    "Invalid.Parameter": (400, "The specified parameter is invalid: %s."),
}

# mPaaS ResultCodes (api-facts §1.4): code -> name.
MPAAS_RESULTS: dict[str, str] = {
    "100": "SUCCESS",
    "3003": "NEED_APPID_WORKSPACEID",
    "3009": "DELIVERY_TYPE_NOT_SUPPORTED",
    "3019": "TASKNAME_NULL",
    "3020": "EXPIREDSECONDS_WRONG",
    "3025": "NEED_TEMPLATE",
    "3026": "EXPIREDTIME_TOO_LONG",
    "3028": "INVALID_PARAM",
    "3035": "EXTEND_PARAM_TO_MUCH",
    "3044": "INVALID_EXTEND_PARAM",
    "8011": "FLOW_CONTROL_ERROR",
    "8012": "INVALID_INSTANCE_ID",
    "8013": "INVALID_TENANT_ID",
    "8014": "ACCOUNT_NO_PERMISSION",
    "9000": "SYSTEM_ERROR",
}


class ApiError(Exception):
    """A gateway/EMAS error: HTTP status + POP envelope."""

    def __init__(self, code: str, message: str | None = None, status: int | None = None) -> None:
        known_status, known_message = GATEWAY_ERRORS.get(code, (400, ""))
        self.code = code
        self.status = status or known_status
        self.message = message or known_message or code
        super().__init__(f"{self.code}: {self.message}")


def missing(name: str) -> ApiError:
    return ApiError(f"Missing{name}", f"{name} is mandatory for this action.")


def invalid(name: str, kind: str = "Format", limit: str = "", where: str | None = None) -> ApiError:
    """``Invalid{Name}.{Format|LengthExceed|BytesExceed|Empty}`` with the documented message
    (api-facts §5.3); ``where`` (``PushTask.3.Title``) fills its ``%s`` instead of the bare
    name, ``limit`` the limit of the Exceed ones."""
    shown = where or name
    message = {
        "Format": f"The specified {shown} format is invalid.",
        "LengthExceed": f"The specified {shown} length cannot be greater than {limit}.",
        "BytesExceed": f"The specified {shown} exceeds the {limit} bytes limit.",
        "Empty": f"The specified {shown} cannot be empty.",
    }[kind]
    return ApiError(f"Invalid{name}.{kind}", message)


def invalid_parameter(what: str) -> ApiError:
    """``Invalid.Parameter``: "The specified parameter is invalid: %s." (api-facts §5.3)."""
    return ApiError("Invalid.Parameter", f"The specified parameter is invalid: {what}.")


class MpaasError(Exception):
    """An mPaaS business error: HTTP 200 with this ResultCode."""

    def __init__(self, result_code: str, message: str | None = None, data: str | None = None):
        self.result_code = result_code
        self.message = message or MPAAS_RESULTS.get(result_code, "ERROR")
        self.data = data
        super().__init__(f"{result_code}: {self.message}")


def envelope(request_id: str, host_id: str, code: str, message: str) -> dict[str, Any]:
    return {
        "RequestId": request_id,
        "HostId": host_id,
        "Code": code,
        "Message": message,
        "Recommend": f"https://api.aliyun.com/troubleshoot?q={quote(code)}",
    }


def mpaas_result(request_id: str, error: MpaasError) -> dict[str, Any]:
    result: dict[str, Any] = {"Success": False, "ResultMsg": error.message}
    if error.data is not None:
        result["Data"] = error.data
    return {
        "RequestId": request_id,
        "ResultCode": error.result_code,
        "ResultMessage": error.message,
        "PushResult": result,
    }
