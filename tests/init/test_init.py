"""pushops init: a new push repository that validates (and plans) with no edits."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml
from click.testing import CliRunner

from pushops.cli import cli
from pushops.scaffold import REQUIREMENT

EXPECTED = [
    ".github/workflows/pushops-apply.yml",
    ".github/workflows/pushops-plan.yml",
    ".gitignore",
    ".vscode/settings.json",
    "campaigns/welcome.yaml",
    "pushops.yaml",
    "schemas/campaign.schema.json",
    "schemas/emas-masspush.schema.json",
    "schemas/mpaas-pushbroadcast.schema.json",
    "schemas/pushops.schema.json",
]


def init(directory: Path, *args: str):
    return CliRunner().invoke(cli, ["init", str(directory), *args])


def written(directory: Path) -> list[str]:
    return sorted(p.relative_to(directory).as_posix() for p in directory.rglob("*") if p.is_file())


def pushops(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PUSHOPS_", "GITHUB_"))}
    return subprocess.run(
        [sys.executable, "-m", "pushops", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_init_writes_the_scaffold_into_an_empty_folder(tmp_path: Path):
    result = init(tmp_path / "push")

    assert result.exit_code == 0, result.output
    assert written(tmp_path / "push") == EXPECTED
    assert "pushops validate" in result.output


def test_a_fresh_repo_validates_with_no_edits(tmp_path: Path):
    init(tmp_path)

    result = pushops(tmp_path, "validate")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 campaign(s) valid" in result.stderr


def test_a_fresh_repo_plans_in_the_sandbox_with_no_edits(tmp_path: Path):
    init(tmp_path)

    result = pushops(tmp_path, "plan", "--sandbox")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "welcome" in result.stdout


def test_config_has_staging_and_production(tmp_path: Path):
    init(tmp_path)

    config = yaml.safe_load((tmp_path / "pushops.yaml").read_text(encoding="utf-8"))

    assert list(config["environments"]) == ["staging", "production"]


def test_existing_files_are_refused_and_nothing_is_written(tmp_path: Path):
    (tmp_path / "pushops.yaml").write_text("mine\n", encoding="utf-8")

    result = init(tmp_path)

    assert result.exit_code == 1
    assert "already exist" in result.output and "--force" in result.output
    assert written(tmp_path) == ["pushops.yaml"]
    assert (tmp_path / "pushops.yaml").read_text(encoding="utf-8") == "mine\n"


def test_force_overwrites_existing_files(tmp_path: Path):
    (tmp_path / "pushops.yaml").write_text("mine\n", encoding="utf-8")

    result = init(tmp_path, "--force")

    assert result.exit_code == 0, result.output
    assert "overwrote" in result.output
    assert "environments:" in (tmp_path / "pushops.yaml").read_text(encoding="utf-8")


def test_an_existing_gitignore_gets_only_the_missing_lines(tmp_path: Path):
    (tmp_path / ".gitignore").write_text("node_modules/\n.pushops/\n", encoding="utf-8")

    result = init(tmp_path)

    assert result.exit_code == 0, result.output
    lines = (tmp_path / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert lines[:2] == ["node_modules/", ".pushops/"]
    assert lines.count(".pushops/") == 1
    assert "pushops.plan" in lines


def test_the_local_ledger_is_git_ignored(tmp_path: Path):
    init(tmp_path)
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)

    ignored = subprocess.run(
        ["git", "-C", str(tmp_path), "check-ignore", ".pushops/state.db"],
        capture_output=True,
        text=True,
    )

    assert ignored.returncode == 0


def test_editor_settings_point_campaigns_at_the_copied_schema(tmp_path: Path):
    init(tmp_path)

    settings = json.loads((tmp_path / ".vscode/settings.json").read_text(encoding="utf-8"))
    campaign = (tmp_path / "campaigns/welcome.yaml").read_text(encoding="utf-8")

    schemas = settings["yaml.schemas"]
    assert "campaigns/**/*.yaml" in schemas["./schemas/campaign.schema.json"]
    assert (tmp_path / "schemas/campaign.schema.json").is_file()
    first = campaign.splitlines()[0]
    assert first == "# yaml-language-server: $schema=../schemas/campaign.schema.json"
    assert (tmp_path / "campaigns" / first.split("=", 1)[1]).resolve().is_file()


def test_the_copied_schemas_are_pushops_own(tmp_path: Path):
    init(tmp_path)

    root = Path(__file__).resolve().parents[2] / "schemas"
    for name in ("campaign.schema.json", "pushops.schema.json"):
        copied = (tmp_path / "schemas" / name).read_text(encoding="utf-8")
        assert copied == (root / name).read_text(encoding="utf-8")


def test_the_workflows_install_the_version_that_scaffolded_them(tmp_path: Path):
    init(tmp_path)

    for name in ("pushops-plan.yml", "pushops-apply.yml"):
        text = (tmp_path / ".github/workflows" / name).read_text(encoding="utf-8")
        assert f'python -m pip install --quiet "{REQUIREMENT}"' in text
        assert "__PUSHOPS" not in text
