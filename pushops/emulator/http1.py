"""The plain HTTP/1.1 requests every client we know sends, parsed without h11.

h11 cost ~95 µs of CPU per request/response (header validation, its state machine), a fifth
of the emulator's CPU on a 10-task MassPush. Requests here are only taken when they are the
simple kind: ``METHOD target HTTP/1.1``, well-formed header lines, a Host, a plain
Content-Length or no body, no Transfer-Encoding, Expect or Upgrade. Anything else is left to
h11 (the server falls back for the rest of that connection), so odd and malformed requests
get exactly the answers they got before.
"""

from __future__ import annotations

import re

from pushops.emulator.wire import Request, Response
from pushops.params import is_digits

MAX_HEAD = 64 * 1024  # h11's max_incomplete_event_size in the server
_TOKEN = rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_VCHAR = rb"[\x21-\x7e\x80-\xff]"  # a field value's first and last character
_REQUEST_LINE = re.compile(rb"(" + _TOKEN + rb") ([\x21-\x7e]+) HTTP/1\.1")
_HEADER = re.compile(
    rb"(" + _TOKEN + rb"):[ \t]*((?:" + _VCHAR + rb"(?:[\x20-\x7e\x80-\xff\t]*" + _VCHAR
    + rb")?)?)[ \t]*"
)  # fmt: skip
_TO_H11 = frozenset({"transfer-encoding", "expect", "upgrade"})
_METHODS = frozenset({b"GET", b"POST"})  # HEAD and the rest: h11


class Unusual(Exception):
    """Not a request this parser takes; h11 should see the bytes from here on."""


def parse(buffer: bytearray, max_body: int) -> tuple[Request, bool, int] | None:
    """(request, keep the connection open, bytes consumed) for a complete request at the
    start of ``buffer``; None when more bytes are needed; raises Unusual otherwise."""
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        if len(buffer) > MAX_HEAD:
            raise Unusual
        return None
    lines = bytes(buffer[:end]).split(b"\r\n")
    first = _REQUEST_LINE.fullmatch(lines[0])
    if first is None or first[1] not in _METHODS:
        raise Unusual
    headers: dict[str, str] = {}
    for line in lines[1:]:
        match = _HEADER.fullmatch(line)
        if match is None:
            raise Unusual
        key = match[1].decode("ascii").lower()
        text = match[2].decode("latin-1")
        headers[key] = f"{headers[key]},{text}" if key in headers else text
    # h11 rejects a missing or repeated Host (joined above with ","): let it.
    if "," in headers.get("host", ",") or not _TO_H11.isdisjoint(headers):
        raise Unusual
    length_text = headers.get("content-length", "0")
    if not is_digits(length_text):
        raise Unusual  # repeated, signed or otherwise odd: h11 decides
    length = int(length_text)
    if length > max_body:
        raise Unusual
    start = end + 4
    if len(buffer) < start + length:
        return None
    body = bytes(buffer[start : start + length])
    tokens = headers.get("connection", "").lower().split(",")
    keep_alive = "close" not in (t.strip() for t in tokens)
    request = Request(
        first[1].decode("ascii"), first[2].decode("latin-1"), headers, body
    )  # fmt: skip
    return request, keep_alive, start + length


def serialise(response: Response, keep_alive: bool) -> bytes:
    """The response as h11 writes it (empty reason phrase, our headers as given)."""
    lines = [
        f"HTTP/1.1 {response.status} ",
        f"content-type: {response.content_type}",
        f"content-length: {len(response.body)}",
        *(f"{name}: {value}" for name, value in response.headers),
    ]
    if not keep_alive:
        lines.append("Connection: close")  # h11's spelling
    return "\r\n".join(lines).encode("latin-1") + b"\r\n\r\n" + response.body
