"""Backoff grows exponentially with jitter, is capped, and honours x-acs-retry-after."""

from __future__ import annotations

import random

from pushops.providers.retry import RetryPolicy


def test_backoff_doubles_within_jitter_bounds_and_is_capped() -> None:
    policy = RetryPolicy(base_delay=0.1, max_delay=1.0)
    rng = random.Random(7)
    for attempt, ceiling in [(1, 0.1), (2, 0.2), (3, 0.4), (4, 0.8), (5, 1.0), (9, 1.0)]:
        delays = [policy.delay(attempt, rng=rng) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 1  # jittered


def test_retry_after_is_a_floor() -> None:
    policy = RetryPolicy(base_delay=0.1)
    assert policy.delay(1, retry_after=2.5) == 2.5
    assert 0.05 <= policy.delay(1, retry_after=0.001) <= 0.1
