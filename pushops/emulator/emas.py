"""EMAS Push 2016-08-01: MassPush, CancelPush, QueryPushRecords, QueryPushStatByMsg.

Where the docs are silent the choices are ours and listed in pushops/emulator/README.md:
the code for too many tasks, the CancelPush and QueryPushRecords errors and record statuses.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import Any

from pushops.emulator import stats
from pushops.emulator.clock import iso_utc, parse_iso_utc
from pushops.emulator.errors import ApiError, invalid, invalid_parameter, missing
from pushops.emulator.store import Delivery, Store
from pushops.emulator.tasks import Layout, layout
from pushops.emulator.validation import Validator, unflatten
from pushops.emulator.wire import Call
from pushops.params import is_digits
from pushops.tables import load_table

PRODUCT = "emas"
HOST_ID = "cloudpush.aliyuncs.com"
VERSION = "2016-08-01"
# The table's limits across fields and calls (schemas/tables/emas-masspush.yaml), in seconds.
_LIMITS = load_table("emas").limits
MAX_PUSH_AHEAD = _LIMITS["push_ahead_days"] * 86400  # PushTime at most this far ahead
MAX_OFFLINE = _LIMITS["offline_hours"] * 3600  # ExpireTime at most this long after the push
MIN_EXPIRE_GAP = _LIMITS["expire_gap_seconds"]  # ExpireTime more than PushTime + this
CALL_SIZE_LIMIT = _LIMITS["call_size"]  # tasks x the widest TargetValue list
UNSUPPORTED_TARGETS = frozenset({"TAG", "ALL", "TBD", "FILE"})  # valid for Push, not MassPush
# Per-API quotas the provider documents (queries per second per account), enforced whatever
# the emulator's own --quota says.
QUOTAS = {"QueryPushStatByMsg": _LIMITS["stat_queries_per_second"]}


@cache
def _table() -> tuple[Validator, int]:
    table = load_table("emas")
    return Validator.build(table.item_parameters, table.conditions), table.max_items or 100


def _app_key(params: dict[str, str]) -> str:
    app_key = params.get("AppKey")
    if not app_key:
        raise missing("AppKey")
    if not is_digits(app_key):
        raise invalid("AppKey")
    return app_key


def _check_task(n: int, task: dict[str, str], validator: Validator, now: float) -> float | None:
    """Raise the task's first error; return its PushTime (epoch seconds) when one is set."""
    if task.get("Target") in UNSUPPORTED_TARGETS:
        raise ApiError("TargetNotSupported")
    problem = validator.problems(task)
    if problem is not None:
        name, kind, detail = problem
        where = f"PushTask.{n}.{name}"
        if kind == "Missing":
            raise ApiError(f"Missing{name}", f"{where} is mandatory for this action.")
        raise invalid(name, kind, detail, where)
    push_at = parse_iso_utc(task["PushTime"]) if task.get("PushTime") else None
    if push_at is not None and push_at > now + MAX_PUSH_AHEAD:
        raise invalid("PushTime", where=f"PushTask.{n}.PushTime")
    if task.get("ExpireTime"):
        expire_at = parse_iso_utc(task["ExpireTime"]) or 0.0
        start = max(now, push_at or now)
        # Not after now and PushTime + the gap, or longer than offline storage after the push.
        too_soon = expire_at <= now or (push_at and expire_at <= push_at + MIN_EXPIRE_GAP)
        if too_soon or expire_at > start + MAX_OFFLINE:
            raise invalid("ExpireTime", where=f"PushTask.{n}.ExpireTime")
    return push_at


def _check_call_size(plan: Layout, values: list[str], n: int) -> None:
    """ "The product of parent and child nodes may not exceed 10000" (the MassPush document),
    read as tasks x the widest TargetValue, as validate reads it (rule emas.call-size)."""
    if "TargetValue" not in plan.columns:
        return
    column = plan.column("TargetValue", values)
    if n * ("".join(column).count(",") + 1) <= CALL_SIZE_LIMIT:
        return  # even all the entries in one list would fit: no need to find the widest
    widest = max(v.count(",") + 1 for v in column)
    if n * widest > CALL_SIZE_LIMIT:
        raise invalid_parameter(
            f"{n} PushTasks x {widest} TargetValue entries exceeds {CALL_SIZE_LIMIT}"
        )


