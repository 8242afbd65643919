"""Pushes made and cancelled outside pushops: in the Alibaba Cloud console or by another tool.

Drift is what the ledger cannot know, so tests need a provider that changes behind its back.
A console push is held exactly as an API one (the same store, the same MessageId sequence)
and so is listed by QueryPushRecords (``Source: CONSOLE``), QueryPushSchedulerList and
QueryPushAnalysisTaskList; a console cancel withdraws a scheduled push as CancelPush or
CancelPushScheduler would. Neither goes through the signed APIs: they are the emulator's own
controls (``POST /_emulator/console/push`` and ``/cancel``), as the console is not an API.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pushops.emulator import emas, mpaas
from pushops.emulator.clock import parse_iso_utc
from pushops.emulator.errors import MpaasError
from pushops.emulator.store import Delivery, Store
from pushops.params import is_digits

CONSOLE = "CONSOLE"  # QueryPushRecords' Source of a push made in the console
# What a console push needs, per product: the fields the query APIs show and match on.
_EMAS_FIELDS = ("DeviceType", "PushType", "Target", "Title", "Body")
_MPAAS_FIELDS = ("AppId", "WorkspaceId", "TaskName", "TemplateName", "DeliveryType")


class ConsoleError(ValueError):
    """A console request the emulator cannot act on (answered 400, or 409 for a state)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _strings(doc: Mapping[str, Any], name: str) -> dict[str, str]:
    raw = doc.get(name)
    if not isinstance(raw, Mapping) or not all(isinstance(k, str) for k in raw):
        raise ConsoleError(f"{name!r} must be an object of wire parameters")
    return {k: v if isinstance(v, str) else str(v) for k, v in raw.items()}


def push(doc: Mapping[str, Any], store: Store, now: float) -> dict[str, Any]:
    """Record a push made elsewhere: ``{"product": "emas", "app": AppKey, "params": {...}}``
    (a PushTask's fields; ``PushTime`` in the future schedules it) or ``{"product":
    "mpaas", "params": {AppId, WorkspaceId, TaskName, ...}}`` (``StrategyType`` 1 or 2 with
    ``StrategyContent`` schedules it). Answers its MessageId (mPaaS: task id) and status."""
    product = doc.get("product")
    params = _strings(doc, "params")
    if product == emas.PRODUCT:
        app = str(doc.get("app") or "")
        if not is_digits(app):
            raise ConsoleError("an EMAS console push needs 'app': the AppKey (digits)")
        need = _EMAS_FIELDS
        due: float | None = None
        until: float | None = None
        if params.get("PushTime"):
            due = parse_iso_utc(params["PushTime"])
            if due is None:
                raise ConsoleError("PushTime must be YYYY-MM-DDThh:mm:ssZ")
    elif product == mpaas.PRODUCT:
        need = _MPAAS_FIELDS
        app = params.get("AppId", "")
        try:
            due, until = mpaas.strategy_window(params, now)
        except MpaasError as error:
            raise ConsoleError(error.message) from None
    else:
        raise ConsoleError("'product' must be 'emas' or 'mpaas'")
    missing = [name for name in need if not params.get(name)]
    if missing:
        raise ConsoleError(f"a console push of {product} needs {', '.join(missing)}")
    later = due is not None and (until or due) > now
    (message_id,) = store.new_message_ids(1)
    action = "MassPush" if product == emas.PRODUCT else "PushBroadcast"
    delivery = Delivery(
        product, action, app, message_id, None, None, params, now,
        "scheduled" if later else "sent", due=due if later else None, until=until,
        source=CONSOLE,
    )  # fmt: skip
    store.add([delivery])
    return {"message_id": message_id, "status": delivery.status, "source": CONSOLE}


def cancel(doc: Mapping[str, Any], store: Store, now: float) -> dict[str, Any]:
    """Withdraw a scheduled push (either product, whoever made it): ``{"message_id": ...}``."""
    message_id = str(doc.get("message_id") or "")
    if not message_id:
        raise ConsoleError("'message_id' is required")
    found = store.get(message_id, now)
    if found is None:
        raise ConsoleError(f"no push {message_id}", 404)
    if found.status != "scheduled":
        raise ConsoleError(f"push {message_id} is {found.status}, not scheduled", 409)
    store.cancel(found)
    return {"message_id": message_id, "status": found.status}
