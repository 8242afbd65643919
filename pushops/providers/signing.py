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
from bisect import bisect_left
from collections.abc import Mapping, Sequence
from itertools import chain
from typing import NamedTuple
from urllib.parse import quote, unquote

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


# --- many pieces at once ----------------------------------------------------------------------
#
# A 100-task MassPush has ~1,400 keys and values. Encoding them one call at a time costs a
# Python-level call (and usually a cache miss: titles, bodies and device ids are unique) per
# piece; joined with NULs they are encoded by a few whole-buffer C operations instead: one
# ``bytes.translate`` finds which bytes need escaping, then one ``bytes.replace`` per distinct
# such byte (a handful in real text: space, comma, quote...).

SEPARATOR = "\0"  # never unreserved, so it never appears escaped-as-itself in an encoding
_KEEP = (_UNRESERVED + SEPARATOR).encode()
_BYTE_ESCAPES = {b: f"%{b:02X}".encode() for b in range(256)}
_MAX_DISTINCT = 24  # beyond this (CJK text), one quote() per piece is cheaper than N passes


def encode_joined(text: str) -> str | None:
    """``percent_encode`` of ``text`` with every NUL left as it is (the pieces' separator).

    None when the whole-buffer route does not pay (many distinct bytes to escape) or cannot
    be taken (text that is not valid Unicode); the caller then encodes piece by piece.
    """
    return _encode_keeping(text, _KEEP)


def _encode_keeping(text: str, keep: bytes) -> str | None:
    try:
        raw = text.encode()
    except UnicodeEncodeError:
        return None
    specials = set(raw.translate(None, keep))
    if not specials:
        return text
    if len(specials) > _MAX_DISTINCT:
        return None
    if 0x25 in specials:
        # '%' first: the escapes added below contain '%', which must not be escaped again.
        raw = raw.replace(b"%", b"%25")
        specials.discard(0x25)
    for byte in specials:
        # Escapes add only '%', digits and A-F: none of them is a byte still to replace.
        raw = raw.replace(bytes((byte,)), _BYTE_ESCAPES[byte])
    return raw.decode("ascii")


def percent_encode_all(pieces: list[str]) -> list[str]:
    """``[percent_encode(p) for p in pieces]``, mostly in whole-buffer operations."""
    joined = SEPARATOR.join(pieces)
    encoded = None
    if joined.count(SEPARATOR) == len(pieces) - 1:  # no piece holds a NUL of its own
        encoded = encode_joined(joined)
    if encoded is None:
        return [percent_encode(p) for p in pieces]
    return encoded.split(SEPARATOR)


_KEEP_STRUCTURE = (_UNRESERVED + "&=").encode()


def encode_form(params: Mapping[str, str]) -> str:
    """``k=v&...`` in the given order, keys and values RFC 3986-encoded.

    When no key or value holds ``&`` or ``=`` of its own, the pairs are joined first and the
    whole text encoded with ``&`` and ``=`` kept, so a 700-field form costs a few whole-buffer
    operations rather than 1,400 encodings and 700 string formats.
    """
    if not params:
        return ""
    text = "&".join(map("=".join, params.items()))
    if text.count("&") == len(params) - 1 and text.count("=") == len(params):
        encoded = _encode_keeping(text, _KEEP_STRUCTURE)
        if encoded is not None:
            return encoded
    return "&".join([f"{k}={v}" for k, v in zip(*_split_encoded(params), strict=True)])


def _split_encoded(params: Mapping[str, str]) -> tuple[list[str], list[str]]:
    pieces = percent_encode_all(list(chain.from_iterable(params.items())))
    return pieces[0::2], pieces[1::2]


# The key/value separator of sortable items: below every character of an encoded key, so
# sorting "key\1value" strings orders them by key even when one key is a prefix of another
# ("a=..." would sort after "a.b=...", since "=" > ".").
KV = "\1"


def sortable_items(encoded_form: str) -> list[str]:
    """The pairs of an encoded ``k=v&...`` text as ``key\1value`` items (see KV)."""
    return encoded_form.replace("=", KV).split("&") if encoded_form else []


def raw_name(encoded_key: str) -> str:
    """The name an RFC 3986-encoded key stands for: what the v1 canonical string sorts by."""
    return unquote(encoded_key) if "%" in encoded_key else encoded_key


def _raw_item_name(item: str) -> str:
    return raw_name(item.partition(KV)[0])


# Every byte but the three that tell where a '%' is: "&" starts a pair, KV ends its key.
_NOT_MARKS = bytes(b for b in range(256) if b not in b"&%\x01")


def _escaped_key(canonical: str) -> bool:
    """Whether a key of the joined ``key\1value`` items holds a '%': only such keys can sort
    differently raw than encoded.

    With every other byte deleted, what is left is ``&``, the key's '%'s, KV, the value's
    '%'s, per pair: a key holds one exactly when a '%' starts the text or follows a ``&``.
    Two C passes; a regular expression tried at each of ~30,000 positions of a 100-task
    MassPush took ~0.4 ms, the largest cost of signing it.
    """
    marks = canonical.encode("utf-8", "surrogatepass").translate(None, _NOT_MARKS)
    return marks.startswith(b"%") or b"&%" in marks