def _batch_check(
    plan: Layout, values: list[str], n: int, validator: Validator, now: float
) -> list[float | None] | None:
    """The tasks' PushTimes when every task surely passes :func:`_check_task`, each distinct
    value checked once; None sends the call to the task-by-task checks (which give the
    errors), as do the rarer shapes: flattened maps, ExpireTime, PushTime on some tasks."""
    counts = plan.counts
    if "ExpireTime" in counts or any("." in name for name in counts):
        return None
    taken: dict[str, tuple[str, ...]] = {}

    def column(name: str) -> tuple[str, ...]:
        # Each column once per call: the checks and the conditions ask for some of them
        # several times (a 100-value tuple each time).
        found = taken.get(name)
        if found is None:
            found = taken[name] = plan.column(name, values)
        return found

    if "Target" in counts and not UNSUPPORTED_TARGETS.isdisjoint(column("Target")):
        return None
    if not validator.all_clear(n, counts, column):
        return None
    if "PushTime" not in counts:
        return [None] * n
    if counts["PushTime"] != n:
        return None
    times = column("PushTime")
    parsed = {t: parse_iso_utc(t) if t else None for t in set(times)}
    if any(at is not None and at > now + MAX_PUSH_AHEAD for at in parsed.values()):
        return None
    return [parsed[t] for t in times]


def _deliveries(
    app_key: str,
    token: str | None,
    ids: list[str],
    tasks: list[dict[str, str]],
    push_times: list[float | None],
    now: float,
) -> list[Delivery]:
    deliveries = []
    for message_id, task, push_at in zip(ids, tasks, push_times, strict=True):
        later = push_at is not None and push_at > now
        deliveries.append(
            Delivery(
                PRODUCT,
                "MassPush",
                app_key,
                message_id,
                token,
                None,
                task,
                now,
                "scheduled" if later else "sent",
                due=push_at if later else None,
            )
        )
    return deliveries


def mass_push(call: Call, store: Store) -> dict[str, Any]:
    params = call.params
    app_key = _app_key(params)
    token = params.get("IdempotentToken") or None
    token_key = None
    if token is not None:
        if not re.fullmatch(r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}", token):
            raise invalid("IdempotentToken")  # not a UUID
        token_key = f"emas:{app_key}:{token.lower()}"
        first = store.token_result(token_key, call.now)
        if first is not None:
            # The first successful result again; nothing is pushed (api-facts §2.1).
            return {**first, "RequestId": call.request_id}
    validator, max_items = _table()
    plan = layout(list(params), max_items)
    values = list(params.values())
    tasks = plan.split(values)
    _check_call_size(plan, values, len(tasks))
    push_times = _batch_check(plan, values, len(tasks), validator, call.now)
    if push_times is None:  # something to report, or to work out task by task
        tasks = [unflatten(t, validator.params) for t in tasks]
        push_times = [_check_task(n, t, validator, call.now) for n, t in enumerate(tasks, 1)]
    ids = store.new_message_ids(len(tasks))
    if not any(push_times):  # nothing scheduled (the common case): one comprehension
        deliveries = [
            Delivery(PRODUCT, "MassPush", app_key, mid, token, None, task, call.now, "sent")
            for mid, task in zip(ids, tasks, strict=True)
        ]
    else:
        deliveries = _deliveries(app_key, token, ids, tasks, push_times, call.now)
    store.add(deliveries)
    response = {"RequestId": call.request_id, "MessageIds": {"MessageId": ids}}
    if token_key is not None:
        # Remembered when the answer goes out, not on arrival: calls that overlap in flight
        # are all pushed, as documented ("protects against retries, not concurrent calls").
        # (Closes over ``now``, not ``call``: a call holding a closure that holds the call is
        # a reference cycle, left to the cyclic collector instead of freed at once.)
        now = call.now
        call.on_complete.append(lambda: store.remember_token(token_key, now, response))
    return response


def _message(call: Call, store: Store) -> Delivery:
    """The push the call's MessageId names, of its AppKey (our reading: else NotFound)."""
    params = call.params
    app_key = _app_key(params)
    message_id = params.get("MessageId")
    if not message_id:
        raise missing("MessageId")
    if not is_digits(message_id):
        raise invalid("MessageId")
    found = store.get(message_id, call.now)
    if found is None or found.product != PRODUCT or found.app != app_key:
        raise ApiError("InvalidMessageId.NotFound")
    return found


