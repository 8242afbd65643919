"""Provider clients and request signing for EMAS Push and mPaaS."""

from __future__ import annotations

import importlib
from typing import Any

# The public client API, resolved lazily (PEP 562): the emulator and `pushops validate`
# import pushops.providers.signing and must not pay for httpx.
_EXPORTS = {
    "Providers": "client",
    "BlockingProviders": "client",
    "Credentials": "credentials",
    "Secret": "credentials",
    "CredentialsError": "credentials",
    "credentials_from_env": "credentials",
    "resolve_endpoint": "endpoints",
    "EndpointError": "endpoints",
    "ProviderError": "errors",
    "RetryableError": "errors",
    "RequestError": "errors",
    "RunFatalError": "errors",
    "RunStopped": "errors",
    "Severity": "errors",
    "classify": "errors",
    "EmasClient": "emas",
    "MassPushResult": "emas",
    "CancelPushResult": "emas",
    "PushRecordsPage": "emas",
    "MpaasClient": "mpaas",
    "BroadcastResult": "mpaas",
    "MpaasResult": "mpaas",
    "DuplicateMsgkey": "mpaas",
    "RetryPolicy": "retry",
    "TransportOptions": "transport",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
