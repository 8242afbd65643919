"""The composite action (action.yml), run: its "pushops <command>" step, exactly as written,
with bash as Actions runs it, the inputs the caller gives (defaults for the rest) and the
environment the runner sets, in a copy of this repository's push files.

The "Install pushops" step is run by tests/workflows/test_install.py; here the virtualenv it
would make holds the pushops of the interpreter running the tests. The ledger DSN is a
throwaway SQLite file and the providers are the emulator, as in test_run_workflows.py.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from pushops.emulator import Emulator
from pushops.yamlsource import parse_text
from tests.plan.support import plan_records

ROOT = Path(__file__).resolve().parents[2]
AKID, SECRET = "LTAIactiontest", "action-test-secret-5d1c"


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator(credentials={AKID: SECRET}) as emu:
        yield emu


def init_shared_ledger(checkout: Path, ledger: Path) -> None:
    """What the team does once, before CI runs (docs/state.md): create the shared ledger and
    bind production to it; CI never creates a ledger by itself."""
    done = subprocess.run(
        [sys.executable, "-m", "pushops", "state", "init", "--env", "production",
         "--state", str(ledger)],
        cwd=checkout, capture_output=True, text=True, timeout=60,
        env={k: v for k, v in os.environ.items() if not k.startswith(("PUSHOPS_", "GITHUB_"))},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def run_action(
    tmp_path: Path, checkout: Path, inputs: Mapping[str, str], env: Mapping[str, str]
) -> subprocess.CompletedProcess[str]:
    """The action's run step with these inputs (the rest default) and this step env."""
    action = parse_text((ROOT / "action.yml").read_text(encoding="utf-8"), "action.yml").data
    unknown = set(inputs) - set(action["inputs"])
    assert not unknown, f"the action has no input(s) {unknown}"
    values = {name: str(spec.get("default", "")) for name, spec in action["inputs"].items()}
    values.update(inputs)
    temp = tmp_path / "runner-temp"
    venv_bin = temp / "pushops-action-venv" / "bin"
    venv_bin.mkdir(parents=True, exist_ok=True)
    if not (venv_bin / "pushops").exists():  # what the install step would have made
        (venv_bin / "pushops").symlink_to(Path(sys.executable).parent / "pushops")
    context = {f"inputs.{k}": v for k, v in values.items()}
    context |= {"runner.temp": str(temp), "github.action_path": str(ROOT)}

    def expand(text: str) -> str:
        return re.sub(r"\$\{\{\s*(.*?)\s*\}\}", lambda m: context[m.group(1)], text)

    step: dict[str, Any] = next(s for s in action["runs"]["steps"] if s.get("id") == "run")
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("PUSHOPS_", "GITHUB_"))}
    full_env = {
        **keep,
        "GITHUB_ACTIONS": "true",
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        "GITHUB_OUTPUT": str(tmp_path / "output.txt"),
        "PUSHOPS_EMAS_ENDPOINT": env.get("PUSHOPS_EMAS_ENDPOINT", ""),
        "PUSHOPS_MPAAS_ENDPOINT": env.get("PUSHOPS_MPAAS_ENDPOINT", ""),
        **{k: expand(str(v)) for k, v in step["env"].items()},
        **env,
    }
    cwd = checkout / expand(step["working-directory"])
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
        cwd=cwd, env=full_env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_apply_without_the_shared_ledger_is_refused_and_nothing_is_sent(
    tmp_path: Path, checkout: Path, emulator: Emulator
):
    env = {"ALIBABA_CLOUD_ACCESS_KEY_ID": AKID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": SECRET,
           "PUSHOPS_EMAS_ENDPOINT": emulator.url, "PUSHOPS_MPAAS_ENDPOINT": emulator.url}  # fmt: skip

    done = run_action(tmp_path, checkout, {"command": "apply", "environment": "production"}, env)

    assert done.returncode == 1
    assert "::error title=pushops apply::Set PUSHOPS_STATE_DSN" in done.stdout
    assert emulator.deliveries() == []
    assert not (checkout / "pushops.plan").exists()  # refused before planning
    assert not (checkout / ".pushops").exists()  # and no ledger was made


def test_apply_sends_exactly_its_plan_and_the_args_reach_that_plan(
    tmp_path: Path, checkout: Path, emulator: Emulator
):
    ledger = tmp_path / "shared-ledger.db"
    env = {"PUSHOPS_STATE_DSN": str(ledger), "ALIBABA_CLOUD_ACCESS_KEY_ID": AKID,
           "ALIBABA_CLOUD_ACCESS_KEY_SECRET": SECRET, "PUSHOPS_EMAS_ENDPOINT": emulator.url,
           "PUSHOPS_MPAAS_ENDPOINT": emulator.url}  # fmt: skip
    inputs = {"command": "apply", "environment": "production",
              "args": "--margin 10m",
              "apply-args": "--lock-timeout 5s"}  # fmt: skip
    init_shared_ledger(checkout, ledger)

    done = run_action(tmp_path, checkout, inputs, env)

    assert done.returncode == 0, done.stdout + done.stderr
    records = plan_records(checkout / "pushops.plan")
    assert records[0]["margin_s"] == 600  # type: ignore[index]  # the args reached the plan (the default is 5m)
    assert "Apply complete" in done.stdout + done.stderr
    calls = [r for r in records if isinstance(r, list) and r[0] == "call"]
    messages = sum(len({d[5] for d in call[8]}) for call in calls)  # type: ignore[union-attr]
    assert len(emulator.deliveries()) == messages
    assert (tmp_path / "output.txt").read_text() == (
        "plan-file=pushops.plan\nreport=pushops-plan.html\n"
    )
    assert "<html" in (checkout / "pushops-plan.html").read_text(encoding="utf-8").lower()


def test_apply_in_the_sandbox_needs_no_ledger(tmp_path: Path, checkout: Path):
    done = run_action(tmp_path, checkout, {"command": "apply", "sandbox": "true"}, {})

    assert done.returncode == 0, done.stdout + done.stderr
    assert "(sandbox)" in (tmp_path / "summary.md").read_text(encoding="utf-8")


def test_plan_gets_the_args(tmp_path: Path, checkout: Path):
    inputs = {"command": "plan", "sandbox": "true", "args": "--now 2027-01-02T03:04:05Z"}

    done = run_action(tmp_path, checkout, inputs, {})

    assert done.returncode == 0, done.stdout + done.stderr
    assert "planned with now = 2027-01-02T03:04:05Z" in done.stdout


def test_an_unknown_command_is_refused_without_echoing_it_into_a_workflow_command(
    tmp_path: Path, checkout: Path
):
    done = run_action(tmp_path, checkout, {"command": "plan\n::error::injected"}, {})

    assert done.returncode == 1
    lines = re.split(r"[\r\n]", done.stdout + done.stderr)
    assert [line for line in lines if line.lstrip().startswith("::")] == [
        "::error title=pushops::unknown command input (validate, plan or apply)"
    ]
