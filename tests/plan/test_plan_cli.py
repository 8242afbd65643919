"""pushops plan as a user sees it: actions, formats, exit codes, plan files."""

from __future__ import annotations

import json
import re
import time
from datetime import timedelta

from .support import (
    AKID,
    SECRET,
    Project,
    emas_campaign,
    fanout_campaign,
    mpaas_campaign,
    now,
    plan_records,
    utc,
    write_plan_records,
)


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
    data = json.loads(result.stdout)
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
    data = json.loads(sqlite_project.run("plan", "--env", "production", "--format", "json").stdout)
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


def _edit_title(records: list[object], title: str) -> list[object]:
    """A plan file's records with the Title of every call changed, as an attacker would."""
    import json

    text = json.dumps(records).replace("Sale starts", title)
    return json.loads(text.replace("Sale%20starts", title.replace(" ", "%20")))


def test_hand_edited_plan_file_is_refused(sqlite_project: Project, emulator) -> None:  # type: ignore[no-untyped-def]
    sqlite_project.write("sale.yaml", emas_campaign())
    assert sqlite_project.run("plan", "--out", "p.plan").exit_code == 0
    path = sqlite_project.root / "p.plan"
    write_plan_records(path, _edit_title(plan_records(path), "Sale startz"))
    result = sqlite_project.run("apply", "p.plan")
    assert result.exit_code == 1
    assert "was changed after `pushops plan` wrote it" in result.output
    assert emulator.deliveries() == []


def test_plan_file_edited_and_resigned_without_the_credentials_is_refused(
    sqlite_project: Project, emulator
) -> None:  # type: ignore[no-untyped-def]
    """The attack an unkeyed checksum let through: edit a Title, recompute the check."""
    import hashlib

    sqlite_project.write("sale.yaml", emas_campaign())
    assert sqlite_project.run("plan", "--out", "p.plan").exit_code == 0
    path = sqlite_project.root / "p.plan"
    forged = _edit_title(plan_records(path), "Click here: evil.example")
    for guess in (b"", hashlib.sha256(b"").digest(), hashlib.sha256(SECRET.encode()).digest()):
        write_plan_records(path, forged, key=guess)
        result = sqlite_project.run("apply", "p.plan")
        assert result.exit_code == 1
        assert "refusing" in result.output
    assert emulator.deliveries() == []


def test_plan_file_with_a_future_created_at_is_refused(sqlite_project: Project, emulator) -> None:  # type: ignore[no-untyped-def]
    """A future creation time no longer bypasses --max-plan-age: forged it fails the MAC,
    and even signed (a clock ahead) it is refused as made in the future."""
    from pushops.plan.planfile import plan_key

    sqlite_project.write("sale.yaml", emas_campaign())
    assert sqlite_project.run("plan", "--out", "p.plan").exit_code == 0
    path = sqlite_project.root / "p.plan"
    records = plan_records(path)
    records[0]["created_at"] = "2999-01-01T00:00:00+00:00"  # type: ignore[index]
    write_plan_records(path, records)
    forged = sqlite_project.run("apply", "p.plan", env={"PUSHOPS_MAX_PLAN_AGE": "1m"})
    assert forged.exit_code == 1 and "was changed after" in forged.output
    write_plan_records(path, records, key=plan_key(AKID, SECRET, "staging"))
    ahead = sqlite_project.run("apply", "p.plan", env={"PUSHOPS_MAX_PLAN_AGE": "1m"})
    assert ahead.exit_code == 1 and "later than now" in ahead.output
    assert emulator.deliveries() == []


