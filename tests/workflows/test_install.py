"""The install steps, run exactly as written, in a fresh virtualenv: the scaffolded workflows'
("Install pushops", with the pushops source ``pushops init --source`` wrote: here this very
checkout, as a path) and the composite action's. Each installs the dependencies only from the
hashed lock, then pushops alone, and the pushops it installed works in a repository that
``pushops init`` just made. pip reaches the package index the machine is set up with.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import venv
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from pushops import scaffold
from pushops.cli import cli
from pushops.yamlsource import parse_text

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 600


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PUSHOPS_", "GITHUB_"))}
    env.pop("VIRTUAL_ENV", None)
    return {**env, **extra}


def bash(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT,
    )  # fmt: skip


def install_step(workflow: dict[str, Any]) -> dict[str, Any]:
    (job,) = workflow["jobs"].values()
    return next(s for s in job["steps"] if s.get("name") == "Install pushops")


@pytest.mark.slow
def test_the_scaffolds_install_step_installs_a_working_pushops_in_a_fresh_virtualenv(
    tmp_path: Path,
):
    repo = tmp_path / "push"
    result = CliRunner().invoke(cli, ["init", str(repo), "--source", str(ROOT)])
    assert result.exit_code == 0, result.output
    workflow = parse_text((repo / ".github/workflows/pushops-apply.yml").read_text(), "apply").data
    step = install_step(workflow)
    assert step["env"] == {"PUSHOPS_SOURCE": str(ROOT)}
    fresh = tmp_path / "venv"
    venv.create(fresh, with_pip=True)
    # As on the runner: `python` is the job's interpreter (setup-python's), with nothing in it.
    env = clean_env(PATH=f"{fresh / 'bin'}{os.pathsep}{os.environ['PATH']}", **step["env"])

    done = bash(step["run"], repo, env)

    assert done.returncode == 0, done.stdout + done.stderr
    validated = bash("pushops validate && pushops plan --sandbox", repo, env)
    assert validated.returncode == 0, validated.stdout + validated.stderr
    assert "welcome" in validated.stdout
    assert (fresh / "bin" / "pushops").is_file()  # the job's own interpreter, not ours


@pytest.mark.slow
def test_the_install_step_refuses_a_dependency_missing_from_the_lock(tmp_path: Path):
    lock = tmp_path / ".github/pushops/requirements.txt"
    lock.parent.mkdir(parents=True)
    text = (ROOT / scaffold.LOCK).read_text(encoding="utf-8")
    # A lock holding Jinja but not its dependency MarkupSafe: pip must refuse rather than
    # resolve it afresh.
    jinja = re.search(r"^jinja2==.*?(?=^\S)", text, re.MULTILINE | re.DOTALL)
    assert jinja and "markupsafe" not in jinja.group()
    lock.write_text(jinja.group(), encoding="utf-8")
    (step,) = [
        install_step(parse_text(f.text, f.path.name).data)
        for f in scaffold.files(str(ROOT))
        if f.path.name == "pushops-plan.yml"
    ]
    fresh = tmp_path / "venv"
    venv.create(fresh, with_pip=True)
    env = clean_env(PATH=f"{fresh / 'bin'}{os.pathsep}{os.environ['PATH']}", **step["env"])

    done = bash(step["run"], tmp_path, env)

    assert done.returncode != 0
    assert "markupsafe" in (done.stdout + done.stderr).lower()
    assert not (fresh / "bin" / "pushops").exists()


@pytest.mark.slow
def test_the_actions_install_step_uses_a_virtualenv_of_its_own_and_leaves_path_alone(
    tmp_path: Path,
):
    action = parse_text((ROOT / "action.yml").read_text(encoding="utf-8"), "action.yml").data
    step = next(s for s in action["runs"]["steps"] if s.get("name") == "Install pushops")
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir()
    github_path, github_env = tmp_path / "github-path", tmp_path / "github-env"
    github_path.touch()
    github_env.touch()
    env = clean_env(
        PYTHON=sys.executable,  # setup-python's python-path output
        ACTION_PATH=str(ROOT),
        VENV=str(runner_temp / "pushops-action-venv"),
        GITHUB_PATH=str(github_path),
        GITHUB_ENV=str(github_env),
    )

    first = bash(step["run"], tmp_path, env)
    again = bash(step["run"], tmp_path, env)  # a second use in the same job reuses it

    assert first.returncode == 0, first.stdout + first.stderr
    assert again.returncode == 0, again.stdout + again.stderr
    pushops = runner_temp / "pushops-action-venv" / "bin" / "pushops"
    version = subprocess.run([pushops, "--version"], capture_output=True, text=True, env=env)
    assert version.returncode == 0 and "pushops" in version.stdout
    assert github_path.read_text() == "" and github_env.read_text() == ""
