"""What apply shows while it sends: a bar on a terminal, plain periodic lines otherwise."""

from __future__ import annotations

import os
import pty
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pushops.apply import progress
from pushops.apply.progress import Progress

REPO = Path(__file__).resolve().parents[2]


def test_without_a_terminal_apply_prints_plain_progress_lines(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(progress, "PLAIN_EVERY_S", 0.0)
    shown = Progress(deliveries=10, calls=2, tty=False)
    shown.advance(4)
    shown.close()
    err = capsys.readouterr().err
    assert err.startswith("apply: 4/10 deliveries, 1/2 calls, ")
    assert "deliveries/s, ETA " in err


def test_plain_lines_are_spaced_out_not_one_per_call(
    capsys: pytest.CaptureFixture[str],
) -> None:
    shown = Progress(deliveries=1000, calls=1000, tty=False)
    for _ in range(1000):
        shown.advance(1)
    assert capsys.readouterr().err == ""  # well inside the first interval


def test_on_a_terminal_apply_shows_a_progress_bar(tmp_path: Path) -> None:
    for name in ("pushops.yaml", "campaigns", "data"):
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name)
        else:
            shutil.copy(source, tmp_path / name)
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "pushops", "apply", "--sandbox", "--auto-approve"],
        cwd=tmp_path, stdin=follower, stdout=follower, stderr=follower, close_fds=True,
    )  # fmt: skip
    os.close(follower)
    seen = b""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
        elif process.poll() is not None:
            break
    os.close(leader)
    assert process.wait(timeout=30) == 0, seen.decode(errors="replace")
    text = seen.decode(errors="replace")
    assert "Sending" in text and "calls" in text and "100%" in text, text
    assert "Apply complete: 10 deliveries sent" in text
