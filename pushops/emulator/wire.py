"""The HTTP request as the handlers see it (form and query decoding live in form.py)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

from pushops.emulator.form import Decoded, decode, decode_pairs

__all__ = ["COMMON_PARAMS", "Call", "Request", "Response", "decode_form", "decode_pairs"]


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
    _form: Decoded | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        path, _, raw_query = self.target.partition("?")
        self.path = path or "/"
        self.query, self.query_encoded = decode_pairs(raw_query)

    @property
    def decoded_form(self) -> Decoded:
        """The form body decoded; empty unless the body is form-encoded."""
        if self._form is None:
            ctype = self.headers.get("content-type", "")
            self._form = Decoded({}, {}, None)
            if self.body and (not ctype or ctype.startswith("application/x-www-form-urlencoded")):
                with contextlib.suppress(UnicodeDecodeError):
                    self._form = decode(self.body.decode("utf-8"))
        return self._form

    @property
    def form(self) -> dict[str, str]:
        """The decoded form body; empty unless the body is form-encoded."""
        return self.decoded_form.fields

    @property
    def form_encoded(self) -> dict[str, str]:
        """The form fields RFC 3986-encoded, as the v1 signature wants them."""
        return self.decoded_form.encoded


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
