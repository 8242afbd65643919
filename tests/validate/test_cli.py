"""pushops validate as a user sees it: compiler-style lines, exit codes, JSON, every file."""

from __future__ import annotations

import json
from pathlib import Path

from tests.validate.conftest import REPO, PushRepo


def test_the_example_campaigns_are_valid(monkeypatch) -> None:
    monkeypatch.chdir(REPO)
    result = PushRepo(REPO).validate()
    assert result.exit_code == 0, result.output


def test_a_clean_repo_exits_0_and_says_so(repo: PushRepo) -> None:
    repo.write(
        "campaigns/ok.yaml",
        """
        id: ok
        app: shop
        tasks:
          - {id: a, DeviceType: iOS, PushType: NOTICE, Target: ACCOUNT, TargetValue: u1, Body: hi}
    """,
    )
    result = repo.validate()
    assert result.exit_code == 0
    assert "1 campaign valid" in result.output


def test_an_error_is_reported_as_file_line_column_path_message_rule(repo: PushRepo) -> None:
    repo.write(
        "campaigns/bf.yaml",
        """
        id: bf
        app: shop
        tasks:
          - id: a
            DeviceType: ANDROID
            PushType: NOTICE
            Target: DEVICE
            TargetValue: d1
            Body: b
            Title: "%s"
    """
        % ("x" * 203),
    )
    result = repo.validate()
    assert result.exit_code == 1
    assert (
        "campaigns/bf.yaml:10:12: tasks[0].Title: 203 bytes, the limit is 200 UTF-8 bytes "
        "[emas.title-bytes]" in result.output
    )


def test_json_output_has_the_versioned_shape(repo: PushRepo) -> None:
    repo.write("campaigns/x.yaml", "id: x\napp: shop\ntasks:\n  - {id: a, Titel: t}\n")
    data = repo.validate_json()
    assert data["version"] == 1
    assert data["errors"], data
    for entry in data["errors"]:
        assert set(entry) == {"file", "line", "column", "path", "message", "rule", "severity"}


def test_all_errors_of_all_files_come_in_one_run_sorted(repo: PushRepo) -> None:
    for name in ("b", "a", "c"):
        repo.write(
            f"campaigns/{name}.yaml", f"id: {name}\napp: shop\ntasks:\n  - {{id: t, Bogus: 1}}\n"
        )
    errors = repo.validate_json()["errors"]
    files = [e["file"] for e in errors if e["rule"] == "emas.unknown-field"]
    assert files == ["campaigns/a.yaml", "campaigns/b.yaml", "campaigns/c.yaml"]


def test_warnings_alone_exit_0_with_severity_warning(repo: PushRepo) -> None:
    repo.write(
        "campaigns/w.yaml",
        """
        id: w
        app: shop
        tasks:
          - {id: a, DeviceType: iOS, PushType: NOTICE, Target: DEVICE, TargetValue: d, Body: b, SendSpeed: 10}
    """,
    )
    result = repo.validate("--format", "json")
    data = json.loads(result.output)
    assert result.exit_code == 0
    assert [e["severity"] for e in data["errors"]] == ["warning"]
    assert data["errors"][0]["rule"] == "emas.deprecated"


def test_explicit_paths_limit_the_run(repo: PushRepo) -> None:
    repo.write(
        "campaigns/good.yaml",
        "id: g\napp: shop\ntasks:\n  - {id: a, DeviceType: iOS, PushType: NOTICE, Target: DEVICE, TargetValue: d, Body: b}\n",
    )
    repo.write("campaigns/bad.yaml", "id: b\napp: shop\ntasks: 3\n")
    assert repo.validate("campaigns/good.yaml").exit_code == 0
    assert repo.validate().exit_code == 1


def test_a_missing_path_is_a_located_error(repo: PushRepo) -> None:
    result = repo.validate("campaigns/nope.yaml")
    assert result.exit_code == 1
    assert "campaigns/nope.yaml:1:1: no such file [file.missing]" in result.output


def test_the_same_campaign_id_in_two_files_names_both(repo: PushRepo) -> None:
    body = "app: shop\ntasks:\n  - {id: a, DeviceType: iOS, PushType: NOTICE, Target: DEVICE, TargetValue: d, Body: b}\n"
    repo.write("campaigns/one.yaml", "id: same\n" + body)
    repo.write("campaigns/two.yaml", "# second\nid: same\n" + body)
    errors = [e for e in repo.validate_json()["errors"] if e["rule"] == "campaign.duplicate-id"]
    assert len(errors) == 1
    assert errors[0]["file"] == "campaigns/two.yaml" and errors[0]["line"] == 2
    assert "campaigns/one.yaml:1" in errors[0]["message"]


