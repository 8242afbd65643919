"""A lean keep-alive HTTP/1.1 connection pool, plugged into httpx as its transport.

Why not httpcore's pool: on every request and response it walks every pooled connection and
polls each socket (``has_expired`` -> ``is_socket_readable``), so its cost per call grows with
the pool. At 500 calls/s with ~50 connections that was about half the client's CPU (profiled
in bench/bench_providers.py). Here an idle connection is taken from a stack in O(1); a
connection the server closed is noticed at reuse (EOF already seen) and replaced.

Errors are raised as httpx exceptions so callers see one vocabulary: ``ConnectError`` /
``ConnectTimeout`` (nothing was sent), ``WriteTimeout``, ``ReadTimeout``, ``ReadError`` /
``RemoteProtocolError`` (the request may have been executed).
"""

from __future__ import annotations

import asyncio
import ssl
from collections import defaultdict

import h11
import httpx

READ_SIZE = 64 * 1024
Origin = tuple[str, str, int]


class _Connection:
    __slots__ = ("h11", "reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.h11 = h11.Connection(h11.CLIENT)

    def usable(self) -> bool:
        return not self.reader.at_eof() and not self.writer.is_closing()

    def close(self) -> None:
        self.writer.transport.abort()


def _timeout(request: httpx.Request, kind: str) -> float | None:
    return request.extensions.get("timeout", {}).get(kind)


class KeepAlivePool(httpx.AsyncBaseTransport):
    """At most ``max_connections`` open connections, reused in LIFO order (warmest first)."""

    def __init__(self, max_connections: int, ssl_context: ssl.SSLContext | None = None) -> None:
        self._max = max_connections
        self._ssl = ssl_context
        self._idle: defaultdict[Origin, list[_Connection]] = defaultdict(list)
        self._open = 0
        self._freed = asyncio.Condition()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        origin = (url.scheme, url.host, url.port or (443 if url.scheme == "https" else 80))
        conn = await self._checkout(origin, request)
        reusable = False
        try:
            response, reusable = await self._exchange(conn, request)
            return response
        finally:
            await self._checkin(origin, conn, reusable)

    async def _checkout(self, origin: Origin, request: httpx.Request) -> _Connection:
        async with self._freed:
            while True:
                idle = self._idle[origin]
                while idle:
                    conn = idle.pop()
                    if conn.usable():
                        return conn
                    conn.close()
                    self._open -= 1
                if self._open < self._max:
                    self._open += 1
                    break
                await self._freed.wait()
        try:
            return await self._connect(origin, request)
        except BaseException:
            async with self._freed:
                self._open -= 1
                self._freed.notify()
            raise

    async def _connect(self, origin: Origin, request: httpx.Request) -> _Connection:
        scheme, host, port = origin
        tls = None
        if scheme == "https":
            tls = self._ssl or httpx.create_ssl_context()
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(host, port, ssl=tls, server_hostname=host if tls else None),
                _timeout(request, "connect"),
            )
        except asyncio.TimeoutError as exc:
            raise httpx.ConnectTimeout(f"connecting to {host}:{port} timed out") from exc
        except OSError as exc:
            raise httpx.ConnectError(f"cannot connect to {host}:{port}: {exc}") from exc
        return _Connection(reader, writer)

    async def _checkin(self, origin: Origin, conn: _Connection, reusable: bool) -> None:
        async with self._freed:
            if reusable and conn.usable():
                self._idle[origin].append(conn)
            else:
                conn.close()
                self._open -= 1
            self._freed.notify()

    async def _exchange(
        self, conn: _Connection, request: httpx.Request
    ) -> tuple[httpx.Response, bool]:
        body = request.content  # our requests are always fully built bytes
        # httpx has already set Host and Content-Length on the request.
        head = h11.Request(method=request.method, target=request.url.raw_path,
                           headers=request.headers.raw)  # fmt: skip
        data = b"".join(
            conn.h11.send(event) or b"" for event in (head, h11.Data(data=body), h11.EndOfMessage())
        )
        try:
            conn.writer.write(data)
            await asyncio.wait_for(conn.writer.drain(), _timeout(request, "write"))
        except asyncio.TimeoutError as exc:
            raise httpx.WriteTimeout("sending the request timed out") from exc
        except OSError as exc:
            raise httpx.WriteError(f"sending the request failed: {exc}") from exc
        status, headers, chunks = 0, [], []
        read_timeout = _timeout(request, "read")
        try:
            while True:
                event = conn.h11.next_event()
                if event is h11.NEED_DATA:
                    received = await asyncio.wait_for(conn.reader.read(READ_SIZE), read_timeout)
                    conn.h11.receive_data(received)
                elif isinstance(event, h11.Response):
                    status, headers = event.status_code, event.headers
                elif isinstance(event, h11.Data):
                    chunks.append(bytes(event.data))
                elif isinstance(event, h11.EndOfMessage):
                    break
                elif isinstance(event, h11.ConnectionClosed):
                    raise httpx.RemoteProtocolError(
                        "server closed the connection without answering"
                    )
        except asyncio.TimeoutError as exc:
            raise httpx.ReadTimeout("waiting for the answer timed out") from exc
        except h11.RemoteProtocolError as exc:
            raise httpx.RemoteProtocolError(f"bad answer: {exc}") from exc
        except OSError as exc:
            raise httpx.ReadError(f"reading the answer failed: {exc}") from exc
        reusable = conn.h11.our_state is h11.DONE and conn.h11.their_state is h11.DONE
        if reusable:
            conn.h11.start_next_cycle()
        response = httpx.Response(
            status,
            headers=list(headers),
            content=b"".join(chunks),
            extensions={"http_version": b"HTTP/1.1"},
        )
        return response, reusable

    async def aclose(self) -> None:
        async with self._freed:
            for idle in self._idle.values():
                for conn in idle:
                    conn.close()
                    self._open -= 1
            self._idle.clear()
