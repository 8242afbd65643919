"""Form/query decoding in whole-buffer passes, with the piecewise decoder as the reference.

The emulator needs two views of each ``k=v&...`` text: the decoded fields, and every key and
value RFC 3986 re-encoded for the v1 signature. A 100-task MassPush body has ~1,400 pieces and
most of its values are unique (device ids, bodies), so decoding them one by one in Python was
over half of the emulator's CPU per call. Here a well-formed text is split, unquoted and
checked in a few C-level operations over the whole buffer:

* structure: every pair is exactly ``key=value`` with a non-empty key (checked on the bytes);
* unquoting: the pieces joined with NULs, ``%XX`` turned into ``\\xXX`` and handed to the
  bytes-literal decoder, which rejects any malformed escape (then we fall back);
* canonical form: when the text is exactly what ``percent_encode`` makes of its decoded pieces
  (what our client and the Tea SDKs send), the raw pieces ARE the re-encoded ones; that is
  proved by re-encoding the decoded buffer in one go and comparing, never assumed.

Anything else (a trailing ``&``, a key without ``=``, non-ASCII bytes, a stray ``%``, ``%00``)
takes :func:`decode_piecewise`, whose behaviour the fast path must match exactly.
"""

from __future__ import annotations

import codecs
from urllib.parse import unquote

from pushops.providers.signing import SEPARATOR, encode_joined, percent_encode

Pairs = tuple[dict[str, str], dict[str, str]]  # (decoded, RFC 3986 re-encoded)

_SEPARATORS_ONLY = bytes(b for b in range(256) if b not in b"&=")
_MEMO_MAX_KEY = 256
_MEMO_MAX_ENTRIES = 65536
_memo: dict[str, tuple[str, str]] = {}


def _piece(raw: str) -> tuple[str, str]:
    """One key or value: (decoded, re-encoded); memoised, as keys repeat in every call."""
    hit = _memo.get(raw)
    if hit is not None:
        return hit
    decoded = raw.replace("+", " ") if "+" in raw else raw
    if "%" in decoded:
        decoded = unquote(decoded)
    out = (decoded, percent_encode(decoded))
    if len(raw) <= _MEMO_MAX_KEY:
        if len(_memo) >= _MEMO_MAX_ENTRIES:
            _memo.clear()  # unique values would grow it without bound
        _memo[raw] = out
    return out


def decode_piecewise(text: str) -> Pairs:
    """The reference decoder: ``+`` is a space, a repeated key keeps its last value, empty
    pairs are skipped, a pair without ``=`` is a key with an empty value."""
    decoded: dict[str, str] = {}
    encoded: dict[str, str] = {}
    for pair in text.split("&"):
        if not pair:
            continue
        raw_key, _, raw_value = pair.partition("=")
        key, key_enc = _piece(raw_key)
        value, value_enc = _piece(raw_value)
        decoded[key] = value
        encoded[key_enc] = value_enc
    return decoded, encoded


def _well_formed(text: str) -> bool:
    """ASCII ``k=v&k=v...`` with non-empty keys and no NUL (our piece separator)."""
    if not text.isascii() or SEPARATOR in text or text[0] == "=" or "&=" in text:
        return False
    # The separators alone must alternate "=&=&...=": one '=' per pair, no empty pair.
    # (Counted in the few separators, not in the whole text: one pass over it less.)
    marks = text.encode("ascii").translate(None, _SEPARATORS_ONLY)
    return marks == b"=&" * marks.count(b"&") + b"="


def _unquote_joined(joined: str) -> tuple[str, bool] | None:
    """(unquoted text, whether it is valid UTF-8), or None for a malformed escape or ``%00``
    (a NUL would be taken for a separator)."""
    if "%" not in joined:
        return joined, True
    if "%00" in joined:
        return None
    literal = joined.replace("\\", "\\\\").replace("%", "\\x")
    try:
        raw = codecs.escape_decode(literal)[0]
    except ValueError:  # '%' not followed by two hex digits: unquote keeps it, we defer
        return None
    try:
        return raw.decode("utf-8"), True
    except UnicodeDecodeError:
        return raw.decode("utf-8", "replace"), False  # what unquote() gives


def _pairs(pieces: list[str]) -> dict[str, str]:
    it = iter(pieces)
    return dict(zip(it, it, strict=True))


class Decoded:
    """A decoded form: its fields, and what the v1 signature needs of it.

    ``canonical`` is the raw text itself when it is exactly the RFC 3986 encoding of its
    fields with no key repeated: then the signature is built from the raw pairs directly, and
    the re-encoded dict (``encoded``) is only made if someone asks for it.
    """

    __slots__ = ("_encoded", "canonical", "fields")

    def __init__(
        self, fields: dict[str, str], encoded: dict[str, str] | None, canonical: str | None
    ) -> None:
        self.fields = fields
        self._encoded = encoded
        self.canonical = canonical

    @property
    def encoded(self) -> dict[str, str]:
        if self._encoded is None:
            assert self.canonical is not None
            self._encoded = _pairs(self.canonical.replace("&", "=").split("="))
        return self._encoded


def decode(text: str) -> Decoded:
    """``application/x-www-form-urlencoded`` text, decoded (see the module docstring)."""
    if not text:
        return Decoded({}, {}, None)
    if not _well_formed(text):
        return Decoded(*decode_piecewise(text), None)
    raw_joined = text.replace("&", SEPARATOR).replace("=", SEPARATOR)
    joined = raw_joined.replace("+", " ") if "+" in raw_joined else raw_joined
    unquoted = _unquote_joined(joined)
    if unquoted is None:
        return Decoded(*decode_piecewise(text), None)
    decoded_joined, valid_utf8 = unquoted
    decoded = decoded_joined.split(SEPARATOR)
    fields = _pairs(decoded)
    # Canonical when re-encoding the decoded pieces gives back exactly the raw ones ('+',
    # lower-case or needless escapes, raw reserved characters all make it differ).
    if valid_utf8 and encode_joined(decoded_joined) == raw_joined:
        if 2 * len(fields) == len(decoded):  # no repeated key
            return Decoded(fields, None, text)
        return Decoded(fields, _pairs(raw_joined.split(SEPARATOR)), None)
    return Decoded(fields, _pairs([percent_encode(p) for p in decoded]), None)


def decode_pairs(text: str) -> Pairs:
    """(decoded, RFC 3986 re-encoded) dicts of a form or query text."""
    form = decode(text)
    return form.fields, form.encoded
