"""The emulator in-process: its own event loop on a background thread.

For tests, benchmarks and ``apply --sandbox``: ``with Emulator() as emu: ... emu.url``.
The CLI runs the same app and server on the main thread instead (``serve_forever``).
"""

from __future__ import annotations

import asyncio
import gc
import ipaddress
import signal
import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from pushops.emulator import console
from pushops.emulator.app import EmulatorApp
from pushops.emulator.clock import Clock
from pushops.emulator.faults import Fault, Faults, FaultSettings
from pushops.emulator.server import HttpServer
from pushops.emulator.store import Store

DEFAULT_CREDENTIALS = {"pushops-emulator": "pushops-emulator-secret"}


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def build_app(
    credentials: Mapping[str, str] | None = None,
    *,
    latency_ms: float = 0,
    jitter_ms: float = 0,
    quota: int | None = None,
    error_rate: float = 0.0,
    drop_rate: float = 0.0,
    db: str | Path | None = None,
    now: datetime | None = None,
) -> EmulatorApp:
    settings = FaultSettings(latency_ms, jitter_ms, error_rate, drop_rate, quota)
    settings.validate()
    return EmulatorApp(
        credentials or DEFAULT_CREDENTIALS, Clock(now), Store(db), Faults(settings=settings)
    )


class Emulator:
    def __init__(
        self,
        credentials: Mapping[str, str] | None = None,
        latency_ms: float = 0,
        jitter_ms: float = 0,
        quota: int | None = None,
        error_rate: float = 0.0,
        drop_rate: float = 0.0,
        db: str | Path | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        now: datetime | None = None,
        allow_remote: bool = False,
    ) -> None:
        if not allow_remote and not is_loopback(host):
            raise ValueError(f"the emulator serves loopback only, not {host!r}")
        self.app = build_app(
            credentials,
            latency_ms=latency_ms,
            jitter_ms=jitter_ms,
            quota=quota,
            error_rate=error_rate,
            drop_rate=drop_rate,
            db=db,
            now=now,
        )
        self.host, self.port = host, port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: HttpServer | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> Emulator:
        if self._thread is not None:
            return self
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            self._server = HttpServer(self.app)
            try:
                self.port = loop.run_until_complete(self._server.start(self.host, self.port))
            except BaseException as exc:  # reported to the caller of start()
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(self._server.close())
                loop.close()

        self._thread = threading.Thread(target=run, name="pushops-emulator", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            self._thread = None
            raise failure[0]
        return self

    def stop(self) -> None:
        if self._thread is None or self._loop is None:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._thread = None
        self.app.store.close()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- controls (the same as the /_emulator HTTP endpoints) ------------------------------

    def deliveries(self) -> list[dict[str, Any]]:
        return self.app.deliveries()

    def reset(self) -> None:
        self.app.reset()

    def calls(self) -> list[dict[str, Any]]:
        """Every API call received (action, version, app, HTTP status, time), oldest first."""
        return list(self.app.calls)

    def console_push(self, product: str, params: Mapping[str, Any], app: str | None = None) -> str:
        """A push made in the console (or by another tool); its MessageId / task id."""
        doc = {"product": product, "app": app, "params": dict(params)}
        return str(console.push(doc, self.app.store, self.app.clock.time())["message_id"])

    def console_cancel(self, message_id: str) -> None:
        """A scheduled push cancelled in the console."""
        console.cancel({"message_id": message_id}, self.app.store, self.app.clock.time())

    def configure(self, **settings: Any) -> None:
        self.app.faults.configure(**settings)

    def enqueue_fault(
        self,
        code: str | None = None,
        action: str | None = None,
        *,
        result_code: str | None = None,
        status: int | None = None,
        message: str | None = None,
        drop: bool = False,
        retry_after_ms: int | None = None,
    ) -> None:
        self.app.faults.enqueue(
            Fault.from_dict(
                {
                    k: v
                    for k, v in {
                        "code": code,
                        "action": action,
                        "result_code": result_code,
                        "status": status,
                        "message": message,
                        "drop": drop,
                        "retry_after_ms": retry_after_ms,
                    }.items()
                    if v not in (None, False)
                }
            )
        )

    def set_now(self, now: datetime) -> None:
        self.app.clock.set_now(now)

    def advance(self, seconds: float) -> None:
        self.app.clock.advance(seconds)


async def _freeze_survivors(every: float = 0.25) -> None:
    """Keep what the emulator holds out of the cyclic collector's full passes.

    The deliveries it keeps (300,000 in the 100-task benchmark) are long-lived; full
    collections walking them all stalled the event loop for tens of milliseconds, and the
    requests that queued meanwhile were then counted in the next quota second: spurious
    Throttling.User at an even 490 calls/s. Four times a second (gc.freeze is O(1))
    everything alive moves to the permanent generation: refcounting still frees it; only a
    cycle alive at that moment would outlive its last reference, and request handling makes
    none. Only in the emulator's own process, never in one that embeds it.
    """
    while True:
        await asyncio.sleep(every)
        gc.freeze()


def serve_forever(app: EmulatorApp, host: str, port: int, announce: Callable[[str], None]) -> None:
    """Serve on the calling thread until SIGTERM or SIGINT; ``announce`` gets the URL."""

    async def main() -> None:
        server = HttpServer(app)
        bound = await server.start(host, port)
        freezer = asyncio.create_task(_freeze_survivors())
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        shown = f"[{host}]" if ":" in host else host
        announce(f"http://{shown}:{bound}")
        await stop.wait()
        freezer.cancel()
        await server.close()

    try:
        asyncio.run(main())
    finally:
        app.store.close()
