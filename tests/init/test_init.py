"""pushops init: a new push repository that validates (and plans) with no edits."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from pushops.cli import cli
from pushops.scaffold import source as sources
from pushops.yamlsource import parse_text

COMMIT = "0123456789abcdef0123456789abcdef01234567"
SOURCE = f"git+https://github.com/acme/pushops@{COMMIT}"
EXPECTED = [
    ".github/pushops/requirements.txt",
    ".github/workflows/pushops-apply.yml",
    ".github/workflows/pushops-drift.yml",
    ".github/workflows/pushops-plan.yml",
    ".github/workflows/pushops-report.yml",
    ".gitignore",
    ".vscode/settings.json",
    "campaigns/welcome.yaml",
    "pushops.yaml",
    "schemas/campaign.schema.json",
    "schemas/emas-masspush.schema.json",
    "schemas/mpaas-pushbroadcast.schema.json",
    "schemas/policies.schema.json",
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
    assert "1 campaign valid" in result.stderr


def test_a_fresh_repo_plans_in_the_sandbox_with_no_edits(tmp_path: Path):
    init(tmp_path)

    result = pushops(tmp_path, "plan", "--sandbox")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "welcome" in result.stdout


def test_config_has_staging_and_production(tmp_path: Path):
    init(tmp_path)

    config = parse_text((tmp_path / "pushops.yaml").read_text(encoding="utf-8"), "test").data

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


def install_source(directory: Path, name: str) -> str:
    workflow = parse_text((directory / ".github/workflows" / name).read_text("utf-8"), "test").data
    (job,) = workflow["jobs"].values()
    step = next(s for s in job["steps"] if s.get("name") == "Install pushops")
    return step["env"]["PUSHOPS_SOURCE"]


def test_the_workflows_install_the_pinned_source_given(tmp_path: Path):
    result = init(tmp_path, "--source", SOURCE)

    assert result.exit_code == 0, result.output
    for name in ("pushops-plan.yml", "pushops-apply.yml"):
        assert install_source(tmp_path, name) == SOURCE
        assert "__PUSHOPS" not in (tmp_path / ".github/workflows" / name).read_text("utf-8")
    assert "warning" not in result.output


@pytest.mark.parametrize(
    "source",
    [
        "pushops[postgres]==0.1.0",  # a name on an index nobody published it to
        "git+https://github.com/acme/pushops@main",  # a branch moves
        "git+https://github.com/acme/pushops@v0.1.0",  # so can a tag
        "https://example.com/pushops-0.1.0.tar.gz",  # no hash
        'git+https://github.com/acme/pushops@0123456789abcdef0123456789abcdef01234567"\nx',
    ],
)
def test_an_unpinned_source_is_refused_and_nothing_is_written(tmp_path: Path, source: str):
    result = init(tmp_path / "push", "--source", source)

    assert result.exit_code == 1
    assert "is not a pinned source of pushops" in result.output
    assert not (tmp_path / "push").exists()


def test_without_a_known_source_init_warns_and_the_install_step_says_how_to_set_it(
    tmp_path: Path,
):
    result = init(tmp_path)  # this pushops is an editable checkout: no pinned source

    assert result.exit_code == 0, result.output
    assert "warning: the workflows do not know where to install pushops from" in result.output
    assert install_source(tmp_path, "pushops-plan.yml") == ""


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        (
            {
                "url": "https://github.com/acme/pushops",
                "vcs_info": {"vcs": "git", "commit_id": COMMIT, "requested_revision": "v0.1.0"},
            },
            SOURCE,
        ),
        (
            {
                "url": "https://example.com/pushops-0.1.0.tar.gz",
                "archive_info": {"hashes": {"sha256": "ab" * 32}},
            },
            "https://example.com/pushops-0.1.0.tar.gz#sha256=" + "ab" * 32,
        ),
        ({"url": "file:///home/me/pushops", "dir_info": {"editable": True}}, None),
        ({"url": "file:///tmp/pushops-0.1.0-py3-none-any.whl", "archive_info": {}}, None),
        (
            {
                "url": "https://github.com/acme/pushops",
                "vcs_info": {"vcs": "hg", "commit_id": COMMIT},
            },
            None,
        ),
    ],
)
def test_the_source_is_read_from_how_this_pushops_was_installed(record, expected):
    assert sources.from_direct_url(record) == expected


def test_next_says_what_to_run_first_and_what_ci_needs(tmp_path: Path):
    result = init(tmp_path / "push", "--source", SOURCE)

    next_lines = result.output[result.output.index("Next:") :]
    assert f"cd {tmp_path / 'push'} && pushops validate && pushops plan --sandbox" in next_lines
    assert "pushops state init --sql" in next_lines
    assert "`pushops state init --env production`" in next_lines
    assert "pushops.ledgers.yaml" in next_lines and "docs/ci.md" in next_lines


# --- pushops init --upgrade: generated files only ------------------------------------------


def snapshot(directory: Path, *names: str) -> dict[str, bytes]:
    return {name: (directory / name).read_bytes() for name in names}


def test_upgrade_refreshes_generated_files_and_never_touches_config_or_campaigns(
    tmp_path: Path,
):
    init(tmp_path, "--source", SOURCE)
    (tmp_path / "pushops.yaml").write_text("version: 1  # the team's own\n", encoding="utf-8")
    (tmp_path / "campaigns/welcome.yaml").write_text("id: edited\n", encoding="utf-8")
    (tmp_path / "campaigns/sale.yaml").write_text("id: sale\n", encoding="utf-8")
    (tmp_path / "schemas/campaign.schema.json").write_text("{}", encoding="utf-8")  # stale
    (tmp_path / ".github/workflows/pushops-apply.yml").unlink()  # new in this version
    (tmp_path / ".github/pushops/requirements.txt").write_text("old==1\n", encoding="utf-8")
    own = snapshot(tmp_path, "pushops.yaml", "campaigns/welcome.yaml", "campaigns/sale.yaml")

    result = init(tmp_path, "--upgrade", "--source", SOURCE)

    assert result.exit_code == 0, result.output
    assert snapshot(tmp_path, *own) == own
    fresh = tmp_path / "fresh"
    init(fresh, "--source", SOURCE)
    for name in (
        "schemas/campaign.schema.json",
        ".github/workflows/pushops-apply.yml",
        ".github/pushops/requirements.txt",
    ):
        assert (tmp_path / name).read_text("utf-8") == (fresh / name).read_text("utf-8"), name
    assert "updated " in result.output and "created " in result.output
    assert "3 generated file(s) changed; pushops.yaml and campaigns/ were not touched" in (
        result.output
    )


def test_upgrade_twice_changes_nothing_the_second_time(tmp_path: Path):
    init(tmp_path, "--source", SOURCE)
    init(tmp_path, "--upgrade", "--source", SOURCE.replace("0123", "4567"))

    result = init(tmp_path, "--upgrade", "--source", SOURCE.replace("0123", "4567"))

    assert result.exit_code == 0, result.output
    assert "0 generated file(s) changed" in result.output


def test_upgrade_keeps_the_environment_the_workflows_plan_and_apply(tmp_path: Path):
    init(tmp_path, "--source", SOURCE)
    for name in (
        "pushops-plan.yml",
        "pushops-apply.yml",
        "pushops-drift.yml",
        "pushops-report.yml",
    ):
        path = tmp_path / ".github/workflows" / name
        text = path.read_text("utf-8").replace(
            "PUSHOPS_ENVIRONMENT: production", "PUSHOPS_ENVIRONMENT: prod"
        )
        path.write_text(text.replace("-production\n", "-prod\n"))

    result = init(tmp_path, "--upgrade", "--source", SOURCE)

    assert result.exit_code == 0, result.output
    apply = parse_text(
        (tmp_path / ".github/workflows/pushops-apply.yml").read_text("utf-8"), "test"
    ).data
    assert apply["env"] == {"PUSHOPS_ENVIRONMENT": "prod"}
    assert apply["concurrency"]["group"] == "pushops-apply-prod"
    drift = parse_text(
        (tmp_path / ".github/workflows/pushops-drift.yml").read_text("utf-8"), "test"
    ).data
    assert (drift["env"], drift["concurrency"]["group"]) == (
        {"PUSHOPS_ENVIRONMENT": "prod"},
        "pushops-drift-prod",
    )


@pytest.mark.parametrize("environment", ["on", "no", "2024_05"])
def test_upgrade_reads_the_workflows_as_yaml_1_2_as_github_does(tmp_path: Path, environment: str):
    """An environment that YAML 1.1 would read as a boolean or a number is the text GitHub
    (YAML 1.2) passes to the job: the upgrade keeps it."""
    init(tmp_path, "--source", SOURCE)
    for name in (
        "pushops-plan.yml",
        "pushops-apply.yml",
        "pushops-drift.yml",
        "pushops-report.yml",
    ):
        path = tmp_path / ".github/workflows" / name
        path.write_text(
            path.read_text("utf-8").replace(
                "PUSHOPS_ENVIRONMENT: production", f"PUSHOPS_ENVIRONMENT: {environment}"
            )
        )

    result = init(tmp_path, "--upgrade", "--source", SOURCE)

    assert result.exit_code == 0, result.output
    apply = parse_text(
        (tmp_path / ".github/workflows/pushops-apply.yml").read_text("utf-8"), "test"
    ).data
    assert apply["env"] == {"PUSHOPS_ENVIRONMENT": environment}


def test_upgrade_with_a_new_source_rewrites_it_everywhere(tmp_path: Path):
    init(tmp_path, "--source", SOURCE)
    newer = SOURCE.replace(COMMIT, "f" * 40)

    init(tmp_path, "--upgrade", "--source", newer)

    for name in ("pushops-plan.yml", "pushops-apply.yml"):
        assert install_source(tmp_path, name) == newer


def test_upgrade_without_a_known_source_keeps_the_workflows_and_says_so(tmp_path: Path):
    init(tmp_path, "--source", SOURCE)

    result = init(tmp_path, "--upgrade")  # this pushops cannot tell its own source

    assert result.exit_code == 0, result.output
    assert f"kept the workflows' pushops source {SOURCE}" in result.output
    assert install_source(tmp_path, "pushops-apply.yml") == SOURCE


def test_upgrade_outside_a_push_repository_is_refused(tmp_path: Path):
    result = init(tmp_path, "--upgrade", "--source", SOURCE)

    assert result.exit_code == 1
    assert "has no pushops.yaml" in result.output
    assert written(tmp_path) == []


def test_force_and_upgrade_are_not_taken_together(tmp_path: Path):
    result = init(tmp_path, "--force", "--upgrade")

    assert result.exit_code == 1
    assert written(tmp_path) == []


# --- symlinks out of the repository: nothing written outside it ----------------------------


def _tree(directory: Path) -> dict[str, bytes]:
    return {
        p.relative_to(directory).as_posix(): p.read_bytes()
        for p in directory.rglob("*")
        if p.is_file()
    }


def test_init_refuses_a_workflows_folder_linked_out_of_the_repository(tmp_path: Path):
    repo, outside = tmp_path / "push", tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "theirs.yml").write_text("keep: me\n")
    (repo / ".github").mkdir(parents=True)
    (repo / ".github" / "workflows").symlink_to(outside)
    before = _tree(outside)

    result = init(repo, "--source", SOURCE)

    assert result.exit_code != 0
    assert ".github/workflows/pushops-apply.yml: leads outside the repository" in result.output
    assert "nothing was written" in result.output and "Traceback" not in result.output
    assert _tree(outside) == before
    assert not (repo / "pushops.yaml").exists()  # no half a scaffold either


def test_init_force_refuses_a_config_linked_out_of_the_repository(tmp_path: Path):
    repo, outside = tmp_path / "push", tmp_path / "their-config.yaml"
    repo.mkdir()
    outside.write_text("version: 1  # someone else's\n")
    (repo / "pushops.yaml").symlink_to(outside)

    result = init(repo, "--force", "--source", SOURCE)

    assert result.exit_code != 0
    assert "pushops.yaml: leads outside the repository" in result.output
    assert outside.read_text() == "version: 1  # someone else's\n"
    assert [p.name for p in repo.iterdir()] == ["pushops.yaml"]  # only the link, as it was


def test_upgrade_refuses_a_workflows_folder_linked_out_of_the_repository(tmp_path: Path):
    repo, outside = tmp_path / "push", tmp_path / "elsewhere"
    init(repo, "--source", SOURCE)
    workflows = repo / ".github" / "workflows"
    workflows.rename(outside)
    workflows.symlink_to(outside)
    (outside / "pushops-apply.yml").write_text("stale\n")
    before = _tree(outside)

    result = init(repo, "--upgrade", "--source", SOURCE)

    assert result.exit_code != 0
    assert "leads outside the repository" in result.output
    assert _tree(outside) == before


def test_init_writes_through_a_link_that_stays_inside_the_repository(tmp_path: Path):
    repo = tmp_path / "push"
    (repo / "config").mkdir(parents=True)
    (repo / "pushops.yaml").symlink_to(repo / "config" / "pushops.yaml")

    result = init(repo, "--source", SOURCE)

    assert result.exit_code == 0, result.output
    assert (repo / "pushops.yaml").is_symlink()
    assert "environments:" in (repo / "config" / "pushops.yaml").read_text()
