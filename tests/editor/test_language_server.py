"""The real yaml-language-server (the server of VS Code's YAML extension) and pushops agree:
the example campaigns are clean in both, what pushops accepts the editor accepts, each error
is shown at the line and column `pushops validate` reports, completion offers the documented
fields and values, hover names the field and its limits, and campaigns in sub-folders are
checked too."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from pushops.cli import cli
from tests.editor.conftest import EditorRepo, opened
from tests.editor.lsp import utf16_column

EMAS = """\
id: {name}
app: shop
tasks:
  - id: a
    DeviceType: ANDROID
    PushType: NOTICE
    Target: DEVICE
    TargetValue: device-1
    Title: Hello
    Body: World
"""
MPAAS = """\
id: {name}
app: wallet
broadcasts:
  - id: b
    TaskName: Weekly
    DeliveryType: 1
    TemplateName: tpl
    ExpiredSeconds: 300
"""


def emas(name: str, extra: str = "", *, replace: tuple[str, str] | None = None) -> str:
    text = EMAS.format(name=name)
    if replace:
        text = text.replace(*replace)
    return text + textwrap.indent(textwrap.dedent(extra), "    ")


def mpaas(name: str, extra: str = "") -> str:
    return MPAAS.format(name=name) + textwrap.indent(textwrap.dedent(extra), "    ")


def test_the_example_campaigns_and_config_are_clean_in_the_editor_and_in_pushops(
    editor: EditorRepo,
):
    files = sorted((editor.root / "campaigns").glob("*.yaml"))
    assert {f.name for f in files} >= {"black-friday.yaml", "weekly-digest.yaml"}

    for path in [*files, editor.root / "pushops.yaml"]:
        assert editor.editor_diagnostics(path) == [], path.name
    assert editor.validate() == []


def test_a_repository_fresh_from_pushops_init_is_clean_in_the_editor(node: str, tmp_path: Path):
    assert CliRunner().invoke(cli, ["init", str(tmp_path)]).exit_code == 0
    settings = json.loads((tmp_path / ".vscode" / "settings.json").read_text(encoding="utf-8"))
    assert settings["yaml.yamlVersion"] == "1.2"  # the editor reads YAML as pushops does

    with opened(node, tmp_path) as fresh:
        for path in (tmp_path / "pushops.yaml", tmp_path / "campaigns" / "welcome.yaml"):
            assert fresh.editor_diagnostics(path) == [], path.name
        assert fresh.validate() == []


# Inputs pushops accepts and sends that editors used to mark as errors (issue 18).
ACCEPTED = {
    "long-number-as-target": emas(
        "n1", replace=("TargetValue: device-1", "TargetValue: 1234567890123456")
    ),
    "number-as-title": emas("n2", replace=("Title: Hello", "Title: 2026")),
    "number-as-render-style": emas("n3", "AndroidRenderStyle: 1\n"),
    "quoted-notify-level": emas(
        "n4", 'AndroidMessageOppoNotifyLevel: "2"\nAndroidMessageOppoCategory: MARKETING\n'
    ),
    "quoted-boolean": emas("n5", 'StoreOffline: "true"\nExpireTime: "2026-11-23T09:00:00Z"\n'),
    "quoted-whole-number": emas("n6", 'AndroidNotificationBarType: " 007 "\n'),
    "time-of-day": mpaas(
        "n7",
        """\
        BindPeriod: 4
        StrategyType: 2
        StrategyContent:
          startTime: 1795392000000
          endTime: 1796601600000
          circleType: 2
          circleValue: [1, 4]
          time: 09:30:00
        """,
    ),
}


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_what_pushops_accepts_the_editor_accepts(editor: EditorRepo, name: str):
    path = editor.write(f"campaigns/accepted-{name}.yaml", ACCEPTED[name])

    assert editor.validate(path) == []
    assert editor.editor_diagnostics(path) == []


# One mistake each; the editor must show it where `pushops validate` reports it.
REFUSED = {
    "unknown-field": emas("e1", "Titel: x\n"),
    "not-an-allowed-value": emas("e2", replace=("DeviceType: ANDROID", "DeviceType: ANDROIDS")),
    "not-a-number": emas("e3", "iOSBadge: lots\n"),
    "out-of-range": emas("e4", "AndroidNotificationBarType: 500\n"),
    "quoted-out-of-range": emas("e5", 'AndroidNotificationBarType: "500"\n'),
    "not-a-time": emas("e6", "PushTime: tomorrow\n"),
    "too-many-characters": emas(
        "e7",
        f"AndroidPopupActivity: com.example.Popup\nAndroidPopupTitle: {'x' * 51}\n"
        "AndroidPopupBody: b\n",
    ),
    "too-many-bytes-in-ascii": emas("e8", replace=("Title: Hello", f"Title: {'t' * 201}")),
    "missing-required-field": emas("e9", replace=("    Body: World\n", "")),
    "condition-needs-a-field": emas("e10", "AndroidOpenType: ACTIVITY\n"),
    "condition-on-presence": emas("e11", "AndroidPopupActivity: com.example.Popup\n"),
    "condition-forbids-a-field": emas("e12", "iOSBadgeAutoIncrement: true\niOSBadge: 3\n"),
    "condition-on-the-default": mpaas("e13"),
    "condition-on-quoted-number": mpaas("e14", 'PushStatus: "1"\n'),
    "scheduled-without-fixed-time": mpaas(
        "e15", 'BindPeriod: 4\nStrategyType: 1\nStrategyContent:\n  time: "10:00:00"\n'
    ),
    "unknown-key-in-strategy": mpaas(
        "e16",
        "BindPeriod: 4\nStrategyType: 1\nStrategyContent:\n  fixedTime: 1795392000000\n"
        "  fixed_time: 1\n",
    ),
    "weekly-loop-without-days": mpaas(
        "e17",
        "BindPeriod: 4\nStrategyType: 2\nStrategyContent: {startTime: 1795392000000, "
        'endTime: 1796601600000, circleType: 2, time: "10:00:00", circleValue: []}\n',
    ),
    "bad-campaign-id": emas("bad id!"),
    "text-for-a-boolean": emas("e19", "StoreOffline: maybe\n"),
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_the_editor_shows_each_error_where_pushops_validate_reports_it(
    editor: EditorRepo, name: str
):
    path = editor.write(f"campaigns/refused-{name}.yaml", REFUSED[name])

    errors = [e for e in editor.validate(path) if e["severity"] == "error"]
    expected = sorted((e["line"], e["column"]) for e in errors)

    assert expected, "pushops refuses it"
    assert editor.editor_positions(path) == expected, errors


def test_completion_offers_the_documented_fields_with_their_help(editor: EditorRepo):
    # The cursor on a new line under the task's fields, indented as they are.
    path = editor.write("campaigns/typing.yaml", emas("typing") + "    \n")
    uri = editor.server.open(path)
    line = len(editor.lines(path)) - 1

    items = {item["label"]: item for item in editor.server.completion(uri, line, 4)}
    editor.server.close(uri)

    assert {"AndroidPopupTitle", "PushTime", "StoreOffline", "iOSBadge"} <= set(items)
    assert "Title" not in items  # already written
    assert "SendSpeed" not in items  # deprecated: not offered
    documentation = str(items["AndroidPopupTitle"].get("documentation"))
    assert "At most 50 characters." in documentation


def test_completion_offers_the_allowed_values_with_their_meanings(editor: EditorRepo):
    path = editor.write("campaigns/values.yaml", emas("values", "AndroidOpenType: \n"))
    uri = editor.server.open(path)
    lines = editor.lines(path)
    line = len(lines) - 1

    items = editor.server.completion(uri, line, utf16_column(lines[line], len(lines[line]) + 1))
    editor.server.close(uri)

    meanings = {item["label"]: item.get("documentation") for item in items}
    assert set(meanings) >= {"APPLICATION", "ACTIVITY", "URL", "NONE"}
    assert "ACTIVITY" in str(meanings["ACTIVITY"]) or "Activity" in str(meanings["ACTIVITY"])


def hover_at(editor: EditorRepo, relative: str, text: str, word: str) -> str:
    path = editor.write(relative, text)
    uri = editor.server.open(path)
    lines = editor.lines(path)
    line = next(i for i, t in enumerate(lines) if t.lstrip().startswith(word + ":"))
    column = utf16_column(lines[line], lines[line].index(word) + 2)
    try:
        return editor.server.hover(uri, line, column)
    finally:
        editor.server.close(uri)


def test_hover_names_the_field_and_shows_its_character_limit(editor: EditorRepo):
    text = emas("hover1", "AndroidPopupTitle: Sale\n")

    shown = hover_at(editor, "campaigns/hover1.yaml", text, "AndroidPopupTitle")

    assert shown.startswith("#### AndroidPopupTitle\n")
    assert "At most 50 characters." in shown


def test_hover_shows_a_numeric_range_and_a_byte_limit(editor: EditorRepo):
    badge = hover_at(editor, "campaigns/hover2.yaml", emas("hover2", "iOSBadge: 3\n"), "iOSBadge")
    title = hover_at(editor, "campaigns/hover3.yaml", emas("hover3"), "Title")

    assert badge.startswith("#### iOSBadge\n")
    assert "A whole number from -2147483648 to 2147483647." in badge
    assert "At most 200 UTF-8 bytes." in title


def test_hover_lists_the_allowed_values_with_their_meanings(editor: EditorRepo):
    shown = hover_at(editor, "campaigns/hover4.yaml", emas("hover4"), "DeviceType")

    assert shown.startswith("#### DeviceType\n")
    assert "* `iOS`: iOS devices." in shown
    assert "DeviceType ||" not in shown


def test_hover_on_pushops_yaml_explains_its_keys(editor: EditorRepo):
    path = editor.root / "pushops.yaml"
    uri = editor.server.open(path)
    lines = editor.lines(path)
    line = next(i for i, t in enumerate(lines) if t.strip().startswith("rate_limit:"))
    column = lines[line].index("rate_limit") + 2

    shown = editor.server.hover(uri, line, column)
    editor.server.close(uri)

    assert shown.startswith("#### rate\\_limit\n")  # Markdown for rate_limit
    assert "calls per second" in shown


def test_a_valid_campaign_in_a_sub_folder_is_checked_and_clean(editor: EditorRepo):
    # With the modeline pointing two folders up, and without one (the yaml.schemas setting
    # `pushops init` writes maps campaigns/**).
    with_modeline = editor.write("campaigns/eu/autumn.yaml", emas("eu-autumn"))
    without = editor.write("campaigns/eu/de/winter.yaml", emas("eu-winter"), modeline=False)
    broken = editor.write(
        "campaigns/eu/de/broken.yaml", emas("eu-broken", "Titel: x\n"), modeline=False
    )

    assert editor.editor_diagnostics(with_modeline) == []
    assert editor.editor_diagnostics(without) == []
    assert editor.validate(with_modeline, without) == []
    # The schema is really applied there: a typo is shown.
    (problem,) = editor.editor_diagnostics(broken)
    assert "Titel" in problem["message"]


def test_a_modeline_one_level_short_in_a_sub_folder_is_flagged_with_the_right_path(
    editor: EditorRepo,
):
    relative = "campaigns/eu/short.yaml"
    path = editor.root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    body = emas("eu-short")
    path.write_text("# yaml-language-server: $schema=../schemas/campaign.schema.json\n" + body)

    (unloaded,) = editor.editor_diagnostics(path)
    (warning,) = editor.validate(path)

    assert "Unable to load schema" in unloaded["message"]
    assert (warning["rule"], warning["severity"], warning["line"]) == (
        "campaign.schema-link",
        "warning",
        1,
    )
    assert "write $schema=../../schemas/campaign.schema.json" in warning["message"]
    path.unlink()
    fixed = path.with_name("fixed.yaml")  # a new file: the server caches a schema per file
    fixed.write_text("# yaml-language-server: $schema=../../schemas/campaign.schema.json\n" + body)
    assert editor.editor_diagnostics(fixed) == []
    assert editor.validate(fixed) == []


def test_the_editor_shows_pushops_own_words_for_conditions_formats_and_deprecations(
    editor: EditorRepo,
):
    path = editor.write(
        "campaigns/words.yaml",
        emas("words", "AndroidOpenType: ACTIVITY\nPushTime: tomorrow\nSendSpeed: 10\n"),
    )

    messages = {d["message"]: d["severity"] for d in editor.editor_diagnostics(path)}

    assert messages["AndroidOpenType ACTIVITY needs AndroidActivity, the Activity to open."] == 1
    assert messages["Expected UTC time as YYYY-MM-DDThh:mm:ssZ, e.g. 2026-11-27T01:00:00Z."] == 1
    # yaml-language-server reports every schema problem as an error; the message says what
    # validate does with it.
    (deprecated,) = [m for m in messages if m.startswith("SendSpeed is deprecated")]
    assert deprecated.startswith("SendSpeed is deprecated (a warning: pushops still sends it): ")
