"""A lean keep-alive HTTP/1.1 connection pool, plugged into httpx as its transport.

Why not httpcore's pool: on every request and response it walks every pooled connection and
polls each socket (``has_expired`` -> ``is_socket_readable``), so its cost per call grows with
the pool. At 500 calls/s with ~50 connections that was about half the client's CPU (profiled
in bench/bench_providers.py). Here an idle connection is taken from a stack in O(1); a
connection the server closed is noticed at reuse (EOF already seen) and replaced.

Errors are raised as httpx exceptions so callers see one vocabulary: ``ConnectError`` /
``ConnectTimeout`` (nothing was sent), ``WriteTimeout``, ``ReadTimeout``, ``ReadError`` /
``RemoteProtocolError`` (the request may have been executed).

:meth:`KeepAlivePool.send` is the provider transport's own way in: it skips building httpx's
request and response models, whose URL validation alone walked the ~350-character signed
query one character at a time in Python (~15% of the client's CPU per call).
"""

from __future__ import annotations

import asyncio
import ssl
import sys
from collections import defaultdict
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple, TypeVar
from urllib.parse import urlsplit

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


T = TypeVar("T")


class Timeouts(NamedTuple):
    connect: float | None
    read: float | None
    write: float | None


@dataclass(frozen=True)
class RawResponse:
    status_code: int
    headers: dict[str, str]  # lower-case names; a repeated header's values joined with ", "
    content: bytes


def _timeouts(request: httpx.Request) -> Timeouts:
    given = request.extensions.get("timeout", {})
    return Timeouts(given.get("connect"), given.get("read"), given.get("write"))


async def _within(awaitable: Awaitable[T], seconds: float | None) -> T:
    """``await`` with a time limit (asyncio.TimeoutError past it). asyncio.timeout (3.11+)
    costs a timer; wait_for also wraps the awaitable in a task, twice per call here."""
    if seconds is None:
        return await awaitable
    if sys.version_info >= (3, 11):
        async with asyncio.timeout(seconds):
            return await awaitable
    return await asyncio.wait_for(awaitable, seconds)


@lru_cache(maxsize=64)
def _origin(scheme: str, netloc: str) -> tuple[Origin, bytes]:
    """(scheme, host, port) and the Host header (the netloc, as httpx sends it)."""
    parts = urlsplit(f"{scheme}://{netloc}")
    port = parts.port or (443 if scheme == "https" else 80)
    return (scheme, parts.hostname or "", port), netloc.encode("ascii")


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
        # httpx has already set Host and Content-Length on the request.
        status, headers, content = await self._roundtrip(
            origin, request.method, url.raw_path, request.headers.raw, request.content,
            _timeouts(request),
        )  # fmt: skip
        return httpx.Response(
            status, headers=headers, content=content, extensions={"http_version": b"HTTP/1.1"}
        )

    async def send(
        self, url: str, headers: Mapping[str, str], body: bytes, timeouts: Timeouts
    ) -> RawResponse:
        """POST ``body`` to ``url`` (already percent-encoded) with ``headers`` (lower-case
        names) plus Host and Content-Length; raises httpx exceptions like the httpx path."""
        parts = urlsplit(url)
        origin, host = _origin(parts.scheme, parts.netloc)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        raw = [(k.encode(), v.encode()) for k, v in headers.items()]
        if "host" not in headers:  # ACS3 signs it, so it comes with the signed headers
            raw.insert(0, (b"host", host))
        raw.append((b"content-length", str(len(body)).encode()))
        status, received, content = await self._roundtrip(
            origin, b"POST", target.encode("ascii"), raw, body, timeouts
        )
        names: dict[str, str] = {}
        for name, value in received:
            key, text = name.decode("latin-1").lower(), value.decode("latin-1")
            names[key] = f"{names[key]}, {text}" if key in names else text
        return RawResponse(status, names, content)

    async def _roundtrip(
        self,
        origin: Origin,
        method: bytes,
        target: bytes,
        headers: list[tuple[bytes, bytes]],
        body: bytes,
        timeouts: Timeouts,
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        conn = await self._checkout(origin, timeouts.connect)
        reusable = False
        try:
            status, received, content, reusable = await self._exchange(
                conn, h11.Request(method=method, target=target, headers=headers), body, timeouts
            )
            return status, received, content
        finally:
            await self._checkin(origin, conn, reusable)

    async def _checkout(self, origin: Origin, connect_timeout: float | None) -> _Connection:
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
            return await self._connect(origin, connect_timeout)
        except BaseException:
            async with self._freed:
                self._open -= 1
                self._freed.notify()
            raise

    async def _connect(self, origin: Origin, connect_timeout: float | None) -> _Connection:
        scheme, host, port = origin
        tls = None
        if scheme == "https":
            tls = self._ssl or httpx.create_ssl_context()
        try:
            reader, writer = await _within(
                asyncio.open_connection(host, port, ssl=tls, server_hostname=host if tls else None),
                connect_timeout,
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
        self, conn: _Connection, head: h11.Request, body: bytes, timeouts: Timeouts
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes, bool]:
        """(status, headers, body, whether the connection can be reused)."""
        data = b"".join(
            conn.h11.send(event) or b"" for event in (head, h11.Data(data=body), h11.EndOfMessage())
        )
        try:
            conn.writer.write(data)
            await _within(conn.writer.drain(), timeouts.write)
        except asyncio.TimeoutError as exc:
            raise httpx.WriteTimeout("sending the request timed out") from exc
        except OSError as exc:
            raise httpx.WriteError(f"sending the request failed: {exc}") from exc
        status, headers, chunks = 0, [], []
        try:
            while True:
                event = conn.h11.next_event()
                if event is h11.NEED_DATA:
                    received = await _within(conn.reader.read(READ_SIZE), timeouts.read)
                    conn.h11.receive_data(received)
                elif isinstance(event, h11.Response):
                    status, headers = event.status_code, list(event.headers)
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
        return status, headers, b"".join(chunks), reusable

    async def aclose(self) -> None:
        async with self._freed:
            for idle in self._idle.values():
                for conn in idle:
                    conn.close()
                    self._open -= 1
            self._idle.clear()