def cancel_push(call: Call, store: Store) -> dict[str, Any]:
    found = _message(call, store)
    if found.status != "scheduled":
        raise ApiError(
            "InvalidMessageId.NotCancellable", f"The push {found.message_id} is {found.status}."
        )
    store.cancel(found)
    return {"RequestId": call.request_id}


def _int_param(params: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = params.get(name)
    if not raw:
        return default
    if not is_digits(raw) or not low <= int(raw) <= high:
        raise invalid(name)  # outside low..high
    return int(raw)


def _time_param(params: dict[str, str], name: str) -> float:
    raw = params.get(name)
    if not raw:
        raise missing(name)
    ts = parse_iso_utc(raw)
    if ts is None:
        raise invalid(name)  # not YYYY-MM-DDThh:mm:ssZ
    return ts


def query_push_records(call: Call, store: Store) -> dict[str, Any]:
    params = call.params
    app_key = _app_key(params)
    start, end = _time_param(params, "StartTime"), _time_param(params, "EndTime")
    # No limit on the window's width is documented (the official example spans 14 days).
    if end < start:
        raise invalid_parameter("EndTime is before StartTime")
    page = _int_param(params, "Page", 1, 1, 10_000)
    size = _int_param(params, "PageSize", 20, 1, 100)
    filters: list[Callable[[Delivery], bool]] = []
    if params.get("PushType"):
        filters.append(lambda d: d.params.get("PushType") == params["PushType"])
    if params.get("Target"):
        filters.append(lambda d: d.params.get("Target") == params["Target"])
    if params.get("Source"):
        filters.append(lambda d: d.source == params["Source"])
    if params.get("Keyword"):
        kw = params["Keyword"]
        filters.append(
            lambda d: (
                kw == d.message_id
                or kw in d.params.get("Title", "")
                or kw in d.params.get("Body", "")
            )
        )
    matched = [
        d
        for d in store.all(call.now)
        if d.product == PRODUCT
        and d.app == app_key
        and start <= (d.due or d.received_at) <= end
        and all(f(d) for f in filters)
    ]
    chunk = matched[(page - 1) * size : page * size]
    return {
        "RequestId": call.request_id,
        "Total": len(matched),
        "Page": page,
        "PageSize": size,
        "PushInfos": {"PushInfo": [_push_info(d) for d in chunk]},
    }


def _push_info(d: Delivery) -> dict[str, Any]:
    p = d.params
    return {
        "AppKey": int(d.app),
        "MessageId": d.message_id,
        "Title": p.get("Title", ""),
        "Body": p.get("Body", ""),
        "DeviceType": p.get("DeviceType", ""),
        "PushType": p.get("PushType", ""),
        "Target": p.get("Target", ""),
        "Source": d.source,
        "Status": d.status.upper(),
        "PushTime": iso_utc(d.due or d.received_at),
    }


def query_push_stat_by_msg(call: Call, store: Store) -> dict[str, Any]:
    """The statistics of one MessageId, as :mod:`pushops.emulator.stats` derives them; an
    id this AppKey never pushed is InvalidMessageId.NotFound (our reading)."""
    found = _message(call, store)
    c = stats.counts(found, call.now)
    stat = {
        "MessageId": found.message_id,
        "AcceptCount": c.targets,
        "SentCount": c.sent,
        "ReceivedCount": c.received,
        "OpenedCount": c.opened,
        "DeletedCount": c.deleted,
        "SmsSentCount": c.sms_sent,
        "SmsSkipCount": 0,
        "SmsFailedCount": 0,
        "SmsReceiveSuccessCount": c.sms_sent,
        "SmsReceiveFailedCount": 0,
    }
    return {"RequestId": call.request_id, "PushStats": {"PushStat": [stat]}}


ACTIONS: dict[str, Callable[[Call, Store], dict[str, Any]]] = {
    "MassPush": mass_push,
    "CancelPush": cancel_push,
    "QueryPushRecords": query_push_records,
    "QueryPushStatByMsg": query_push_stat_by_msg,
}
