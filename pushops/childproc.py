"""What pushops' helper processes share: starting one tied to its parent's life, the frames
parent and child exchange, and how a child ended.

pushops starts two kinds of helper process, each ``python -m`` of its own module: apply's
sending process (:mod:`pushops.apply.sender`) and plan's rendering process
(:mod:`pushops.plan.renderproc`). Both must never outlive the run that started them: a
sender left behind could send after the next run settled what this one left pending, and
a renderer left behind would only burn a CPU. Linux ties the child's life to the parent's
(``PR_SET_PDEATHSIG``); elsewhere the parent keeps its work in one process.
"""

from __future__ import annotations

import ctypes
import os
import pickle
import signal
import struct
import subprocess
import sys
from typing import Any

_PR_SET_PDEATHSIG = 1
# A message between parent and child: its length, then its pickle (both ends are pushops).
FRAME_LENGTH = struct.Struct(">I")


def die_with(parent: int) -> None:
    """SIGKILL this process when its parent dies; and exit now if it already has."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent:  # the parent died before the line above
        os._exit(1)


def how_it_ended(code: int | None) -> str:
    """How a child ended, in words: " (exit code 1)", " (killed by SIGKILL)", or nothing."""
    if code is None:
        return ""
    if code < 0:
        try:
            return f" (killed by {signal.Signals(-code).name})"
        except ValueError:
            return f" (killed by signal {-code})"
    return f" (exit code {code})"


def spawn(module: str) -> tuple[subprocess.Popen[bytes], int, int]:
    """``python -m module PARENT_PID DOWN_FD UP_FD`` with a pair of private pipes: the
    process and the parent's ends (down to it, up from it). In a session of its own, so a
    Ctrl-C at the terminal reaches the parent alone, which decides what the child does.
    Raises OSError if it cannot be started (nothing is left open)."""
    down_read, down_write = os.pipe()  # parent -> child
    up_read, up_write = os.pipe()  # child -> parent
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", module, str(os.getpid()), str(down_read), str(up_write)],
            pass_fds=(down_read, up_write), stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
    except OSError:
        for fd in (down_read, down_write, up_read, up_write):
            os.close(fd)
        raise
    os.close(down_read)
    os.close(up_write)
    return proc, down_write, up_read


def frame(message: Any) -> bytes:
    """``message`` as one frame on a parent-child pipe: its length, then its pickle."""
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return FRAME_LENGTH.pack(len(data)) + data
