"""Alibaba Cloud request signing: RPC signature v1 (HMAC-SHA1) and ACS3-HMAC-SHA256.

Pure functions over decoded strings, shared by the provider client (which signs) and the
emulator (which verifies), so both sides agree byte for byte with the official SDKs
(api-facts §3). No I/O, no clock, no randomness: nonces and timestamps are the caller's.

``percent_encode`` runs over every key and value of every call on both sides, so it is
memoised: the same keys (``PushTask.7.DeviceType``) and many values (``ANDROID``) repeat
across calls, and a dict hit is ~10x cheaper than re-encoding.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from typing import NamedTuple
from urllib.parse import quote

ACS3_ALGORITHM = "ACS3-HMAC-SHA256"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()

_UNRESERVED = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~"
_all_unreserved = re.compile(r"[A-Za-z0-9_.~\-]*").fullmatch
# ASCII strings with something to escape go through str.translate (one C call); quote() is
# only needed for non-ASCII, whose UTF-8 bytes must be escaped one by one.
_ASCII_ESCAPES = {c: f"%{c:02X}" for c in range(128) if chr(c) not in _UNRESERVED}

_CACHE_MAX_KEY = 128
_CACHE_MAX_ENTRIES = 65536
_cache: dict[str, str] = {}


def _encode_uncached(s: str) -> str:
    if _all_unreserved(s):
        return s
    if s.isascii():
        return s.translate(_ASCII_ESCAPES)
    return quote(s, safe="~")


def percent_encode(s: str) -> str:
    """RFC 3986 percent-encoding over UTF-8: ``A-Za-z0-9-_.~`` kept, the rest ``%XX``."""
    hit = _cache.get(s)
    if hit is not None:
        return hit
    out = _encode_uncached(s)
    if len(s) <= _CACHE_MAX_KEY:
        if len(_cache) >= _CACHE_MAX_ENTRIES:
            # Unique values (nonces, timestamps, titles) would grow it without bound; starting
            # over is cheaper than LRU bookkeeping and the hot keys come back within one call.
            _cache.clear()
        _cache[s] = out
    return out


def canonical_query(params: Mapping[str, str]) -> str:
    """``k=v`` pairs, both RFC 3986-encoded, sorted by encoded key, joined with ``&``."""
    enc = percent_encode
    return canonical_from_encoded({enc(k): enc(v) for k, v in params.items()})


def canonical_from_encoded(encoded: Mapping[str, str]) -> str:
    """The canonical string of pairs already RFC 3986-encoded (a verifier that decodes and
    encodes in one pass hands them over directly)."""
    # Keys are unique, so sorting the keys alone gives the order of the pairs.
    return "&".join([f"{k}={encoded[k]}" for k in sorted(encoded)])


# --- RPC signature v1 (HMAC-SHA1) ------------------------------------------------------------


def rpc_v1_string_to_sign(method: str, params: Mapping[str, str]) -> str:
    """``METHOD&%2F&enc(canonical)``; ``params`` are the decoded query (without ``Signature``)
    plus the decoded form fields."""
    return rpc_v1_string_to_sign_from_canonical(method, canonical_query(params))


def rpc_v1_string_to_sign_from_canonical(method: str, canonical: str) -> str:
    # Re-encoding an already encoded string only ever touches '%', '=' and '&' (everything
    # else in it is unreserved), so three replaces equal percent_encode(canonical), faster.
    twice = canonical.replace("%", "%25").replace("=", "%3D").replace("&", "%26")
    return f"{method.upper()}&%2F&{twice}"


def rpc_v1_signature(method: str, params: Mapping[str, str], secret: str) -> str:
    """Base64(HMAC-SHA1(secret + "&", string to sign))."""
    return rpc_v1_sign(rpc_v1_string_to_sign(method, params), secret)


def rpc_v1_sign(string_to_sign: str, secret: str) -> str:
    """The v1 signature of a string to sign already built (the verifier needs both)."""
    digest = hmac.digest((secret + "&").encode(), string_to_sign.encode(), "sha1")
    return base64.b64encode(digest).decode("ascii")


# --- ACS3-HMAC-SHA256 --------------------------------------------------------------------------


def sha256_hex(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def acs3_canonical_request(
    method: str,
    path: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    signed_headers: Sequence[str],
    body: bytes,
) -> str:
    """The canonical request of api-facts §3.2.

    ``headers`` may use any case; repeated headers must already be joined with ``,``.
    ``signed_headers`` are the names to sign (any case); a name missing from ``headers`` signs
    as an empty value, which then simply fails to match.
    """
    lower = {k.lower(): v for k, v in headers.items()}
    names = sorted({h.lower() for h in signed_headers})
    header_lines = "".join(f"{n}:{str(lower.get(n, '')).strip()}\n" for n in names)
    return "\n".join(
        (
            method.upper(),
            path or "/",
            canonical_query(query),
            header_lines,
            ";".join(names),
            sha256_hex(body),
        )
    )


def acs3_string_to_sign(canonical_request: str) -> str:
    return f"{ACS3_ALGORITHM}\n{sha256_hex(canonical_request.encode())}"


def acs3_signature(secret: str, string_to_sign: str) -> str:
    """Lower-hex HMAC-SHA256 keyed with the bare secret (no ``&``, unlike v1)."""
    return hmac.digest(secret.encode(), string_to_sign.encode(), "sha256").hex()


def acs3_authorization(access_key_id: str, signed_headers: Sequence[str], signature: str) -> str:
    names = ";".join(sorted({h.lower() for h in signed_headers}))
    return (
        f"{ACS3_ALGORITHM} Credential={access_key_id},SignedHeaders={names},Signature={signature}"
    )


class Acs3Authorization(NamedTuple):
    algorithm: str
    access_key_id: str
    signed_headers: tuple[str, ...]
    signature: str


def parse_acs3_authorization(value: str) -> Acs3Authorization:
    """Split ``ACS3-HMAC-SHA256 Credential=..,SignedHeaders=..,Signature=..``.

    Raises ValueError when a part is missing; the algorithm is returned as sent so the caller
    can reject the ones it does not support with its own error.
    """
    algorithm, _, rest = value.strip().partition(" ")
    parts: dict[str, str] = {}
    for item in rest.split(","):
        key, sep, val = item.strip().partition("=")
        if sep:
            parts[key] = val.strip()
    try:
        credential = parts["Credential"]
        names = parts["SignedHeaders"]
        signature = parts["Signature"]
    except KeyError as exc:
        raise ValueError(f"Authorization header lacks {exc.args[0]}") from None
    if not algorithm or not credential or not names or not signature:
        raise ValueError("Authorization header has an empty part")
    return Acs3Authorization(
        algorithm, credential, tuple(n.lower() for n in names.split(";") if n), signature
    )
