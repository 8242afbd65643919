"""One request in, one response out: routing, faults, authentication, quota, the handlers.

Synchronous and transport-free; the server adds the waiting (latency) and the dropping.
The order of checks follows a gateway's: is there such an API, queued faults, who is calling
and is the signature right, is the caller over its quota, then the API's own checks.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from pushops.emulator import console, emas, mpaas
from pushops.emulator.auth import Authenticator
from pushops.emulator.clock import Clock, iso_utc
from pushops.emulator.errors import ApiError, MpaasError, envelope, mpaas_result
from pushops.emulator.faults import Fault, Faults
from pushops.emulator.store import Store
from pushops.emulator.wire import Call, Request, Response

Handler = Callable[[Call, Store], dict[str, Any]]

ROUTES: dict[tuple[str, str], tuple[str, str, Handler]] = {
    **{(emas.VERSION, a): (emas.PRODUCT, emas.HOST_ID, h) for a, h in emas.ACTIONS.items()},
    **{
        (v, a): (mpaas.PRODUCT, mpaas.HOST_ID, h)
        for a, h in mpaas.ACTIONS.items()
        for v in mpaas.VERSIONS
    },
}
API_QUOTAS: dict[str, int] = {**emas.QUOTAS}  # calls/s per account, as documented
_MPAAS_2019_ACTIONS = {"PushBroadcast"}  # the legacy version has no scheduler APIs
# How many received calls the log keeps (the newest): a benchmark's hundreds of thousands of
# calls must not grow the emulator without bound.
CALL_LOG_SIZE = 100_000


def _json(status: int, payload: Any) -> Response:
    return Response(status, json.dumps(payload, ensure_ascii=False).encode())


def _with_retry_after(response: Response, millis: int | None) -> Response:
    """``x-acs-retry-after``: how long a throttled caller should wait, in milliseconds (the
    header the Tea SDK reads into ThrottlingException.retry_after)."""
    if millis is not None:
        response.headers.append(("x-acs-retry-after", str(millis)))
    return response


class EmulatorApp:
    def __init__(
        self,
        credentials: Mapping[str, str],
        clock: Clock | None = None,
        store: Store | None = None,
        faults: Faults | None = None,
    ) -> None:
        self.clock = clock or Clock()
        self.store = store or Store()
        self.faults = faults or Faults()
        self.auth = Authenticator(credentials, self.clock)
        # Every API call received, answered or refused: what a test reads to prove a command
        # only asked (query actions) and never sent or cancelled anything.
        self.calls: deque[dict[str, Any]] = deque(maxlen=CALL_LOG_SIZE)

    # --- the Alibaba Cloud APIs -------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        if request.path.startswith("/_emulator/"):
            return self.control(request)
        response = self.answer(request)
        self._log(request, response)
        return response

    def _log(self, request: Request, response: Response) -> None:
        query = request.query
        action = query.get("Action") or request.headers.get("x-acs-action", "")
        version = query.get("Version") or request.headers.get("x-acs-version", "")
        app = query.get("AppKey") or (request.form.get("AppId", "") if request.body else "")
        self.calls.append(
            {
                "action": action,
                "version": version,
                "app": app,
                "status": response.status,
                "at": iso_utc(self.clock.time()),
                "time": round(time.time(), 6),  # real time, for rates (the clock may be set)
            }
        )

    def answer(self, request: Request) -> Response:
        headers = request.headers
        if "x-acs-action" in headers and "Action" not in request.query:
            action, version = headers["x-acs-action"], headers.get("x-acs-version", "")
        else:
            action, version = request.query.get("Action", ""), request.query.get("Version", "")
        request_id = str(uuid.uuid4()).upper()
        route = ROUTES.get((version, action))
        if version == "2019-08-21" and action not in _MPAAS_2019_ACTIONS:
            route = None
        if route is None:
            host = headers.get("host", "").split(":")[0]
            error = ApiError(
                "InvalidApi.NotFound", f"Specified api {action or '(none)'} {version} is not found."
            )
            return self._error(request_id, host, error)
        product, host_id, handler = route
        fault = self.faults.take(action)
        if fault is not None and not fault.drop:
            return self._fault(request_id, host_id, fault)
        try:
            access_key_id = self.auth.verify(request)
            if self.faults.over_quota(access_key_id) or self.faults.over_api_quota(
                access_key_id, action, API_QUOTAS.get(action)
            ):
                return self._throttled(request_id, host_id)
            if self.faults.random_error():
                raise ApiError("InternalError")
            call = Call(
                request, product, action, version, access_key_id, request_id, self.clock.time()
            )
            response = _json(200, handler(call, self.store))
        except ApiError as error:
            return self._error(request_id, host_id, error)
        except MpaasError as error:
            return _json(200, mpaas_result(request_id, error))
        response.on_complete = call.on_complete
        response.drop = (fault is not None and fault.drop) or self.faults.random_drop()
        response.delay = self.faults.delay()
        return response

    def _error(self, request_id: str, host_id: str, error: ApiError) -> Response:
        body = envelope(request_id, host_id, error.code, error.message)
        response = _json(error.status, body)
        response.delay = self.faults.delay()
        return response

    def _throttled(self, request_id: str, host_id: str) -> Response:
        settings = self.faults.settings
        error = ApiError("Throttling.User", status=settings.throttle_status)
        return _with_retry_after(self._error(request_id, host_id, error), settings.retry_after_ms)

    def _fault(self, request_id: str, host_id: str, fault: Fault) -> Response:
        if fault.result_code is not None:
            error = MpaasError(fault.result_code, fault.message)
            response = _json(fault.status or 200, mpaas_result(request_id, error))
            response.delay = self.faults.delay()
            return response
        code = fault.code or {500: "InternalError", 429: "Throttling.User"}.get(
            fault.status or 503, "ServiceUnavailable"
        )
        response = self._error(request_id, host_id, ApiError(code, fault.message, fault.status))
        return _with_retry_after(response, fault.retry_after_ms)

    # --- the emulator's own controls --------------------------------------------------------

    def deliveries(self) -> list[dict[str, Any]]:
        return [d.public() for d in self.store.all(self.clock.time())]

    def reset(self) -> None:
        """Forget everything received (deliveries, tokens, Msgkeys, nonces, queued faults,
        the call log)."""
        self.store.reset()
        self.calls.clear()
        self.faults.reset()
        self.auth.nonces.clear()

    def set_faults(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        doc = dict(doc)
        queued = doc.pop("enqueue", [])
        if doc:
            self.faults.configure(**doc)
        for raw in queued:
            self.faults.enqueue(Fault.from_dict(raw))
        return {**self.faults.settings.__dict__, "queued": len(self.faults.queue)}

    def set_clock(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        if "now" in doc:
            self.clock.set_now(datetime.fromisoformat(str(doc["now"]).replace("Z", "+00:00")))
        if "advance" in doc:
            self.clock.advance(float(doc["advance"]))
        return {"now": iso_utc(self.clock.time())}

    def control(self, request: Request) -> Response:
        route = (request.method, request.path.rstrip("/"))
        try:
            doc = json.loads(request.body or b"{}") if request.method == "POST" else {}
            if not isinstance(doc, dict):
                raise ValueError("expected a JSON object")
            if route == ("GET", "/_emulator/deliveries"):
                items = self.deliveries()
                return _json(200, {"count": len(items), "deliveries": items})
            if route == ("POST", "/_emulator/reset"):
                self.reset()
                return _json(200, {"ok": True})
            if route == ("POST", "/_emulator/faults"):
                return _json(200, self.set_faults(doc))
            if route == ("POST", "/_emulator/clock"):
                return _json(200, self.set_clock(doc))
            if route == ("GET", "/_emulator/health"):
                return _json(200, {"ok": True})
            if route == ("GET", "/_emulator/calls"):
                calls = list(self.calls)
                return _json(200, {"count": len(calls), "calls": calls})
            if route == ("POST", "/_emulator/console/push"):
                return _json(200, console.push(doc, self.store, self.clock.time()))
            if route == ("POST", "/_emulator/console/cancel"):
                return _json(200, console.cancel(doc, self.store, self.clock.time()))
        except console.ConsoleError as exc:
            return _json(exc.status, {"error": str(exc)})
        except (ValueError, TypeError) as exc:
            return _json(400, {"error": str(exc)})
        return _json(404, {"error": f"no emulator control at {request.method} {request.path}"})
