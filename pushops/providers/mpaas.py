"""mPaaS push: PushBroadcast (2020-10-28, or 2019-08-21), CancelPushScheduler,
QueryPushSchedulerList, QueryPushAnalysisTaskList, QueryPushAnalysisTaskDetail,
QueryPushAnalysisCoreIndex.

Every business parameter travels in the form body (api-facts §0.1). mPaaS reports business
failures as HTTP 200 with a ResultCode other than "100"; those become errors here so they are
classified and retried like any other.

A PushBroadcast is never repeated after an attempt that may have executed (a lost answer, a
timeout, 9000): the documents say only that a Msgkey "must be unique", not that the service
refuses or deduplicates a repeat (api-facts §5.11). Such a call ends ``outcome_unknown``;
apply's recovery asks the query APIs what happened.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pushops.providers.endpoints import DEFAULT_ENDPOINTS, MPAAS
from pushops.providers.errors import (
    MPAAS_SUCCESS,
    ProviderError,
    RequestError,
    error_from_result_code,
)
from pushops.providers.rpc import Call
from pushops.providers.transport import Transport

VERSION = "2020-10-28"
LEGACY_VERSION = "2019-08-21"
VERSIONS = (VERSION, LEGACY_VERSION)

# The only fields PushBroadcast 2019-08-21 knows (api-facts §1.5).
LEGACY_BROADCAST_FIELDS = frozenset(
    {
        "AppId",
        "WorkspaceId",
        "DeliveryType",
        "Msgkey",
        "ExpiredSeconds",
        "TemplateName",
        "TemplateKeyValue",
        "TaskName",
        "PushAction",
        "Silent",
        "NotifyType",
        "ExtendedParams",
        "PushStatus",
        "UnBindPeriod",
    }
)


@dataclass(frozen=True)
class BroadcastResult:
    request_id: str | None
    result_code: str
    data: str | None  # PushResult.Data: the provider's id for the push task
    attempts: int


class DuplicateMsgkey(RequestError):
    """Refused as a repeated Msgkey (the emulator's 3028 DUPLICATE_MSGKEY). Something used
    the Msgkey before, but no document says what the live service answers to a repeat, so
    this is never read as "sent": the caller finds out from a query API."""

    @property
    def existing(self) -> str | None:
        return _push_data(self.body)


def _push_data(body: Mapping[str, object]) -> str | None:
    result = body.get("PushResult")
    return _text(result.get("Data")) if isinstance(result, Mapping) else None


def is_duplicate_msgkey(error: ProviderError) -> bool:
    # mPaaS documents only "Msgkey must be unique". The emulator refuses a repeat with 3028
    # INVALID_PARAM naming the Msgkey (our reading); the live answer is unconfirmed.
    return error.code == "3028" and "msgkey" in error.message.lower()


@dataclass(frozen=True)
class MpaasResult:
    """The answer of a scheduler API: the ResultContent as sent, unchanged."""

    request_id: str | None
    result_code: str
    content: object
    attempts: int


def check_result_code(body: dict[str, object]) -> ProviderError | None:
    code = body.get("ResultCode", body.get("resultCode"))
    if code is not None and str(code) == MPAAS_SUCCESS:
        return None
    return error_from_result_code(body)


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _join_ids(unique_ids: str | Sequence[str]) -> str:
    return unique_ids if isinstance(unique_ids, str) else ",".join(unique_ids)


class MpaasClient:
    """mPaaS push APIs reached through a run's transport. Apps are named per call."""

    def __init__(
        self,
        transport: Transport,
        *,
        endpoint: str = DEFAULT_ENDPOINTS[MPAAS],
        version: str = VERSION,
        broadcast_rate: float | None = None,
    ) -> None:
        if version not in VERSIONS:
            raise ValueError(f"unknown PushBroadcast version {version!r}; use one of {VERSIONS}")
        self.transport = transport
        self.endpoint = endpoint
        self.version = version
        # No quota is documented for mPaaS; a rate may still be configured.
        self._broadcast_limiter = transport.limiter("mpaas:PushBroadcast", broadcast_rate)

    async def push_broadcast(self, params: Mapping[str, str]) -> BroadcastResult:
        """One broadcast. Retries carry the same ``Msgkey`` (it is in ``params``)."""
        if not params.get("Msgkey"):
            raise ValueError("PushBroadcast needs a Msgkey: it is what makes a retry safe")
        if self.version == LEGACY_VERSION:
            extra = sorted(set(params) - LEGACY_BROADCAST_FIELDS)
            if extra:
                # Dropping them silently would send a different push than the one planned.
                raise ValueError(
                    f"PushBroadcast {LEGACY_VERSION} has no field(s) {', '.join(extra)}"
                )
        call = Call("PushBroadcast", self.version, {}, dict(params))
        try:
            reply = await self.transport.call(
                self.endpoint,
                call,
                limiter=self._broadcast_limiter,
                check=check_result_code,
                repeat_unknown=False,  # see the module docstring
            )
        except RequestError as error:
            if not is_duplicate_msgkey(error):
                raise
            duplicate = DuplicateMsgkey(
                error.code, error.message, request_id=error.request_id,
                http_status=error.http_status, action=error.action,
            )  # fmt: skip
            duplicate.body, duplicate.attempts = error.body, error.attempts
            raise duplicate from error
        return BroadcastResult(
            reply.request_id,
            str(reply.body.get("ResultCode")),
            _push_data(reply.body),
            reply.attempts,
        )

    async def cancel_push_scheduler(
        self,
        app_id: str,
        workspace_id: str,
        unique_ids: str | Sequence[str],
        **extra: str,
    ) -> MpaasResult:
        """Cancel scheduled pushes; ``extra`` takes the optional ``Type`` and ``TenantId``."""
        form = {"AppId": app_id, "WorkspaceId": workspace_id, "UniqueIds": _join_ids(unique_ids)}
        return await self._scheduler_call("CancelPushScheduler", form, extra)

    async def query_push_scheduler_list(
        self, app_id: str, workspace_id: str, start_ms: int, end_ms: int, **filters: str
    ) -> MpaasResult:
        """Scheduled and loop pushes whose trigger time (not creation time) falls between
        ``start_ms`` and ``end_ms`` (epoch ms; both required in the official model);
        ``filters``: PageNumber, PageSize, Type, UniqueId, TenantId."""
        form = {"AppId": app_id, "WorkspaceId": workspace_id,
                "StartTime": str(start_ms), "EndTime": str(end_ms)}  # fmt: skip
        return await self._scheduler_call("QueryPushSchedulerList", form, filters)

    async def query_push_analysis_task_list(
        self, app_id: str, workspace_id: str, start_ms: int, **filters: str
    ) -> MpaasResult:
        """Push tasks created since ``start_ms`` (epoch ms), immediate ones included; ``filters``:
        TaskName, TaskId, PageNumber, PageSize, TenantId (the 2020-10-28 official model)."""
        form = {"AppId": app_id, "WorkspaceId": workspace_id, "StartTime": str(start_ms)}
        return await self._scheduler_call("QueryPushAnalysisTaskList", form, filters)

    async def query_push_analysis_task_detail(
        self, app_id: str, workspace_id: str, task_id: str, **extra: str
    ) -> MpaasResult:
        """One push task's counts (PushNum, PushSuccessNum, PushArrivalNum) and when it ran;
        ``extra``: TenantId (the 2020-10-28 official model)."""
        form = {"AppId": app_id, "WorkspaceId": workspace_id, "TaskId": task_id}
        return await self._scheduler_call("QueryPushAnalysisTaskDetail", form, extra)

    async def query_push_analysis_core_index(
        self, app_id: str, workspace_id: str, start_ms: int, end_ms: int, **filters: str
    ) -> MpaasResult:
        """Totals (PushTotalNum, PushNum, ArrivalNum, OpenNum, IgnoreNum and rates) of the
        tasks pushed between ``start_ms`` and ``end_ms``; ``filters``: TaskId, Platform,
        Channel, Type, TenantId (the 2020-10-28 official model)."""
        form = {"AppId": app_id, "WorkspaceId": workspace_id,
                "StartTime": str(start_ms), "EndTime": str(end_ms)}  # fmt: skip
        return await self._scheduler_call("QueryPushAnalysisCoreIndex", form, filters)

    async def _scheduler_call(
        self, action: str, form: dict[str, str], extra: Mapping[str, object]
    ) -> MpaasResult:
        form.update({k: str(v) for k, v in extra.items()})
        # The query APIs exist only in 2020-10-28, whatever version broadcasts use.
        call = Call(action, VERSION, {}, form)
        reply = await self.transport.call(self.endpoint, call, check=check_result_code)
        return MpaasResult(
            reply.request_id,
            str(reply.body.get("ResultCode")),
            reply.body.get("ResultContent"),
            reply.attempts,
        )
