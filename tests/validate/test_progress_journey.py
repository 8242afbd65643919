"""validate and render on a large fan-out show that they are working, as plan and apply do.

250,000 rows take seconds to render and check: on a terminal a bar counts the deliveries and
ends at the exact total ("done"), in a log (no terminal) a plain line says where it is, and
stdout (render's document, validate's findings) is never mixed with it. A step over within a
second shows nothing (tests/apply/test_progress.py).
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

from tests.plan.support import fanout_campaign
from tests.pushrepo import PushRepo

ROWS = 250_000  # seconds of work on any machine: a step within a second shows nothing
CONFIG = """\
version: 1
default_environment: staging
environments:
  staging:
    apps:
      shop: {provider: emas, app_key: 23267207}
"""
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def fan_out(repo: PushRepo) -> None:
    campaign, rows = fanout_campaign("offers", ROWS, "data/rows.csv")
    repo.write("pushops.yaml", CONFIG)
    repo.write("campaigns/offers.yaml", campaign)
    repo.write("data/rows.csv", rows)


def stderr_on_terminal(repo: PushRepo, *args: str, stdout: Path) -> tuple[int, str]:
    """Run ``pushops ARGS`` with stderr on a pseudo-terminal (stdout to a file, as in
    ``pushops render > calls.json``); what the terminal showed, escape codes removed."""
    leader, follower = pty.openpty()
    with stdout.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "pushops", *args],
            cwd=repo.root, env={**os.environ, "COLUMNS": "120"},
            stdin=subprocess.DEVNULL, stdout=out, stderr=follower, close_fds=True,
        )  # fmt: skip
        os.close(follower)
        seen = b""
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(leader, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                seen += chunk
            elif process.poll() is not None:
                break
        os.close(leader)
        code = process.wait(timeout=30)
    return code, ANSI.sub("", seen.decode(errors="replace"))


def in_a_log(repo: PushRepo, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pushops", *args],
        cwd=repo.root, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_validate_on_a_terminal_counts_the_deliveries_it_checks_and_ends_at_the_total(
    repo: PushRepo, tmp_path: Path
) -> None:
    fan_out(repo)
    code, shown = stderr_on_terminal(repo, "validate", stdout=tmp_path / "out.txt")
    assert code == 0, shown
    assert "Validating" in shown and "deliveries/s" in shown, shown
    final = shown.rstrip().splitlines()
    assert re.search(rf"Validating done\s+{ROWS:,} deliveries", shown), final[-3:]
    assert final[-1].strip() == "1 campaign valid"
    assert "Traceback" not in shown


def test_render_to_a_file_shows_rendering_then_writing_and_the_document_stays_clean(
    repo: PushRepo, tmp_path: Path
) -> None:
    fan_out(repo)
    out = tmp_path / "calls.json"
    code, shown = stderr_on_terminal(repo, "render", stdout=out)
    assert code == 0, shown
    assert re.search(rf"Rendering done\s+{ROWS:,} deliveries", shown), shown[-400:]
    if "Writing" in shown:  # past a second only (12 MB is written in less on a fast disk)
        assert re.search(r"Writing done\s+\d+ MB", shown), shown[-400:]
    document = json.loads(out.read_text())  # nothing but the document on stdout
    (campaign,) = document["campaigns"]
    assert sum(len(c["deliveries"]) for c in campaign["calls"]) == ROWS


def test_without_a_terminal_validate_prints_plain_progress_lines_on_stderr_only(
    repo: PushRepo,
) -> None:
    fan_out(repo)
    result = in_a_log(repo, "validate", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"version": 1, "errors": []}
    lines = [line for line in result.stderr.splitlines() if line.startswith("Validating: ")]
    assert lines, result.stderr
    assert re.fullmatch(r"Validating: [\d,]+ deliveries, [\d,]+ deliveries/s", lines[0])
    assert "\x1b" not in result.stderr  # no escape codes in a log
