"""The generated docs: every parameter, rule and provider error, kept in step by a drift check."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from pushops.build import docs as docsgen
from pushops.check.rules import REGISTRY
from pushops.cli import cli
from pushops.emulator.errors import GATEWAY_ERRORS, MPAAS_RESULTS
from pushops.tables import PROVIDERS, load_table

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
ERRORS = (DOCS / "errors.md").read_text(encoding="utf-8")


def reference(provider: str) -> str:
    return (DOCS / "reference" / docsgen.reference_name(load_table(provider))).read_text(
        encoding="utf-8"
    )


def test_the_committed_docs_match_the_tables_rules_and_errors():
    assert docsgen.drift() == []


def test_docs_build_check_fails_when_a_generated_file_drifted(tmp_path: Path):
    shutil.copytree(DOCS, tmp_path / "docs")
    page = tmp_path / "docs" / "reference" / "emas-masspush.md"
    page.write_text(page.read_text(encoding="utf-8") + "edited by hand\n", encoding="utf-8")

    result = CliRunner().invoke(
        cli, ["docs", "build", "--check", "--docs-dir", str(tmp_path / "docs")]
    )

    assert result.exit_code == 1
    assert "docs/reference/emas-masspush.md is out of date" in result.output


def test_docs_build_rewrites_only_the_generated_regions_of_errors_md(tmp_path: Path):
    shutil.copytree(DOCS, tmp_path / "docs")
    page = tmp_path / "docs" / "errors.md"
    text = page.read_text(encoding="utf-8")
    stale = re.sub(
        r"(<!-- generated:rules -->\n).*?(<!-- end generated:rules -->)", r"\1\2", text, flags=re.S
    )
    page.write_text(stale + "\nA hand-written line at the end.\n", encoding="utf-8")

    result = CliRunner().invoke(cli, ["docs", "build", "--docs-dir", str(tmp_path / "docs")])

    assert result.exit_code == 0, result.output
    rebuilt = page.read_text(encoding="utf-8")
    assert rebuilt == text + "\nA hand-written line at the end.\n"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_every_parameter_has_a_section_with_its_type_and_required(provider: str):
    page = reference(provider)
    for param in load_table(provider).message_params.values():
        section = page.split(f"`{param.name}`\n", 1)[1].split("\n#", 1)[0]
        assert "- **type**: " in section, param.name
        assert f"- **required**: {'yes' if param.required else 'no'}" in section, param.name
        for value in param.values:
            assert (
                f"`{str(value.value).lower() if isinstance(value.value, bool) else value.value}`"
                in section
            )
        if param.deprecated:
            assert "- **deprecated**: yes" in section


@pytest.mark.parametrize("provider", PROVIDERS)
def test_every_rule_a_field_links_to_has_a_row_in_errors_md(provider: str):
    linked = set(re.findall(r"\(\.\./errors\.md#([a-z0-9-]+)\)", reference(provider)))
    rows = set(re.findall(r'<a id="([a-z0-9-]+)"></a>', ERRORS))

    assert linked
    assert linked <= rows


def test_every_registered_rule_is_documented_with_what_to_do():
    for rule in REGISTRY.values():
        row = next((line for line in ERRORS.splitlines() if f"`{rule.id}`" in line), None)
        assert row is not None, rule.id
        assert not row.rstrip().endswith("|  |"), (
            f"{rule.id} has no advice in pushops/build/docs_advice.yaml"
        )


def test_every_table_condition_is_documented():
    for provider in PROVIDERS:
        for condition in load_table(provider).conditions:
            assert f'<a id="{docsgen.rule_anchor(condition.id)}"></a>' in ERRORS


def test_advice_names_only_rules_that_exist():
    assert set(docsgen.advice()["rules"]) <= set(REGISTRY)


def test_every_literal_rule_id_in_the_source_is_documented():
    families = (
        "yaml", "campaign", "config", "state", "template", "fan-out", "emas", "mpaas", "policy",
    )  # fmt: skip
    alternatives = "|".join(map(re.escape, families))
    pattern = re.compile(r'"((?:' + alternatives + r')\.[a-z0-9-]+)"')
    found = set()
    for source in (ROOT / "pushops").rglob("*.py"):
        if source.parts[-2:] == ("build", "docs.py") or "emulator" in source.parts:
            continue
        found |= set(pattern.findall(source.read_text(encoding="utf-8")))

    found -= {"state.db"}  # the ledger's file name, not a rule id
    missing = sorted(rule for rule in found if f"`{rule}`" not in ERRORS)
    assert missing == []


def test_the_rules_that_warn_are_marked_warnings():
    warning_ids = set()
    for source in (ROOT / "pushops" / "check" / "rules").glob("*.py"):
        text = source.read_text(encoding="utf-8")
        for match in re.finditer(r'"warning"', text):
            before = text[max(0, match.start() - 400) : match.start()]
            ids = re.findall(r'"((?:emas|mpaas)\.[a-z0-9-]+)"', before)
            if ids:
                warning_ids.add(ids[-1])

    assert warning_ids == (docsgen.WARNING_RULES | docsgen.MIXED_RULES) - {
        "emas.deprecated",
        "mpaas.deprecated",
    }


def test_every_provider_error_code_has_a_class_and_advice():
    for code in GATEWAY_ERRORS:
        row = next(line for line in ERRORS.splitlines() if line.startswith(f"| `{code}` |"))
        assert not row.rstrip().endswith("|  |"), code
    for code in MPAAS_RESULTS:
        if code == "100":
            continue
        row = next(line for line in ERRORS.splitlines() if line.startswith(f"| `{code}` |"))
        assert not row.rstrip().endswith("|  |"), code


def test_every_code_pushops_itself_records_is_documented():
    """Codes apply and the transport make up (not the provider's): named in errors.md."""
    patterns = (
        r'code="([A-Za-z][\w.]*)"',
        r'^[A-Z_]+ = "((?:Transport\.)?[A-Z][A-Za-z]+)"(?:\s*#.*)?$',
        r'(?:ProviderError|RetryableError)\(\s*"([A-Za-z][\w.]*)"',
        r'"(Transport\.[A-Za-z]+)"',
        r'_cancel_failed\(\s*cancel, "([A-Za-z]+)"',
    )
    sources = [
        *(ROOT / "pushops" / "apply").glob("*.py"),
        ROOT / "pushops/providers/transport.py",
        ROOT / "pushops/commands/state.py",
        ROOT / "pushops/ledger/records.py",  # the not-sent codes every view words alike
    ]
    found: set[str] = set()
    for source in sources:
        text = source.read_text(encoding="utf-8")
        for pattern in patterns:
            found |= set(re.findall(pattern, text, re.MULTILINE))
        kinds = re.findall(r'kind = "([A-Za-z]+)"', text)
        found |= {f"Transport.{kind}" for kind in kinds}
    assert {"Interrupted", "RunStopped", "TooLate", "Transport.Timeout", "Abandoned"} <= found
    missing = sorted(code for code in found if f"`{code}`" not in ERRORS)
    assert missing == []
