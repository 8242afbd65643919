"""Helpers for the emulator specs: signed calls over real loopback HTTP, request builders."""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import httpx

from pushops.providers import signing

AK, SECRET = "test-ak", "test-secret"
APP_KEY = "23267207"
EMAS = ("MassPush", "2016-08-01")


def iso(ts: float | None = None) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() if ts is None else ts))


def task(**overrides: str) -> dict[str, str]:
    base = {
        "DeviceType": "ANDROID",
        "PushType": "NOTICE",
        "Target": "DEVICE",
        "TargetValue": "device-1,device-2",
        "Title": "Hello",
        "Body": "World",
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def tasks_form(tasks: list[Mapping[str, str]]) -> dict[str, str]:
    return {f"PushTask.{n}.{k}": v for n, t in enumerate(tasks, 1) for k, v in t.items()}


def broadcast(**overrides: str | None) -> dict[str, str]:
    base: dict[str, str | None] = {
        "AppId": "ONEX570DA89211721",
        "WorkspaceId": "default",
        "DeliveryType": "1",
        "Msgkey": f"msg-{uuid.uuid4()}",
        "ExpiredSeconds": "300",
        "TemplateName": "tmpl",
        "TemplateKeyValue": '{"name":"Ana"}',
        "TaskName": "task",
        "PushStatus": "0",
        "BindPeriod": "1",
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


class Caller:
    """Signs and sends calls the way the SDKs do, with knobs to get each part wrong."""

    def __init__(self, url: str, client: httpx.Client) -> None:
        self.url = url
        self.client = client

    def v1(
        self,
        action: str,
        version: str,
        query: Mapping[str, str] | None = None,
        form: Mapping[str, str] | None = None,
        *,
        ak: str = AK,
        secret: str = SECRET,
        nonce: str | None = None,
        timestamp: str | None = None,
        tamper: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        params = {
            "Action": action,
            "Version": version,
            "Format": "JSON",
            "SignatureMethod": "HMAC-SHA1",
            "SignatureVersion": "1.0",
            "SignatureNonce": nonce or str(uuid.uuid4()),
            "Timestamp": timestamp or iso(),
            "AccessKeyId": ak,
            **(query or {}),
        }
        signature = signing.rpc_v1_signature("POST", {**params, **(form or {})}, secret)
        params["Signature"] = signature
        body = {**(form or {}), **(tamper or {})}
        # urlencode writes spaces as '+', as both SDKs do (api-facts §0.2).
        return self.client.post(
            f"{self.url}/?{urlencode(params)}",
            content=urlencode(body).encode(),
            headers={"content-type": "application/x-www-form-urlencoded"},
        )

    def acs3(
        self,
        action: str,
        version: str,
        query: Mapping[str, str] | None = None,
        form: Mapping[str, str] | None = None,
        *,
        ak: str = AK,
        secret: str = SECRET,
        nonce: str | None = None,
        date: str | None = None,
        signed: list[str] | None = None,
        tamper_body: bytes | None = None,
    ) -> httpx.Response:
        body = urlencode(sorted((form or {}).items())).encode()
        host = self.url.removeprefix("http://")
        headers = {
            "host": host,
            "x-acs-action": action,
            "x-acs-version": version,
            "x-acs-date": date or iso(),
            "x-acs-signature-nonce": nonce or uuid.uuid4().hex,
            "x-acs-content-sha256": signing.sha256_hex(body),
            "content-type": "application/x-www-form-urlencoded",
            "accept": "application/json",
        }
        names = signed or list(headers)
        canonical = signing.acs3_canonical_request("POST", "/", query or {}, headers, names, body)
        signature = signing.acs3_signature(secret, signing.acs3_string_to_sign(canonical))
        headers["authorization"] = signing.acs3_authorization(ak, names, signature)
        qs = f"?{urlencode(query)}" if query else ""
        return self.client.post(
            f"{self.url}/{qs}", content=tamper_body if tamper_body else body, headers=headers
        )

    def mass_push(self, tasks: list[Mapping[str, str]], token: str | None = None, **kw: Any):
        query = {"AppKey": APP_KEY, **({"IdempotentToken": token} if token else {})}
        return self.v1(*EMAS, query, tasks_form(tasks), **kw)

    def emas(self, action: str, query: Mapping[str, str], **kw: Any) -> httpx.Response:
        return self.v1(action, "2016-08-01", {"AppKey": APP_KEY, **query}, **kw)

    def mpaas(
        self, action: str, form: Mapping[str, str], version: str = "2020-10-28", **kw: Any
    ) -> httpx.Response:
        return self.v1(action, version, None, form, **kw)


def tea_client(url: str, module: str) -> Any:
    """The official Tea SDK's client of ``module`` (e.g. alibabacloud_push20160801), reaching
    the emulator at ``url`` over plain HTTP, signing with the test key."""
    from alibabacloud_tea_openapi.models import Config

    client = __import__(f"{module}.client", fromlist=["Client"]).Client
    return client(
        Config(
            access_key_id=AK,
            access_key_secret=SECRET,
            endpoint=url.removeprefix("http://"),
            protocol="http",
        )
    )


def error_code(response: httpx.Response) -> str:
    return response.json()["Code"]


def result_code(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    return response.json()["ResultCode"]
