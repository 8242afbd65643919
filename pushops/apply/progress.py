"""What apply shows while it sends: a bar on a terminal, a plain line now and then otherwise.

Only calls that were attempted move it (a call the run gave up before sending is not
progress), and a stopped run ends it where it stood, never at 100%.
"""

from __future__ import annotations

from pushops.progress import Phase


class Progress:
    def __init__(self, deliveries: int, calls: int, *, tty: bool | None = None) -> None:
        self.total = deliveries
        self.total_calls = calls
        self.calls = 0
        self.phase = (
            Phase("Sending", deliveries, "deliveries", tty=tty, status=self.status)
            if deliveries
            else None
        )

    @property
    def done(self) -> int:
        return self.phase.done if self.phase is not None else 0

    def status(self) -> str:
        return f"{self.calls:,}/{self.total_calls:,} calls"

    def advance(self, deliveries: int, calls: int = 1) -> None:
        self.calls += calls
        if self.phase is not None:
            self.phase.advance(deliveries)

    def close(self, stopped: str | None = None) -> None:
        if self.phase is not None:
            self.phase.close(stopped)
