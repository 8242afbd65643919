"""Signing: byte-identical to the official SDKs for the same request, nonce and timestamp.

The SDKs are oracles only. Each one sends a real request over loopback to a capture server;
the test re-signs what arrived with ``pushops.providers.signing`` and compares. The worked
examples of api-facts §3 are fixed vectors.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from unittest import mock
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from pushops.providers import signing

AK, SECRET = "testAccessKeyId", "testAccessKeySecret"
NONCE = "c0ffee00-0000-4000-8000-000000000001"
TIMESTAMP = "2024-01-02T03:04:05Z"
TOKEN = "c2a1d8f0-8a0b-4b1e-9c55-3f2d1b7e9a10"
USER_AGENT = "AlibabaCloud (Linux; x86_64) Python/3.11.0 Core/0.4.3 TeaDSL/2"

# The two PushTasks of api-facts worked example 2 (legacy wire values: strings).
TASKS: list[dict[str, str]] = [
    {
        "DeviceType": "ANDROID",
        "PushType": "NOTICE",
        "Target": "DEVICE",
        "TargetValue": "deviceid1,deviceid2",
        "Title": "Hello 世界",
        "Body": "Body with spaces & symbols *~+/=",
        "JobKey": "job-001",
        "PushTime": "2024-01-02T04:00:00Z",
        "ExpireTime": "2024-01-03T04:00:00Z",
        "StoreOffline": "true",
        "AndroidOpenType": "URL",
        "AndroidOpenUrl": "https://example.com/a?b=c&d=e",
        "AndroidExtParameters": '{"k1":"v1","k2":2}',
    },
    {
        "DeviceType": "iOS",
        "PushType": "MESSAGE",
        "Target": "ACCOUNT",
        "TargetValue": "account1,account2",
        "Title": "t2",
        "Body": "b2",
        "JobKey": "job-002",
        "iOSApnsEnv": "DEV",
        "iOSBadge": "3",
    },
]

# The PushBroadcast of api-facts worked example 1 (form fields as strings).
BROADCAST: dict[str, str] = {
    "AppId": "ONEX570DA89211721",
    "WorkspaceId": "test",
    "DeliveryType": "1",
    "Msgkey": "msgkey-20240102-0001",
    "ExpiredSeconds": "300",
    "TemplateName": "tmpl_broadcast",
    "TaskName": "broadcast task",
    "TemplateKeyValue": '{"name":"张三","amount":"100"}',
    "PushStatus": "0",
    "UnBindPeriod": "1",
    "AndroidChannel": "1",
    "StrategyType": "1",
    "StrategyContent": (
        '{"fixedTime":1704171600000,"startTime":1704171600000,"endTime":1704258000000}'
    ),
    "NotifyType": "transparent",
    "PushAction": "0",
    "Silent": "1",
    "ExtendedParams": '{"badge":"1"}',
}
# The 14 fields of the legacy 2019-08-21 request.
LEGACY_BROADCAST_FIELDS = [
    *("AppId", "WorkspaceId", "DeliveryType", "Msgkey", "ExpiredSeconds", "TemplateName"),
    *("TemplateKeyValue", "TaskName", "PushAction", "Silent", "NotifyType", "ExtendedParams"),
    *("PushStatus", "UnBindPeriod"),
]


# --- fixed vectors from api-facts §3 --------------------------------------------------------

EXAMPLE1_CANONICAL = (
    "AccessKeyId=testAccessKeyId&Action=PushBroadcast&AndroidChannel=1&AppId=ONEX570DA89211721"
    "&DeliveryType=1&ExpiredSeconds=300&ExtendedParams=%7B%22badge%22%3A%221%22%7D&Format=json"
    "&Msgkey=msgkey-20240102-0001&NotifyType=transparent&PushAction=0&PushStatus=0"
    "&SignatureMethod=HMAC-SHA1&SignatureNonce=c0ffee00-0000-4000-8000-000000000001"
    "&SignatureVersion=1.0&Silent=1&StrategyContent=%7B%22fixedTime%22%3A1704171600000%2C"
    "%22startTime%22%3A1704171600000%2C%22endTime%22%3A1704258000000%7D&StrategyType=1"
    "&TaskName=broadcast%20task&TemplateKeyValue=%7B%22name%22%3A%22%E5%BC%A0%E4%B8%89%22%2C"
    "%22amount%22%3A%22100%22%7D&TemplateName=tmpl_broadcast"
    "&ThirdChannelCategory=%7B%22hms%22%3A%221%22%2C%22vivo%22%3A%221%22%7D"
    "&Timestamp=2024-01-02T03%3A04%3A05Z&UnBindPeriod=1&Version=2020-10-28&WorkspaceId=test"
)

EXAMPLE3_CANONICAL_REQUEST = "\n".join(
    [
        "POST",
        "/",
        f"AppKey=23267207&IdempotentToken={TOKEN}",
        "accept:application/json",
        "content-type:application/x-www-form-urlencoded",
        "host:cloudpush.aliyuncs.com",
        f"user-agent:{USER_AGENT}",
        "x-acs-action:MassPush",
        "x-acs-content-sha256:e3bbe05f1730395bb8e705361e97ba1a3fbc3cf9127b79f4c3bf2ae7c12e9614",
        "x-acs-credentials-provider:static_ak",
        "x-acs-date:2024-01-02T03:04:05Z",
        f"x-acs-signature-nonce:{NONCE}",
        "x-acs-version:2016-08-01",
        "",
        "accept;content-type;host;user-agent;x-acs-action;x-acs-content-sha256;"
        "x-acs-credentials-provider;x-acs-date;x-acs-signature-nonce;x-acs-version",
        "e3bbe05f1730395bb8e705361e97ba1a3fbc3cf9127b79f4c3bf2ae7c12e9614",
    ]
)


def _decode_canonical(canonical: str) -> dict[str, str]:
    return dict(parse_qsl(canonical.replace("+", "%2B"), keep_blank_values=True))


def test_percent_encode_follows_rfc3986_over_utf8() -> None:
    assert signing.percent_encode("a b*c~d/e+f=") == "a%20b%2Ac~d%2Fe%2Bf%3D"
    assert signing.percent_encode("世") == "%E4%B8%96"
    assert signing.percent_encode("AZaz09-_.~") == "AZaz09-_.~"
    assert signing.percent_encode("") == ""


@given(st.text())
def test_percent_encode_equals_quote_with_only_tilde_safe(s: str) -> None:
    # Twice: the second call answers from the memo and must agree with the first.
    expected = quote(s, safe="~")
    assert signing.percent_encode(s) == expected
    assert signing.percent_encode(s) == expected


def test_rpc_v1_worked_example_1_tea_mpaas_push_broadcast() -> None:
    params = _decode_canonical(EXAMPLE1_CANONICAL)
    assert signing.canonical_query(params) == EXAMPLE1_CANONICAL
    sts = signing.rpc_v1_string_to_sign("POST", params)
    assert sts == "POST&%2F&" + quote(EXAMPLE1_CANONICAL, safe="~")
    assert signing.rpc_v1_signature("POST", params, SECRET) == "nHtgiQg1AynBjwAAOB0Ofpw8rSc="


def test_rpc_v1_worked_example_2_legacy_mass_push() -> None:
    params = {
        "AppKey": "23267207",
        "IdempotentToken": TOKEN,
        "Version": "2016-08-01",
        "Action": "MassPush",
        "Format": "JSON",
        "RegionId": "cn-hangzhou",
        "Timestamp": TIMESTAMP,
        "SignatureMethod": "HMAC-SHA1",
        "SignatureType": "",
        "SignatureVersion": "1.0",
        "SignatureNonce": NONCE,
        "AccessKeyId": AK,
    }
    for n, task in enumerate(TASKS, 1):
        params.update({f"PushTask.{n}.{k}": v for k, v in task.items()})
    sts = signing.rpc_v1_string_to_sign("POST", params)
    assert "%26PushTask.2.Title%3Dt2%26PushTask.2.iOSApnsEnv%3DDEV%26" in sts
    assert "%26SignatureType%3D%26" in sts
    assert signing.rpc_v1_signature("POST", params, SECRET) == "5mKf7KrPtXJF9tzCcGhFfMMHGCk="


def test_acs3_worked_example_tea_mass_push() -> None:
    sts = signing.acs3_string_to_sign(EXAMPLE3_CANONICAL_REQUEST)
    assert sts == (
        "ACS3-HMAC-SHA256\nbb4c14d4b45295fe195c44ec58499612c7a096f72aba9aa8241212ce7f8c2a2a"
    )
    assert signing.acs3_signature(SECRET, sts) == (
        "2754ed818ce224269edfc1151a59d32bef29113e754008e82ad33e6b63d10e2c"
    )


def test_acs3_authorization_round_trips_through_the_parser() -> None:
    names = ["x-acs-date", "Host", "x-acs-action"]
    header = signing.acs3_authorization("AK1", names, "ab12")
    assert header == (
        "ACS3-HMAC-SHA256 Credential=AK1,SignedHeaders=host;x-acs-action;x-acs-date,Signature=ab12"
    )
    parsed = signing.parse_acs3_authorization(header)
    assert parsed == ("ACS3-HMAC-SHA256", "AK1", ("host", "x-acs-action", "x-acs-date"), "ab12")


@pytest.mark.parametrize(
    "header",
    ["ACS3-HMAC-SHA256", "ACS3-HMAC-SHA256 Credential=a,Signature=b", "Credential=a"],
)
def test_acs3_authorization_parser_rejects_incomplete_headers(header: str) -> None:
    with pytest.raises(ValueError):
        signing.parse_acs3_authorization(header)


def test_sha256_hex_of_empty_body_is_the_documented_constant() -> None:
    assert signing.sha256_hex(b"") == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )


# --- the SDKs as oracles, over loopback ----------------------------------------------------


@dataclass
class Captured:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes

    @property
    def query(self) -> dict[str, str]:
        return dict(parse_qsl(urlsplit(self.target).query, keep_blank_values=True))

    @property
    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode(), keep_blank_values=True))


class _CaptureHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    captured: list[Captured]
    reply: dict[str, Any]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.server.captured.append(Captured("POST", self.path, headers, body))  # type: ignore[attr-defined]
        out = json.dumps(self.server.reply).encode()  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def capture_server(reply: dict[str, Any]) -> Iterator[tuple[str, list[Captured]]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _CaptureHandler)
    server.captured = []  # type: ignore[attr-defined]
    server.reply = reply  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}", server.captured  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()


MASS_PUSH_REPLY = {"RequestId": "r", "MessageIds": {"MessageId": ["1", "2"]}}
BROADCAST_REPLY = {"RequestId": "r", "ResultCode": "100", "ResultMessage": "SUCCESS"}


@contextmanager
def pinned_legacy() -> Iterator[None]:
    from aliyunsdkcore.utils import parameter_helper

    with (
        mock.patch.object(parameter_helper, "get_uuid", return_value=NONCE),
        mock.patch.object(parameter_helper, "get_iso_8061_date", return_value=TIMESTAMP),
    ):
        yield


@contextmanager
def pinned_tea() -> Iterator[None]:
    from alibabacloud_tea_openapi.utils import Utils

    with (
        mock.patch.object(Utils, "get_nonce", return_value=NONCE),
        mock.patch.object(Utils, "get_timestamp", return_value=TIMESTAMP),
        mock.patch.object(Utils, "get_user_agent", return_value=USER_AGENT),
    ):
        yield


def _legacy_send(request: Any, endpoint: str) -> None:
    from aliyunsdkcore.client import AcsClient

    request.set_endpoint(endpoint)
    request.set_protocol_type("http")
    AcsClient(AK, SECRET, "cn-hangzhou", auto_retry=False).do_action_with_exception(request)


def _tea_config(endpoint: str, algorithm: str | None) -> Any:
    from alibabacloud_tea_openapi.models import Config

    return Config(
        access_key_id=AK,
        access_key_secret=SECRET,
        endpoint=endpoint,
        protocol="http",
        signature_algorithm=algorithm,
    )


def _assert_v1_matches(c: Captured) -> str:
    query = c.query
    sent = query.pop("Signature")
    params = {**query, **c.form}
    assert signing.rpc_v1_signature(c.method, params, SECRET) == sent
    return sent


def _assert_acs3_matches(c: Captured) -> str:
    auth = signing.parse_acs3_authorization(c.headers["authorization"])
    assert auth.access_key_id == AK
    assert c.headers["x-acs-content-sha256"] == signing.sha256_hex(c.body)
    canonical = signing.acs3_canonical_request(
        c.method, urlsplit(c.target).path, c.query, c.headers, auth.signed_headers, c.body
    )
    signature = signing.acs3_signature(SECRET, signing.acs3_string_to_sign(canonical))
    expected = signing.acs3_authorization(AK, auth.signed_headers, signature)
    assert expected == c.headers["authorization"]
    return signature


def test_legacy_sdk_mass_push_v1_signature_is_identical() -> None:
    from aliyunsdkpush.request.v20160801.MassPushRequest import MassPushRequest

    request = MassPushRequest()
    request.set_AppKey(23267207)
    request.set_IdempotentToken(TOKEN)
    request.set_PushTasks(TASKS)
    with capture_server(MASS_PUSH_REPLY) as (endpoint, captured), pinned_legacy():
        _legacy_send(request, endpoint)
    (c,) = captured
    assert c.query["IdempotentToken"] == TOKEN and "PushTask.1.Title" in c.form
    # Same inputs as api-facts worked example 2, so the same signature.
    assert _assert_v1_matches(c) == "5mKf7KrPtXJF9tzCcGhFfMMHGCk="


def test_legacy_sdk_mpaas_2019_push_broadcast_v1_signature_is_identical() -> None:
    from aliyunsdkmpaas.request.v20190821.PushBroadcastRequest import PushBroadcastRequest

    request = PushBroadcastRequest()
    for name in LEGACY_BROADCAST_FIELDS:
        getattr(request, f"set_{name}")(BROADCAST[name])
    with capture_server(BROADCAST_REPLY) as (endpoint, captured), pinned_legacy():
        _legacy_send(request, endpoint)
    (c,) = captured
    assert c.query["Version"] == "2019-08-21" and c.form["TaskName"] == "broadcast task"
    _assert_v1_matches(c)


def _tea_mass_push_request() -> Any:
    from alibabacloud_push20160801 import models

    tasks = []
    for task in TASKS:
        wire: dict[str, Any] = dict(task)
        wire["StoreOffline"] = True if "StoreOffline" in task else None
        wire["iOSBadge"] = int(task["iOSBadge"]) if "iOSBadge" in task else None
        tasks.append(
            models.MassPushRequestPushTask().from_map(
                {k: v for k, v in wire.items() if v is not None}
            )
        )
    return models.MassPushRequest(app_key=23267207, idempotent_token=TOKEN, push_task=tasks)


def _tea_broadcast_request() -> Any:
    from alibabacloud_mpaas20201028 import models

    wire: dict[str, Any] = dict(BROADCAST)
    wire["ThirdChannelCategory"] = {"hms": "1", "vivo": "1"}
    return models.PushBroadcastRequest().from_map(wire)


@pytest.mark.parametrize("algorithm", ["v2", None], ids=["v1", "acs3"])
def test_tea_sdk_mass_push_signature_is_identical(algorithm: str | None) -> None:
    from alibabacloud_push20160801.client import Client

    with capture_server(MASS_PUSH_REPLY) as (endpoint, captured), pinned_tea():
        Client(_tea_config(endpoint, algorithm)).mass_push(_tea_mass_push_request())
    (c,) = captured
    assert c.form["PushTask.1.StoreOffline"] == "True"
    if algorithm == "v2":
        assert _assert_v1_matches(c) == "UxUpfrnZSQ9Tji3ZsktGQpt2jnM="
    else:
        assert c.query == {"AppKey": "23267207", "IdempotentToken": TOKEN}
        assert c.headers["x-acs-content-sha256"] == (
            "e3bbe05f1730395bb8e705361e97ba1a3fbc3cf9127b79f4c3bf2ae7c12e9614"
        )
        _assert_acs3_matches(c)


@pytest.mark.parametrize("algorithm", ["v2", None], ids=["v1", "acs3"])
def test_tea_sdk_mpaas_push_broadcast_signature_is_identical(algorithm: str | None) -> None:
    from alibabacloud_mpaas20201028.client import Client

    with capture_server(BROADCAST_REPLY) as (endpoint, captured), pinned_tea():
        Client(_tea_config(endpoint, algorithm)).push_broadcast(_tea_broadcast_request())
    (c,) = captured
    assert c.form["ThirdChannelCategory"] == '{"hms":"1","vivo":"1"}'
    if algorithm == "v2":
        assert _assert_v1_matches(c) == "nHtgiQg1AynBjwAAOB0Ofpw8rSc="
    else:
        assert c.query == {}
        assert signing.sha256_hex(c.body) == (
            "0dc253c2bf3dd3ae0aa4aec8455882d90c11a4c82d7e8935a1136d947056c12a"
        )
        _assert_acs3_matches(c)


# --- whole-buffer encoding (the client's fast path) against the per-piece reference ------------

fields = st.dictionaries(st.text(min_size=1), st.text(), max_size=10)


@given(fields)
def test_encode_form_matches_encoding_each_piece(params: dict[str, str]) -> None:
    enc = signing.percent_encode
    assert signing.encode_form(params) == "&".join(f"{enc(k)}={enc(v)}" for k, v in params.items())


@given(fields, fields)
def test_string_to_sign_from_sorted_items_matches_the_reference(
    query: dict[str, str], form: dict[str, str]
) -> None:
    form = {k: v for k, v in form.items() if k not in query}
    items = signing.sortable_items(signing.encode_form(query)) + signing.sortable_items(
        signing.encode_form(form)
    )
    expected = signing.rpc_v1_string_to_sign("POST", {**query, **form})
    assert signing.rpc_v1_string_to_sign_from_items("POST", items) == expected


@given(fields, fields)
def test_string_to_sign_of_encoded_query_and_form_matches_the_reference(
    query: dict[str, str], form: dict[str, str]
) -> None:
    form = {k: v for k, v in form.items() if k not in query}
    expected = signing.rpc_v1_string_to_sign("POST", {**query, **form})
    of = signing.rpc_v1_string_to_sign_of
    assert of("POST", signing.encode_form(query), signing.encode_form(form)) == expected


@given(fields, fields)
def test_string_to_sign_of_is_none_when_the_form_repeats_a_query_key(
    query: dict[str, str], form: dict[str, str]
) -> None:
    assume(query)
    form = {**form, next(iter(query)): "form value"}
    of = signing.rpc_v1_string_to_sign_of
    assert of("POST", signing.encode_form(query), signing.encode_form(form)) is None


def test_string_to_sign_of_sorts_by_key_when_one_key_is_a_prefix_of_another() -> None:
    query = {"a.b": "1", "a~": "&"}
    form = {"a": "2=%", "a-": "3", "a_": "5"}
    expected = signing.rpc_v1_string_to_sign("POST", {**query, **form})
    of = signing.rpc_v1_string_to_sign_of
    assert of("POST", signing.encode_form(query), signing.encode_form(form)) == expected


def test_items_sort_by_key_when_one_key_is_a_prefix_of_another() -> None:
    params = {"a.b": "1", "a": "2", "a-": "3", "a%": "4"}
    items = signing.sortable_items(signing.encode_form(params))
    expected = signing.rpc_v1_string_to_sign("POST", params)
    assert signing.rpc_v1_string_to_sign_from_items("POST", items) == expected


# --- names whose order changes when encoded (api-facts §3.1 step 4, §5.1) ---------------------
#
# v1 sorts the raw names and encodes them afterwards. "a-b" sorts before "a/b" raw, but
# "a%2Fb" before "a-b" encoded; a CJK name's "%E5..." escapes sort before letters but the name
# itself after them. Users reach such names through flattened map fields.

TRICKY_KEYS = {"a/b": "slash", "a-b": "dash", "名": "cjk", "z": "last", "A b": "space"}


def test_the_canonical_string_sorts_raw_names_before_encoding_them() -> None:
    params = {f"X.{k}": v for k, v in TRICKY_KEYS.items()}
    assert signing.canonical_query(params) == (
        "X.A%20b=space&X.a-b=dash&X.a%2Fb=slash&X.z=last&X.%E5%90%8D=cjk"
    )


def test_every_v1_path_sorts_tricky_names_like_the_reference() -> None:
    params = {"Action": "MassPush", **{f"PushTask.1.X.{k}": v for k, v in TRICKY_KEYS.items()}}
    expected = signing.rpc_v1_string_to_sign("POST", params)
    items = signing.sortable_items(signing.encode_form(params))
    assert signing.rpc_v1_string_to_sign_from_items("POST", items) == expected
    assert signing.rpc_v1_string_to_sign_of("POST", "", signing.encode_form(params)) == expected
    encoded = {signing.percent_encode(k): signing.percent_encode(v) for k, v in params.items()}
    canonical = signing.canonical_from_encoded(encoded)
    assert signing.rpc_v1_string_to_sign_from_canonical("POST", canonical) == expected


def _our_v1_signature_of(c: Captured) -> str:
    """What our client-side fast path (pre-encoded, sorted items) signs for ``c``."""
    query = {k: v for k, v in c.query.items() if k != "Signature"}
    items = signing.sortable_items(signing.encode_form(query)) + signing.sortable_items(
        signing.encode_form(c.form)
    )
    sts = signing.rpc_v1_string_to_sign_from_items(c.method, items)
    return signing.rpc_v1_sign(sts, SECRET)


def test_legacy_sdk_signature_on_tricky_names_is_identical() -> None:
    from aliyunsdkpush.request.v20160801.MassPushRequest import MassPushRequest

    request = MassPushRequest()
    request.set_AppKey(23267207)
    request.set_IdempotentToken(TOKEN)
    request.set_PushTasks([TASKS[0]])
    for key, value in TRICKY_KEYS.items():
        request.add_body_params(f"PushTask.1.AndroidOppoPrivateContentParameters.{key}", value)
    with capture_server(MASS_PUSH_REPLY) as (endpoint, captured), pinned_legacy():
        _legacy_send(request, endpoint)
    (c,) = captured
    assert c.form["PushTask.1.AndroidOppoPrivateContentParameters.名"] == "cjk"
    sent = _assert_v1_matches(c)
    assert _our_v1_signature_of(c) == sent


def test_tea_sdk_v1_signature_on_flattened_tricky_names_is_identical() -> None:
    from alibabacloud_mpaas20201028.client import Client as MpaasClient
    from alibabacloud_push20160801 import models
    from alibabacloud_push20160801.client import Client as PushClient

    broadcast = _tea_broadcast_request()
    broadcast.transparent_message_payload = {"hms": dict(TRICKY_KEYS)}
    task = models.MassPushRequestPushTask().from_map(
        {**TASKS[1], "iOSBadge": 3, "AndroidOppoPrivateTitleParameters": dict(TRICKY_KEYS)}
    )
    mass_push = models.MassPushRequest(app_key=23267207, idempotent_token=TOKEN, push_task=[task])
    with capture_server(BROADCAST_REPLY) as (endpoint, captured), pinned_tea():
        MpaasClient(_tea_config(endpoint, "v2")).push_broadcast(broadcast)
    with capture_server(MASS_PUSH_REPLY) as (endpoint, more), pinned_tea():
        PushClient(_tea_config(endpoint, "v2")).mass_push(mass_push)
    for c, key in (
        (captured[0], "TransparentMessagePayload.hms.a/b"),
        (more[0], "PushTask.1.AndroidOppoPrivateTitleParameters.a/b"),
    ):
        assert c.form[key] == "slash"  # flattened by the SDK, not JSON-encoded
        sent = _assert_v1_matches(c)
        assert _our_v1_signature_of(c) == sent
