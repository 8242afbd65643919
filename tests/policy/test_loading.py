"""Policies as data: pushops.yaml's policies section and policies/*.yaml, every problem
located at its file, line and field."""

from __future__ import annotations

import os

from plan.support import Project

from .support import findings, task, with_policies


def errors(project: Project) -> str:
    result = project.run("plan")
    assert result.exit_code == 1, result.output
    return result.output


def test_a_policy_of_an_unknown_kind_is_located_in_pushops_yaml(sqlite_project: Project) -> None:
    with_policies(
        sqlite_project,
        """
        - name: x
          kind: quiet-time
          level: soft
        """,
    )
    result = sqlite_project.run("validate")  # (plan says only "pushops.yaml is invalid")
    assert result.exit_code == 1
    assert "pushops.yaml:" in result.output and "quiet-time" in result.output
    assert "[config.schema]" in result.output


def test_a_missing_parameter_and_a_bad_level_are_located(sqlite_project: Project) -> None:
    sqlite_project.data(
        "policies/team.yaml",
        "policies:\n  - name: night\n    kind: quiet-hours\n    level: strict\n    start: '21:00'\n",
    )
    sqlite_project.write("a.yaml", task("a", "d1"))
    output = errors(sqlite_project)
    assert "policies/team.yaml:4:12: policies[0].level:" in output
    assert "policies[0]: missing required field 'end' [policy.schema]" in output


def test_values_a_schema_cannot_judge_are_checked_too(sqlite_project: Project) -> None:
    sqlite_project.data(
        "policies/team.yaml",
        """\
policies:
  - name: cap
    kind: frequency-cap
    level: hard
    max: 2
    window: 400d
    environments: [staging, prod]
  - name: night
    kind: quiet-hours
    level: soft
    start: "21:00"
    end: "21:00"
    time_zone: Mars/Olympus
""",
    )
    sqlite_project.write("a.yaml", task("a", "d1"))
    output = errors(sqlite_project)
    assert "policies/team.yaml:6:13: policies[0].window: a window of 400d is not between" in output
    assert "policies/team.yaml:7:29: policies[0].environments[1]: no environment 'prod'" in output
    assert "policies/team.yaml:12:10: policies[1].end: quiet hours that start and end" in output
    assert (
        "policies/team.yaml:13:16: policies[1].time_zone: unknown time zone 'Mars/Olympus'"
        in output
    )
    assert output.count("[policy.invalid]") == 4


def test_a_name_used_twice_across_files_is_an_error_naming_the_first(
    sqlite_project: Project,
) -> None:
    with_policies(
        sqlite_project,
        """
        - name: big
          kind: blast-radius
          level: soft
          max_recipients: 5
        """,
    )
    sqlite_project.data(
        "policies/more.yaml",
        "policies:\n  - name: big\n    kind: blast-radius\n    level: hard\n    max_recipients: 1\n",
    )
    output = errors(sqlite_project)
    assert (
        "policies/more.yaml:2:11: policies[0].name: policy name 'big' is also used at pushops.yaml:"
        in output
    )
    assert "[policy.duplicate-name]" in output


def test_policy_files_are_read_and_apply(sqlite_project: Project) -> None:
    sqlite_project.data(
        "policies/team.yaml",
        "policies:\n  - name: big\n    kind: blast-radius\n    level: soft\n    max_recipients: 1\n",
    )
    sqlite_project.write("a.yaml", task("a", "d1,d2"))
    (finding,) = findings(sqlite_project)
    assert finding["source"] == "big"


def test_a_policy_file_that_leads_out_of_the_repo_is_refused(
    sqlite_project: Project, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    outside = tmp_path / "elsewhere.yaml"
    outside.write_text("policies: []\n")
    (sqlite_project.root / "policies").mkdir()
    os.symlink(outside, sqlite_project.root / "policies" / "linked.yaml")
    sqlite_project.write("a.yaml", task("a", "d1"))
    output = errors(sqlite_project)
    assert "policies/linked.yaml:1:1: leads outside the repository" in output
    assert "[file.outside-repo]" in output


def test_validate_reports_policy_problems_located(sqlite_project: Project) -> None:
    sqlite_project.data(
        "policies/team.yaml",
        "policies:\n  - name: cap\n    kind: frequency-cap\n    level: hard\n    max: 0\n    window: 24h\n",
    )
    sqlite_project.write("a.yaml", task("a", "d1"))
    result = sqlite_project.run("validate")
    assert result.exit_code == 1
    assert "policies/team.yaml:5:10: policies[0].max:" in result.output


def test_the_schema_the_docs_and_the_code_name_the_same_kinds() -> None:
    from pathlib import Path

    from pushops.policy.evaluate import KINDS
    from pushops.schemas import POLICY_KIND_PARAMS

    docs = Path(__file__).resolve().parents[2] / "docs"
    assert set(POLICY_KIND_PARAMS) == set(KINDS)
    policies_md = (docs / "policies.md").read_text(encoding="utf-8")
    errors_md = (docs / "errors.md").read_text(encoding="utf-8")
    for kind in KINDS:
        assert f"## `{kind}`" in policies_md
        assert f"`policy.{kind}`" in errors_md


def test_every_vendor_fact_source_is_cited_in_the_docs() -> None:
    from pathlib import Path

    from pushops.policy.vendors import vendor_rules

    policies_md = (Path(__file__).resolve().parents[2] / "docs" / "policies.md").read_text(
        encoding="utf-8"
    )
    rules = vendor_rules()
    for source in rules.sources.values():
        if source.url.startswith("http"):
            assert source.url in policies_md, source.key
    for vendor in rules.vendors.values():
        assert f"| {vendor.name} |" in policies_md
        for fields in vendor.category.values():
            assert f"`{fields[0].field}`" in policies_md


def test_the_scaffolds_example_policies_load_when_uncommented(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import re
    from pathlib import Path

    from pushops.config import load_config
    from pushops.policy.loading import load_policies

    scaffold = Path(__file__).resolve().parents[2] / "pushops" / "scaffold" / "pushops.yaml"
    text = scaffold.read_text(encoding="utf-8")
    start = text.index("# policies:")
    uncommented = text[:start] + re.sub(r"(?m)^# ?", "", text[start:])
    (tmp_path / "pushops.yaml").write_text(uncommented, encoding="utf-8")
    policies, problems = load_policies(load_config(tmp_path))
    assert problems == []
    assert [p.kind for p in policies] == [
        "quiet-hours", "frequency-cap", "vendor-rules", "blast-radius",
    ]  # fmt: skip
