"""Client-side rate limit: an async token bucket, one per account and API.

The provider counts calls per account (MassPush: 500 calls/s); going over costs a
Throttling.User round trip and a retry, so we pace ourselves instead. The bucket is kept
as a "theoretical arrival time" (GCRA); callers take turns (FIFO), each reserving the next
free slot when its turn comes and sleeping until it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


class RateLimiter:
    """At most ``rate`` acquisitions per second on average, never more than ``burst`` at once.

    Callers queue on a lock and each reserves its slot only when its turn comes, so a stall
    of our event loop (GC, a slow callback) cannot release a backlog of overdue slots at once:
    it costs throughput, never a burst the provider would count against the quota. ``burst``
    (default 3) only forgives the few milliseconds by which asyncio timers wake late, which
    would otherwise accumulate and pull the rate below what was asked.
    """

    def __init__(
        self,
        rate: float,
        burst: int = 3,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        if burst < 1:
            raise ValueError("burst must be at least 1")
        self.set_rate(rate)
        self.burst = burst
        self._clock = clock
        self._sleep = sleep
        self._next = clock()  # earliest time the next slot may start
        self._turn = asyncio.Lock()

    def reserve(self) -> float:
        """Reserve the next slot; return how long to wait for it (0 if it is now).

        Synchronous and exact, for one caller at a time; ``acquire`` serialises callers.
        """
        now = self._clock()
        # Idle time earns at most ``burst`` slots of credit, never more.
        start = max(self._next, now - (self.burst - 1) * self._interval)
        self._next = start + self._interval
        return max(0.0, start - now)

    def set_rate(self, rate: float) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate, self._interval = rate, 1.0 / rate

    def pause(self, seconds: float) -> None:
        """No slot starts within ``seconds`` from now (slots already handed out stand)."""
        self._next = max(self._next, self._clock() + seconds)

    async def acquire(self) -> None:
        async with self._turn:
            wait = self.reserve()
            if wait > 0:
                await self._sleep(wait)
                # A caller that woke late used its slot late: count it from when it went,
                # or it and the burst after it would go out together.
                late_start = self._clock() - (self.burst - 1) * self._interval
                self._next = max(self._next, late_start + self._interval)


class RateLimits:
    """The limiters of one run, keyed by (account, API), created on first use."""

    def __init__(self) -> None:
        self._limiters: dict[tuple[str, str], RateLimiter] = {}

    def get(self, account: str, api: str, rate: float | None, burst: int = 3) -> RateLimiter | None:
        if rate is None:
            return None
        key = (account, api)
        limiter = self._limiters.get(key)
        if limiter is None:
            limiter = self._limiters[key] = RateLimiter(rate, burst)
        elif rate < limiter.rate:
            # Two apps of one account share the account's quota; the stricter setting wins,
            # in place, so clients already holding this limiter slow down too.
            limiter.set_rate(rate)
        return limiter
