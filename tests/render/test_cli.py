"""`pushops render` and `pushops validate` after rendering, as a user runs them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from tests.render.conftest import NOW_TEXT, REPO, PushRepo, emas


def run_render(cwd: Path, seed: str, *args: str) -> bytes:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    env.pop("ALIBABA_CLOUD_ACCESS_KEY_SECRET", None)
    done = subprocess.run(
        [sys.executable, "-m", "pushops", "render", "--now", NOW_TEXT, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        check=True,
    )
    return done.stdout


def test_render_output_is_byte_identical_across_processes_and_hash_seeds(tmp_path: Path) -> None:
    for name in ("pushops.yaml", "campaigns", "data"):
        source = REPO / name
        target = tmp_path / name
        shutil.copytree(source, target) if source.is_dir() else shutil.copy(source, target)
    for fmt in ("json", "yaml"):
        outputs = {run_render(tmp_path, seed, "--format", fmt) for seed in ("0", "1", "12345")}
        assert len(outputs) == 1


def test_render_shows_calls_with_wire_params_keys_fingerprints_and_tokens(repo: PushRepo) -> None:
    repo.campaign("c", emas(Title="{{ brand }}"))
    document = repo.render_json()
    assert (document["version"], document["environment"]) == (1, "staging")
    ((campaign,),) = [document["campaigns"]]
    (call,) = campaign["calls"]
    assert call["form"]["PushTask.1.Title"] == "Acme Shop"
    assert call["query"]["IdempotentToken"] == call["token"]
    (delivery,) = call["deliveries"]
    assert delivery["key"] == "staging/c/r1/t"
    assert delivery["fingerprint"].startswith("sha256:")


def test_render_takes_an_environment(repo: PushRepo) -> None:
    repo.campaign("c", emas(Title="{{ deep_link_host }}"))
    call = repo.render_json("--env", "production")["campaigns"][0]["calls"][0]
    assert call["form"]["PushTask.1.Title"] == "shop.example.com"
    assert call["query"]["AppKey"] == "24780031"


def test_render_yaml_has_the_same_content_as_json(repo: PushRepo) -> None:
    repo.campaign("c", emas(Title="双十一"))
    as_json = repo.render_json()
    result = repo.cli("render", "--now", NOW_TEXT, "--format", "yaml")
    assert yaml.safe_load(result.stdout) == as_json
    assert "双十一" in result.stdout


def test_render_of_a_broken_campaign_exits_1_with_located_errors(repo: PushRepo) -> None:
    repo.campaign("c", emas(Title="{{ nobody }}"))
    result = repo.cli("render", "--now", NOW_TEXT)
    assert result.exit_code == 1
    assert "campaigns/c.yaml:1:153: tasks[0].Title: undefined" in result.stderr
    assert json.loads(result.stdout)["errors"][0]["rule"] == "template.undefined"


def test_render_of_an_unknown_environment_is_an_error(repo: PushRepo) -> None:
    repo.campaign("c", emas())
    result = repo.cli("render", "--env", "nope")
    assert result.exit_code == 1
    assert "unknown environment 'nope'" in result.stderr


def test_validate_locates_a_bad_rendered_value_at_its_template(repo: PushRepo) -> None:
    repo.campaign("c", emas(Title="{{ brand * 30 }}"))
    (error,) = repo.validate_errors()
    assert (error["line"], error["column"], error["path"]) == (1, 153, "tasks[0].Title")
    assert error["rule"] == "emas.title-bytes"
    assert error["message"].startswith("270 bytes, the limit is 200 UTF-8 bytes")
    assert "(rendered for staging, production: 'Acme ShopAcme Shop" in error["message"]


def test_validate_names_the_environment_where_only_one_goes_wrong(repo: PushRepo) -> None:
    repo.campaign("c", emas(Title="{{ deep_link_host }}"))
    text = (repo.root / "pushops.yaml").read_text()
    long_host = "x" * 250
    repo.write("pushops.yaml", text.replace("host: shop.example.com", f"host: {long_host}"))
    (error,) = repo.validate_errors()
    assert error["rule"] == "emas.title-bytes"
    assert f"(rendered for production: '{long_host[:100]}" in error["message"]


def test_validate_checks_each_fan_out_row(repo: PushRepo) -> None:
    repo.write("data/rows.csv", "device,title\nd1,ok\nd2," + "长" * 100 + "\n")
    repo.campaign(
        "c",
        emas(
            TargetValue="{{ row.device }}",
            Title="{{ row.title }}",
            fan_out={"data": "data/rows.csv"},
        ),
    )
    (error,) = repo.validate_errors()
    assert error["rule"] == "emas.title-bytes"
    assert error["message"].endswith("in data/rows.csv:3)")


def test_the_example_campaigns_validate_on_any_date(monkeypatch) -> None:
    from click.testing import CliRunner

    from pushops.cli import cli

    monkeypatch.chdir(REPO)
    for now in ("2026-11-22T09:00:00Z", "2031-02-28T23:59:59Z", "2024-12-31T16:30:00Z"):
        result = CliRunner().invoke(cli, ["validate", "--now", now])
        assert result.exit_code == 0, result.output


SECRET = "S3cret-Pasted-By-Mistake-4b2a"


def test_render_masks_a_secret_pasted_into_a_campaign_as_plan_does(
    repo: PushRepo, monkeypatch
) -> None:
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET)
    repo.campaign("c", emas(Title=f"key {SECRET}", Body="{{ brand }} " + SECRET))
    for fmt in ("json", "yaml"):
        result = repo.cli("render", "--now", NOW_TEXT, "--format", fmt)
        assert result.exit_code == 0, result.output
        assert SECRET not in result.output
        assert "key ******" in result.output and "Acme Shop ******" in result.output
    plan = repo.cli("plan", "--now", NOW_TEXT, "--format", "json", "--sandbox")
    assert SECRET not in plan.output and "key ******" in plan.output


def test_validate_masks_a_secret_quoted_in_a_message(repo: PushRepo, monkeypatch) -> None:
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET)
    repo.campaign("c", emas(Title="{{ brand }} " + SECRET + " x" * 200))
    result = repo.validate()
    assert result.exit_code == 1
    assert "rendered for" in result.output and "******" in result.output
    assert SECRET not in result.output


def test_render_says_why_a_campaign_has_nothing_for_the_environment(repo: PushRepo) -> None:
    repo.campaign("c", {**emas(), "environments": ["production"]})
    result = repo.cli("render", "--now", NOW_TEXT, "--env", "staging")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["campaigns"] == []
    assert (
        "campaigns/c.yaml: 'c' is not rendered for staging: it is only for production"
        in result.stderr
    )


def test_a_local_time_the_clocks_skip_renders_by_the_documented_rule(repo: PushRepo) -> None:
    # 02:30 does not exist in New York that night: read with the offset before the jump.
    repo.campaign(
        "c",
        emas(PushTime="{{ '2027-03-14 02:30' | from_zone('America/New_York') | api_time }}"),
    )
    assert repo.render_json()["campaigns"][0]["calls"][0]["form"]["PushTask.1.PushTime"] == (
        "2027-03-14T07:30:00Z"
    )
