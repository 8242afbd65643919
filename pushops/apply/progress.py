"""What apply shows while it sends: a bar on a terminal, a plain line now and then otherwise."""

from __future__ import annotations

import sys
import time
from typing import Any

import click

PLAIN_EVERY_S = 5.0


def _eta(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


class Progress:
    def __init__(self, deliveries: int, calls: int, *, tty: bool | None = None) -> None:
        self.total = deliveries
        self.total_calls = calls
        self.done = 0
        self.calls = 0
        self.started = time.monotonic()
        self.tty = sys.stderr.isatty() if tty is None else tty
        self._last = self.started
        self._bar: Any = None
        if self.tty and deliveries:
            self._bar = click.progressbar(
                length=deliveries,
                label="Sending",
                show_eta=True,
                show_percent=True,
                file=sys.stderr,
                item_show_func=lambda _: self.status(),
            )
            self._bar.__enter__()

    def rate(self) -> float:
        elapsed = time.monotonic() - self.started
        return self.done / elapsed if elapsed > 0 else 0.0

    def status(self) -> str:
        return f"{self.calls}/{self.total_calls} calls, {self.rate():,.0f} deliveries/s"

    def advance(self, deliveries: int, calls: int = 1) -> None:
        self.done += deliveries
        self.calls += calls
        if self._bar is not None:
            self._bar.update(deliveries, None)
            return
        now = time.monotonic()
        if now - self._last >= PLAIN_EVERY_S:
            self._last = now
            rate = self.rate()
            eta = _eta((self.total - self.done) / rate) if rate > 0 else "?"
            click.echo(
                f"apply: {self.done}/{self.total} deliveries, {self.status()}, ETA {eta}",
                err=True,
            )

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None
