"""The rule ids the docs derive from the tables are the ids `pushops validate` reports."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from pushops.build import docs as docsgen
from pushops.cli import cli
from pushops.tables import load_table

CAMPAIGN = """\
id: probe
app: shop
tasks:
  - id: t
    DeviceType: ANDROID
    PushType: NOTICE
    Target: DEVICE
    TargetValue: "a1b2c3d4e5f60001"
    Title: Hello
    Body: World
    AndroidOpenType: APPLICATION
{extra}"""
CONFIG = """\
version: 1
environments:
  staging:
    apps:
      shop: {provider: emas, app_key: 23267207}
"""


@pytest.mark.parametrize(
    ("extra", "rule"),
    [
        ("    AndroidNotifyType: LOUD\n", "emas.android-notify-type-values"),
        ("    StoreOffline: maybe\n", "emas.store-offline-type"),
        ("    PushTime: tomorrow\n", "emas.push-time-format"),
        ("    AndroidOpenType: ACTIVITY\n", "emas.android-open-activity"),
    ],
)
def test_validate_reports_the_rule_id_the_reference_lists(
    tmp_path: Path, monkeypatch, extra: str, rule: str
):
    (tmp_path / "pushops.yaml").write_text(CONFIG, encoding="utf-8")
    (tmp_path / "campaigns").mkdir()
    text = CAMPAIGN.format(extra=extra)
    if "AndroidOpenType: ACTIVITY" in extra:
        text = text.replace("    AndroidOpenType: APPLICATION\n", "")
    (tmp_path / "campaigns" / "probe.yaml").write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)

    result = CliRunner().invoke(cli, ["validate", "--now", "2026-01-01T00:00:00Z"])

    assert f"[{rule}]" in result.output, result.output
    table = load_table("emas")
    documented = {
        ref.id for param in table.message_params.values() for ref in docsgen.rules_for(table, param)
    }
    assert rule in documented
