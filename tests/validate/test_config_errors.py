"""A broken or missing ``pushops.yaml``, as every command meets it: the same located errors
whichever command runs, no false errors in campaigns that are fine, and "not a pushops
repository" said as such."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.validate.conftest import NOW, PushRepo, campaign_yaml

BAD_RATE = "rate_limit: 500"  # in the example pushops.yaml's production shop app
LOCATED = (
    "pushops.yaml:40:21: environments.production.apps.shop.rate_limit: -5 is less than or "
    "equal to the minimum of 0 [config.schema]"
)


def break_config(repo: PushRepo) -> None:
    text = (repo.root / "pushops.yaml").read_text()
    assert BAD_RATE in text
    (repo.root / "pushops.yaml").write_text(text.replace(BAD_RATE, "rate_limit: -5"))


def test_validate_locates_a_config_error(repo: PushRepo) -> None:
    repo.write("campaigns/c.yaml", campaign_yaml("emas"))
    break_config(repo)
    result = repo.validate()
    assert result.exit_code == 1
    assert LOCATED in result.output


@pytest.mark.parametrize(
    "command",
    [("plan",), ("apply", "--auto-approve"), ("render",), ("plan", "--sandbox")],
)
def test_every_command_gives_the_config_errors_validate_gives(
    repo: PushRepo, command: tuple[str, ...]
) -> None:
    repo.write("campaigns/c.yaml", campaign_yaml("emas"))
    break_config(repo)
    result = repo.cli(*command, "--now", NOW)
    assert result.exit_code == 1
    assert LOCATED in result.stderr
    assert "Error: pushops.yaml is invalid" in result.stderr


def test_an_invalid_config_does_not_make_a_valid_campaign_look_wrong(repo: PushRepo) -> None:
    # Expires 4 days after now, but only 1 day after its PushTime, which a template sets: a
    # rule checking ExpireTime without the rendered PushTime would call it "over 72 h".
    repo.write(
        "campaigns/c.yaml",
        campaign_yaml(
            "emas",
            PushTime="{{ now | add_days(3) | api_time }}",
            ExpireTime="2026-11-26T09:00:00Z",
        ),
    )
    assert repo.validate().exit_code == 0
    break_config(repo)
    errors = repo.validate_errors()
    assert [e["file"] for e in errors] == ["pushops.yaml"]


def test_validate_without_a_config_is_an_error_not_a_pass(repo: PushRepo) -> None:
    repo.write("campaigns/c.yaml", campaign_yaml("emas"))
    (repo.root / "pushops.yaml").unlink()
    result = repo.validate()
    assert result.exit_code == 1
    assert "valid" not in result.stderr
    assert "not a pushops repository: no pushops.yaml in" in result.output
    assert "[config.missing]" in result.output


def test_validate_outside_a_repository_says_it_is_not_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = PushRepo(tmp_path).validate()
    assert result.exit_code == 1
    assert "no such file" not in result.output
    assert f"not a pushops repository: no pushops.yaml in {tmp_path}" in result.output
    assert "run `pushops init`" in result.output


@pytest.mark.parametrize("command", ["plan", "render", "apply"])
def test_other_commands_outside_a_repository_say_it_is_not_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    monkeypatch.chdir(tmp_path)
    result = PushRepo(tmp_path).cli(command)
    assert result.exit_code == 1
    assert "Error: not a pushops repository" in result.stderr