def test_plan_file_made_without_credentials_is_refused_by_apply(
    sqlite_project: Project, emulator
) -> None:  # type: ignore[no-untyped-def]
    sqlite_project.write("sale.yaml", emas_campaign())
    bare = {"ALIBABA_CLOUD_ACCESS_KEY_ID": "", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": ""}
    planned = sqlite_project.run("plan", "--out", "p.plan", env=bare)
    assert planned.exit_code == 0 and "is not signed" in planned.output
    result = sqlite_project.run("apply", "p.plan")
    assert result.exit_code == 1 and "is not signed" in result.output
    assert emulator.deliveries() == []


def test_plan_file_signed_with_other_credentials_is_refused(
    sqlite_project: Project, emulator
) -> None:  # type: ignore[no-untyped-def]
    sqlite_project.write("sale.yaml", emas_campaign())
    other = {"ALIBABA_CLOUD_ACCESS_KEY_SECRET": "another-secret-of-another-user"}
    assert sqlite_project.run("plan", "--out", "p.plan", env=other).exit_code == 0
    result = sqlite_project.run("apply", "p.plan")
    assert result.exit_code == 1 and "signed with other credentials" in result.output
    assert emulator.deliveries() == []


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
    assert result.exit_code == 1 and "older than the 0 s allowed" in result.output


def test_plan_file_age_is_told_in_the_units_the_limit_was_given(sqlite_project: Project) -> None:
    sqlite_project.write("sale.yaml", emas_campaign())
    sqlite_project.run("plan", "--out", "p.plan")
    # Two seconds old, one allowed: never "0 min old, older than the 0 min allowed".
    time.sleep(2.1)
    result = sqlite_project.run("apply", "p.plan", "--max-plan-age", "1s")
    assert result.exit_code == 1, result.output
    assert re.search(r"is \d+ s old, older than the 1 s allowed", result.output), result.output


def test_plan_file_is_applied_exactly(sqlite_project: Project, emulator) -> None:  # type: ignore[no-untyped-def]
    sqlite_project.write("sale.yaml", emas_campaign())
    sqlite_project.run("plan", "--out", "p.plan")
    sqlite_project.write("sale.yaml", emas_campaign(title="Changed after planning"))
    result = sqlite_project.run("apply", "p.plan")
    assert result.exit_code == 0, result.output
    titles = [d["params"]["Title"] for d in emulator.deliveries()]
    assert titles == ["Sale starts"]


def test_plan_file_of_a_fan_out_is_small(sqlite_project: Project) -> None:
    """Every row its own message: about 60 bytes a delivery (version 1 took about 900)."""
    text, csv = fanout_campaign("offers", 2000, "data/offers.csv")
    sqlite_project.data("data/offers.csv", csv)
    sqlite_project.write("offers.yaml", text)
    assert sqlite_project.run("plan", "--out", "p.plan").exit_code == 0
    size = (sqlite_project.root / "p.plan").stat().st_size
    assert size / 2000 < 150
    records = plan_records(sqlite_project.root / "p.plan")[1:]
    deliveries = [d for r in records if r[0] == "call" for d in r[8]]  # type: ignore[index]
    assert len(deliveries) == 2000


def test_plan_file_signed_with_pushops_plan_key_is_applied_only_with_that_key(
    sqlite_project: Project, emulator
) -> None:  # type: ignore[no-untyped-def]
    """A CI job's Plan step has no provider credentials: it signs with a key of the job's."""
    sqlite_project.write("sale.yaml", emas_campaign())
    bare = {"ALIBABA_CLOUD_ACCESS_KEY_ID": "", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": ""}
    key = "9c1d3f-a-key-of-this-job-only-7e2b"
    planned = sqlite_project.run("plan", "--out", "p.plan", env={**bare, "PUSHOPS_PLAN_KEY": key})
    assert planned.exit_code == 0 and "not signed" not in planned.output
    assert key not in planned.output
    other = sqlite_project.run("apply", "p.plan", env={"PUSHOPS_PLAN_KEY": "another-job's-key"})
    assert other.exit_code == 1 and "signed with other credentials" in other.output
    unkeyed = sqlite_project.run("apply", "p.plan")
    assert unkeyed.exit_code == 1 and emulator.deliveries() == []
    result = sqlite_project.run("apply", "p.plan", env={"PUSHOPS_PLAN_KEY": key})
    assert result.exit_code == 0, result.output
    assert len(emulator.deliveries()) == 1 and key not in result.output
