"""One reading of YAML: pushops reads every file as YAML 1.2 (the core schema), as editors do,
and says where YAML 1.1 tools would read a value differently."""

from __future__ import annotations

import json
import math
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from pushops.diagnostics import LocatedError
from pushops.yamlsource import dump, parse_text
from tests.editor.conftest import EditorRepo
from tests.editor.lsp import TOOL
from tests.pushrepo import EMAS_TASK, MPAAS_BROADCAST, PushRepo

ROOT = Path(__file__).resolve().parents[2]

# Plain scalars the two versions read differently, and near misses.
SCALARS = [
    *("yes", "Yes", "YES", "no", "No", "on", "On", "off", "OFF", "y", "n", "Y"),
    *("true", "True", "TRUE", "tRUE", "false", "False", "null", "Null", "~", "nULL"),
    *("0", "-0", "+12", "017", "08", "0o17", "0O17", "0x1F", "0X1F", "0b101", "1_000"),
    *("10:30:00", "09:30:00", "1:30", "-1:30", "190:20:30.15"),
    *("1.5", "1.", ".5", "-.5", "1e3", "1E3", "1.0e3", "1.0e+3", "1e-3", "+1e3", "685.230_15e+03"),
    *(".inf", "-.Inf", "+.INF", ".nan", ".NaN", ".nAn", "inf", "nan"),
    *("2026-11-22", "2026-11-22T09:00:00Z", "0.1.2", "1e", "e3", "0xZZ", "+", "-", "."),
]

READER = """
const { parse } = require(process.argv[1]);
const texts = JSON.parse(require("fs").readFileSync(0, "utf8"));
const out = texts.map((text) => {
  let value;
  try {
    value = parse("v: " + text).v;
  } catch (error) {
    return { error: true };
  }
  if (typeof value === "number" && !Number.isFinite(value)) return { special: String(value) };
  return { value };
});
process.stdout.write(JSON.stringify(out));
"""


