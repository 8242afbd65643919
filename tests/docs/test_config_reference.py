"""docs/reference/pushops-yaml.md: every key of pushops.yaml and every environment variable
pushops reads, generated from the config schema and kept in step by the drift check."""

from __future__ import annotations

import ast
import re
import shutil
from pathlib import Path

import jsonschema
from click.testing import CliRunner

from pushops.build import configref
from pushops.cli import cli
from pushops.config import CONFIG_SCHEMA, load_config
from pushops.yamlsource import parse_text

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / configref.PAGE
ENV_NAME = re.compile(r"(PUSHOPS|ALIBABA_CLOUD|GITHUB)_[A-Z0-9_]+")


def names_the_code_reads() -> set[str]:
    """Every string constant of the package that is exactly an environment variable's name
    (the scaffold's workflow templates name the workflows' own variables, not pushops')."""
    found: set[str] = set()
    for path in (ROOT / "pushops").rglob("*.py"):
        if "scaffold" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            is_text = isinstance(node, ast.Constant) and isinstance(node.value, str)
            if is_text and ENV_NAME.fullmatch(node.value):
                found.add(node.value)
    return found


def test_every_environment_variable_pushops_reads_is_documented():
    documented = {v.name for v in configref.ENVIRONMENT_VARIABLES}
    read = names_the_code_reads()

    assert {"PUSHOPS_EMAS_ENDPOINT", "PUSHOPS_STATE_SCHEMA", "PUSHOPS_MAX_PLAN_AGE"} <= read
    assert read - documented == set(), "add them to pushops/build/configref.py"
    assert documented - read == set(), "documented but never read"
    page = PAGE.read_text(encoding="utf-8")
    for name in documented:
        assert f"| `{name}` |" in page


def test_every_key_of_the_config_schema_has_a_section_with_its_help():
    page = PAGE.read_text(encoding="utf-8")
    paths = [key.path for key in configref.config_keys()]

    for expected in (
        "state.dsn_env",
        "credentials.security_token_env",
        "environments.<environment>.credentials",
        "environments.<environment>.apps.<app>.endpoint",
        "environments.<environment>.apps.<app>.rate_limit",
        "environments.<environment>.apps.<app>.signature",
        "environments.<environment>.apps.<app>.app_key",
        "environments.<environment>.apps.<app>.api_version",
        "templates",
    ):
        assert expected in paths
    for key in configref.config_keys():
        assert f"### `{key.path}`" in page
        assert key.schema.get("description", "").endswith("."), key.path


def test_the_pages_example_is_a_valid_config(tmp_path: Path):
    (tmp_path / "pushops.yaml").write_text(configref.EXAMPLE, encoding="utf-8")
    (tmp_path / "templates").mkdir()

    config = load_config(tmp_path)

    assert config.environment("production").apps["wallet"].signature == "acs3"
    data = parse_text(configref.EXAMPLE, "example").data
    jsonschema.Draft202012Validator(CONFIG_SCHEMA).validate(data)


def test_the_page_drifts_when_the_schema_changes_and_docs_build_rewrites_it(tmp_path: Path):
    shutil.copytree(ROOT / "docs", tmp_path / "docs")
    page = tmp_path / "docs" / configref.PAGE
    page.write_text(page.read_text(encoding="utf-8").replace("rate_limit", "rate"), "utf-8")
    check = ["docs", "build", "--check", "--docs-dir", str(tmp_path / "docs")]

    stale = CliRunner().invoke(cli, check)
    CliRunner().invoke(cli, ["docs", "build", "--docs-dir", str(tmp_path / "docs")])
    fresh = CliRunner().invoke(cli, check)

    assert stale.exit_code == 1
    assert "docs/reference/pushops-yaml.md is out of date" in stale.output
    assert fresh.exit_code == 0
    assert page.read_text(encoding="utf-8") == PAGE.read_text(encoding="utf-8")
