"""Sending signed RPC calls: one pooled httpx client per run, paced, bounded and retried.

Every attempt of a call is signed afresh (new nonce and timestamp) but carries exactly the
same API parameters, so the IdempotentToken or Msgkey the caller put in them is the same on
every retry. An error that is fatal for the run stops the transport: calls not yet sent
fail with :class:`RunStopped` without reaching the network. So does :meth:`Transport.halt`
(apply on SIGINT/SIGTERM): calls still waiting for a slot or for their turn under the rate
limit give up at once, calls already on the wire finish.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone

import httpx

from pushops import __version__
from pushops.providers import redact
from pushops.providers.credentials import Credentials
from pushops.providers.errors import (
    ProviderError,
    RetryableError,
    RunStopped,
    Severity,
    error_from_http,
    parse_json_body,
)
from pushops.providers.pool import KeepAlivePool, Timeouts
from pushops.providers.ratelimit import RateLimiter, RateLimits
from pushops.providers.retry import RetryPolicy
from pushops.providers.rpc import V1, Call, sign

log = logging.getLogger("pushops.providers")

# The code of the RunStopped a halted transport answers: the call never reached the network.
HALTED = "Transport.Halted"

# How long the whole bucket holds back after a throttled call that named no retry-after: the
# provider counts calls per account in windows we cannot see, so one throttled call means the
# current window is full for every call of ours, not just that one.
THROTTLE_PAUSE = 0.05

# Turns a 2xx JSON body into an error when the API reports failure inside it (mPaaS).
BodyCheck = Callable[[dict[str, object]], ProviderError | None]


@dataclass(frozen=True)
class TransportOptions:
    signature: str = V1
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    write_timeout: float = 30.0
    # Calls in flight at once. At 500 calls/s and 50 ms round trips ~25 are busy; the rest
    # absorbs slow answers without stalling the pace.
    max_in_flight: int = 100
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    user_agent: str = f"pushops/{__version__}"
    # Keep each attempt's round-trip time in Transport.latencies (benchmarks, reports).
    collect_latencies: bool = False


@dataclass(frozen=True)
class Reply:
    """A successful answer: its JSON body and how many attempts it took."""

    body: dict[str, object]
    request_id: str | None
    attempts: int
    http_status: int


def idempotency_key(call: Call) -> str | None:
    """The IdempotentToken or Msgkey the call carries: the same on every attempt."""
    return call.query.get("IdempotentToken") or call.form.get("Msgkey")


def _request_id(body: Mapping[str, object]) -> str | None:
    value = body.get("RequestId", body.get("requestId"))
    return None if value is None else str(value)


def _transport_error(exc: httpx.HTTPError, action: str) -> RetryableError:
    # A failure to connect proves nothing was sent; after that, the provider may have
    # executed the request and only the answer was lost.
    not_sent = isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))
    kind = "Timeout" if isinstance(exc, httpx.TimeoutException) else "ConnectionLost"
    if isinstance(exc, httpx.ConnectError):
        kind = "ConnectError"
    return RetryableError(
        f"Transport.{kind}",
        redact.redact(f"{type(exc).__name__}: {exc}") or type(exc).__name__,
        outcome_unknown=not not_sent,
        action=action,
    )


class Transport:
    """The network side of one run for one account. Use as an async context manager."""

    def __init__(
        self,
        credentials: Credentials,
        options: TransportOptions | None = None,
        *,
        clock: Callable[[], datetime] | None = None,
        limits: RateLimits | None = None,
    ) -> None:
        """``limits``: another transport's rate limiters, for a second transport of the same
        account (e.g. one that signs differently): the quota is the account's."""
        self.credentials = credentials
        self.options = options or TransportOptions()
        self._clock = clock or (lambda: datetime.now(timezone.utc))
        self.limits = limits or RateLimits()
        self._slots = asyncio.Semaphore(self.options.max_in_flight)
        self._stopped: ProviderError | None = None
        self._halted: ProviderError | None = None
        self._halt = asyncio.Event()
        self._client: httpx.AsyncClient | None = None
        self._pool: KeepAlivePool | None = None
        # Per-code counts of failed attempts (e.g. "Throttling.User": 3), for reports.
        self.failures: collections.Counter[str] = collections.Counter()
        self.attempts = 0
        self.latencies: list[float] = []
        token = credentials.security_token
        redact.protect(credentials.access_key_secret.reveal(), *([token.reveal()] if token else []))

    async def __aenter__(self) -> Transport:
        self._open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def _open(self) -> httpx.AsyncClient:
        if self._client is None:
            o = self.options
            self._pool = KeepAlivePool(o.max_in_flight)
            self._timeouts = Timeouts(o.connect_timeout, o.read_timeout, o.write_timeout)
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(
                    connect=o.connect_timeout,
                    read=o.read_timeout,
                    write=o.write_timeout,
                    pool=None,  # waiting for a connection is bounded by max_in_flight
                ),
                # One connection per call in flight, kept alive between calls (see pool.py).
                transport=self._pool,
                trust_env=False,  # endpoints come from config only; no proxy surprises
            )
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    @property
    def stopped(self) -> ProviderError | None:
        """The run-fatal error that stopped this transport, if any."""
        return self._stopped

    def halt(self, reason: str) -> None:
        """Send nothing more: calls not yet on the wire fail with :class:`RunStopped` (code
        :data:`HALTED`) at once, even those queued behind the rate limit; calls on the wire
        are left to finish, so their answers can be recorded."""
        if self._halted is None:
            self._halted = ProviderError(HALTED, reason)
        self._halt.set()

    async def _take(self, limiter: RateLimiter | None) -> None:
        await self._slots.acquire()
        try:
            if limiter is not None:
                await limiter.acquire()
        except BaseException:
            self._slots.release()
            raise

    async def _admit(self, limiter: RateLimiter | None) -> bool:
        """Take a slot and this call's turn under the rate limit; False, holding nothing,
        when the transport is halted first. Waiting here is before the network, so giving
        up is safe: the call certainly was not sent."""
        if self._halt.is_set():
            return False
        if limiter is None and not self._slots.locked():
            await self._slots.acquire()  # free now: nothing to race against
            return True
        taking = asyncio.ensure_future(self._take(limiter))
        halted = asyncio.ensure_future(self._halt.wait())
        try:
            await asyncio.wait({taking, halted}, return_when=asyncio.FIRST_COMPLETED)
        except BaseException:  # this call itself was cancelled: hold nothing
            halted.cancel()
            if not taking.done():
                taking.cancel()  # _take gives back what it took
            elif not taking.cancelled() and taking.exception() is None:
                self._slots.release()
            raise
        halted.cancel()
        if not taking.done():
            taking.cancel()  # _take gives back what it took
        elif not taking.cancelled() and taking.exception() is None and self._halt.is_set():
            self._slots.release()  # took its turn, but the halt came too: give it back
        try:
            await taking
        except asyncio.CancelledError:
            return False
        return not self._halt.is_set()

    def limiter(self, api: str, rate: float | None, burst: int = 3) -> RateLimiter | None:
        return self.limits.get(self.credentials.access_key_id, api, rate, burst)

    async def call(
        self,
        endpoint: str,
        call: Call,
        *,
        limiter: RateLimiter | None = None,
        check: BodyCheck | None = None,
        repeat_unknown: bool = True,
    ) -> Reply:
        """Send ``call`` until it succeeds, fails for good, or the retry budget is spent.

        ``repeat_unknown`` False: an attempt that may have executed unanswered (a lost answer,
        a timeout, a 5xx) is not repeated; the error says ``outcome_unknown`` and the caller
        finds out another way. For an API whose repeats no document says are deduplicated
        (mPaaS PushBroadcast and its Msgkey), repeating could send twice."""
        policy = self.options.retry
        unknown = False  # did any attempt possibly execute without us hearing back?
        attempt = 0
        while True:
            attempt += 1
            result = await self._attempt(endpoint, call, limiter, check)
            if isinstance(result, Reply):
                return Reply(result.body, result.request_id, attempt, result.http_status)
            error = result
            error.action = error.action or call.action
            error.attempts = attempt
            unknown = unknown or error.outcome_unknown
            error.outcome_unknown = unknown
            if not isinstance(error, RunStopped):
                self.failures[error.code] += 1
            if error.severity is Severity.FATAL_RUN:
                if not isinstance(error, RunStopped) and self._stopped is None:
                    self._stopped = error
                    log.error("run stopped: %s", error)
                raise error
            if error.severity is Severity.FATAL_REQUEST or attempt >= policy.max_attempts:
                raise error
            if unknown and not repeat_unknown:
                raise error
            if limiter is not None and (
                error.code.startswith("Throttling") or error.code == "8011"
            ):
                limiter.pause(error.retry_after or THROTTLE_PAUSE)
            delay = policy.delay(attempt, error.retry_after)
            log.info(
                "%s attempt %d failed with %s; retrying in %.3fs",
                call.action,
                attempt,
                error.code,
                delay,
            )
            await asyncio.sleep(delay)

    async def _attempt(
        self,
        endpoint: str,
        call: Call,
        limiter: RateLimiter | None,
        check: BodyCheck | None,
    ) -> Reply | ProviderError:
        if not await self._admit(limiter):
            assert self._halted is not None
            return RunStopped(self._halted, action=call.action)
        try:
            if self._stopped is not None:
                return RunStopped(self._stopped, action=call.action)
            request = sign(
                call,
                endpoint,
                self.credentials,
                scheme=self.options.signature,
                nonce=str(uuid.uuid4()),
                timestamp=self._clock(),
                user_agent=self.options.user_agent,
            )
            self.attempts += 1
            started = time.perf_counter()
            try:
                self._open()
                assert self._pool is not None
                # Straight to the pool: the same connections and errors as through the httpx
                # client, without its request/response models (see pool.py).
                response = await self._pool.send(
                    request.url, request.headers, request.body, self._timeouts
                )
            except httpx.HTTPError as exc:
                error = _transport_error(exc, call.action)
                log.debug("%s key=%s -> %s", call.action, idempotency_key(call), error.code)
                return error
        finally:
            self._slots.release()
        elapsed = time.perf_counter() - started
        if self.options.collect_latencies:
            self.latencies.append(elapsed)
        status = response.status_code
        if not 200 <= status < 300:
            error = error_from_http(status, response.headers, response.content, call.action)
            log.debug(
                "%s key=%s -> HTTP %d %s in %.1f ms",
                call.action,
                idempotency_key(call),
                status,
                error.code,
                elapsed * 1e3,
            )
            return error
        body = parse_json_body(response.content)
        if body is None:
            # Executed, probably, but the answer is unreadable: same as a lost answer.
            return RetryableError(
                "Transport.InvalidResponse",
                "the provider answered 2xx with a body that is not a JSON object",
                http_status=status,
                outcome_unknown=True,
                action=call.action,
            )
        request_id = _request_id(body)
        log.debug(
            "%s key=%s -> HTTP %d RequestId %s in %.1f ms",
            call.action,
            idempotency_key(call),
            status,
            request_id,
            elapsed * 1e3,
        )
        error = check(body) if check is not None else None
        if error is not None:
            return error
        return Reply(body, request_id, 1, status)
