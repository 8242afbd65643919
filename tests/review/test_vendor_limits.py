"""Vendor channel limits are plan findings: per message, the vendors that would refuse it and
for how many rows, a warning located at the field, in every format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pushops.campaign import Campaign, discover, load_campaigns
from pushops.diagnostics import Report
from pushops.plan.planfile import PlanFile, sandbox_key
from pushops.plan.vendorcheck import vendor_findings

from .support import android, new_repo, plan

LATIN_45 = "Our biggest sale of the year starts right now"  # 45 characters
CJK_25 = "双十一大促今晚开始全场五折起快来抢购限量商品先到先得"[:25]


def campaigns_of(root: Path) -> list[Campaign]:
    return load_campaigns(discover([root / "campaigns"], root), root, Report())


def findings(root: Path) -> list[dict[str, object]]:
    return json.loads(plan(root, "--format", "json").stdout)["findings"]


def test_a_title_over_some_vendors_limits_is_a_located_warning(tmp_path: Path) -> None:
    root = new_repo(tmp_path, {"long.yaml": android("long", LATIN_45)})

    result = plan(root)

    assert result.exit_code == 0  # a warning: the plan stands
    line = next(x for x in result.stdout.splitlines() if "[vendor-limits]" in x)
    assert line.startswith("  warning: campaigns/long.yaml:9:12: android: too long for some")
    assert "Huawei (Title up to 45 of 40 characters; 1 of 1)" in line
    assert "vivo (Title up to 45 of 40 width units; 1 of 1)" in line
    assert "Meizu (Title up to 45 of 32 characters; 1 of 1)" in line
    assert "Xiaomi" not in line and "OPPO" not in line  # 50 each
    assert "(1 delivery, e.g. staging/long/r1/android)" in line


def test_vivo_counts_a_chinese_character_as_two(tmp_path: Path) -> None:
    root = new_repo(tmp_path, {"cjk.yaml": android("cjk", CJK_25)})

    (finding,) = findings(root)

    assert "vivo (Title up to 50 of 40 width units; 1 of 1)" in finding["message"]
    assert "Huawei" not in finding["message"]  # 25 characters of its 40
    assert "A CJK character is 2 width units." in finding["message"]


def test_the_finding_counts_the_rows_a_vendor_refuses(tmp_path: Path) -> None:
    rows = "device_id,name\n" + "".join(
        f"d{i},{'Maximilian-Alexander Wolfgang' if i % 4 == 0 else 'Ann'}\n" for i in range(10)
    )
    campaign = (
        "id: fan\napp: shop\ntasks:\n  - id: m\n    fan_out:\n      data: data/rows.csv\n"
        '      key: "{{ row.device_id }}"\n    DeviceType: ANDROID\n    PushType: NOTICE\n'
        '    Target: DEVICE\n    TargetValue: "{{ row.device_id }}"\n'
        '    Title: "{{ row.name }}, your weekly offer"\n    Body: Hello\n'
    )
    root = new_repo(tmp_path, {"fan.yaml": campaign}, {"data/rows.csv": rows})

    (finding,) = findings(root)

    assert finding["source"] == "vendor-limits" and finding["level"] == "advisory"
    assert finding["blocks"] is False
    assert finding["count"] == 3  # rows 0, 4 and 8
    assert finding["key"] == "staging/fan/r1/m/d0"
    assert (finding["campaign"], finding["file"], finding["line"]) == (
        "fan",
        "campaigns/fan.yaml",
        12,
    )
    assert "Meizu (Title up to 48 of 32 characters; 3 of 10)" in finding["message"]


def test_plan_finds_as_it_compiles_what_a_pass_over_its_saved_calls_finds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 450 rows: five MassPush calls, rows over some vendors' limits in each, two messages.
    rows = "device_id,name\n" + "".join(
        f"d{i:04d},{'Maximilian-Alexander Wolfgang' if i % 7 == 3 else f'Ann{i}'}\n"
        for i in range(450)
    )
    campaign = (
        "id: fan\napp: shop\ntasks:\n  - id: m\n    fan_out:\n      data: data/rows.csv\n"
        '      key: "{{ row.device_id }}"\n    DeviceType: ANDROID\n    PushType: NOTICE\n'
        '    Target: DEVICE\n    TargetValue: "{{ row.device_id }}"\n'
        '    Title: "{{ row.name }}, your weekly offer"\n    Body: Hello\n'
    )
    root = new_repo(
        tmp_path,
        {"fan.yaml": campaign, "long.yaml": android("long", LATIN_45)},
        {"data/rows.csv": rows},
    )

    result = plan(root, "--out", "p.plan")

    assert result.exit_code == 0, result.output
    monkeypatch.chdir(root)  # campaign files are named as the CLI names them
    saved = PlanFile(root / "p.plan")
    try:
        planned = saved.verified(sandbox_key("staging"))
        assert len(planned.calls) >= 5
        again = vendor_findings(planned, campaigns_of(root))
        assert [f for f in planned.findings if f.source == "vendor-limits"] == again
        assert {f.campaign for f in again} == {"fan", "long"}
    finally:
        saved.close()


def test_send_channels_limit_the_vendors_checked(tmp_path: Path) -> None:
    extra = '    SendChannels: "accs,xiaomi"\n'
    root = new_repo(tmp_path, {"x.yaml": android("x", LATIN_45, extra=extra)})
    assert findings(root) == []


def test_an_ios_push_meets_no_android_vendor(tmp_path: Path) -> None:
    ios = android("ios", LATIN_45).replace("DeviceType: ANDROID", "DeviceType: iOS")
    root = new_repo(tmp_path, {"ios.yaml": ios})
    assert findings(root) == []


def test_markdown_and_html_show_the_finding_under_its_campaign(tmp_path: Path) -> None:
    root = new_repo(tmp_path, {"long.yaml": android("long", LATIN_45)})
    report = tmp_path / "r.html"
    markdown = plan(root, "--format", "markdown", "--report", str(report)).stdout

    assert "**Findings:** 0 blocking, 1 warning (per campaign below)." in markdown
    section = markdown[markdown.index("<summary><b>long</b>") :]
    assert "- ⚠️ **warning** `vendor-limits` at `campaigns/long.yaml:9:12`: android: too long" in (
        section
    )
    assert "| ⚠️ Refused by | vivo: Title is 45, the limit is 40 width units" in section
    page = report.read_text(encoding="utf-8")
    assert '<li class="finding advisory"><b>warning</b> <code>vendor-limits</code>' in page
    assert "<li>Refused by Meizu: Title is 45, the limit is 32 characters</li>" in page
