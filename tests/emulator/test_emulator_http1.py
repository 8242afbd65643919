"""The emulator's HTTP/1.1: plain requests take the fast parser, anything else h11, and a
client cannot tell which (same answers, keep-alive, pipelining, errors)."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from pushops.emulator import Emulator, http1

HEALTH = b"GET /_emulator/health HTTP/1.1\r\nHost: x\r\n\r\n"


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator() as emulator:
        yield emulator


def exchange(emu: Emulator, *chunks: bytes, answers: int = 1) -> list[bytes]:
    """Send the chunks on one connection; read ``answers`` responses (by Content-Length)."""
    host, port = emu.url.split("://")[1].rstrip("/").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        for chunk in chunks:
            sock.sendall(chunk)
        data, out = b"", []
        while len(out) < answers:
            end = data.find(b"\r\n\r\n")
            if end >= 0:
                head = data[:end].decode("latin-1").lower()
                length = int(head.split("content-length: ")[1].split("\r\n")[0])
                if len(data) >= end + 4 + length:
                    out.append(data[: end + 4 + length])
                    data = data[end + 4 + length :]
                    continue
            more = sock.recv(65536)
            if not more:
                out.append(data)
                break
            data += more
    return out


def test_plain_requests_are_parsed_without_h11() -> None:
    buffer = bytearray(HEALTH + b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc")
    first = http1.parse(buffer, 100)
    assert first is not None
    request, keep_alive, used = first
    assert (request.method, request.target, keep_alive) == ("GET", "/_emulator/health", True)
    del buffer[:used]
    second = http1.parse(buffer, 100)
    assert second is not None and second[0].body == b"abc" and second[2] == len(buffer)


@pytest.mark.parametrize(
    "head",
    [
        b"GET / HTTP/1.0\r\nHost: x\r\n\r\n",  # HTTP/1.0
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n",
        b"GET / HTTP/1.1\r\n\r\n",  # no Host
        b"GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n",  # two Hosts
        b"GET / HTTP/1.1\r\nHost x\r\n\r\n",  # not a header line
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
        b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n",
    ],
)
def test_anything_else_is_left_to_h11(head: bytes) -> None:
    with pytest.raises(http1.Unusual):
        http1.parse(bytearray(head), 100)


def test_keep_alive_and_pipelining_on_the_fast_path(emu: Emulator) -> None:
    answers = exchange(emu, HEALTH * 3, answers=3)
    assert [a.split(b"\r\n")[0] for a in answers] == [b"HTTP/1.1 200 "] * 3
    assert all(a.endswith(b'{"ok": true}') for a in answers)


def test_a_request_in_pieces_is_put_together(emu: Emulator) -> None:
    answers = exchange(emu, *(HEALTH[i : i + 5] for i in range(0, len(HEALTH), 5)))
    assert answers[0].endswith(b'{"ok": true}')


def test_connection_close_is_honoured(emu: Emulator) -> None:
    request = b"GET /_emulator/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    answers = exchange(emu, request + HEALTH, answers=2)
    assert b"Connection: close" in answers[0]
    assert answers[1] == b""  # closed: the second request got no answer


def test_h11_takes_over_the_connection_after_a_plain_request(emu: Emulator) -> None:
    chunked = (
        b"POST /_emulator/reset HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"
    )
    answers = exchange(emu, HEALTH + chunked + HEALTH, answers=3)
    assert [a.split(b"\r\n")[0] for a in answers] == [b"HTTP/1.1 200 "] * 3


def test_malformed_requests_still_get_h11s_400(emu: Emulator) -> None:
    answers = exchange(emu, b"GET / HTTP/1.1\r\nHost x\r\n\r\n")
    assert answers[0].startswith(b"HTTP/1.1 400 ")
