"""blast-radius, required-fields and vendor-rules, per level, through the real CLI."""

from __future__ import annotations

from datetime import timedelta

from plan.support import Project, mpaas_campaign, now, utc

from .support import findings, plan_json, received, task, with_policies


def test_blast_radius_names_the_recipient_count_and_the_campaigns_largest_first(
    sqlite_project: Project,
) -> None:
    with_policies(
        sqlite_project,
        """
        - name: big
          kind: blast-radius
          level: soft
          max_recipients: 4
        """,
    )
    sqlite_project.write("small.yaml", task("small", "a1,a2"))
    sqlite_project.write("large.yaml", task("large", "b1,b2,b3"))
    (finding,) = findings(sqlite_project)
    assert finding["message"].startswith("5 recipients in staging, over the 4 allowed")
    assert "(large 3, small 2)" in finding["message"]
    assert (finding["campaign"], finding["file"], finding["count"]) == (
        "large",
        "campaigns/large.yaml",
        5,
    )


def test_blast_radius_counts_only_what_the_plan_sends(project: Project, emulator) -> None:  # type: ignore[no-untyped-def]
    project.write("small.yaml", task("small", "a1,a2,a3"))
    assert project.run("apply", "--auto-approve").exit_code == 0
    with_policies(
        project,
        """
        - name: big
          kind: blast-radius
          level: hard
          max_recipients: 3
        """,
    )
    project.write("more.yaml", task("more", "b1,b2"))
    assert findings(project) == []  # 2 new; the 3 in the ledger are not sent again


def test_a_broadcast_to_every_device_is_a_finding_unless_allowed(sqlite_project: Project) -> None:
    policy = """
        - name: big
          kind: blast-radius
          level: soft
          max_recipients: 1000
        """
    with_policies(sqlite_project, policy)
    sqlite_project.write("notice.yaml", mpaas_campaign())
    (finding,) = findings(sqlite_project)
    assert finding["message"].startswith("a broadcast to every device of the app in staging")
    with_policies(sqlite_project, policy + "  broadcasts: false\n")
    assert findings(sqlite_project) == []


def test_required_fields_in_production_only(sqlite_project: Project) -> None:
    with_policies(
        sqlite_project,
        """
        - name: owned-and-expiring
          kind: required-fields
          level: hard
          environments: [production]
          campaign: [owner, labels.team]
          message: [ExpireTime]
        """,
    )
    sqlite_project.write("sale.yaml", task("sale", "d1"))
    assert sqlite_project.run("plan").exit_code == 0  # staging: not checked
    result = sqlite_project.run("plan", "--env", "production")
    assert result.exit_code == 5, result.output
    data = plan_json(sqlite_project, "--env", "production")
    messages = sorted(f["message"] for f in data["findings"])
    assert messages == [
        "ExpireTime is not set, for 1 recipient",
        "the campaign does not set owner, labels.team",
    ]
    expire = utc(now() + timedelta(hours=5))
    sqlite_project.write(
        "sale.yaml",
        task("sale", "d1", extra={"ExpireTime": expire}).replace(
            '"id": "sale"', '"id": "sale", "owner": "growth", "labels": {"team": "growth"}'
        ),
    )
    assert plan_json(sqlite_project, "--env", "production")["findings"] == []


def test_required_fields_do_not_ask_a_provider_for_a_field_it_does_not_have(
    sqlite_project: Project,
) -> None:
    with_policies(
        sqlite_project,
        """
        - name: expiring
          kind: required-fields
          level: hard
          message: [ExpireTime]
        """,
    )
    sqlite_project.write("notice.yaml", mpaas_campaign())  # PushBroadcast has no ExpireTime
    assert findings(sqlite_project) == []


VENDORS = """
- name: vendors
  kind: vendor-rules
  level: hard
"""
HUAWEI_MARKETING = {"AndroidMessageHuaweiCategory": "MARKETING"}
ALL_MARKETING = {
    "AndroidMessageHuaweiCategory": "MARKETING",
    "AndroidNotificationHonorChannel": "LOW",
    "AndroidMessageOppoCategory": "MARKETING",
    "AndroidMessageVivoCategory": "MARKETING",
}
ALL_SERVICE = {
    "AndroidMessageHuaweiCategory": "EXPRESS",
    "AndroidNotificationHonorChannel": "NORMAL",
    "AndroidMessageOppoCategory": "ORDER",
    "AndroidMessageVivoCategory": "ORDER",
    "AndroidNotificationXiaomiChannel": "orders",
}


def midday_in_china() -> str:
    """Tomorrow 12:00 China time, as the API's UTC text."""
    china = now() + timedelta(hours=8)
    day = (china + timedelta(days=1)).replace(hour=12, minute=0, second=0)
    return utc(day - timedelta(hours=8))


def test_a_marketing_campaign_with_all_vendor_categories_is_clean(sqlite_project: Project) -> None:
    with_policies(sqlite_project, VENDORS)
    sqlite_project.write(
        "promo.yaml",
        task("promo", "d1", category="marketing", push_time=midday_in_china(), extra=ALL_MARKETING),
    )
    assert findings(sqlite_project) == []


