"""mPaaS 2020-10-28 (and 2019-08-21): PushBroadcast, CancelPushScheduler,
QueryPushSchedulerList, QueryPushAnalysisTaskList, QueryPushAnalysisTaskDetail,
QueryPushAnalysisCoreIndex.

Business errors are HTTP 200 with a ResultCode other than 100. The query APIs' request and
response shapes follow the Tea SDK models; what they mean where the docs are silent (status
values, ResultContent) is our reading, listed in pushops/emulator/README.md.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from pushops.emulator import stats
from pushops.emulator.clock import BEIJING
from pushops.emulator.errors import MpaasError
from pushops.emulator.store import Delivery, Store
from pushops.emulator.validation import Validator, unflatten
from pushops.emulator.wire import Call
from pushops.params import is_digits
from pushops.tables import load_table

PRODUCT = "mpaas"
HOST_ID = "mpaas.aliyuncs.com"
VERSIONS = ("2020-10-28", "2019-08-21")
MAX_EXPIRED_SECONDS = 72 * 3600  # our reading: the same 72 h cap as EMAS offline storage
# The table's limits across fields (schemas/tables/mpaas-pushbroadcast.yaml).
MAX_LOOP_DAYS = load_table("mpaas").limits["loop_days"]
MAX_PENDING_SCHEDULES = load_table("mpaas").limits["waiting_schedules"]

# Which ResultCode a problem with a field gives (api-facts §1.4); everything else is 3028.
_MISSING_CODES = {
    "AppId": "3003",
    "WorkspaceId": "3003",
    "TaskName": "3019",
    "TemplateName": "3025",
}
_INVALID_CODES = {"ExpiredSeconds": "3020", "DeliveryType": "3009", "ExtendedParams": "3044"}


@cache
def _validator(version: str) -> Validator:
    table = load_table("mpaas")
    rows = [p for p in table.parameters if not p.versions or version in p.versions]
    return Validator.build(rows, table.conditions)


def _ok(call: Call, **extra: Any) -> dict[str, Any]:
    return {"RequestId": call.request_id, "ResultCode": "100", "ResultMessage": "SUCCESS", **extra}


def _check(params: dict[str, str], validator: Validator) -> None:
    problem = validator.problems(params)
    if problem is None:
        return
    name, kind, detail = problem
    if kind in ("Missing", "Empty"):
        code = _MISSING_CODES.get(name, "3020" if name == "ExpiredSeconds" else "3028")
        raise MpaasError(code, f"{name} is required. {detail}".strip())
    if name == "ExtendedParams" and kind == "LengthExceed":
        raise MpaasError("3035", f"ExtendedParams has more than {detail} keys.")
    if kind in ("LengthExceed", "BytesExceed"):
        unit = "bytes" if kind == "BytesExceed" else "characters, entries or keys"
        raise MpaasError("3028", f"{name} is longer than {detail} {unit}.")
    raise MpaasError(_INVALID_CODES.get(name, "3028"), f"{name}: {detail}".strip())


def strategy_window(params: dict[str, str], now: float) -> tuple[float | None, float | None]:
    """(due, until) of a scheduled or loop push, in epoch seconds; (None, None) if immediate."""
    kind = params.get("StrategyType", "0")
    if kind == "0":
        return None, None
    try:
        content = json.loads(params["StrategyContent"])
    except (KeyError, ValueError):
        raise MpaasError("3028", "StrategyContent must be a JSON object.") from None

    def epoch_ms(name: str) -> float:
        value = content.get(name)
        if not isinstance(value, int) or isinstance(value, bool):
            raise MpaasError("3028", f"StrategyContent.{name} must be epoch milliseconds.")
        return value / 1000.0

    if kind == "1":
        fixed = epoch_ms("fixedTime")
        if fixed <= now:
            raise MpaasError("3028", "StrategyContent.fixedTime is in the past.")
        return fixed, None
    start, end = epoch_ms("startTime"), epoch_ms("endTime")
    # "Today" is read in Beijing time: the service's home zone (api-facts §4.1, an assumption).
    today = datetime.fromtimestamp(now, BEIJING).replace(hour=0, minute=0, second=0, microsecond=0)
    if start < today.timestamp() or end < today.timestamp():
        raise MpaasError("3028", "StrategyContent startTime and endTime may not be before today.")
    if end < start:
        raise MpaasError("3028", "StrategyContent.endTime is before startTime.")
    # The end *day* may be MAX_LOOP_DAYS after today (a loop runs to 24:00 of its end day), as
    # validate's rule mpaas.loop-window reads it.
    if end > (today + timedelta(days=MAX_LOOP_DAYS + 1)).timestamp():
        raise MpaasError(
            "3028", f"StrategyContent.endTime is more than {MAX_LOOP_DAYS} days ahead."
        )
    if content.get("circleType") not in (1, 2, 3):
        raise MpaasError("3028", "StrategyContent.circleType must be 1, 2 or 3.")
    high = {1: None, 2: 7, 3: 31}[content["circleType"]]
    values = content.get("circleValue")
    if high is not None and (
        not isinstance(values, list)
        or not values
        or any(not isinstance(v, int) or not 1 <= v <= high for v in values)
    ):
        raise MpaasError("3028", f"StrategyContent.circleValue must hold days 1 to {high}.")
    if not isinstance(content.get("time"), str):
        raise MpaasError("3028", "StrategyContent.time must be HH:mm:ss.")
    return max(start, now), end


def push_broadcast(call: Call, store: Store) -> dict[str, Any]:
    validator = _validator(call.version)
    known = validator.params
    params = {
        k: v for k, v in unflatten(call.params, known).items() if k in known
    }  # a 2019-08-21 call keeps only its 14 fields
    _check(params, validator)
    if int(params["ExpiredSeconds"]) > MAX_EXPIRED_SECONDS:
        raise MpaasError("3026", f"ExpiredSeconds may be at most {MAX_EXPIRED_SECONDS}.")
    due, until = strategy_window(params, call.now)
    if due is not None and store.scheduled_count(call.now, PRODUCT) >= MAX_PENDING_SCHEDULES:
        raise MpaasError(
            "3028",
            f"At most {MAX_PENDING_SCHEDULES} scheduled or loop pushes may wait at one time.",
        )
    msgkey = params["Msgkey"]
    key = f"{params['AppId']}:{params['WorkspaceId']}:{msgkey}"
    owner = store.msgkey_owner(key)
    if owner is not None:
        # Our reading of "Msgkey must be unique": rejected for ever, naming the task that has
        # it. Unconfirmed for the live service, so pushops's client never relies on it.
        raise MpaasError("3028", f"DUPLICATE_MSGKEY: Msgkey {msgkey} was already used.", owner)
    (task_id,) = store.new_message_ids(1)
    store.claim_msgkey(key, task_id)
    store.add(
        [
            Delivery(
                PRODUCT,
                "PushBroadcast",
                params["AppId"],
                task_id,
                None,
                msgkey,
                params,
                call.now,
                "scheduled" if due is not None else "sent",
                due=due,
                until=until,
            )
        ]
    )
    return _ok(call, PushResult={"Success": True, "ResultMsg": "SUCCESS", "Data": task_id})


def _app(params: dict[str, str]) -> str:
    if not params.get("AppId") or not params.get("WorkspaceId"):
        raise MpaasError("3003", "AppId and WorkspaceId are required.")
    return params["AppId"]


def cancel_push_scheduler(call: Call, store: Store) -> dict[str, Any]:
    params = call.params
    app = _app(params)
    ids = [i.strip() for i in params.get("UniqueIds", "").split(",") if i.strip()]
    if not ids:
        raise MpaasError("3028", "UniqueIds is required.")
    cancelled = []
    for unique_id in ids:
        found = store.get(unique_id, call.now)
        if found and found.product == PRODUCT and found.app == app and found.status == "scheduled":
            store.cancel(found)
            cancelled.append(unique_id)
    if not cancelled:
        raise MpaasError("3028", "No scheduled push with these UniqueIds is waiting.")
    return _ok(call, ResultContent=",".join(cancelled))


# executedStatus: 0 not executed, 1 executed (the scheduled-task page); 2 for a cancelled one
# is our reading (the page's list is cut off after 1).
_EXECUTED = {"scheduled": 0, "sent": 1, "cancelled": 2}
BROADCAST_TYPE = 3  # "type": 3 is a group (broadcast) push on the scheduled-task page
DEFAULT_PAGE_SIZE = 500  # the scheduled-task page's default


def _int(params: dict[str, str], name: str, default: int) -> int:
    raw = params.get(name)
    if not raw:
        return default
    if not is_digits(raw.removeprefix("-")):
        raise MpaasError("3028", f"{name} must be an integer.")
    return int(raw)


def _required_int(params: dict[str, str], name: str) -> int:
    if not params.get(name):
        raise MpaasError("3028", f"{name} is required.")
    return _int(params, name, 0)


def _page(params: dict[str, str]) -> tuple[int, int]:
    page = max(1, _int(params, "PageNumber", 1))
    return page, max(1, _int(params, "PageSize", DEFAULT_PAGE_SIZE))


def query_push_scheduler_list(call: Call, store: Store) -> dict[str, Any]:
    """Scheduled and loop pushes whose trigger time (not creation time) is in the window."""
    params = call.params
    app = _app(params)
    start_ms, end_ms = _required_int(params, "StartTime"), _required_int(params, "EndTime")
    page, size = _page(params)
    unique_id = params.get("UniqueId")
    matched = [
        d
        for d in store.all(call.now)
        if d.product == PRODUCT
        and d.app == app
        and d.params.get("StrategyType", "0") != "0"
        and (not unique_id or d.message_id == unique_id)
        and start_ms <= int((d.due or d.received_at) * 1000) <= end_ms
    ]
    chunk = matched[(page - 1) * size : page * size]
    return _ok(
        call,
        ResultContent={"Data": {"TotalCount": len(matched), "List": [_entry(d) for d in chunk]}},
    )


def _entry(d: Delivery) -> dict[str, Any]:
    p = d.params
    return {
        "UniqueId": d.message_id,
        "ParentId": "",
        "PushTime": int((d.due or d.received_at) * 1000),
        "PushTitle": p.get("TaskName", ""),
        "PushContent": p.get("TemplateKeyValue", ""),
        "DeliveryType": int(p.get("DeliveryType", "0")),
        "StrategyType": int(p.get("StrategyType", "0")),
        "Type": BROADCAST_TYPE,
        "CreateType": 1,
        "ExecutedStatus": _EXECUTED[d.status],
        "GmtCreate": int(d.received_at * 1000),
    }


def query_push_analysis_task_list(call: Call, store: Store) -> dict[str, Any]:
    """Push tasks created since StartTime (epoch ms), newest first, immediate and scheduled
    alike (our reading: the model gives the fields, no document the meaning)."""
    params = call.params
    app = _app(params)
    start_ms = _required_int(params, "StartTime")
    page, size = _page(params)
    name, task_id = params.get("TaskName"), params.get("TaskId")
    matched = [
        d
        for d in store.all(call.now)
        if d.product == PRODUCT
        and d.app == app
        and d.received_at * 1000 >= start_ms
        and (not name or d.params.get("TaskName") == name)
        and (not task_id or d.message_id == task_id)
    ]
    matched.sort(key=lambda d: d.received_at, reverse=True)
    chunk = matched[(page - 1) * size : page * size]
    return _ok(call, ResultContent={"Data": [_task(d) for d in chunk]})


def _task(d: Delivery) -> dict[str, Any]:
    return {
        "TaskId": d.message_id,
        "TaskName": d.params.get("TaskName", ""),
        "TemplateName": d.params.get("TemplateName", ""),
        "TemplateId": "",
        "Type": BROADCAST_TYPE,
        "GmtCreate": int(d.received_at * 1000),
        "List": [],
    }


def _found_task(call: Call, store: Store, app: str, task_id: str) -> Delivery:
    if not is_digits(task_id):
        raise MpaasError("3028", "TaskId must be a task id.")
    found = store.get(task_id, call.now)
    if found is None or found.product != PRODUCT or found.app != app:
        # Our reading: no document gives the answer for an unknown task.
        raise MpaasError("3028", f"TASK_NOT_FOUND: no push task {task_id}.")
    return found


def query_push_analysis_task_detail(call: Call, store: Store) -> dict[str, Any]:
    """One task's counts (pushed, pushed successfully, arrived) and when it ran, as
    :mod:`pushops.emulator.stats` derives them."""
    params = call.params
    app = _app(params)
    task_id = params.get("TaskId")
    if not task_id:
        raise MpaasError("3028", "TaskId is required.")
    found = _found_task(call, store, app, task_id)
    c = stats.counts(found, call.now)
    start = stats.sent_at(found)
    start_ms = int((start if start is not None else found.received_at) * 1000)
    end_ms = start_ms + (stats.WINDOW * 1000 if c.sent else 0)
    data = {
        "TaskId": int(task_id),
        "PushNum": c.sent,
        "PushSuccessNum": c.sent,
        "PushArrivalNum": c.received,
        "StartTime": start_ms,
        "EndTime": end_ms,
        "Duration": str((end_ms - start_ms) // 1000),
    }
    return _ok(call, ResultContent={"Data": data})


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def query_push_analysis_core_index(call: Call, store: Store) -> dict[str, Any]:
    """The totals of the tasks pushed between StartTime and EndTime (epoch ms, required),
    or of the one TaskId: pushed, arrived, opened, ignored (arrived and not opened)."""
    params = call.params
    app = _app(params)
    start_ms, end_ms = _required_int(params, "StartTime"), _required_int(params, "EndTime")
    task_id = params.get("TaskId")
    if task_id:
        tasks = [_found_task(call, store, app, task_id)]
    else:
        tasks = [d for d in store.all(call.now) if d.product == PRODUCT and d.app == app]
    total = pushed = arrived = opened = 0
    for d in tasks:
        at = stats.sent_at(d)
        if at is None or not start_ms <= int(at * 1000) <= end_ms:
            continue
        c = stats.counts(d, call.now)
        total, pushed = total + c.targets, pushed + c.sent
        arrived, opened = arrived + c.received, opened + c.opened
    data = {
        "PushTotalNum": total,
        "PushNum": pushed,
        "ArrivalNum": arrived,
        "ArrivalRate": _rate(arrived, pushed),
        "OpenNum": opened,
        "OpenRate": _rate(opened, arrived),
        "IgnoreNum": arrived - opened,
        "IgnoreRate": _rate(arrived - opened, arrived),
    }
    return _ok(call, ResultContent={"Data": data})


ACTIONS: dict[str, Callable[[Call, Store], dict[str, Any]]] = {
    "PushBroadcast": push_broadcast,
    "CancelPushScheduler": cancel_push_scheduler,
    "QueryPushSchedulerList": query_push_scheduler_list,
    "QueryPushAnalysisTaskList": query_push_analysis_task_list,
    "QueryPushAnalysisTaskDetail": query_push_analysis_task_detail,
    "QueryPushAnalysisCoreIndex": query_push_analysis_core_index,
}
