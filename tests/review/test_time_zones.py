"""Send times are shown in UTC and in the campaign's zone: its own ``time_zone``, else its
app's or the project's in pushops.yaml (mPaaS: Beijing time). An unknown zone is a located
error."""

from __future__ import annotations

from pathlib import Path

from .support import CONFIG, android, new_repo, plan, run

PUSH = '    PushTime: "2026-11-22T18:00:00Z"\n'


def test_a_campaign_time_zone_shows_its_send_times_in_it(tmp_path: Path) -> None:
    campaign = "time_zone: Europe/Berlin\n" + android("berlin", "Guten Abend", extra=PUSH)
    root = new_repo(tmp_path, {"b.yaml": campaign})
    text = plan(root).stdout
    markdown = plan(root, "--format", "markdown").stdout
    assert "sends at 2026-11-22 18:00 UTC (19:00 Europe/Berlin)" in text
    assert (
        "| `berlin` | 1 | 0 | 0 | 0 | 2 | 2026-11-22 18:00 UTC (19:00 Europe/Berlin) |" in markdown
    )


def test_an_apps_time_zone_is_the_default_and_a_changed_date_is_shown(tmp_path: Path) -> None:
    config = CONFIG.replace(
        "shop: {provider: emas, app_key: 23267207}",
        "shop: {provider: emas, app_key: 23267207, time_zone: Pacific/Auckland}",
    )
    root = new_repo(tmp_path, {"a.yaml": android("kiwi", "Kia ora", extra=PUSH)})
    (root / "pushops.yaml").write_text(config)
    assert "sends at 2026-11-22 18:00 UTC (2026-11-23 07:00 Pacific/Auckland)" in plan(root).stdout


def test_the_projects_time_zone_applies_to_every_app(tmp_path: Path) -> None:
    root = new_repo(tmp_path, {"a.yaml": android("ny", "Hello", extra=PUSH)})
    (root / "pushops.yaml").write_text("time_zone: America/New_York\n" + CONFIG)
    assert "sends at 2026-11-22 18:00 UTC (13:00 America/New_York)" in plan(root).stdout


def test_an_unknown_campaign_time_zone_is_a_located_error(tmp_path: Path) -> None:
    campaign = "time_zone: Mars/Olympus\n" + android("mars", "Hi")
    root = new_repo(tmp_path, {"m.yaml": campaign})
    result = run(root, "validate")
    assert result.exit_code == 1
    assert (
        "campaigns/m.yaml:1:12: time_zone: 'Mars/Olympus' is not a time zone: use an IANA name "
        "such as Asia/Shanghai or Europe/Berlin [campaign.time-zone]"
    ) in result.output


def test_an_unknown_time_zone_in_pushops_yaml_is_a_located_error(tmp_path: Path) -> None:
    root = new_repo(tmp_path, {"a.yaml": android("a", "Hi")})
    (root / "pushops.yaml").write_text("time_zone: ../../etc/passwd\n" + CONFIG)
    result = run(root, "validate")
    assert result.exit_code == 1
    assert "pushops.yaml:1:12: time_zone: '../../etc/passwd' is not a time zone" in result.output
    assert "[config.time-zone]" in result.output
