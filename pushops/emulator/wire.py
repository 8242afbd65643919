"""The HTTP request as the handlers see it, and a fast form/query decoder.

The decoder runs over up to a few thousand ``PushTask.N.Prop`` fields per call, so it skips
the unquoting work for the (common) pieces that have nothing to decode.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import unquote


def decode_form(text: str) -> dict[str, str]:
    """``application/x-www-form-urlencoded`` to a dict: ``+`` is a space, later keys win."""
    out: dict[str, str] = {}
    if not text:
        return out
    for pair in text.split("&"):
        if not pair:
            continue
        key, _, value = pair.partition("=")
        if "+" in key:
            key = key.replace("+", " ")
        if "%" in key:
            key = unquote(key)
        if "+" in value:
            value = value.replace("+", " ")
        if "%" in value:
            value = unquote(value)
        out[key] = value
    return out


@dataclass
class Request:
    method: str
    target: str  # path and query as received
    headers: dict[str, str]  # lower-case names; repeated headers joined with ","
    body: bytes = b""
    path: str = field(init=False)
    query: dict[str, str] = field(init=False)
    _form: dict[str, str] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        path, _, raw_query = self.target.partition("?")
        self.path = path or "/"
        self.query = decode_form(raw_query)

    @property
    def form(self) -> dict[str, str]:
        """The decoded form body; empty unless the body is form-encoded."""
        if self._form is None:
            ctype = self.headers.get("content-type", "")
            if self.body and (not ctype or ctype.startswith("application/x-www-form-urlencoded")):
                try:
                    self._form = decode_form(self.body.decode("utf-8"))
                except UnicodeDecodeError:
                    self._form = {}
            else:
                self._form = {}
        return self._form


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
