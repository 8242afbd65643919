"""The provider side of apply: planned calls in, plain outcomes out.

One :class:`Gateway` per run wraps the provider clients of one environment's apps and turns
every answer (success, refusal, lost answer, run-fatal error) into an :class:`Outcome` the
engine records, so the engine never handles provider exceptions itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pushops.config import App, Environment
from pushops.ledger.records import INTERRUPTED, RUN_STOPPED
from pushops.plan.model import decode_form
from pushops.providers import Providers
from pushops.providers.emas import (
    MASS_PUSH_QUOTA,
    QUERY_PUSH_RECORDS_QUOTA,
    EmasClient,
    whole_counts,
)
from pushops.providers.endpoints import resolve_endpoint
from pushops.providers.errors import ProviderError, RetryableError, RunFatalError, RunStopped
from pushops.providers.mpaas import VERSION as MPAAS_VERSION
from pushops.providers.mpaas import DuplicateMsgkey, MpaasClient
from pushops.providers.rpc import V1
from pushops.providers.transport import HALTED

# The counts of the mPaaS push-analysis models (2020-10-28) a report reads.
TASK_DETAIL_COUNTS = ("PushNum", "PushSuccessNum", "PushArrivalNum")
CORE_INDEX_COUNTS = ("PushTotalNum", "ArrivalNum", "OpenNum", "IgnoreNum")

SENT = "sent"
FAILED = "failed"
PENDING = "pending"  # the provider may have it; nobody knows yet (recovery settles it)
# INTERRUPTED: the code of a call the run gave up before it reached the network (apply was
# interrupted): certainly not sent by this attempt. RUN_STOPPED: never sent because an earlier
# call's error was fatal for the run. Both read "not sent" wherever a user sees them.
# Codes of calls certainly not sent by this run: counted and reported as not sent, not failed.
NOT_SENT = frozenset({INTERRUPTED, RUN_STOPPED})


@dataclass
class Outcome:
    status: str
    message_ids: dict[int, str | None] = field(default_factory=dict)
    request_id: str | None = None
    code: str | None = None
    message: str | None = None
    response: dict[str, Any] | None = None
    fatal: bool = False  # nothing more this run sends can succeed

    @classmethod
    def from_error(cls, error: ProviderError) -> Outcome:
        if isinstance(error, RunStopped):
            if error.outcome_unknown:
                # This attempt never reached the network, but an earlier one of the same call
                # may have gone out unanswered: only recovery can tell.
                return cls(PENDING, code=error.code, message=str(error))
            if error.cause.code == HALTED:
                return cls(FAILED, code=INTERRUPTED, message=error.cause.message)
            # Never reached the network: certainly not sent.
            return cls(FAILED, code=RUN_STOPPED, message=str(error), fatal=True)
        status = PENDING if isinstance(error, RetryableError) and error.outcome_unknown else FAILED
        return cls(
            status,
            request_id=error.request_id,
            code=error.code,
            message=error.message,
            fatal=isinstance(error, RunFatalError),
        )


def _unexpected(error: Exception, status: str) -> Outcome:
    """An error that is not the provider's answer, with what it said. Ours (an app the
    config no longer has) fails that call; anything else is a defect and stops the run."""
    if isinstance(error, ProviderError):
        return Outcome(status, code=error.code, message=error.message)
    message = str(error)[:500] or repr(error)
    return Outcome(status, code=type(error).__name__, message=message, fatal=True)


def check_endpoints(environment: Environment, env: Mapping[str, str] | None = None) -> None:
    """Refuse (:class:`~pushops.providers.endpoints.EndpointError`) an endpoint of any app of
    ``environment`` before apply writes anything: found inside a send, it would leave a call
    written ahead that never went out."""
    for app in environment.apps.values():
        resolve_endpoint(app.provider, app.endpoint, env)


def push_tasks(form: Mapping[str, str]) -> list[dict[str, str]]:
    """``PushTask.N.Prop`` form fields back into the task list MassPush takes."""
    tasks: dict[int, dict[str, str]] = {}
    for name, value in form.items():
        _, number, prop = name.split(".", 2)
        tasks.setdefault(int(number), {})[prop] = value
    return [tasks[n] for n in sorted(tasks)]


class Gateway:
    def __init__(
        self,
        providers: Providers,
        environment: Environment,
        *,
        endpoint: str | None = None,
        rate_limit: bool = True,
    ) -> None:
        """``endpoint`` overrides every app's (the sandbox emulator); ``rate_limit`` False
        leaves only the provider's own throttling (the emulator has no quota)."""
        self.providers = providers
        self.environment = environment
        self.endpoint = endpoint
        self.rate_limit = rate_limit
        self._emas: dict[str, EmasClient] = {}
        self._mpaas: dict[str, MpaasClient] = {}
        # One Providers per signature scheme the apps ask for (pushops.yaml ``signature``).
        self._signing: dict[str, Providers] = {providers.transport.options.signature: providers}

    def signing(self, app: App) -> Providers:
        """The clients that sign the way ``app`` asks (``signature: v1`` or ``acs3``)."""
        scheme = app.signature or V1
        found = self._signing.get(scheme)
        if found is None:
            found = self._signing[scheme] = self.providers.signing_with(scheme)
        return found

    def halt(self, reason: str) -> None:
        """Send nothing more: calls not on the wire yet end as :data:`INTERRUPTED`."""
        for providers in self._signing.values():
            providers.transport.halt(reason)

    async def aclose(self) -> None:
        """Close the transports this gateway opened (not the one it was given)."""
        for providers in self._signing.values():
            if providers is not self.providers:
                await providers.transport.aclose()

    def app(self, name: str) -> App:
        try:
            return self.environment.apps[name]
        except KeyError:
            raise ProviderError(
                "UnknownApp", f"no app {name!r} in environment {self.environment.name!r}"
            ) from None

    def emas(self, name: str) -> EmasClient:
        client = self._emas.get(name)
        if client is None:
            app = self.app(name)
            rate = (app.rate_limit or MASS_PUSH_QUOTA) if self.rate_limit else None
            client = self._emas[name] = self.signing(app).emas(
                str(app.app_key), endpoint=self.endpoint or app.endpoint, mass_push_rate=rate,
                query_rate=QUERY_PUSH_RECORDS_QUOTA if self.rate_limit else None,
            )  # fmt: skip
        return client

    def mpaas(self, name: str) -> MpaasClient:
        client = self._mpaas.get(name)
        if client is None:
            app = self.app(name)
            client = self._mpaas[name] = self.signing(app).mpaas(
                endpoint=self.endpoint or app.endpoint,
                version=app.api_version or MPAAS_VERSION,
                broadcast_rate=app.rate_limit if self.rate_limit else None,
            )
        return client

    async def send(
        self,
        provider: str,
        app: str,
        query: Mapping[str, str],
        form: Mapping[str, str] | None = None,
        *,
        body: str | None = None,
    ) -> Outcome:
        """Send one MassPush or PushBroadcast exactly as planned (same token on retries):
        its ``form`` fields, or its ``body`` (the form already encoded, as planned).

        Whatever goes wrong becomes the outcome, never an exception: before the request is
        built (no client for the app) it is certainly not sent; once it may be on its way,
        an unexpected error leaves it pending for recovery, and either stops the run.
        """
        try:
            client: EmasClient | MpaasClient = (
                self.emas(app) if provider == "emas" else self.mpaas(app)
            )
        except Exception as error:  # an unknown app, a refused endpoint: never reached the wire
            return _unexpected(error, FAILED)
        try:
            if isinstance(client, EmasClient):
                token = query["IdempotentToken"]
                if body is not None:
                    result = await client.mass_push_encoded(body, token)
                else:
                    result = await client.mass_push(push_tasks(form or {}), token)
                ids: dict[int, str | None] = dict(enumerate(result.message_ids))
                return Outcome(SENT, ids, result.request_id)
            if body is not None:
                form = decode_form(body)
            try:
                broadcast = await client.push_broadcast(form or {})
            except DuplicateMsgkey as duplicate:
                # Something used this Msgkey before; whether that sent it, no document says
                # (api-facts §5.11): left pending for recovery to ask the query APIs.
                return Outcome(
                    PENDING,
                    request_id=duplicate.request_id,
                    code="DuplicateMsgkey",
                    message=duplicate.message,
                )
            return Outcome(SENT, {0: broadcast.data}, broadcast.request_id)
        except ProviderError as error:
            return Outcome.from_error(error)
        except Exception as error:  # a defect below us: it may have gone out, nobody knows
            return _unexpected(error, PENDING)

    async def cancel(self, provider: str, app: str, message_id: str) -> Outcome:
        """CancelPush (EMAS) or CancelPushScheduler (mPaaS) of one scheduled push."""
        try:
            if provider == "emas":
                result = await self.emas(app).cancel_push(message_id)
                return Outcome(SENT, request_id=result.request_id)
            settings = self.app(app)
            reply = await self.mpaas(app).cancel_push_scheduler(
                str(settings.app_id), str(settings.workspace_id), message_id
            )
            return Outcome(SENT, request_id=reply.request_id)
        except ProviderError as error:
            if "cancelled" in (error.message or "").lower() and "NotCancellable" in error.code:
                return Outcome(SENT, request_id=error.request_id)  # an earlier run cancelled it
            return Outcome.from_error(error)

    async def push_records(self, app: str, start: str, end: str) -> list[dict[str, Any]]:
        """Every QueryPushRecords entry of an EMAS app in a window (all pages)."""
        client = self.emas(app)
        records: list[dict[str, Any]] = []
        page = 1
        while True:
            result = await client.query_push_records(start, end, Page=str(page), PageSize="100")
            records.extend(result.records)
            if not result.records or len(records) >= result.total or page >= 10_000:
                return records
            page += 1

    async def schedules(self, app: str, start_ms: int, end_ms: int) -> list[dict[str, Any]]:
        """Every QueryPushSchedulerList entry of an mPaaS app whose trigger time is in the
        window (all pages)."""
        settings = self.app(app)
        client = self.mpaas(app)
        found: list[dict[str, Any]] = []
        page = 1
        while True:
            reply = await client.query_push_scheduler_list(
                str(settings.app_id), str(settings.workspace_id), start_ms, end_ms,
                PageNumber=str(page), PageSize="100",
            )  # fmt: skip
            content = reply.content if isinstance(reply.content, dict) else {}
            data = content.get("Data") if isinstance(content.get("Data"), dict) else content
            entries = [e for e in (data or {}).get("List") or [] if isinstance(e, dict)]
            found.extend(entries)
            total = int((data or {}).get("TotalCount") or 0)
            if not entries or len(found) >= total or page >= 1000:
                return found
            page += 1

    async def push_tasks(
        self, app: str, start_ms: int, task_name: str | None = None
    ) -> list[dict[str, Any]]:
        """Every QueryPushAnalysisTaskList entry of an mPaaS app (named ``task_name``, when
        given) created since ``start_ms`` (all pages; the model gives no total, so until a
        short page)."""
        settings = self.app(app)
        client = self.mpaas(app)
        found: list[dict[str, Any]] = []
        size = 100
        for page in range(1, 1001):
            named = {"TaskName": task_name} if task_name else {}
            reply = await client.query_push_analysis_task_list(
                str(settings.app_id), str(settings.workspace_id), start_ms,
                PageNumber=str(page), PageSize=str(size), **named,
            )  # fmt: skip
            content = reply.content if isinstance(reply.content, dict) else {}
            data = content.get("Data")
            entries = [e for e in data if isinstance(e, dict)] if isinstance(data, list) else []
            found.extend(entries)
            if len(entries) < size:
                break
        return found

    async def push_stat(self, app: str, message_id: str) -> dict[str, int]:
        """QueryPushStatByMsg's counts of one EMAS message, by the model's names."""
        return (await self.emas(app).query_push_stat_by_msg(message_id)).counts

    async def task_stats(
        self, app: str, task_id: str, start_ms: int, end_ms: int
    ) -> dict[str, int]:
        """An mPaaS push task's counts: QueryPushAnalysisTaskDetail's (pushed, pushed
        successfully, arrived) and QueryPushAnalysisCoreIndex's of that task between
        ``start_ms`` and ``end_ms`` (total, opened, ignored), by the models' names."""
        settings = self.app(app)
        client = self.mpaas(app)
        ids = (str(settings.app_id), str(settings.workspace_id))
        detail = await client.query_push_analysis_task_detail(*ids, task_id)
        index = await client.query_push_analysis_core_index(*ids, start_ms, end_ms, TaskId=task_id)
        counts: dict[str, int] = {}
        for reply, names in ((detail, TASK_DETAIL_COUNTS), (index, CORE_INDEX_COUNTS)):
            content = reply.content if isinstance(reply.content, dict) else {}
            data = content.get("Data") if isinstance(content.get("Data"), dict) else {}
            counts.update(whole_counts(data, names))
        return counts
