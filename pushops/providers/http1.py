"""The plain HTTP/1.1 exchange the provider APIs answer with, without h11.

h11 was ~20% of the client's CPU per call (header validation on every request, its state
machine on every response). A request is written directly when its headers are plain text;
an answer is read directly when it is the plain kind: ``HTTP/1.1 NNN``, well-formed header
lines, a Content-Length, no Transfer-Encoding. Anything else (chunked or close-delimited
bodies, 1xx, odd header lines, odd header values to send) goes through h11 as before.
"""

from __future__ import annotations

import re

_TOKEN = rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_VCHAR = rb"[\x21-\x7e\x80-\xff]"
_STATUS_LINE = re.compile(rb"HTTP/1\.1 ([2-5][0-9][0-9])(?: [\x09\x20-\x7e\x80-\xff]*)?")
_HEADER = re.compile(
    rb"(" + _TOKEN + rb"):[ \t]*((?:" + _VCHAR + rb"(?:[\x20-\x7e\x80-\xff\t]*" + _VCHAR
    + rb")?)?)[ \t]*"
)  # fmt: skip
_PLAIN_VALUE = re.compile(r"[\x20-\x7e]*")
MAX_HEAD = 64 * 1024

Headers = list[tuple[bytes, bytes]]


class Unusual(Exception):
    """Not the plain kind: let h11 handle it."""


def request_bytes(target: bytes, headers: Headers, body: bytes) -> bytes:
    """``POST target`` with ``headers`` (Host and Content-Length among them) and ``body``."""
    for name, value in headers:
        if not _PLAIN_VALUE.fullmatch(value.decode("latin-1")) or b":" in name:
            raise Unusual  # h11 rejects (or accepts) it exactly as before
    head = b"".join(b"%s: %s\r\n" % pair for pair in headers)
    return b"POST %s HTTP/1.1\r\n%s\r\n%s" % (target, head, body)


def parse_response(buffer: bytearray) -> tuple[int, Headers, bytes, bool, int] | None:
    """(status, headers, body, keep-alive, bytes used) of a complete plain answer at the
    start of ``buffer``; None when more bytes are needed; raises Unusual otherwise."""
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        if len(buffer) > MAX_HEAD:
            raise Unusual
        return None
    lines = bytes(buffer[:end]).split(b"\r\n")
    first = _STATUS_LINE.fullmatch(lines[0])
    if first is None:
        raise Unusual
    headers: Headers = []
    length = None
    keep_alive = True
    for line in lines[1:]:
        match = _HEADER.fullmatch(line)
        if match is None:
            raise Unusual
        name, value = match[1].lower(), match[2]
        if name == b"content-length":
            if length is not None or not value.isdigit():
                raise Unusual
            length = int(value)
        elif name == b"transfer-encoding":
            raise Unusual
        elif name == b"connection" and b"close" in (t.strip() for t in value.lower().split(b",")):
            keep_alive = False
        headers.append((match[1], value))
    if length is None:
        raise Unusual  # delimited by close, or chunked: h11
    start = end + 4
    if len(buffer) < start + length:
        return None
    status = int(first[1])
    return status, headers, bytes(buffer[start : start + length]), keep_alive, start + length