def rpc_v1_string_to_sign_from_items(method: str, items: list[str]) -> str:
    """The v1 string to sign of encoded ``key\1value`` items with unique keys, any order."""
    canonical = "&".join(sorted(items))
    if _escaped_key(canonical):
        # Sorted by the raw names, as every official signer does (api-facts §3.1 step 4):
        # raw, "a-b" comes before "a/b" ("-" < "/"), encoded after "a%2Fb" ("%" < "-"); a
        # CJK name's escapes likewise sort unlike its characters.
        canonical = "&".join(sorted(items, key=_raw_item_name))
    # Encoding the canonical string again, with "=" still written as KV (see
    # rpc_v1_string_to_sign_from_canonical): '%' first, as the other two add '%'.
    twice = canonical.replace("%", "%25").replace(KV, "%3D").replace("&", "%26")
    return f"{method.upper()}&%2F&{twice}"


# Every byte but the three that tell where a key's '%' is in an encoded ``k=v&...`` text.
_NOT_PAIR_MARKS = bytes(b for b in range(256) if b not in b"&%=")
_EQ_TWICE = "%3D"  # "=" encoded again


def _escaped_pair_key(pairs: str) -> bool:
    """Whether a key of an encoded ``k=v&...`` text holds a '%' (see :func:`_escaped_key`)."""
    marks = pairs.encode("utf-8", "surrogatepass").translate(None, _NOT_PAIR_MARKS)
    return marks.startswith(b"%") or b"&%" in marks


def _twice_items(pairs: str) -> list[str]:
    """The pairs of an encoded ``k=v&...`` text, each encoded again: ``k%3Dv``, '%' as '%25'."""
    return pairs.replace("%", "%25").replace("=", _EQ_TWICE).split("&") if pairs else []


def _shares_a_key(ordered: list[str], items: list[str]) -> bool:
    """Whether any of ``items`` (twice-encoded pairs, all in the sorted list ``ordered``)
    has its key on another item too: items of one key sort next to each other."""
    last = len(ordered) - 1
    for item in items:
        at = bisect_left(ordered, item)
        key = item.partition(_EQ_TWICE)[0] + _EQ_TWICE
        if (at > 0 and ordered[at - 1].startswith(key)) or (
            at < last and ordered[at + 1].startswith(key)
        ):
            return True
    return False


def rpc_v1_string_to_sign_of(method: str, query: str, form: str) -> str | None:
    """The v1 string to sign of a call's query and form, each an RFC 3986-encoded ``k=v&...``
    text with unique keys in any order; None when a key is in both (the caller decides
    which value is signed).

    The pairs are encoded again *before* sorting: ``k=v`` becomes ``k%3Dv`` and each '%' a
    '%25', in two whole-text passes, so what is sorted and joined (with ``%26``) already is
    the string to sign; encoding it after the join cost three more passes over a canonical
    string of ~30,000 characters. Sorting ``key%3Dvalue`` orders the pairs by key as long as
    no key holds a '%': '%' sorts below every unreserved character, so a key that is a
    prefix of another still comes first (as KV does). Keys with an escape sort by their raw
    names instead (:func:`rpc_v1_string_to_sign_from_items`).
    """
    if _escaped_pair_key(query) or _escaped_pair_key(form):
        query_items, form_items = sortable_items(query), sortable_items(form)
        if not {i.partition(KV)[0] for i in query_items}.isdisjoint(
            i.partition(KV)[0] for i in form_items
        ):
            return None
        return rpc_v1_string_to_sign_from_items(method, query_items + form_items)
    query_items = _twice_items(query)
    items = _twice_items(form) + query_items
    items.sort()
    if _shares_a_key(items, query_items):
        return None
    return f"{method.upper()}&%2F&{'%26'.join(items)}"


def canonical_query(params: Mapping[str, str]) -> str:
    """``k=v`` pairs sorted by their raw (decoded) keys, then both RFC 3986-encoded, joined
    with ``&``: the order of the official signers (sort first, encode after)."""
    enc = percent_encode
    return "&".join([f"{enc(k)}={enc(params[k])}" for k in sorted(params)])


def canonical_from_encoded(encoded: Mapping[str, str]) -> str:
    """The canonical string of pairs already RFC 3986-encoded (a verifier that decodes and
    encodes in one pass hands them over directly), in the order of their raw keys."""
    # Keys are unique, so sorting the keys alone gives the order of the pairs. Only keys with
    # an escape can sort differently raw than encoded; most calls have none.
    keys = sorted(encoded, key=raw_name) if "%" in "".join(encoded) else sorted(encoded)
    return "&".join([f"{k}={encoded[k]}" for k in keys])


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
