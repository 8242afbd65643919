"""Endpoint resolution: env override, then config, then the default; http only on loopback."""

from __future__ import annotations

import pytest

from pushops.providers.endpoints import EndpointError, resolve_endpoint


def test_defaults_are_the_public_https_endpoints() -> None:
    assert resolve_endpoint("emas", env={}) == "https://cloudpush.aliyuncs.com"
    assert resolve_endpoint("mpaas", env={}) == "https://mpaas.aliyuncs.com"


def test_config_beats_default_and_environment_beats_config() -> None:
    configured = "https://push.example.com/"
    assert resolve_endpoint("emas", configured, env={}) == "https://push.example.com"
    env = {"PUSHOPS_EMAS_ENDPOINT": "http://127.0.0.1:8123"}
    assert resolve_endpoint("emas", configured, env=env) == "http://127.0.0.1:8123"
    env = {"PUSHOPS_MPAAS_ENDPOINT": "http://localhost:9"}
    assert resolve_endpoint("mpaas", configured, env=env) == "http://localhost:9"


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:1", "http://127.8.9.1", "http://[::1]:80", "http://localhost"]
)
def test_plain_http_is_allowed_for_loopback_hosts(url: str) -> None:
    assert resolve_endpoint("emas", url, env={}) == url


@pytest.mark.parametrize(
    "url",
    [
        "http://cloudpush.aliyuncs.com",
        "http://10.0.0.1:8080",
        "http://localhost.example.com",
        "http://127.0.0.1.nip.io",
    ],
)
def test_plain_http_to_any_other_host_is_refused(url: str) -> None:
    with pytest.raises(EndpointError, match="loopback"):
        resolve_endpoint("emas", url, env={})


def test_refusal_names_the_environment_variable_it_came_from() -> None:
    with pytest.raises(EndpointError, match="PUSHOPS_MPAAS_ENDPOINT"):
        resolve_endpoint("mpaas", env={"PUSHOPS_MPAAS_ENDPOINT": "http://192.168.1.2"})


@pytest.mark.parametrize(
    "url", ["cloudpush.aliyuncs.com", "ftp://x", "https://", "https://h/path", "https://h/?q=1"]
)
def test_endpoint_must_be_a_full_url_without_path_or_query(url: str) -> None:
    with pytest.raises(EndpointError):
        resolve_endpoint("emas", url, env={})
