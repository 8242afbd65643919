"""The pool's own HTTP/1.1: plain answers read directly, anything else through h11, and the
caller cannot tell which."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from pushops.providers import http1
from pushops.providers.pool import KeepAlivePool, Timeouts

TIMEOUTS = Timeouts(5, 5, 5)
PLAIN = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
ANSWERS = {
    "plain": PLAIN,
    "chunked": b"HTTP/1.1 200 \r\nTransfer-Encoding: chunked\r\n\r\n1\r\n{\r\n1\r\n}\r\n0\r\n\r\n",
    "close-delimited": b"HTTP/1.1 200 \r\nConnection: close\r\n\r\n{}",
    "continue-first": b"HTTP/1.1 100 Continue\r\n\r\n" + PLAIN,
    # obsolete line folding: h11 unfolds it
    "folded-header": PLAIN.replace(b"\r\nContent-Length", b"\r\n  folded\r\nContent-Length"),
}


async def serve(answer: bytes, pieces: int = 1) -> tuple[asyncio.AbstractServer, str]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
            await reader.readexactly(length)
            step = max(1, len(answer) // pieces)
            for i in range(0, len(answer), step):
                writer.write(answer[i : i + step])
                await writer.drain()
            if b"close" in answer or b"folded" in answer or answer == PLAIN[:-1]:
                writer.close()
                return

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"


@pytest.mark.parametrize("kind", sorted(ANSWERS))
def test_every_answer_kind_reads_the_same(kind: str) -> None:
    async def main() -> None:
        server, url = await serve(ANSWERS[kind], pieces=3)
        pool = KeepAlivePool(2)
        try:
            for _ in range(2):  # the second call reuses the connection when it may
                answer = await pool.send(f"{url}/?a=b", {"accept": "*/*"}, b"x=1", TIMEOUTS)
                assert (answer.status_code, answer.content) == (200, b"{}")
                # (a closed connection is replaced: the second call still gets its answer)
        finally:
            await pool.aclose()
            server.close()

    asyncio.run(main())


def test_an_answer_cut_short_is_a_lost_connection() -> None:
    async def main() -> None:
        server, url = await serve(PLAIN[:-1].replace(b"200 OK", b"200 OK") + b"")
        pool = KeepAlivePool(1)
        try:
            task = pool.send(f"{url}/", {}, b"", Timeouts(5, 0.5, 5))
            with pytest.raises((httpx.RemoteProtocolError, httpx.ReadTimeout)):
                await task
        finally:
            await pool.aclose()
            server.close()

    asyncio.run(main())


def test_plain_answers_parse_without_h11() -> None:
    buffer = bytearray(PLAIN + b"HTTP/1.1 503 \r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    first = http1.parse_response(buffer)
    assert first is not None and first[:2] == (200, [(b"Content-Type", b"application/json"),
                                                     (b"Content-Length", b"2")])  # fmt: skip
    del buffer[: first[4]]
    second = http1.parse_response(buffer)
    assert second is not None and (second[0], second[2], second[3]) == (503, b"", False)
    assert http1.parse_response(bytearray(PLAIN[:-1])) is None  # body not all there yet


@pytest.mark.parametrize("answer", [ANSWERS["chunked"], ANSWERS["close-delimited"],
                                    ANSWERS["continue-first"], b"HTTP/1.0 200 \r\n\r\n"])  # fmt: skip
def test_other_answers_are_left_to_h11(answer: bytes) -> None:
    with pytest.raises(http1.Unusual):
        http1.parse_response(bytearray(answer))


def test_a_header_value_with_a_line_break_is_left_to_h11() -> None:
    with pytest.raises(http1.Unusual):
        http1.request_bytes(b"/", [(b"x-a", b"1\r\nx-b: 2")], b"")