def test_missing_and_wrong_vendor_categories_are_findings(sqlite_project: Project) -> None:
    with_policies(sqlite_project, VENDORS)
    sqlite_project.write(
        "orders.yaml",
        task(
            "orders", "d1", category="service", push_time=midday_in_china(), extra=HUAWEI_MARKETING
        ),
    )
    texts = " | ".join(f["message"] for f in findings(sqlite_project))
    assert (
        "Huawei: AndroidMessageHuaweiCategory=MARKETING is a marketing category, but the campaign declares service"
        in texts
    )
    assert "can get the vendor account frozen" in texts
    assert "OPPO: AndroidMessageOppoCategory is not set" in texts
    assert "vivo: AndroidMessageVivoCategory is not set" in texts
    assert "Honor: AndroidNotificationHonorChannel is not set" in texts
    assert "Xiaomi: a service message needs AndroidNotificationXiaomiChannel" in texts
    assert all(
        f["file"] == "campaigns/orders.yaml" and f["count"] == 1 for f in findings(sqlite_project)
    )


def test_a_campaign_without_a_category_is_a_finding(sqlite_project: Project) -> None:
    with_policies(sqlite_project, VENDORS)
    sqlite_project.write(
        "promo.yaml", task("promo", "d1", push_time=midday_in_china(), extra=ALL_MARKETING)
    )
    (finding,) = findings(sqlite_project)
    assert finding["message"].startswith("the campaign declares no category")


def test_vivo_holds_marketing_at_night_china_time(sqlite_project: Project) -> None:
    with_policies(sqlite_project, VENDORS)
    night = utc((now() + timedelta(days=1)).replace(hour=16, minute=30))  # 00:30 in China
    sqlite_project.write(
        "promo.yaml",
        task("promo", "d1", category="marketing", push_time=night, extra=ALL_MARKETING),
    )
    texts = [f["message"] for f in findings(sqlite_project)]
    assert any(t.startswith("vivo holds marketing messages 23:00-07:00 China time") for t in texts)
    assert any(
        t.startswith("Huawei holds marketing messages 00:00-06:00 China time (not confirmed")
        for t in texts
    )
    # A service message is not held.
    sqlite_project.write(
        "promo.yaml", task("promo", "d1", category="service", push_time=night, extra=ALL_SERVICE)
    )
    assert findings(sqlite_project) == []


def test_vendor_daily_caps_count_the_ledger_and_drop_the_rest(project: Project, emulator) -> None:  # type: ignore[no-untyped-def]
    with_policies(project, VENDORS + "  caps: {xiaomi: 5}\n  action: drop\n")
    noon = midday_in_china()
    for name in ("one", "two"):
        project.write(
            f"{name}.yaml",
            task(name, "d1", category="marketing", push_time=noon, extra=ALL_MARKETING),
        )
    assert project.run("apply", "--auto-approve").exit_code == 0
    assert received(emulator) == ["d1", "d1"]
    # The same day: a third marketing push to d1 is over every vendor's cap of 2; d2's is not.
    project.write(
        "three.yaml", task("three", "d1", category="marketing", push_time=noon, extra=ALL_MARKETING)
    )
    project.write(
        "four.yaml", task("four", "d2", category="marketing", push_time=noon, extra=ALL_MARKETING)
    )
    data = plan_json(project)
    actions = {a["key"]: a["action"] for a in data["actions"]}
    assert actions["staging/three/r1/t"] == "skip" and actions["staging/four/r1/t"] == "send"
    (finding,) = data["findings"]
    assert (
        "1 recipient dropped from the plan: vendors deliver at most 2 marketing"
        in finding["message"]
    )
    result = project.run("apply", "--auto-approve")
    assert result.exit_code == 0, result.output
    assert received(emulator) == ["d1", "d1", "d2"]


def test_vendor_caps_use_the_lowest_cap_and_the_granted_ones(sqlite_project: Project) -> None:
    with_policies(sqlite_project, VENDORS)
    noon = midday_in_china()
    for name in ("one", "two"):
        sqlite_project.write(
            f"{name}.yaml",
            task(name, "d1", category="marketing", push_time=noon, extra=ALL_MARKETING),
        )
    (finding,) = findings(sqlite_project)
    assert "vendors deliver at most 1 marketing message(s) per device per day" in finding["message"]
    assert "Xiaomi 1" in finding["message"] and "Huawei 2" in finding["message"]
    with_policies(sqlite_project, VENDORS + "  caps: {xiaomi: 5}\n")
    assert findings(sqlite_project) == []  # two a day: every vendor's cap holds
    for name in ("three",):
        sqlite_project.write(
            f"{name}.yaml",
            task(name, "d1", category="marketing", push_time=noon, extra=ALL_MARKETING),
        )
    (finding,) = findings(sqlite_project)
    assert "at most 2 marketing message(s)" in finding["message"]
    assert "d1 would get its 3rd" in finding["message"]
