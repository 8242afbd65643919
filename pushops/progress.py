"""What a long step shows while it runs: a bar on a terminal, a plain line now and then in a
log (CI), nothing at all for a step that is over within a second.

On a terminal the bar is ``rich.progress`` (a maintained library: redraws in place, knows the
terminal's width, and keeps working while the event loop is busy, from its own refresh
thread). Rate and time left come from the last :data:`WINDOW_S` seconds only, never averaged
from the start: the seconds spent starting up (imports, connecting, the first batch written
ahead) would make the first estimates far too pessimistic.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any, TypeVar

T = TypeVar("T")

WINDOW_S = 10.0  # rate and ETA read the last this many seconds
SHOW_AFTER_S = 1.0  # a step shorter than this shows nothing
PLAIN_EVERY_S = 5.0  # a plain line at most this often
STEP = 1024  # items between two reports of a stream: one call per item would cost more


def eta(seconds: float) -> str:
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


def counted(
    items: Iterable[T], advance: Callable[[int], None] | None, step: int = STEP
) -> Iterator[T]:
    """Pass ``items`` through, telling ``advance`` how many went by (in steps of ``step``,
    and the rest at the end); ``advance`` None passes them through untouched."""
    if advance is None:
        yield from items
        return
    pending = 0
    try:
        for item in items:
            yield item
            pending += 1
            if pending == step:
                advance(pending)
                pending = 0
    finally:
        if pending:
            advance(pending)


class Window:
    """Units per second over the last ``span`` seconds (a moving window)."""

    def __init__(self, span: float = WINDOW_S, clock: Callable[[], float] = time.monotonic):
        self.span = span
        self.clock = clock
        # From the first report on: the time before it (start-up) is not part of any rate.
        self._samples: deque[tuple[float, int]] = deque()

    def add(self, done: int) -> None:
        now = self.clock()
        self._samples.append((now, done))
        # Keep one sample older than the window: the rate spans the whole window.
        while len(self._samples) > 2 and self._samples[1][0] <= now - self.span:
            self._samples.popleft()

    def rate(self) -> float:
        if len(self._samples) < 2:
            return 0.0
        (t0, d0), (t1, d1) = self._samples[0], self._samples[-1]
        return (d1 - d0) / (t1 - t0) if t1 > t0 else 0.0


class Phase:
    """One step of a command shown while it runs (``with Phase(...) as phase``).

    ``total`` None: the size is not known ahead (rows of a data file), so a count and a rate,
    no percentage. ``status`` adds a short text to every line (e.g. "12/40 calls").
    """

    def __init__(
        self,
        label: str,
        total: int | None,
        unit: str,
        *,
        tty: bool | None = None,
        file: IO[str] | None = None,
        status: Callable[[], str] | None = None,
        show_after_s: float = SHOW_AFTER_S,
        plain_every_s: float | None = None,
    ) -> None:
        self.label = label
        self.total = total
        self.unit = unit
        self.done = 0
        self.file = file or sys.stderr
        self.tty = self.file.isatty() if tty is None else tty
        self.status = status
        self.plain_every_s = PLAIN_EVERY_S if plain_every_s is None else plain_every_s
        self.started = time.monotonic()
        self.window = Window()
        self._last_line = self.started + show_after_s - self.plain_every_s
        self._lock = threading.Lock()
        self._closed = False
        self._bar: Any = None
        self._task: Any = None
        self._timer: threading.Timer | None = None
        if self.tty:
            # rich is imported here, not in the timer's thread: an import there competes for
            # the GIL with the step's own work and could land after a step of a few seconds
            # had ended, which then showed nothing at all.
            import rich.progress  # noqa: F401

            self._timer = threading.Timer(show_after_s, self._show)
            self._timer.daemon = True
            self._timer.start()

    # ------------------------------------------------------------------ terminal

    def _show(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn

        with self._lock:
            if self._closed:
                return
            known = self.total is not None
            columns = [
                TextColumn("{task.description}"),
                BarColumn() if known else SpinnerColumn(finished_text="done"),
                TextColumn("{task.percentage:>3.0f}%") if known else TextColumn(""),
                TextColumn("{task.fields[where]}"),
                TextColumn("{task.fields[rate]}"),
                TextColumn("{task.fields[eta]}"),
            ]
            self._bar = Progress(
                *columns,
                console=Console(file=self.file, force_terminal=True),
                refresh_per_second=4,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self._task = self._bar.add_task(
                self.label, total=self.total, completed=self.done, **self._fields()
            )
            self._bar.start()

    def _fields(self, *, final: bool = False) -> dict[str, str]:
        rate = self.window.rate()
        of = f"/{self.total:,}" if self.total is not None else ""
        status = f", {self.status()}" if self.status is not None else ""
        left = ""
        if not final and self.total is not None:
            left = f"ETA {eta((self.total - self.done) / rate)}" if rate > 0 else "ETA ?"
        return {
            "where": f"{self.done:,}{of} {self.unit}{status}",
            "rate": f"{rate:,.0f} {self.unit}/s" if rate and not final else "",
            "eta": left,
        }

    # ------------------------------------------------------------------ both

    def advance(self, n: int = 1) -> None:
        self.done += n
        self.window.add(self.done)
        if self._bar is not None:
            self._bar.update(self._task, completed=self.done, **self._fields())
        elif not self.tty:
            now = time.monotonic()
            if now - self._last_line >= self.plain_every_s:
                self._last_line = now
                self.file.write(self.line() + "\n")
                self.file.flush()

    def line(self) -> str:
        """The plain line: where it is, the rate over the last seconds, the time left."""
        rate = self.window.rate()
        of = f"/{self.total:,}" if self.total is not None else ""
        status = f", {self.status()}" if self.status is not None else ""
        text = f"{self.label}: {self.done:,}{of} {self.unit}{status}, {rate:,.0f} {self.unit}/s"
        if self.total is not None:
            left = eta((self.total - self.done) / rate) if rate > 0 else "?"
            text += f", ETA {left}"
        return text

    def close(self, stopped: str | None = None) -> None:
        """End the display where it is: a stopped step never shows as complete."""
        with self._lock:
            self._closed = True
            if self._timer is not None:
                self._timer.cancel()
            bar, self._bar = self._bar, None
        if bar is not None:
            label = f"{self.label} ({stopped})" if stopped else self.label
            total = self.total if self.total is not None or stopped else self.done
            bar.update(self._task, description=label, total=total, **self._fields(final=True))
            bar.stop()
        elif stopped and not self.tty and self.done:
            self.file.write(f"{self.line()} ({stopped})\n")
            self.file.flush()

    def __enter__(self) -> Phase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close("stopped" if exc[0] is not None else None)
