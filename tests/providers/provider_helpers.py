"""Shared helpers of the provider tests: clients wired to an emulator, sample requests."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime

from pushops.providers.client import Providers
from pushops.providers.credentials import Credentials
from pushops.providers.retry import RetryPolicy
from pushops.providers.transport import TransportOptions

AKID = "provider-tests-id"
SECRET = "provider-tests-SECRET-4f1c9d"
APP_KEY = "23267207"
FAST_RETRY = RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05)


def providers(
    credentials: Credentials | None = None,
    retry: RetryPolicy = FAST_RETRY,
    clock: Callable[[], datetime] | None = None,
    **options: object,
) -> Providers:
    opts = TransportOptions(retry=retry, **options)  # type: ignore[arg-type]
    return Providers(credentials or Credentials.of(AKID, SECRET), opts, env={}, clock=clock)


def task(n: int = 0, **extra: str) -> dict[str, str]:
    return {
        "DeviceType": "ANDROID",
        "PushType": "NOTICE",
        "Target": "DEVICE",
        "TargetValue": f"device-{n}",
        "Title": "Hello",
        "Body": f"message {n}",
        **extra,
    }


def token() -> str:
    return str(uuid.uuid4())


def broadcast(msgkey: str | None = None, **extra: str) -> dict[str, str]:
    return {
        "AppId": "ONEX570DA89211721",
        "WorkspaceId": "test",
        "DeliveryType": "1",
        "Msgkey": msgkey or f"msg-{uuid.uuid4()}",
        "ExpiredSeconds": "300",
        "TemplateName": "tmpl_broadcast",
        "TaskName": "broadcast task",
        "PushStatus": "1",
        "UnBindPeriod": "1",
        **extra,
    }


def deliveries(emu: object) -> list[dict[str, object]]:
    return list(emu.deliveries())  # type: ignore[attr-defined]
