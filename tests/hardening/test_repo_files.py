"""Every file pushops reads stays inside the repository, symlinks included, and is a regular
file: campaign files, pushops.yaml, fan-out data and partials all go through one opener
(pushops.repofile), so a pull request cannot make validate or plan read (and print) a file
from elsewhere on the CI machine, or block on a FIFO."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from tests.pushrepo import EMAS_TASK, REPO, PushRepo

OUTSIDE = "OUTSIDE-THE-REPO-5e1d"  # the content of files pushops must not read


@pytest.fixture
def elsewhere(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("elsewhere")
    campaign = {"id": "stolen", "app": "shop", "tasks": [{**EMAS_TASK, "Title": OUTSIDE}]}
    (folder / "campaign.yaml").write_text(json.dumps(campaign))
    (folder / "pushops.yaml").write_text((REPO / "pushops.yaml").read_text())
    (folder / "rows.csv").write_text(f"device_id\n{OUTSIDE}\n")
    return folder


def errors(repo: PushRepo, *args: str) -> list[dict[str, object]]:
    result = repo.validate("--format", "json", *args)
    assert result.exit_code == 1, result.output
    assert OUTSIDE not in result.output and "Traceback" not in result.output
    return json.loads(result.stdout)["errors"]


def test_a_campaign_file_symlinked_out_of_the_repo_is_refused(
    repo: PushRepo, elsewhere: Path
) -> None:
    os.symlink(elsewhere / "campaign.yaml", repo.root / "campaigns" / "linked.yaml")
    (error,) = errors(repo)
    assert (error["file"], error["line"], error["rule"]) == (
        "campaigns/linked.yaml",
        1,
        "file.outside-repo",
    )
    assert "leads outside the repository" in str(error["message"])


def test_a_campaigns_folder_symlinked_out_of_the_repo_is_refused(
    repo: PushRepo, elsewhere: Path
) -> None:
    (repo.root / "campaigns").rmdir()
    os.symlink(elsewhere, repo.root / "campaigns")
    found = errors(repo)
    assert {e["rule"] for e in found} == {"file.outside-repo"}


def test_a_campaign_path_outside_the_repo_on_the_command_line_is_refused(
    repo: PushRepo, elsewhere: Path
) -> None:
    (error,) = errors(repo, str(elsewhere / "campaign.yaml"))
    assert error["rule"] == "file.outside-repo"


def test_render_and_plan_refuse_it_too(repo: PushRepo, elsewhere: Path) -> None:
    os.symlink(elsewhere / "campaign.yaml", repo.root / "campaigns" / "linked.yaml")
    for command in (("render",), ("plan", "--sandbox")):
        result = repo.cli(*command, "--now", "2026-11-22T09:00:00Z")
        assert result.exit_code == 1
        assert "campaigns/linked.yaml:1:1: leads outside the repository" in result.output
        assert "[file.outside-repo]" in result.output and OUTSIDE not in result.output


def test_a_symlink_that_stays_inside_the_repo_is_read(repo: PushRepo) -> None:
    doc = {"id": "c", "app": "shop", "tasks": [EMAS_TASK]}
    repo.write("shared/c.yaml", json.dumps(doc))
    os.symlink(repo.root / "shared" / "c.yaml", repo.root / "campaigns" / "c.yaml")
    result = repo.validate()
    assert result.exit_code == 0, result.output


def test_pushops_yaml_symlinked_out_of_the_repo_is_refused(repo: PushRepo, elsewhere: Path) -> None:
    (repo.root / "pushops.yaml").unlink()
    os.symlink(elsewhere / "pushops.yaml", repo.root / "pushops.yaml")
    result = repo.cli("plan", "--sandbox")
    assert result.exit_code == 1
    assert "pushops.yaml:1:1: leads outside the repository" in result.stderr


def test_the_ledger_bindings_symlinked_out_of_the_repo_are_refused(
    repo: PushRepo, elsewhere: Path
) -> None:
    (elsewhere / "pushops.ledgers.yaml").write_text(f"version: 1\nenvironments: {{{OUTSIDE}: x}}\n")
    os.symlink(elsewhere / "pushops.ledgers.yaml", repo.root / "pushops.ledgers.yaml")
    for command in (("plan",), ("state", "init")):
        result = repo.cli(*command)
        assert result.exit_code == 1, result.output
        assert "pushops.ledgers.yaml:1:1: leads outside the repository" in result.output
        assert OUTSIDE not in result.output and "Traceback" not in result.output
    assert (elsewhere / "pushops.ledgers.yaml").read_text().startswith("version: 1\n")


def test_a_templates_folder_symlinked_out_of_the_repo_is_refused(
    repo: PushRepo, elsewhere: Path
) -> None:
    (elsewhere / "greeting.j2").write_text(OUTSIDE)
    os.symlink(elsewhere, repo.root / "partials")
    config = repo.root / "pushops.yaml"
    config.write_text(config.read_text() + "templates: partials\n")
    doc = {
        "id": "c",
        "app": "shop",
        "tasks": [{**EMAS_TASK, "Title": "{% include 'greeting.j2' %}"}],
    }
    repo.write("campaigns/c.yaml", json.dumps(doc))
    found = errors(repo)
    assert any(
        "the templates folder partials leads outside the repository" in str(e["message"])
        for e in found
    ), found


def test_a_fifo_named_like_a_campaign_is_refused_without_blocking(repo: PushRepo) -> None:
    os.mkfifo(repo.root / "campaigns" / "pipe.yaml")
    (error,) = errors(repo)
    assert (error["file"], error["rule"]) == ("campaigns/pipe.yaml", "file.unreadable")
    assert "not a regular file" in str(error["message"])


def test_a_fifo_as_fan_out_data_is_refused_without_blocking(repo: PushRepo) -> None:
    (repo.root / "data").mkdir()
    os.mkfifo(repo.root / "data" / "rows.csv")
    task = {**EMAS_TASK, "TargetValue": "{{ row.device_id }}"}
    task["fan_out"] = {"data": "data/rows.csv", "key": "{{ row.device_id }}"}
    repo.campaign("c", {"id": "c", "app": "shop", "tasks": [task]})
    (error,) = errors(repo)
    assert error["rule"] == "fan-out.path"


def test_a_partial_symlinked_out_of_the_templates_folder_is_refused(
    repo: PushRepo, elsewhere: Path
) -> None:
    repo.write("pushops.yaml", (REPO / "pushops.yaml").read_text() + "templates: templates\n")
    (repo.root / "templates").mkdir()
    os.symlink(elsewhere / "rows.csv", repo.root / "templates" / "footer.txt")
    task = {**EMAS_TASK, "Title": "{% include 'footer.txt' %}"}
    repo.campaign("c", {"id": "c", "app": "shop", "tasks": [task]})
    (error,) = errors(repo)
    assert error["rule"] == "template.sandbox"


# --- data files: long lines, deep JSON (issue 12 items 13, 14) ------------------------------

LINE_BYTES = 400 * 1024 * 1024
ADDRESS_SPACE = 320 * 1024 * 1024


def limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def test_a_400_mb_line_is_refused_without_being_read_whole(tmp_path: Path) -> None:
    (tmp_path / "pushops.yaml").write_text((REPO / "pushops.yaml").read_text())
    (tmp_path / "data").mkdir()
    with (tmp_path / "data" / "rows.csv").open("wb") as out:
        out.write(b"device_id,name\nd1,")
        out.truncate(LINE_BYTES)  # sparse: one 400 MB line of NUL bytes, no newline
    task = {**EMAS_TASK, "TargetValue": "{{ row.device_id }}"}
    task["fan_out"] = {"data": "data/rows.csv", "key": "{{ row.device_id }}"}
    (tmp_path / "campaigns").mkdir()
    (tmp_path / "campaigns" / "c.yaml").write_text(
        json.dumps({"id": "c", "app": "shop", "tasks": [task]})
    )
    done = subprocess.run(
        [sys.executable, "-m", "pushops", "validate", "--format", "json"],
        cwd=tmp_path,
        env={**os.environ, "PUSHOPS_NOW": "2026-11-22T09:00:00Z"},
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=limited,
    )
    assert done.returncode == 1, done.stderr[-2000:]
    assert "MemoryError" not in done.stderr and "Traceback" not in done.stderr
    (error,) = json.loads(done.stdout)["errors"]
    assert (error["file"], error["line"], error["rule"]) == ("data/rows.csv", 2, "fan-out.bad-row")
    assert "line longer than" in error["message"]


def test_a_json_lines_row_nested_100000_deep_is_a_located_error(repo: PushRepo) -> None:
    repo.write("data/rows.jsonl", '{"device_id": "d1"}\n' + "[" * 100_000 + "]" * 100_000 + "\n")
    task = {**EMAS_TASK, "TargetValue": "{{ row.device_id }}"}
    task["fan_out"] = {"data": "data/rows.jsonl", "key": "{{ row.device_id }}"}
    repo.campaign("c", {"id": "c", "app": "shop", "tasks": [task]})
    (error,) = errors(repo)
    assert (error["file"], error["line"], error["rule"]) == (
        "data/rows.jsonl",
        2,
        "fan-out.bad-row",
    )
    assert "nested too deeply" in str(error["message"])
