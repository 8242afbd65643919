"""The pieces of the write lock that do not depend on the database.

The lock itself is an OS or server primitive that dies with its holder (``flock`` on a file
beside the SQLite database, a PostgreSQL session advisory lock); the ``locks`` table only says
who holds it, for error messages and ``state unlock``. A row whose holder is gone is stale.
"""

from __future__ import annotations

import fcntl
import getpass
import os
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pushops.ledger.codec import text_time
from pushops.ledger.records import LockInfo

POLL_S = 0.05


def wait_for(attempt: Callable[[], bool], timeout_s: float) -> bool:
    """Call ``attempt`` until it returns True or ``timeout_s`` has passed (at least once)."""
    deadline = time.monotonic() + max(timeout_s, 0.0)
    while True:
        if attempt():
            return True
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        time.sleep(min(POLL_S, left))


def default_holder() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry in some containers
        user = f"uid {os.getuid()}"
    return f"{user}@{socket.gethostname()}"


def lock_from_row(row: tuple[Any, ...], stale: bool = False) -> LockInfo:
    started = text_time(row[3])
    if started is None:
        raise ValueError("started_at is empty")
    return LockInfo(
        lock_id=row[0],
        holder=row[1],
        operation=row[2],
        started_at=started,
        pid=row[4],
        hostname=row[5],
        session=row[6],
        stale=stale,
    )


class FileLock:
    """An exclusive ``flock`` on one file. The kernel drops it when the holder's process dies,
    however it dies, so a crashed apply never leaves the ledger locked."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def _open(self) -> int:
        return os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)

    def try_acquire(self) -> bool:
        fd = self._open()
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)  # closing the last descriptor releases the flock

    def busy(self) -> bool:
        """Whether another descriptor holds the lock (a quick try, released at once)."""
        if self._fd is not None:
            return True
        fd = self._open()
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)
        return False
