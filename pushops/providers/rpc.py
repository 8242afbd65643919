"""One signed Alibaba Cloud RPC request: URL, headers and body bytes, ready to send.

Pure: the nonce and timestamp come in as arguments, so each attempt of a call builds a fresh
request (the gateway rejects a reused nonce) and tests can pin them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cached_property
from itertools import chain
from urllib.parse import unquote, urlsplit

from pushops.providers import signing
from pushops.providers.credentials import Credentials

V1 = "v1"
ACS3 = "acs3"
SCHEMES = (V1, ACS3)

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
# Below this many fields the memoised per-piece encoding is as fast as the whole-buffer one.
_BULK_MIN = 16


@dataclass(frozen=True)
class Call:
    """What an API call carries, before signing: the API's own query and form parameters."""

    action: str
    version: str
    query: Mapping[str, str]
    form: Mapping[str, str]

    # Encoded once per call, not per attempt: every retry sends the very same form.
    @cached_property
    def encoded_form(self) -> str:
        return signing.encode_form(self.form)

    @classmethod
    def encoded(
        cls, action: str, version: str, query: Mapping[str, str], encoded_form: str
    ) -> Call:
        """A call whose form is already encoded (``k=v&...``, RFC 3986, as compile writes
        it): sent as it is, and decoded only if something reads its fields."""
        call = cls(action, version, query, EncodedForm(encoded_form))
        call.__dict__["encoded_form"] = encoded_form  # the cached_property, filled in
        return call


class EncodedForm(Mapping[str, str]):
    """Form fields known by their encoding (``k=v&...``); decoded on first read."""

    def __init__(self, encoded: str) -> None:
        self.encoded = encoded
        self._fields: dict[str, str] | None = None

    def _decoded(self) -> dict[str, str]:
        if self._fields is None:
            pairs = (item.partition("=") for item in self.encoded.split("&") if item)
            self._fields = {unquote(k): unquote(v) for k, _, v in pairs}
        return self._fields

    def __getitem__(self, name: str) -> str:
        return self._decoded()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._decoded())

    def __len__(self) -> int:
        return len(self._decoded())


@dataclass(frozen=True)
class SignedRequest:
    url: str
    headers: dict[str, str]
    body: bytes


def encode_each(params: Mapping[str, str]) -> dict[str, str]:
    """Keys and values RFC 3986-encoded (a space is %20, never "+"), order kept."""
    if len(params) < _BULK_MIN:
        enc = signing.percent_encode
        return {enc(k): enc(v) for k, v in params.items()}
    # A MassPush form has up to ~700 fields: encoded as one buffer, not 1,400 calls.
    it = iter(signing.percent_encode_all(list(chain.from_iterable(params.items()))))
    return dict(zip(it, it, strict=True))


def join_pairs(encoded: Mapping[str, str]) -> str:
    return "&".join([f"{k}={v}" for k, v in encoded.items()])


def encode_pairs(params: Mapping[str, str]) -> str:
    """``k=v&...`` in the given order, RFC 3986-encoded."""
    return join_pairs(encode_each(params))


def format_timestamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _host(endpoint: str) -> str:
    # What httpx sends as Host: the netloc, port included only when it is not the default.
    return urlsplit(endpoint).netloc


@dataclass(frozen=True)
class _Draft:
    """Everything one scheme needs to sign one attempt."""

    call: Call
    endpoint: str
    credentials: Credentials
    nonce: str
    timestamp: datetime
    body: bytes
    headers: dict[str, str]


def sign(
    call: Call,
    endpoint: str,
    credentials: Credentials,
    *,
    scheme: str,
    nonce: str,
    timestamp: datetime,
    user_agent: str,
) -> SignedRequest:
    signer = _SIGNERS.get(scheme)
    if signer is None:
        raise ValueError(f"unknown signature scheme {scheme!r}; use one of {SCHEMES}")
    headers = {
        "accept": "application/json",
        "content-type": FORM_CONTENT_TYPE,
        "user-agent": user_agent,
    }
    body = call.encoded_form.encode()
    return signer(_Draft(call, endpoint, credentials, nonce, timestamp, body, headers))


def _sign_v1(d: _Draft) -> SignedRequest:
    query = dict(d.call.query)
    query.update(
        {
            "Action": d.call.action,
            "Version": d.call.version,
            "Format": "JSON",
            "Timestamp": format_timestamp(d.timestamp),
            "SignatureMethod": "HMAC-SHA1",
            "SignatureVersion": "1.0",
            "SignatureNonce": d.nonce,
            "AccessKeyId": d.credentials.access_key_id,
        }
    )
    if d.credentials.security_token is not None:
        query["SecurityToken"] = d.credentials.security_token.reveal()
    # v1 signs the query and the form fields together; the form is already encoded for the
    # body, so the canonical string reuses it instead of encoding ~1,400 strings again.
    encoded_query = encode_each(query)
    string_to_sign = signing.rpc_v1_string_to_sign_of(
        "POST", join_pairs(encoded_query), d.call.encoded_form
    )
    if string_to_sign is None:  # a form field named like a query one: the form's value is signed
        canonical = signing.canonical_from_encoded({**encoded_query, **encode_each(d.call.form)})
        string_to_sign = signing.rpc_v1_string_to_sign_from_canonical("POST", canonical)
    signature = signing.rpc_v1_sign(string_to_sign, d.credentials.access_key_secret.reveal())
    encoded_query["Signature"] = signing.percent_encode(signature)
    headers = {**d.headers, "x-acs-action": d.call.action, "x-acs-version": d.call.version}
    return SignedRequest(f"{d.endpoint}/?{join_pairs(encoded_query)}", headers, d.body)


def _sign_acs3(d: _Draft) -> SignedRequest:
    headers = {
        **d.headers,
        "host": _host(d.endpoint),
        "x-acs-action": d.call.action,
        "x-acs-version": d.call.version,
        "x-acs-date": format_timestamp(d.timestamp),
        "x-acs-signature-nonce": d.nonce,
        "x-acs-content-sha256": signing.sha256_hex(d.body),
    }
    if d.credentials.security_token is not None:
        headers["x-acs-security-token"] = d.credentials.security_token.reveal()
    # Sign every header we send except user-agent, which proxies may rewrite.
    signed_headers = sorted(name for name in headers if name != "user-agent")
    query = dict(d.call.query)
    canonical = signing.acs3_canonical_request("POST", "/", query, headers, signed_headers, d.body)
    signature = signing.acs3_signature(
        d.credentials.access_key_secret.reveal(), signing.acs3_string_to_sign(canonical)
    )
    headers["authorization"] = signing.acs3_authorization(
        d.credentials.access_key_id, signed_headers, signature
    )
    encoded = encode_pairs(dict(sorted(query.items())))
    url = f"{d.endpoint}/?{encoded}" if encoded else f"{d.endpoint}/"
    return SignedRequest(url, headers, d.body)


_SIGNERS = {V1: _sign_v1, ACS3: _sign_acs3}
