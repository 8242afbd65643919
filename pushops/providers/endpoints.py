"""Where each provider's API lives: config, then an environment override, then the default.

Endpoints are full URLs. Plain http is allowed only to a loopback host (the emulator): an
AccessKeyId and a signed request must never cross a network unencrypted.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from urllib.parse import urlsplit

from pushops.diagnostics import PushopsError

EMAS = "emas"
MPAAS = "mpaas"

DEFAULT_ENDPOINTS = {
    EMAS: "https://cloudpush.aliyuncs.com",
    MPAAS: "https://mpaas.aliyuncs.com",
}
ENDPOINT_ENV_VARS = {
    EMAS: "PUSHOPS_EMAS_ENDPOINT",
    MPAAS: "PUSHOPS_MPAAS_ENDPOINT",
}


class EndpointError(PushopsError):
    """An endpoint URL that pushops refuses to talk to."""


def is_loopback_host(host: str) -> bool:
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def validate_endpoint(url: str, *, origin: str = "endpoint") -> str:
    """Return ``url`` without a trailing slash, or raise :class:`EndpointError`."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise EndpointError(f"{origin}: {url!r} is not a full http(s) URL")
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise EndpointError(
            f"{origin}: plain http is allowed only for a loopback host, not {parts.hostname!r}"
        )
    if parts.query or parts.fragment or parts.username or parts.password:
        raise EndpointError(f"{origin}: {url!r} may not carry a query, fragment or user info")
    if parts.path not in ("", "/"):
        # RPC-style APIs are served at "/"; a path would break ACS3's canonical request.
        raise EndpointError(f"{origin}: {url!r} must not have a path")
    return f"{parts.scheme}://{parts.netloc}"


def resolve_endpoint(
    provider: str, configured: str | None = None, env: Mapping[str, str] | None = None
) -> str:
    """The endpoint for ``provider``: env override, else ``configured``, else the default."""
    if provider not in DEFAULT_ENDPOINTS:
        raise EndpointError(f"unknown provider {provider!r}")
    source = os.environ if env is None else env
    var = ENDPOINT_ENV_VARS[provider]
    override = source.get(var, "").strip()
    if override:
        return validate_endpoint(override, origin=var)
    if configured:
        return validate_endpoint(configured, origin=f"{provider} endpoint in config")
    return DEFAULT_ENDPOINTS[provider]
