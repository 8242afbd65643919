"""pushops plan as a user sees it: actions, formats, exit codes, plan files."""

from __future__ import annotations

import json
from datetime import timedelta

from .support import Project, emas_campaign, mpaas_campaign, now, utc


def test_new_deliveries_are_sends_and_detailed_exitcode_is_2(project: Project) -> None:
    project.write("sale.yaml", emas_campaign())
    project.write("notice.yaml", mpaas_campaign())
    result = project.run("plan", "--detailed-exitcode", env={"ALIBABA_CLOUD_ACCESS_KEY_SECRET": ""})
    assert result.exit_code == 2, result.output
    assert "+ send     staging/notice/r1/android" in result.output
    assert "+ send     staging/sale/r1/android" in result.output
    assert (
        "Plan: 2 to send, 0 to replace, 0 to cancel, 0 to resolve, 0 to skip, 0 blocked, 0 unchanged."
        in result.output
    )


def test_plan_without_detailed_exitcode_exits_0_with_changes(sqlite_project: Project) -> None:
    sqlite_project.write("sale.yaml", emas_campaign())
    assert sqlite_project.run("plan").exit_code == 0


def test_json_has_versioned_shape_one_entry_per_delivery(sqlite_project: Project) -> None:
    sqlite_project.write("sale.yaml", emas_campaign())
    sqlite_project.write("notice.yaml", mpaas_campaign())
    result = sqlite_project.run("plan", "--format", "json")
    data = json.loads(result.output)
    assert data["format_version"] == 1
    assert {"lineage", "serial", "environment", "git_commit", "actions"} <= set(data)
    assert data["environment"] == "staging"  # the default environment without --env
    assert [a["key"] for a in data["actions"]] == sorted(a["key"] for a in data["actions"])
    first = data["actions"][0]
    assert set(first) >= {
        "key",
        "action",
        "reason",
        "fingerprint_before",
        "fingerprint_after",
        "diff",
        "request",
    }
    assert first["action"] == "send" and first["fingerprint_after"].startswith("sha256:")
    assert first["request"]["TaskName"] == "Maintenance"


def test_env_option_plans_that_environment(sqlite_project: Project) -> None:
    sqlite_project.write("sale.yaml", emas_campaign())
    data = json.loads(sqlite_project.run("plan", "--env", "production", "--format", "json").output)
    assert data["environment"] == "production"
    assert data["actions"][0]["key"] == "production/sale/r1/android"


def test_markdown_has_marker_summary_table_first_and_folded_details(
    sqlite_project: Project,
) -> None:
    sqlite_project.write("sale.yaml", emas_campaign())
    text = sqlite_project.run("plan", "--format", "markdown").output
    assert text.startswith("<!-- pushops-plan -->\n")
    assert text.index("| campaign | send |") < text.index("<details>")
    assert "<details><summary><b>sale</b> · 1 to send" in text and "</details>" in text


def test_markdown_of_many_campaigns_is_shortened_under_githubs_limit_with_a_note(
    sqlite_project: Project,
) -> None:
    for n in range(150):
        title = f"Offer {n}: " + "a long title that goes on " * 6
        sqlite_project.write(f"c{n:03d}.yaml", emas_campaign(f"c{n:03d}", title))
    text = sqlite_project.run("plan", "--format", "markdown").output
    assert len(text.encode("utf-16-le")) // 2 < 65_536
    assert "Shortened to stay under GitHub's 65,536-character comment limit" in text
    assert all(f"| `c{n:03d}` | 1 |" in text for n in range(150))  # the summary keeps them all
    assert text.count("<details") == text.count("</details>")


def test_validation_errors_stop_plan_with_located_diagnostics(sqlite_project: Project) -> None:
    sqlite_project.write(
        "bad.yaml", emas_campaign().replace("DeviceType: ANDROID", "DeviceType: PHONE")
    )
    result = sqlite_project.run("plan")
    assert result.exit_code == 1
    assert "campaigns/bad.yaml:5:" in result.output and "no plan was made" in result.output


def test_expired_delivery_is_skipped_with_a_warning(sqlite_project: Project) -> None:
    expire = now() + timedelta(hours=1)
    sqlite_project.write("sale.yaml", emas_campaign(expire_at=expire))
    later = utc(expire + timedelta(minutes=1))
    result = sqlite_project.run("plan", "--now", later, "--detailed-exitcode")
    assert "! skip" in result.output and "never sent late" in result.output
    assert result.exit_code == 0  # a skip changes nothing


def test_hand_edited_plan_file_is_refused(sqlite_project: Project) -> None:
    sqlite_project.write("sale.yaml", emas_campaign())
    assert sqlite_project.run("plan", "--out", "p.plan").exit_code == 0
    path = sqlite_project.root / "p.plan"
    path.write_text(path.read_text().replace("Sale starts", "Sale startz"))
    result = sqlite_project.run("apply", "p.plan")
    assert result.exit_code == 1
    assert "was changed after `pushops plan` wrote it" in result.output


def test_stale_plan_file_is_refused(project: Project) -> None:
    project.write("sale.yaml", emas_campaign())
    project.write("notice.yaml", mpaas_campaign())
    assert project.run("plan", "--out", "p.plan").exit_code == 0
    project.remove("notice.yaml")
    assert project.run("apply", "--auto-approve").exit_code == 0  # the ledger moves on
    result = project.run("apply", "p.plan")
    assert result.exit_code == 1
    assert "is stale: the ledger changed since it was made" in result.output


def test_plan_file_for_another_environment_is_refused(sqlite_project: Project) -> None:
    sqlite_project.write("sale.yaml", emas_campaign())
    sqlite_project.run("plan", "--out", "p.plan")
    result = sqlite_project.run("apply", "p.plan", "--env", "production")
    assert (
        result.exit_code == 1
        and "made for environment 'staging', not 'production'" in result.output
    )


def test_plan_file_older_than_max_age_is_refused(sqlite_project: Project) -> None:
    sqlite_project.write("sale.yaml", emas_campaign())
    sqlite_project.run("plan", "--out", "p.plan")
    result = sqlite_project.run("apply", "p.plan", env={"PUSHOPS_MAX_PLAN_AGE": "0s"})
    assert result.exit_code == 1 and "older than the 0 min allowed" in result.output


def test_plan_file_is_applied_exactly(sqlite_project: Project, emulator) -> None:  # type: ignore[no-untyped-def]
    sqlite_project.write("sale.yaml", emas_campaign())
    sqlite_project.run("plan", "--out", "p.plan")
    sqlite_project.write("sale.yaml", emas_campaign(title="Changed after planning"))
    result = sqlite_project.run("apply", "p.plan")
    assert result.exit_code == 0, result.output
    titles = [d["params"]["Title"] for d in emulator.deliveries()]
    assert titles == ["Sale starts"]
