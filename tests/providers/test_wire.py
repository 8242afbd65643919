"""What goes where on the wire, and that the signature covers exactly what is sent."""

from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import parse_qsl, urlsplit

from pushops.providers import signing
from pushops.providers.credentials import Credentials
from pushops.providers.emas import push_task_form
from pushops.providers.rpc import ACS3, V1, Call, sign

CREDS = Credentials.of("testAccessKeyId", "testAccessKeySecret")
WHEN = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
TOKEN = "c2a1d8f0-8a0b-4b1e-9c55-3f2d1b7e9a10"
TASKS = [
    {"DeviceType": "ANDROID", "Title": "Hello 世界", "Body": "Body with spaces & symbols *~+/="},
    {"DeviceType": "iOS", "iOSBadge": "3"},
]
CALL = Call(
    "MassPush",
    "2016-08-01",
    {"AppKey": "23267207", "IdempotentToken": TOKEN},
    push_task_form(TASKS),
)


def _signed(scheme: str):
    return sign(
        CALL,
        "http://127.0.0.1:9",
        CREDS,
        scheme=scheme,
        nonce="n-1",
        timestamp=WHEN,
        user_agent="pushops/test",
    )


def test_push_tasks_are_numbered_from_one_in_order() -> None:
    assert push_task_form(TASKS) == {
        "PushTask.1.DeviceType": "ANDROID",
        "PushTask.1.Title": "Hello 世界",
        "PushTask.1.Body": "Body with spaces & symbols *~+/=",
        "PushTask.2.DeviceType": "iOS",
        "PushTask.2.iOSBadge": "3",
    }


def test_v1_puts_app_key_and_token_in_the_query_and_tasks_in_the_body() -> None:
    request = _signed(V1)
    query = dict(parse_qsl(urlsplit(request.url).query, keep_blank_values=True))
    form = dict(parse_qsl(request.body.decode(), keep_blank_values=True))
    assert query["AppKey"] == "23267207" and query["IdempotentToken"] == TOKEN
    assert not any(k.startswith("PushTask") for k in query)
    assert form == CALL.form
    assert (query["Timestamp"], query["SignatureNonce"]) == ("2024-01-02T03:04:05Z", "n-1")
    signature = query.pop("Signature")
    assert signature == signing.rpc_v1_signature("POST", {**query, **form}, "testAccessKeySecret")


def test_acs3_keeps_common_parameters_out_of_the_query() -> None:
    request = _signed(ACS3)
    query = dict(parse_qsl(urlsplit(request.url).query))
    assert query == {"AppKey": "23267207", "IdempotentToken": TOKEN}
    assert request.headers["x-acs-action"] == "MassPush"
    assert request.headers["host"] == "127.0.0.1:9"
    assert request.headers["x-acs-content-sha256"] == signing.sha256_hex(request.body)
    assert request.headers["authorization"].startswith(
        "ACS3-HMAC-SHA256 Credential=testAccessKeyId,SignedHeaders=accept;content-type;host;"
    )


def test_security_token_travels_as_security_token_in_both_schemes() -> None:
    creds = Credentials.of("STS.id", "secret", "the-sts-token")
    v1 = sign(CALL, "https://h", creds, scheme=V1, nonce="n", timestamp=WHEN, user_agent="u")
    assert dict(parse_qsl(urlsplit(v1.url).query))["SecurityToken"] == "the-sts-token"
    v3 = sign(CALL, "https://h", creds, scheme=ACS3, nonce="n", timestamp=WHEN, user_agent="u")
    assert v3.headers["x-acs-security-token"] == "the-sts-token"
    assert "x-acs-security-token" in v3.headers["authorization"]


def test_a_form_field_named_like_a_query_parameter_signs_the_form_value() -> None:
    # The slow path of _sign_v1: the two cannot be merged as pre-sorted items.
    tasks = {f"PushTask.{n}.Title": f"t {n}" for n in range(1, 30)}
    call = Call("MassPush", "2016-08-01", {"AppKey": "1"}, {**tasks, "AppKey": "2"})
    moment = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    creds = Credentials.of("ak", "sk")
    request = sign(
        call, "http://h", creds, scheme="v1", nonce="n", timestamp=moment, user_agent="u"
    )
    query = dict(parse_qsl(request.url.split("?", 1)[1]))
    signature = query.pop("Signature")
    params = {**query, **dict(parse_qsl(request.body.decode()))}
    assert params["AppKey"] == "2"
    assert signing.rpc_v1_signature("POST", params, "sk") == signature
