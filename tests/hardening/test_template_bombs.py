"""Template bombs against a real ``pushops validate`` process held to a fixed address space and
a wall-clock limit, as a CI job running a pull request's campaigns is: every bomb in the corpus
is a located error, and the job is never hung or killed.

The limits are the assertion: a bomb that allocated its gigabytes would die of MemoryError (a
traceback, no JSON) under ``RLIMIT_AS``, and one that hung would hit the timeout.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from tests.pushrepo import EMAS_TASK, REPO

CORPUS = Path(__file__).parent / "corpus" / "template_bombs.txt"
ADDRESS_SPACE = 512 * 1024 * 1024  # validate of a small repo needs about 100 MB
TIMEOUT_S = 120  # the whole run; each refusal takes at most about a second


def bombs() -> list[str]:
    lines = CORPUS.read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip() and not line.startswith("#")]


def limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def test_every_template_bomb_is_a_located_error_within_fixed_memory_and_time(
    tmp_path: Path,
) -> None:
    (tmp_path / "pushops.yaml").write_text((REPO / "pushops.yaml").read_text())
    (tmp_path / "campaigns").mkdir()
    found = bombs()
    tasks = [{**EMAS_TASK, "id": f"bomb{i}", "Title": bomb} for i, bomb in enumerate(found)]
    doc = {"id": "bombs", "app": "shop", "tasks": tasks}
    # One task per line, so each error's line names its bomb.
    body = ",\n".join(json.dumps(task, ensure_ascii=False) for task in tasks)
    text = '{"id": "bombs", "app": "shop", "tasks": [\n' + body + "\n]}\n"
    assert json.loads(text) == doc
    (tmp_path / "campaigns" / "bombs.yaml").write_text(text)

    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "pushops", "validate", "--format", "json"],
        cwd=tmp_path,
        env={**os.environ, "PUSHOPS_NOW": "2026-11-22T09:00:00Z"},
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        preexec_fn=limited,
    )
    elapsed = time.monotonic() - started

    assert done.returncode == 1, done.stderr[-2000:]
    assert "Traceback" not in done.stderr and "MemoryError" not in done.stderr
    errors = json.loads(done.stdout)["errors"]
    by_line = {e["line"]: e for e in errors if e["path"].endswith(".Title")}
    missed = [bomb[:60] for i, bomb in enumerate(found) if i + 2 not in by_line]
    assert missed == []
    rules = {by_line[i + 2]["rule"] for i in range(len(found))}
    assert rules <= {"template.too-large", "template.not-text"}
    # Each refusal is cheap but for the few that run into the 1 s clock (about 5 s in all on
    # a quiet machine; the bound leaves room for a busy one).
    assert elapsed < 60, elapsed
