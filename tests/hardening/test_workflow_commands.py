"""Nothing a campaign author controls can make pushops print a GitHub workflow command it did
not mean: the Actions runner takes any output line starting with ``::`` as one (``::error``,
``::add-mask``, ``::stop-commands``…). File names and YAML keys below are hostile; validate
runs as the real CLI in a fresh repository, as the scaffolded workflow's Validate step does.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pushops.workflowcmd import command, escape_data, escape_property

# Names a pull request can give a campaign file (Linux allows all but "/" and NUL).
HOSTILE_NAMES = [
    "a\n::error file=README.md,line=1::Fake failure.yaml",
    "b\r::warning::carriage return.yaml",
    "c\n::add-mask::everything.yaml",
    "::stop-commands::token.yaml",
    "d%0A::error::percent-encoded.yaml",
    "e,line=9,col=9.yaml",
    "f\u2028::error::line separator.yaml",
]
HOSTILE_KEY = 'id: k\nTitle: x\n"z\\n::error file=pushops.yaml::fake": 1\n'
COMMAND_LINE = re.compile(r"^::(error|warning) ([^:]*)::(.*)$")


def unescape(text: str) -> str:
    return (
        text.replace("%0D", "\r")
        .replace("%0A", "\n")
        .replace("%3A", ":")
        .replace("%2C", ",")
        .replace("%25", "%")
    )


def parse(line: str) -> tuple[str, dict[str, str], str]:
    """A workflow command line as the Actions runner reads it."""
    match = COMMAND_LINE.match(line)
    assert match, f"not a well-formed annotation: {line!r}"
    props = dict(part.split("=", 1) for part in match.group(2).split(","))
    return match.group(1), {k: unescape(v) for k, v in props.items()}, unescape(match.group(3))


@pytest.fixture
def hostile_repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "campaigns").mkdir(parents=True)
    (root / "pushops.yaml").write_text(
        "version: 1\ndefault_environment: staging\nenvironments:\n  staging:\n    apps:\n"
        "      shop: {provider: emas, app_key: 23267207}\n",
        encoding="utf-8",
    )
    for name in HOSTILE_NAMES:
        (root / "campaigns" / name).write_text("id: [\n", encoding="utf-8")  # a YAML error
    (root / "campaigns" / "key.yaml").write_text(HOSTILE_KEY, encoding="utf-8")
    return root


def validate(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PUSHOPS_", "GITHUB_"))}
    env["GITHUB_ACTIONS"] = "true"
    return subprocess.run(
        [sys.executable, "-m", "pushops", "validate", *args],
        cwd=root, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_hostile_names_and_keys_start_no_workflow_command_in_text_output(hostile_repo: Path):
    result = validate(hostile_repo)

    assert result.returncode == 1
    lines = re.split(r"[\r\n]", result.stdout + result.stderr)  # as the runner reads them
    assert not [line for line in lines if line.lstrip().startswith("::")]
    assert "campaigns/a\\n::error file=README.md,line=1::Fake failure.yaml:" in result.stdout
    assert "campaigns/f\\u2028::error::line separator.yaml:" in result.stdout


def test_github_format_prints_one_annotation_per_diagnostic_naming_the_real_file(
    hostile_repo: Path,
):
    expected = json.loads(validate(hostile_repo, "--format", "json").stdout)["errors"]

    result = validate(hostile_repo, "--format", "github")

    assert result.returncode == 1
    lines = result.stdout.rstrip("\n").split("\n")  # the runner splits lines at CR and LF
    assert not [line for line in lines if "\r" in line]
    assert len(lines) == len(expected)  # no line was split, none injected
    annotations = [parse(line) for line in lines]
    assert [(a[1]["file"], int(a[1]["line"]), int(a[1]["col"])) for a in annotations] == [
        (d["file"], d["line"], d["column"]) for d in expected
    ]
    files = {a[1]["file"] for a in annotations}
    assert {f"campaigns/{name}" for name in HOSTILE_NAMES} <= files
    for kind, _, message in annotations:
        assert kind == "error"
        assert "\n" not in message and "\r" not in message


def test_a_hostile_yaml_key_is_quoted_on_its_own_line(hostile_repo: Path):
    result = validate(hostile_repo)

    (line,) = [line for line in result.stdout.split("\n") if "unknown field 'z" in line]
    assert line.startswith("campaigns/key.yaml:3:1: z\\n::error file=pushops.yaml::fake: ")


@pytest.mark.parametrize(
    ("text", "data", "prop"),
    [
        ("50%", "50%25", "50%25"),
        ("a\r\nb", "a%0D%0Ab", "a%0D%0Ab"),
        ("k:v,w", "k:v,w", "k%3Av%2Cw"),
    ],
)
def test_escaping_follows_the_actions_toolkit(text: str, data: str, prop: str):
    assert escape_data(text) == data
    assert escape_property(text) == prop


def test_a_command_drops_empty_properties():
    assert command("notice", "hi", {"title": "t", "file": None, "line": ""}) == (
        "::notice title=t::hi"
    )
