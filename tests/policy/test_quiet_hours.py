"""quiet-hours: the recipient's local time, across time zones and a daylight saving change."""

from __future__ import annotations

import json

from plan.support import CONFIG, Project

from .support import findings, plan_json, with_policies

QUIET = """
- name: no-night
  kind: quiet-hours
  level: soft
  start: "22:00"
  end: "07:00"
"""
PEOPLE = "device_id,tz\nny1,America/New_York\ntokyo1,Asia/Tokyo\nberlin1,Europe/Berlin\nny2,America/New_York\n"


def fanout(project: Project, push_time: str | None, *, zone: bool = True) -> None:
    project.data("data/people.csv", PEOPLE)
    spec = {"data": "data/people.csv", "key": "{{ row.device_id }}"}
    if zone:
        spec["time_zone"] = "{{ row.tz }}"
    message = {
        "id": "t",
        "fan_out": spec,
        "DeviceType": "ANDROID",
        "PushType": "NOTICE",
        "Target": "DEVICE",
        "TargetValue": "{{ row.device_id }}",
        "Title": "Hello",
        "Body": "Open the app.",
    }
    if push_time:
        message["PushTime"] = push_time
    project.write("hello.yaml", json.dumps({"id": "hello", "app": "shop", "tasks": [message]}))


def test_the_same_utc_time_is_quiet_in_one_zone_and_not_in_others(sqlite_project: Project) -> None:
    with_policies(sqlite_project, QUIET)
    # 2026-03-07 11:30 UTC: 06:30 in New York (EST), 20:30 in Tokyo, 12:30 in Berlin.
    fanout(sqlite_project, "2026-03-07T11:30:00Z")
    result = sqlite_project.run("plan", "--now", "2026-03-06T00:00:00Z")
    assert result.exit_code == 4, result.output  # soft: apply needs an override
    assert "2 recipients would get it between 22:00 and 07:00 their time" in result.output
    assert "at 06:30 on 2026-03-07 in America/New_York" in result.output


def test_a_daylight_saving_change_moves_the_local_time(sqlite_project: Project) -> None:
    with_policies(sqlite_project, QUIET)
    # A day later New York is on EDT (from 2026-03-08 02:00): 11:30 UTC is 07:30, not quiet.
    fanout(sqlite_project, "2026-03-08T11:30:00Z")
    assert findings(sqlite_project, "--now", "2026-03-06T00:00:00Z") == []
    # ... and in the autumn, back on EST (2026-11-01 02:00), 11:30 UTC is 06:30 again.
    fanout(sqlite_project, "2026-11-01T11:30:00Z")
    (finding,) = findings(sqlite_project, "--now", "2026-10-30T00:00:00Z")
    assert finding["count"] == 2 and "06:30 on 2026-11-01 in America/New_York" in finding["message"]


def test_an_immediate_send_lands_at_the_plans_now(sqlite_project: Project) -> None:
    with_policies(sqlite_project, QUIET)
    fanout(sqlite_project, None)
    # 14:00 UTC: 23:00 in Tokyo, 09:00 in New York, 15:00 in Berlin.
    (finding,) = findings(sqlite_project, "--now", "2026-11-22T14:00:00Z")
    assert finding["count"] == 1 and "in Asia/Tokyo" in finding["message"]


def test_next_local_delivers_everyone_in_their_morning_and_nobody_is_quiet(
    sqlite_project: Project,
) -> None:
    with_policies(sqlite_project, QUIET)
    fanout(sqlite_project, "{{ '09:00' | next_local(row.tz) }}")
    data = plan_json(sqlite_project, "--now", "2026-11-22T14:00:00Z")
    assert data["findings"] == []
    times = {a["key"].rsplit("/", 1)[1]: a["request"]["PushTime"] for a in data["actions"]}
    assert times == {
        "ny1": "2026-11-23T14:00:00Z",
        "ny2": "2026-11-23T14:00:00Z",
        "tokyo1": "2026-11-23T00:00:00Z",
        "berlin1": "2026-11-23T08:00:00Z",
    }


def test_the_zone_is_the_rows_then_the_campaigns_the_apps_the_projects_the_policys(
    sqlite_project: Project,
) -> None:
    def zones_found(config: str = CONFIG) -> list[str]:
        with_policies(sqlite_project, QUIET + '  time_zone: "America/New_York"\n', config)
        found = findings(sqlite_project, "--now", "2026-11-22T00:00:00Z")
        return [f["message"].rsplit(" in ", 1)[1].rstrip(")") for f in found]

    # 11:30 UTC: 06:30 in New York and 05:30 in Chicago (quiet), 12:30 in Berlin (not).
    fanout(sqlite_project, "2026-11-22T11:30:00Z", zone=False)
    assert zones_found() == ["America/New_York"]  # the policy's
    project = CONFIG.replace(
        "default_environment: staging", "default_environment: staging\ntime_zone: America/Chicago"
    )
    assert zones_found(project) == ["America/Chicago"]
    app = project.replace(
        "shop: {provider: emas, app_key: 23267207}",
        "shop: {provider: emas, app_key: 23267207, time_zone: Europe/Berlin}",
    )
    assert zones_found(app) == []
    campaign = sqlite_project.root / "campaigns" / "hello.yaml"
    doc = json.loads(campaign.read_text())
    doc["time_zone"] = "America/New_York"
    campaign.write_text(json.dumps(doc))
    assert zones_found(app) == ["America/New_York"]
    fanout(sqlite_project, "2026-11-22T11:30:00Z", zone=True)  # the data's own zones
    doc = json.loads(campaign.read_text())
    doc["time_zone"] = "Europe/Berlin"
    campaign.write_text(json.dumps(doc))
    (finding,) = findings(sqlite_project, "--now", "2026-11-22T00:00:00Z")
    assert finding["count"] == 2 and "America/New_York" in finding["message"]


def test_advisory_quiet_hours_warn_and_leave_the_exit_code_alone(sqlite_project: Project) -> None:
    with_policies(sqlite_project, QUIET.replace("level: soft", "level: advisory"))
    fanout(sqlite_project, "2026-03-07T11:30:00Z")
    result = sqlite_project.run("plan", "--now", "2026-03-06T00:00:00Z", "--detailed-exitcode")
    assert result.exit_code == 2  # changes, nothing blocks
    assert "warning: campaigns/hello.yaml:1:" in result.output and "[no-night]" in result.output


def test_validate_checks_scheduled_sends_and_warns_for_a_soft_policy(
    sqlite_project: Project,
) -> None:
    with_policies(sqlite_project, QUIET)
    fanout(sqlite_project, "2026-03-07T11:30:00Z")
    result = sqlite_project.run("validate", "--now", "2026-03-06T00:00:00Z")
    assert result.exit_code == 0  # soft: a warning
    assert "campaigns/hello.yaml:1:" in result.output
    assert "warning: policy no-night (soft) in staging: 2 recipients" in result.output
    fanout(sqlite_project, None)  # immediate: it lands when apply runs, validate cannot tell
    result = sqlite_project.run("validate", "--now", "2026-11-22T14:00:00Z")
    assert "policy no-night" not in result.output
