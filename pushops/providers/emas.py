"""EMAS Mobile Push (Push 2016-08-01): MassPush, CancelPush, QueryPushRecords.

Inputs are wire parameters already rendered and serialised upstream; this module only puts
them where the API wants them (api-facts §0.1) and reads the answer.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pushops.providers.endpoints import DEFAULT_ENDPOINTS, EMAS
from pushops.providers.rpc import Call
from pushops.providers.transport import Transport
from pushops.tables import MASS_PUSH_MAX_TASKS

VERSION = "2016-08-01"
MAX_TASKS = MASS_PUSH_MAX_TASKS
# The per-account MassPush quota the provider documents (calls per second).
MASS_PUSH_QUOTA = 500.0
# QueryPushRecords' documented quota (queries per second, per account).
QUERY_PUSH_RECORDS_QUOTA = 10.0
# We pace at 98% of a quota: the provider counts calls in its own windows, on its own clock,
# after network jitter; evenly paced calls at 100% put 501 into a window now and then.
QUOTA_HEADROOM = 0.02


@dataclass(frozen=True)
class MassPushResult:
    request_id: str | None
    message_ids: tuple[str, ...]  # one per PushTask, in task order
    attempts: int


@dataclass(frozen=True)
class CancelPushResult:
    request_id: str | None
    attempts: int


@dataclass(frozen=True)
class PushRecordsPage:
    request_id: str | None
    total: int
    page: int
    page_size: int
    records: tuple[dict[str, object], ...]  # PushInfo entries as the provider sent them
    attempts: int


def push_task_form(tasks: Sequence[Mapping[str, str]]) -> dict[str, str]:
    """``PushTask.N.<Prop>`` form fields, N counted from 1 in task order."""
    form: dict[str, str] = {}
    for number, task in enumerate(tasks, start=1):
        prefix = f"PushTask.{number}."
        for prop, value in task.items():
            form[prefix + prop] = value
    return form


def _message_ids(body: Mapping[str, object]) -> tuple[str, ...]:
    # The Tea model wraps the list ({"MessageId": [...]}); MassPushV2 docs show a bare list.
    ids = body.get("MessageIds")
    if isinstance(ids, Mapping):
        ids = ids.get("MessageId")
    if isinstance(ids, (str, int)):
        ids = [ids]
    return tuple(str(i) for i in ids) if isinstance(ids, list) else ()


class EmasClient:
    """One EMAS app (AppKey) reached through a run's transport."""

    def __init__(
        self,
        transport: Transport,
        app_key: str,
        *,
        endpoint: str = DEFAULT_ENDPOINTS[EMAS],
        mass_push_rate: float | None = MASS_PUSH_QUOTA,
        query_rate: float | None = QUERY_PUSH_RECORDS_QUOTA,
    ) -> None:
        """``mass_push_rate``: the account's MassPush quota in calls/s; ``query_rate``: its
        QueryPushRecords quota in queries/s (None: no limit)."""
        self.transport = transport
        self.app_key = str(app_key)
        self.endpoint = endpoint
        # The quota is the account's, so apps of one account share one bucket.
        pace, burst = None, 1
        if mass_push_rate is not None:
            pace = mass_push_rate * (1 - QUOTA_HEADROOM)
            # A burst no bigger than the headroom: even if all of it lands in one of the
            # provider's windows, that window still counts at most the quota.
            burst = max(1, int(mass_push_rate * QUOTA_HEADROOM))
        self._mass_push_limiter = transport.limiter("emas:MassPush", pace, burst)
        # Pages of a long window follow each other at once: paced under the quota, no burst.
        query_pace = None if query_rate is None else query_rate * (1 - QUOTA_HEADROOM)
        self._query_limiter = transport.limiter("emas:QueryPushRecords", query_pace, 1)

    async def mass_push(
        self, tasks: Sequence[Mapping[str, str]], idempotent_token: str
    ) -> MassPushResult:
        """Send up to 100 PushTasks in one call. Retries carry the same ``idempotent_token``."""
        if not 1 <= len(tasks) <= MAX_TASKS:
            raise ValueError(f"MassPush takes 1 to {MAX_TASKS} PushTasks, not {len(tasks)}")
        # The provider wants a standard UUID; catching a bad one here costs no round trip.
        uuid.UUID(idempotent_token)
        call = Call(
            "MassPush",
            VERSION,
            query={"AppKey": self.app_key, "IdempotentToken": idempotent_token},
            form=push_task_form(tasks),
        )
        reply = await self.transport.call(self.endpoint, call, limiter=self._mass_push_limiter)
        return MassPushResult(reply.request_id, _message_ids(reply.body), reply.attempts)

    async def mass_push_encoded(self, encoded_form: str, idempotent_token: str) -> MassPushResult:
        """:meth:`mass_push` of PushTasks already encoded for the wire (``PushTask.N.Prop=...``
        pairs joined with ``&``, as compile writes them and a plan file keeps them): sent as
        they are, with no work per field."""
        if not encoded_form.startswith("PushTask."):
            raise ValueError("MassPush takes PushTask.N.<Prop> fields")
        uuid.UUID(idempotent_token)
        call = Call.encoded(
            "MassPush", VERSION, {"AppKey": self.app_key, "IdempotentToken": idempotent_token},
            encoded_form,
        )  # fmt: skip
        reply = await self.transport.call(self.endpoint, call, limiter=self._mass_push_limiter)
        return MassPushResult(reply.request_id, _message_ids(reply.body), reply.attempts)

    async def cancel_push(self, message_id: str) -> CancelPushResult:
        call = Call("CancelPush", VERSION, {"AppKey": self.app_key, "MessageId": message_id}, {})
        reply = await self.transport.call(self.endpoint, call)
        return CancelPushResult(reply.request_id, reply.attempts)

    async def query_push_records(
        self, start_time: str, end_time: str, **filters: str
    ) -> PushRecordsPage:
        """One page of records; ``filters`` are the optional wire parameters (``Page``...)."""
        query = {"AppKey": self.app_key, "StartTime": start_time, "EndTime": end_time}
        query.update({k: str(v) for k, v in filters.items()})
        reply = await self.transport.call(
            self.endpoint, Call("QueryPushRecords", VERSION, query, {}), limiter=self._query_limiter
        )
        body = reply.body
        infos = body.get("PushInfos")
        if isinstance(infos, Mapping):
            infos = infos.get("PushInfo")
        records = tuple(i for i in infos if isinstance(i, dict)) if isinstance(infos, list) else ()
        return PushRecordsPage(
            reply.request_id,
            int(str(body.get("Total", len(records)))),
            int(str(body.get("Page", query.get("Page", 1)))),
            int(str(body.get("PageSize", query.get("PageSize", 20)))),
            records,
            reply.attempts,
        )
