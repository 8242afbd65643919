"""Injected trouble: latency and jitter, random errors and drops, queued faults, the quota.

Everything a test or a benchmark turns on to see how a client copes; none of it changes what
a successful call records.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Fault:
    """One queued fault, answered by the next request that matches ``action`` (any if None)."""

    action: str | None = None
    code: str | None = None  # a gateway/EMAS error code, e.g. Throttling.User
    result_code: str | None = None  # an mPaaS ResultCode (HTTP 200)
    status: int | None = None  # HTTP status; alone, 503 ServiceUnavailable / 500 InternalError
    message: str | None = None
    drop: bool = False  # process and record, then close without answering
    retry_after_ms: int | None = None  # sent as x-acs-retry-after (a throttling answer's wait)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Fault:
        known = {"action", "code", "result_code", "status", "message", "drop", "retry_after_ms"}
        unknown = set(raw) - known
        if unknown:
            raise ValueError(f"unknown fault fields: {', '.join(sorted(unknown))}")
        fault = cls(**raw)
        if not (fault.code or fault.result_code or fault.status or fault.drop):
            raise ValueError("a fault needs one of code, result_code, status or drop")
        return fault


@dataclass
class FaultSettings:
    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    error_rate: float = 0.0
    drop_rate: float = 0.0
    quota: int | None = None  # calls per second per access key; None = unlimited
    # How a call over the quota is refused: 400 Throttling.User (what the documents give), or
    # 429 (what the Tea SDK also handles); with x-acs-retry-after when set.
    throttle_status: int = 400
    retry_after_ms: int | None = None

    def validate(self) -> None:
        if self.latency_ms < 0 or self.jitter_ms < 0:
            raise ValueError("latency and jitter must not be negative")
        for name in ("error_rate", "drop_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
        if self.quota is not None and self.quota < 1:
            raise ValueError("quota must be at least 1 call per second (or None)")
        if self.throttle_status not in (400, 429):
            raise ValueError("throttle_status is 400 or 429")
        if self.retry_after_ms is not None and self.retry_after_ms < 1:
            raise ValueError("retry_after_ms must be a positive number of milliseconds")


@dataclass
class Faults:
    settings: FaultSettings = field(default_factory=FaultSettings)
    queue: list[Fault] = field(default_factory=list)
    _windows: dict[str, tuple[int, int]] = field(default_factory=dict)  # key -> (second, count)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _random: random.Random = field(default_factory=random.Random)

    def configure(self, **changes: Any) -> None:
        unknown = set(changes) - set(FaultSettings.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown settings: {', '.join(sorted(unknown))}")
        with self._lock:
            merged = FaultSettings(**{**self.settings.__dict__, **changes})
            merged.validate()
            self.settings = merged

    def enqueue(self, fault: Fault) -> None:
        with self._lock:
            self.queue.append(fault)

    def take(self, action: str) -> Fault | None:
        """The first queued fault for this action, removed from the queue."""
        if not self.queue:
            return None
        with self._lock:
            for i, fault in enumerate(self.queue):
                if fault.action is None or fault.action == action:
                    return self.queue.pop(i)
        return None

    def over_quota(self, access_key_id: str) -> bool:
        """Count a call; True when it is above the quota of its one-second window.

        Fixed windows on the monotonic clock: a client pacing itself evenly never trips
        it, a burst beyond the quota inside one second does.
        """
        return self._over(access_key_id, self.settings.quota)

    def over_api_quota(self, access_key_id: str, action: str, quota: int | None) -> bool:
        """Count a call of one API against the quota the provider documents for it
        (QueryPushStatByMsg: 50/s), in windows of its own, whatever ``quota`` is set."""
        return self._over(f"{access_key_id}\n{action}", quota)

    def _over(self, counter: str, quota: int | None) -> bool:
        if quota is None:
            return False
        second = int(time.monotonic())
        with self._lock:
            window, count = self._windows.get(counter, (second, 0))
            if window != second:
                window, count = second, 0
            count += 1
            self._windows[counter] = (window, count)
        return count > quota

    def random_error(self) -> bool:
        rate = self.settings.error_rate
        return rate > 0 and self._random.random() < rate

    def random_drop(self) -> bool:
        rate = self.settings.drop_rate
        return rate > 0 and self._random.random() < rate

    def delay(self) -> float:
        """Seconds to wait before answering: latency plus or minus up to the jitter."""
        s = self.settings
        if not s.latency_ms and not s.jitter_ms:
            return 0.0
        jitter = self._random.uniform(-s.jitter_ms, s.jitter_ms) if s.jitter_ms else 0.0
        return max(0.0, s.latency_ms + jitter) / 1000.0

    def reset(self) -> None:
        with self._lock:
            self.queue.clear()
            self._windows.clear()
