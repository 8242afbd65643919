"""The campaign schema (what editors check) and `pushops validate` accept and refuse the same
inputs, except the documented rules JSON Schema cannot express (docs/campaigns.md, "What
validate checks"): byte limits, time windows, rendered templates, JSON written as text, the
range of a number written as text, call and content-size rules, the config's apps.

Two oracles: check-jsonschema (its own YAML 1.2 reader, ruamel, and ECMA 262 regular
expressions, as editors run them) over a table of inputs, and jsonschema over generated ones.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pushops.check.validate import validate
from pushops.config import load_config
from pushops.yamlsource import parse_text
from tests.editor.test_language_server import ACCEPTED, REFUSED, emas, mpaas
from tests.pushrepo import EMAS_TASK, NOW, PushRepo

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "schemas" / "campaign.schema.json"

# What only `pushops validate` checks: an input, and the rule that refuses it.
BEYOND_SCHEMA = {
    "bytes-of-chinese-text": (
        emas("b1", replace=("Title: Hello", "Title: " + "推" * 67)),
        "emas.title-bytes",
    ),
    "push-time-beyond-7-days": (
        emas("b2", "PushTime: 2026-12-30T09:00:00Z\n"),
        "emas.push-within-7-days",
    ),
    "expire-time-beyond-72-hours": (
        emas("b3", "StoreOffline: true\nExpireTime: 2026-11-27T09:00:00Z\n"),
        "emas.expire-within-72h",
    ),
    "a-template-renders-a-bad-value": (
        emas("b4", "iOSBadge: \"{{ 'lots' }}\"\n"),
        "emas.ios-badge-type",
    ),
    "json-text-without-fixed-time": (
        mpaas("b5", 'BindPeriod: 4\nStrategyType: 1\nStrategyContent: \'{"time": "10:00:00"}\'\n'),
        "mpaas.strategy-content",
    ),
    # (A loop starting before today is only a warning in validate: one applied yesterday is
    # fine, and validate does not read the ledger; plan refuses a new one. docs/plan-and-apply.md)
    "loop-ending-before-it-starts": (
        mpaas(
            "b6",
            "BindPeriod: 4\nStrategyType: 2\nStrategyContent: {startTime: 1796601600000, "
            'endTime: 1704067200000, circleType: 1, time: "10:00:00"}\n',
        ),
        "mpaas.loop-window",
    ),
    "an-app-pushops-yaml-lacks": (
        emas("b7", replace=("app: shop", "app: nope")),
        "campaign.unknown-app",
    ),
    "content-bytes-of-a-message": (
        emas("b8", replace=("Body: World", "Body: " + "b" * 1800)),
        "emas.content-bytes",
    ),
    "quoted-number-out-of-range": (
        emas("b9", 'iOSRelevanceScore: "2"\n'),
        "emas.ios-relevance-score-range",
    ),
    "one-point-zero-for-a-text-value": (
        emas("b10", "AndroidRenderStyle: 1.0\n"),
        "emas.android-render-style-values",
    ),
}


def check_jsonschema(files: list[Path]) -> dict[str, int]:
    """Errors per file, as check-jsonschema (with ECMA 262 regular expressions) finds them."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--schemafile",
            str(SCHEMA),
            "--regex-variant",
            "default",
            "-o",
            "json",
            *map(str, files),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = json.loads(result.stdout)
    assert report["parse_errors"] == []
    counts = {str(f): 0 for f in files}
    for error in report["errors"]:
        counts[error["filename"]] += 1
    return counts


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, list[dict], int]]:
    """Every input of the table, validated by pushops and by check-jsonschema."""
    root = tmp_path_factory.mktemp("agreement")
    repo = PushRepo.create(root)
    written: dict[str, Path] = {}
    for group, inputs in (("accepted", ACCEPTED), ("refused", REFUSED)):
        for name, text in inputs.items():
            written[f"{group}-{name}"] = repo.write(f"campaigns/{group}-{name}.yaml", text)
    for name, (text, _) in BEYOND_SCHEMA.items():
        written[f"beyond-{name}"] = repo.write(f"campaigns/beyond-{name}.yaml", text)
    config = load_config(root)
    schema_errors = check_jsonschema(list(written.values()))
    out = {}
    for name, path in written.items():
        report = validate([path], root, config, NOW).report
        problems = [d.to_json() for d in report.sorted() if d.severity == "error"]
        out[name] = (path, problems, schema_errors[str(path)])
    return out


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_check_jsonschema_and_validate_accept_it(corpus, name: str):
    _, problems, schema_errors = corpus[f"accepted-{name}"]

    assert (problems, schema_errors) == ([], 0)


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_check_jsonschema_and_validate_refuse_it(corpus, name: str):
    _, problems, schema_errors = corpus[f"refused-{name}"]

    assert problems
    assert schema_errors > 0


