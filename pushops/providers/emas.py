"""EMAS Mobile Push (Push 2016-08-01): MassPush, CancelPush, QueryPushRecords,
QueryPushStatByMsg.

Inputs are wire parameters already rendered and serialised upstream; this module only puts
them where the API wants them (api-facts §0.1) and reads the answer.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pushops.providers.endpoints import DEFAULT_ENDPOINTS, EMAS
from pushops.providers.ratelimit import RateLimiter
from pushops.providers.rpc import Call
from pushops.providers.transport import Transport
from pushops.tables import MASS_PUSH_MAX_TASKS

VERSION = "2016-08-01"
MAX_TASKS = MASS_PUSH_MAX_TASKS
# The per-account MassPush quota the provider documents (calls per second).
MASS_PUSH_QUOTA = 500.0
# QueryPushRecords' documented quota (queries per second, per account).
QUERY_PUSH_RECORDS_QUOTA = 10.0
# QueryPushStatByMsg's own quota (its API document), queries per second per account.
STAT_QUERY_QUOTA = 50.0
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


# The counts of one message, by the field names of the official model's PushStat.
STAT_FIELDS = (
    "AcceptCount",
    "SentCount",
    "ReceivedCount",
    "OpenedCount",
    "DeletedCount",
    "SmsSentCount",
    "SmsSkipCount",
    "SmsFailedCount",
    "SmsReceiveSuccessCount",
    "SmsReceiveFailedCount",
)


@dataclass(frozen=True)
class PushStat:
    request_id: str | None
    message_id: str
    counts: dict[str, int]  # the STAT_FIELDS the provider gave, as whole numbers
    attempts: int


def whole_counts(stat: Mapping[str, object], fields: Sequence[str]) -> dict[str, int]:
    """The whole-number counts among ``fields`` (a count the provider left out is absent,
    never a made-up 0)."""
    found: dict[str, int] = {}
    for name in fields:
        value = stat.get(name)
        if isinstance(value, bool) or value is None:
            continue
        try:
            found[name] = int(float(str(value)))
        except ValueError:
            continue
    return found


def paced(transport: Transport, api: str, quota: float | None) -> RateLimiter | None:
    """A limiter pacing ``api`` at 98% of the account's ``quota`` (None: no limit), with a
    burst no bigger than the headroom: even if all of it lands in one of the provider's
    windows, that window still counts at most the quota."""
    if quota is None:
        return transport.limiter(api, None, 1)
    burst = max(1, int(quota * QUOTA_HEADROOM))
    return transport.limiter(api, quota * (1 - QUOTA_HEADROOM), burst)


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
    return tuple(map(str, ids)) if isinstance(ids, list) else ()


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
        self._mass_push_limiter = paced(transport, "emas:MassPush", mass_push_rate)
        self._stat_limiter = paced(transport, "emas:QueryPushStatByMsg", STAT_QUERY_QUOTA)
        # Pages of a long window follow each other at once: paced under the quota, no burst.
        self._query_limiter = paced(transport, "emas:QueryPushRecords", query_rate)

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

    async def query_push_stat_by_msg(self, message_id: str) -> PushStat:
        """The provider's statistics of one MessageId, paced within the API's quota (50/s);
        throttling is retried like any call's."""
        call = Call(
            "QueryPushStatByMsg", VERSION, {"AppKey": self.app_key, "MessageId": message_id}, {}
        )
        reply = await self.transport.call(self.endpoint, call, limiter=self._stat_limiter)
        stats = reply.body.get("PushStats")
        if isinstance(stats, Mapping):
            stats = stats.get("PushStat")
        entries = [s for s in stats if isinstance(s, Mapping)] if isinstance(stats, list) else []
        mine = [s for s in entries if str(s.get("MessageId", message_id)) == message_id]
        counts = whole_counts(mine[0], STAT_FIELDS) if mine else {}
        return PushStat(reply.request_id, message_id, counts, reply.attempts)
