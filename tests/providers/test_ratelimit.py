"""The token bucket paces calls without bursts beyond what it is told."""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest

from pushops.providers.ratelimit import RateLimiter, RateLimits


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_reservations_are_spaced_one_interval_apart() -> None:
    clock = FakeClock()
    limiter = RateLimiter(500, burst=1, clock=clock)
    waits = [limiter.reserve() for _ in range(5)]
    assert waits == pytest.approx([0.0, 0.002, 0.004, 0.006, 0.008])


def test_idle_time_earns_at_most_the_burst() -> None:
    clock = FakeClock()
    limiter = RateLimiter(10, burst=3, clock=clock)
    clock.now += 60  # a long idle spell
    waits = [limiter.reserve() for _ in range(5)]
    assert waits == pytest.approx([0.0, 0.0, 0.0, 0.1, 0.2])


def test_holds_the_rate_over_a_real_bounded_run() -> None:
    rate, calls = 200.0, 100

    async def run() -> float:
        limiter = RateLimiter(rate)
        start = time.monotonic()
        await asyncio.gather(*(limiter.acquire() for _ in range(calls)))
        return time.monotonic() - start

    elapsed = asyncio.run(run())
    # 100 calls at 200/s: the first goes at once, the last 99 intervals later.
    assert elapsed >= (calls - 1) / rate * 0.98
    assert elapsed < (calls - 1) / rate + 0.25


def test_apps_of_one_account_share_a_bucket_and_the_stricter_rate_wins() -> None:
    limits = RateLimits()
    first = limits.get("akid", "emas:MassPush", 500)
    assert limits.get("akid", "emas:MassPush", 500) is first
    stricter = limits.get("akid", "emas:MassPush", 100)
    assert stricter is first and first.rate == 100
    assert limits.get("akid", "emas:MassPush", 500) is first and first.rate == 100
    assert limits.get("other", "emas:MassPush", 500) is not first
    assert limits.get("akid", "mpaas:PushBroadcast", None) is None


def test_pause_holds_back_every_later_slot() -> None:
    clock = FakeClock()
    limiter = RateLimiter(100, burst=1, clock=clock)
    assert limiter.reserve() == 0.0
    limiter.pause(0.5)
    assert limiter.reserve() == pytest.approx(0.5)
    assert limiter.reserve() == pytest.approx(0.51)


def test_a_stalled_loop_releases_at_most_the_burst_at_once() -> None:
    clock = FakeClock()
    sent: list[float] = []

    async def late_sleep(seconds: float) -> None:
        # Every wake-up is 1 ms late, and the 5th sleeper is held up for 50 ms (a GC pause).
        clock.now += seconds + (0.05 if len(sent) == 4 else 0.001)

    async def run() -> None:
        limiter = RateLimiter(500, burst=3, clock=clock, sleep=late_sleep)

        async def one() -> None:
            await limiter.acquire()
            sent.append(clock.now)

        await asyncio.gather(*(one() for _ in range(30)))

    asyncio.run(run())
    # After the stall, no more than ``burst`` sends go out at the same instant.
    longest = streak = 1
    for before, after in itertools.pairwise(sent):
        streak = streak + 1 if after - before < 1e-9 else 1
        longest = max(longest, streak)
    assert longest <= 3
    # Over the whole run the rate stays at or under 500/s (plus the burst allowance).
    assert len(sent) - 3 <= (sent[-1] - sent[0]) * 500
