"""The client's token bucket keeps a burst of calls under the emulator's quota."""

from __future__ import annotations

import asyncio
import time

from provider_helpers import APP_KEY, deliveries, providers, task, token

QUOTA = 40
CALLS = 80  # two seconds' worth at the quota: short, but spans several of its windows


def _burst(emulator, rate: float | None, calls: int = CALLS):
    async def go():
        async with providers(max_in_flight=calls) as p:
            emas = p.emas(APP_KEY, endpoint=emulator.url, mass_push_rate=rate)
            started = time.perf_counter()
            results = await asyncio.gather(
                *(emas.mass_push([task(i)], token()) for i in range(calls)),
                return_exceptions=True,
            )
            return time.perf_counter() - started, p.transport, results

    return asyncio.run(go())


def test_rate_limit_holds_the_quota_with_no_throttling(emulator) -> None:
    emulator.configure(quota=QUOTA)
    elapsed, transport, results = _burst(emulator, QUOTA)
    assert not [r for r in results if isinstance(r, BaseException)]
    assert transport.failures["Throttling.User"] == 0
    assert transport.attempts == CALLS
    rate = CALLS / elapsed
    assert QUOTA * 0.9 <= rate <= QUOTA * 1.05
    assert len(deliveries(emulator)) == CALLS


def test_without_the_limit_the_same_burst_is_throttled_and_retried(emulator) -> None:
    emulator.configure(quota=QUOTA)
    # 5x the quota at once: however the burst straddles the emulator's one-second windows,
    # one of them sees more than the quota.
    _, transport, _ = _burst(emulator, None, calls=5 * QUOTA)
    assert transport.failures["Throttling.User"] > 0
