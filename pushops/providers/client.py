"""The provider side of one run: one transport, and the per-app clients built on it.

``Providers`` is what async callers (apply) use; ``BlockingProviders`` wraps it for plain
synchronous code (CLI commands that send one or two calls).
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from datetime import datetime
from typing import Any, Generic, TypeVar

from pushops.providers.credentials import Credentials
from pushops.providers.emas import MASS_PUSH_QUOTA, QUERY_PUSH_RECORDS_QUOTA, EmasClient
from pushops.providers.endpoints import EMAS, MPAAS, resolve_endpoint
from pushops.providers.mpaas import VERSION as MPAAS_VERSION
from pushops.providers.mpaas import MpaasClient
from pushops.providers.ratelimit import RateLimits
from pushops.providers.transport import Transport, TransportOptions

T = TypeVar("T")
C = TypeVar("C")


class Providers:
    """Clients for one account. ``async with Providers(creds) as p: await p.emas(k).mass_push``"""

    def __init__(
        self,
        credentials: Credentials,
        options: TransportOptions | None = None,
        *,
        env: Mapping[str, str] | None = None,
        clock: Callable[[], datetime] | None = None,
        limits: RateLimits | None = None,
    ) -> None:
        self.transport = Transport(credentials, options, clock=clock, limits=limits)
        self._env = env
        self._clock = clock

    @property
    def env(self) -> Mapping[str, str] | None:
        """The variables endpoint overrides are read from (None: the process's own)."""
        return self._env

    def signing_with(self, scheme: str) -> Providers:
        """Clients of the same account that sign with ``scheme`` (``v1`` or ``acs3``): same
        credentials, endpoint overrides and rate limiters (the quota is the account's,
        however a request is signed), on a transport of their own. Close them as this one."""
        if scheme == self.transport.options.signature:
            return self
        return Providers(
            self.transport.credentials,
            dataclasses.replace(self.transport.options, signature=scheme),
            env=self._env,
            clock=self._clock,
            limits=self.transport.limits,
        )

    async def __aenter__(self) -> Providers:
        await self.transport.__aenter__()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.transport.aclose()

    def emas(
        self,
        app_key: str,
        *,
        endpoint: str | None = None,
        mass_push_rate: float | None = MASS_PUSH_QUOTA,
        query_rate: float | None = QUERY_PUSH_RECORDS_QUOTA,
    ) -> EmasClient:
        """``endpoint`` is the one from pushops.yaml; PUSHOPS_EMAS_ENDPOINT overrides it."""
        return EmasClient(
            self.transport,
            app_key,
            endpoint=resolve_endpoint(EMAS, endpoint, self._env),
            mass_push_rate=mass_push_rate,
            query_rate=query_rate,
        )

    def mpaas(
        self,
        *,
        endpoint: str | None = None,
        version: str = MPAAS_VERSION,
        broadcast_rate: float | None = None,
    ) -> MpaasClient:
        """``endpoint`` is the one from pushops.yaml; PUSHOPS_MPAAS_ENDPOINT overrides it."""
        return MpaasClient(
            self.transport,
            endpoint=resolve_endpoint(MPAAS, endpoint, self._env),
            version=version,
            broadcast_rate=broadcast_rate,
        )


class _Blocking(Generic[C]):
    """Every coroutine method of the wrapped client, run to completion on the owner's loop."""

    def __init__(self, client: C, run: Callable[[Awaitable[Any]], Any]) -> None:
        self._client = client
        self._run = run

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if not asyncio.iscoroutinefunction(attr):
            return attr

        @functools.wraps(attr)
        def blocking(*args: Any, **kwargs: Any) -> Any:
            return self._run(attr(*args, **kwargs))

        return blocking


class BlockingProviders:
    """``with BlockingProviders(creds) as p: p.emas(k).cancel_push(mid)`` for sync callers."""

    def __init__(
        self, credentials: Credentials, options: TransportOptions | None = None, **kwargs: Any
    ) -> None:
        self._loop = asyncio.new_event_loop()
        self._providers = Providers(credentials, options, **kwargs)

    def run(self, awaitable: Awaitable[T]) -> T:
        async def wrap() -> T:
            return await awaitable

        coro: Coroutine[Any, Any, T] = wrap()
        return self._loop.run_until_complete(coro)

    def __enter__(self) -> BlockingProviders:
        self.run(self._providers.__aenter__())
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            self.run(self._providers.__aexit__())
        finally:
            self._loop.close()

    @property
    def transport(self) -> Transport:
        return self._providers.transport

    def emas(self, app_key: str, **kwargs: Any) -> _Blocking[EmasClient]:
        return _Blocking(self._providers.emas(app_key, **kwargs), self.run)

    def mpaas(self, **kwargs: Any) -> _Blocking[MpaasClient]:
        return _Blocking(self._providers.mpaas(**kwargs), self.run)