def test_a_campaign_naming_an_unknown_app_is_an_error(repo: PushRepo) -> None:
    repo.write(
        "campaigns/x.yaml",
        "id: x\napp: nosuch\ntasks:\n  - {id: a, DeviceType: iOS, PushType: NOTICE, Target: DEVICE, TargetValue: d, Body: b}\n",
    )
    (error,) = repo.validate_json()["errors"]
    assert error["rule"] == "campaign.unknown-app" and error["line"] == 2


def test_emas_tasks_for_an_mpaas_app_is_an_error(repo: PushRepo) -> None:
    repo.write(
        "campaigns/x.yaml",
        "id: x\napp: wallet\ntasks:\n  - {id: a, DeviceType: iOS, PushType: NOTICE, Target: DEVICE, TargetValue: d, Body: b}\n",
    )
    rules = {e["rule"] for e in repo.validate_json()["errors"]}
    assert "campaign.provider-mismatch" in rules


def test_fields_pushops_sets_itself_are_refused_in_a_campaign(repo: PushRepo) -> None:
    repo.write(
        "campaigns/x.yaml",
        "id: x\napp: wallet\nbroadcasts:\n  - {id: a, TaskName: t, DeliveryType: 1, TemplateName: n, ExpiredSeconds: 9, BindPeriod: 1, Msgkey: k}\n",
    )
    (error,) = repo.validate_json()["errors"]
    assert error["rule"] == "campaign.managed-field" and error["path"] == "broadcasts[0].Msgkey"


def test_a_campaign_with_both_tasks_and_broadcasts_is_an_error(repo: PushRepo) -> None:
    repo.write("campaigns/x.yaml", "id: x\napp: shop\ntasks: [{id: a}]\nbroadcasts: [{id: b}]\n")
    rules = {e["rule"] for e in repo.validate_json()["errors"]}
    assert "campaign.structure" in rules


def test_two_messages_with_one_id_is_an_error(repo: PushRepo) -> None:
    msg = "{id: a, DeviceType: iOS, PushType: NOTICE, Target: DEVICE, TargetValue: d, Body: b}"
    repo.write("campaigns/x.yaml", f"id: x\napp: shop\ntasks:\n  - {msg}\n  - {msg}\n")
    (error,) = repo.validate_json()["errors"]
    assert error["rule"] == "campaign.duplicate-message-id" and error["line"] == 5


def test_a_bad_pushops_yaml_is_reported_with_its_location(repo: PushRepo) -> None:
    repo.write(
        "pushops.yaml",
        "environments:\n  prod:\n    apps:\n      shop: {provider: emas, app_key: nope}\n",
    )
    errors = repo.validate_json()["errors"]
    assert any(e["file"] == "pushops.yaml" and e["line"] == 4 for e in errors), errors


def test_a_secret_in_pushops_yaml_is_refused(repo: PushRepo) -> None:
    repo.write(
        "pushops.yaml",
        "environments:\n  prod:\n    apps:\n      shop: {provider: emas, app_key: 1}\ncredentials:\n  access_key_secret: hunter2\n",
    )
    errors = repo.validate_json()["errors"]
    assert any(e["rule"] == "config.secret-in-file" and e["line"] == 6 for e in errors), errors
    assert "hunter2" not in json.dumps(errors)


def test_campaign_files_in_subfolders_are_found(repo: PushRepo) -> None:
    repo.write("campaigns/2026/q4/x.yml", "id: x\napp: shop\ntasks: nope\n")
    errors = repo.validate_json()["errors"]
    assert errors and errors[0]["file"] == str(Path("campaigns/2026/q4/x.yml"))


def test_a_schema_error_names_the_field_in_its_rule(repo: PushRepo) -> None:
    repo.write(
        "campaigns/x.yaml",
        "id: x\napp: shop\ntasks:\n  - {id: a, DeviceType: IPHONE, PushType: NOTICE, Target: DEVICE, TargetValue: d, Body: b, iOSBadge: x}\n",
    )
    rules = sorted(e["rule"] for e in repo.validate_json()["errors"])
    assert rules == ["emas.device-type-values", "emas.ios-badge-type"]