@pytest.mark.parametrize("name", sorted(BEYOND_SCHEMA))
def test_only_validate_checks_what_json_schema_cannot_say(corpus, name: str):
    _, problems, schema_errors = corpus[f"beyond-{name}"]

    assert [p["rule"] for p in problems] == [BEYOND_SCHEMA[name][1]]
    assert schema_errors == 0
    documented = (ROOT / "docs" / "campaigns.md").read_text(encoding="utf-8")
    assert "except for what JSON Schema cannot say" in documented


# ------------------------------------------------------------------------ generated inputs

WHITE = st.sampled_from(["", " ", "  ", "\t", "\n"])


def _number_text(number: int) -> st.SearchStrategy[str]:
    """The ways a whole number may be written as text: signs, leading zeros, spaces."""
    sign = st.sampled_from(["", "+"] if number >= 0 else [""])
    zeros = st.sampled_from(["", "0", "00"])
    return st.builds(
        lambda a, s, z, b: f"{a}{s}{z if number >= 0 else ''}{number}{b}", WHITE, sign, zeros, WHITE
    )


INTEGERS = st.one_of(
    st.integers(-5, 120),
    st.sampled_from([-(2**31) - 1, -(2**31), 2**31 - 1, 2**31, 2**63]),
    st.integers(-(2**40), 2**40),
)
VALUES = st.one_of(
    INTEGERS,
    INTEGERS.flatmap(_number_text),
    st.floats(allow_nan=False, allow_infinity=False, width=32).filter(lambda f: not f.is_integer()),
    st.booleans(),
    st.sampled_from(["true", "False", " TRUE ", "yes", "no", "on", "1", "", "0x10", "1e3"]),
    st.text(alphabet="abcAB19 ,-.", max_size=8),
)
# Message fields of every kind whose checks JSON Schema can express.
FIELDS = [
    "iOSBadge",  # int32
    "AndroidNotificationBarType",  # 1 to 100
    "AndroidNotificationBarPriority",  # enum of integers
    "AndroidMessageOppoNotifyLevel",  # 1, 2, 16 (with its category)
    "StoreOffline",  # boolean
    "HarmonyTestMessage",  # boolean
    "AndroidRenderStyle",  # "0" to "3"
    "DeviceType",  # enum of texts
    "TargetValue",  # comma-separated
    "JobKey",  # free text
    "SendChannels",  # comma-separated values from a list
]


@pytest.fixture(scope="module")
def checkers(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("generated")
    PushRepo.create(root)
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    return root, load_config(root), jsonschema.Draft202012Validator(schema)


@given(field=st.sampled_from(FIELDS), value=VALUES)
@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_schema_and_validate_agree_on_generated_values(checkers, field: str, value: Any):
    root, config, schema = checkers
    task: dict[str, Any] = {**EMAS_TASK, field: value}
    if field == "AndroidMessageOppoNotifyLevel":
        task["AndroidMessageOppoCategory"] = "MARKETING"
    if field == "DeviceType" and value == "iOS":
        task.pop("Title")  # iOS needs none; keeps the condition's both sides in play
    text = json.dumps({"id": "g", "app": "shop", "tasks": [task]}, ensure_ascii=False)
    path = root / "campaigns" / "g.yaml"
    path.write_text(text, encoding="utf-8")

    data = parse_text(text, "g.yaml").data
    report = validate([path], root, config, NOW).report
    refused_by_validate = [d for d in report.sorted() if d.severity == "error"]
    refused_by_schema = list(schema.iter_errors(data))

    assert bool(refused_by_validate) == bool(refused_by_schema), (
        [d.format() for d in refused_by_validate],
        [e.message for e in refused_by_schema],
    )
