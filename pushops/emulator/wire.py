"""The HTTP request as the handlers see it, and a fast form/query decoder.

The decoder runs over up to a few thousand ``PushTask.N.Prop`` fields per call, so it skips
the unquoting work for the (common) pieces that have nothing to decode.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from urllib.parse import unquote

from pushops.providers.signing import percent_encode

_MEMO_MAX_KEY = 256
_MEMO_MAX_ENTRIES = 65536
_memo: dict[str, tuple[str, str]] = {}


def _piece(raw: str) -> tuple[str, str]:
    """One form-encoded key or value: (decoded, RFC 3986 re-encoded for the v1 signature).

    Memoised on the raw text, because most pieces repeat from call to call (keys such as
    ``PushTask.7.DeviceType`` and many values); one lookup then serves both the decoder and
    the signature check.
    """
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


def decode_pairs(text: str) -> tuple[dict[str, str], dict[str, str]]:
    """``application/x-www-form-urlencoded`` to (decoded, re-encoded) dicts.

    ``+`` is a space; a repeated key keeps its last value.
    """
    decoded: dict[str, str] = {}
    encoded: dict[str, str] = {}
    if not text:
        return decoded, encoded
    for pair in text.split("&"):
        if not pair:
            continue
        raw_key, _, raw_value = pair.partition("=")
        key, key_enc = _piece(raw_key)
        value, value_enc = _piece(raw_value)
        decoded[key] = value
        encoded[key_enc] = value_enc
    return decoded, encoded


def decode_form(text: str) -> dict[str, str]:
    return decode_pairs(text)[0]


@dataclass
class Request:
    method: str
    target: str  # path and query as received
    headers: dict[str, str]  # lower-case names; repeated headers joined with ","
    body: bytes = b""
    path: str = field(init=False)
    query: dict[str, str] = field(init=False)
    query_encoded: dict[str, str] = field(init=False, repr=False)
    _form: tuple[dict[str, str], dict[str, str]] | None = field(
        default=None, init=False, repr=False
    )

    def __post_init__(self) -> None:
        path, _, raw_query = self.target.partition("?")
        self.path = path or "/"
        self.query, self.query_encoded = decode_pairs(raw_query)

    def _decoded_form(self) -> tuple[dict[str, str], dict[str, str]]:
        if self._form is None:
            ctype = self.headers.get("content-type", "")
            self._form = {}, {}
            if self.body and (not ctype or ctype.startswith("application/x-www-form-urlencoded")):
                with contextlib.suppress(UnicodeDecodeError):
                    self._form = decode_pairs(self.body.decode("utf-8"))
        return self._form

    @property
    def form(self) -> dict[str, str]:
        """The decoded form body; empty unless the body is form-encoded."""
        return self._decoded_form()[0]

    @property
    def form_encoded(self) -> dict[str, str]:
        """The form fields RFC 3986-encoded, as the v1 signature wants them."""
        return self._decoded_form()[1]


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = "application/json;charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list)
    drop: bool = False  # close the connection instead of answering (after recording)
    delay: float = 0.0  # seconds to wait before answering (latency + jitter)
    on_complete: list = field(default_factory=list)  # callables run when the answer goes out


# Common parameters of RPC v1 that are not the API's own (api-facts §3.1).
COMMON_PARAMS = frozenset(
    {
        "Action",
        "Version",
        "Format",
        "Timestamp",
        "SignatureMethod",
        "SignatureVersion",
        "SignatureNonce",
        "SignatureType",
        "Signature",
        "AccessKeyId",
        "SecurityToken",
        "RegionId",
    }
)


@dataclass
class Call:
    """One authenticated API call, as a product handler sees it."""

    request: Request
    product: str
    action: str
    version: str
    access_key_id: str
    request_id: str
    now: float  # emulator time at receipt, epoch seconds
    on_complete: list = field(default_factory=list)  # run when the answer goes out

    @property
    def params(self) -> dict[str, str]:
        """The API's own parameters: query and form merged, common parameters left out."""
        merged = {k: v for k, v in self.request.query.items() if k not in COMMON_PARAMS}
        merged.update(self.request.form)
        return merged
