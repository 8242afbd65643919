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


def shown(url: str) -> str:
    """``url`` as an error may print it: user info and query replaced (they may hold a
    password or a token), nothing else changed."""
    text = url.strip()
    scheme, sep, rest = text.partition("://")
    if not sep:
        return repr(text[:200])
    authority, _, tail = rest.partition("/")
    if "@" in authority:
        authority = "***@" + authority.rpartition("@")[2]
    path = ("/" + tail) if tail or rest.endswith("/") else ""
    if "?" in path or "#" in path:
        path = path.split("?")[0].split("#")[0] + "?…"
    return repr(f"{scheme}://{authority}{path}"[:200])


def validate_endpoint(url: str, *, origin: str = "endpoint") -> str:
    """Return ``url`` without a trailing slash, or raise :class:`EndpointError`.

    The message never repeats a password or query the URL carried (see :func:`shown`).
    """
    try:
        parts = urlsplit(url.strip())
        host, _port = parts.hostname, parts.port  # the port only to refuse a bad one
    except ValueError as exc:  # an unclosed [ of an IPv6 host, a port out of range …
        raise EndpointError(f"{origin}: {shown(url)} is not a valid URL ({exc})") from None
    if parts.scheme not in ("https", "http") or not host:
        raise EndpointError(f"{origin}: {shown(url)} is not a full http(s) URL")
    if parts.username is not None or parts.password is not None:
        raise EndpointError(
            f"{origin}: {shown(url)} carries user info (a user name or password): an endpoint "
            "takes none, pushops signs every request with the access key instead"
        )
    if parts.scheme == "http" and not is_loopback_host(host):
        raise EndpointError(
            f"{origin}: plain http is allowed only for a loopback host, not {host!r}"
        )
    if parts.query or parts.fragment:
        raise EndpointError(f"{origin}: {shown(url)} may not carry a query or fragment")
    if parts.path not in ("", "/"):
        # RPC-style APIs are served at "/"; a path would break ACS3's canonical request.
        raise EndpointError(f"{origin}: {shown(url)} must not have a path")
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
