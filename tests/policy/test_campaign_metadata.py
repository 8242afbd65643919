"""What campaigns and apps say about themselves for the policies: category, owner, labels,
the recipients' time zone (campaign, app, or each data row)."""

from __future__ import annotations

from tests.pushrepo import EMAS_TASK, PushRepo


def campaign(**top: object) -> dict[str, object]:
    return {"id": "c", "app": "shop", **top, "tasks": [dict(EMAS_TASK)]}


def test_category_owner_and_labels_are_campaign_keys(repo: PushRepo) -> None:
    repo.campaign(
        "c",
        campaign(
            category="marketing", owner="growth", time_zone="Asia/Tokyo", labels={"team": "growth"}
        ),
    )
    assert repo.validate_errors() == []


def test_a_bad_category_or_label_is_located(repo: PushRepo) -> None:
    repo.campaign("c", campaign(category="promo", labels={"team": 7}))
    found = {(e["path"], e["line"]) for e in repo.validate_errors()}
    assert ("category", 1) in found and ("labels.team", 1) in found


def test_a_rows_bad_time_zone_is_located_at_fan_out_time_zone_with_the_row(repo: PushRepo) -> None:
    repo.write("data/people.csv", "device_id,tz\nd1,Asia/Tokyo\nd2,Atlantis/Capital\n")
    task = dict(EMAS_TASK, TargetValue="{{ row.device_id }}")
    task["fan_out"] = {
        "data": "data/people.csv",
        "key": "{{ row.device_id }}",
        "time_zone": "{{ row.tz }}",
    }
    repo.campaign("c", {"id": "c", "app": "shop", "tasks": [task]})
    (error,) = repo.validate_errors()
    assert error["rule"] == "fan-out.time-zone"
    assert error["path"] == "tasks[0].fan_out.time_zone"
    assert "unknown time zone 'Atlantis/Capital' in row 2 (data/people.csv:3)" in error["message"]


def test_a_row_without_a_zone_leaves_it_to_the_campaign(repo: PushRepo) -> None:
    repo.write("data/people.csv", "device_id,tz\nd1,Asia/Tokyo\nd2,\n")
    task = dict(EMAS_TASK, TargetValue="{{ row.device_id }}")
    task["fan_out"] = {
        "data": "data/people.csv",
        "key": "{{ row.device_id }}",
        "time_zone": "{{ row.tz }}",
    }
    repo.campaign("c", {"id": "c", "app": "shop", "tasks": [task]})
    deliveries, problems = repo.deliveries()
    assert problems == []
    assert [d.zone for d in deliveries] == ["Asia/Tokyo", None]