def comparable(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return {"special": "NaN" if math.isnan(value) else ("-" if value < 0 else "") + "Infinity"}
    return {"value": value}


def test_plain_values_read_as_the_editors_yaml_library_reads_them(node: str):
    library = TOOL / "node_modules" / "yaml"
    result = subprocess.run(
        [node, "-e", READER, str(library)],
        input=json.dumps(SCALARS),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    editor = json.loads(result.stdout)

    for text, theirs in zip(SCALARS, editor, strict=True):
        try:
            ours = parse_text(f"v: {text}\n", "f.yaml").data["v"]
        except LocatedError:
            assert theirs == {"error": True}, text
            continue
        assert comparable(ours) == theirs, text
        if isinstance(ours, (int, float)) and not isinstance(ours, bool):
            # JavaScript has one number type; YAML 1.2 says which spellings are integers.
            assert isinstance(ours, int) == (
                text.lstrip("+-").isdigit() or text[:2] in ("0o", "0x")
            )


@pytest.mark.parametrize(
    ("text", "meant"),
    [
        ("yes", 'the text "yes"'),
        ("off", 'the text "off"'),
        ("10:30:00", 'the text "10:30:00"'),
        ("017", "the number 17"),
        ("0o17", "the number 15"),
        ("1e3", "the number 1000.0"),
    ],
)
def test_a_value_yaml_1_1_reads_differently_is_a_located_warning(text: str, meant: str):
    doc = parse_text(f"a: 1\nvars:\n  x: {text}\n", "c.yaml")

    (warning,) = doc.warnings
    assert (warning.line, warning.column, warning.path) == (3, 6, "vars.x")
    assert (warning.severity, warning.rule) == ("warning", "yaml.version-difference")
    assert warning.message.startswith(f"{text} is read as {meant} (YAML 1.2")


@pytest.mark.parametrize("text", ["'yes'", '"10:30:00"', "true", "17", "15", "1000.0", "Yes sir"])
def test_values_written_alike_for_both_versions_get_no_warning(text: str):
    assert parse_text(f"x: {text}\n", "c.yaml").warnings == []


def test_keys_are_their_text_and_never_warned_about():
    doc = parse_text("yes: 1\n017: 2\n~: 3\n", "c.yaml")

    assert doc.data == {"yes": 1, "017": 2, "~": 3}
    assert doc.warnings == []


def test_validate_reports_a_boolean_written_yes_as_an_error_and_says_why(repo: PushRepo):
    repo.write(
        "campaigns/x.yaml",
        "id: x\napp: shop\ntasks:\n  - id: t\n    DeviceType: ANDROID\n    PushType: NOTICE\n"
        "    Target: DEVICE\n    TargetValue: d\n    Title: t\n    Body: b\n    StoreOffline: yes\n",
    )

    found = repo.validate_errors()

    assert [(d["line"], d["column"], d["severity"], d["rule"]) for d in found] == [
        (11, 19, "error", "emas.store-offline-type"),
        (11, 19, "warning", "yaml.version-difference"),
    ]
    assert "or true for the boolean" in found[1]["message"]


def test_a_time_of_day_is_text_as_an_editor_reads_it(repo: PushRepo):
    broadcast = {
        **MPAAS_BROADCAST,
        "StrategyType": 2,
        "StrategyContent": {
            "startTime": 1795392000000,
            "endTime": 1796601600000,
            "circleType": 1,
            "time": "TIME",
        },
    }
    text = json.dumps({"id": "x", "app": "wallet", "broadcasts": [broadcast]})
    repo.write("campaigns/x.yaml", text.replace('"TIME"', "10:30:00"))

    found = repo.validate_errors()

    assert [d["rule"] for d in found] == ["yaml.version-difference"]
    assert found[0]["severity"] == "warning"


def test_plan_and_validate_warn_about_pushops_yaml_too(repo: PushRepo):
    config = repo.root / "pushops.yaml"
    config.write_text(
        config.read_text(encoding="utf-8").replace(
            "brand: Acme Shop", "brand: Acme Shop\n  sale: on"
        ),
        encoding="utf-8",
    )
    repo.campaign("x", {"id": "x", "app": "shop", "tasks": [EMAS_TASK]})

    validated = repo.validate()
    planned = repo.cli("plan", "--sandbox", "--now", "2026-11-22T09:00:00Z")

    line = next(
        i for i, t in enumerate(config.read_text(encoding="utf-8").splitlines(), 1) if "sale:" in t
    )
    expected = f"pushops.yaml:{line}:9: warning: vars.sale: on is read as the text"
    assert validated.exit_code == 0 and expected in validated.output
    assert planned.exit_code == 0, planned.output
    assert expected in planned.output


def test_the_example_campaigns_and_pushops_own_yaml_read_alike_in_both_versions():
    files = [
        *sorted((ROOT / "campaigns").glob("*.yaml")),
        ROOT / "pushops.yaml",
        *sorted((ROOT / "schemas" / "tables").glob("*.yaml")),
        *sorted((ROOT / "pushops").rglob("*.yaml")),
    ]
    assert len(files) >= 10

    for path in files:
        text = path.read_text(encoding="utf-8")
        assert parse_text(text, str(path)).warnings == [], path


def test_render_writes_yaml_both_versions_read_alike(repo: PushRepo):
    task = {**EMAS_TASK, "Title": "1e3", "Body": "yes", "JobKey": "0o17", "TargetValue": "017"}
    repo.campaign("x", {"id": "x", "app": "shop", "tasks": [task]})

    result = repo.cli("render", "--format", "yaml", "--now", "2026-11-22T09:00:00Z")

    assert result.exit_code == 0, result.output
    old, new = yaml.safe_load(result.stdout), parse_text(result.stdout, "out").data
    assert old == new
    form = new["campaigns"][0]["calls"][0]["form"]
    assert form["PushTask.1.Title"] == "1e3"
    assert (form["PushTask.1.Body"], form["PushTask.1.JobKey"]) == ("yes", "0o17")
    assert dump({"v": "1e3"}) == "v: '1e3'\n"


def test_the_editor_reads_yes_as_text_and_refuses_it_for_a_boolean(editor: EditorRepo):
    path = editor.write(
        "campaigns/yes.yaml",
        "id: yes-flag\napp: shop\ntasks:\n  - id: t\n    DeviceType: ANDROID\n"
        "    PushType: NOTICE\n    Target: DEVICE\n    TargetValue: d\n    Title: t\n"
        "    Body: b\n    StoreOffline: yes\n",
    )

    errors = [e for e in editor.validate(path) if e["severity"] == "error"]

    assert editor.editor_positions(path) == [(e["line"], e["column"]) for e in errors]
