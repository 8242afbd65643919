"""How long to wait before attempt N+1 of a call that failed with a retryable error."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter, at least what ``x-acs-retry-after`` asks for.

    The defaults keep every retry of a call well inside the 15 minutes for which EMAS
    dedupes an IdempotentToken (worst case about a minute).
    """

    max_attempts: int = 6
    base_delay: float = 0.2
    max_delay: float = 20.0
    multiplier: float = 2.0

    def delay(
        self, attempt: int, retry_after: float | None = None, rng: random.Random | None = None
    ) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        ceiling = min(self.max_delay, self.base_delay * self.multiplier ** (attempt - 1))
        # "Equal jitter": never less than half the backoff, so retries do not hammer, and
        # spread over the other half so a throttled swarm does not return in lockstep.
        backoff = ceiling / 2 + (rng or random).uniform(0, ceiling / 2)
        if retry_after is not None:
            return max(retry_after, backoff)
        return backoff


NO_RETRY = RetryPolicy(max_attempts=1)
