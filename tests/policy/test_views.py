"""Findings in every plan format: JSON (versioned list), text, Markdown (escaped)."""

from __future__ import annotations

from plan.support import Project

from .support import plan_json, task, with_policies

QUIET_NOW = """
- name: no-night
  kind: quiet-hours
  level: soft
  start: "00:00"
  end: "23:59"
"""


def test_json_lists_findings_even_when_there_are_none(sqlite_project: Project) -> None:
    sqlite_project.write("a.yaml", task("a", "d1"))
    data = plan_json(sqlite_project)
    assert data["format_version"] == 1
    assert data["findings"] == [] and data["overrides"] == []


def test_markdown_says_which_overrides_unblock_and_escapes_what_users_wrote(
    sqlite_project: Project,
) -> None:
    with_policies(sqlite_project, QUIET_NOW)
    hostile = "<img src=x onerror=alert(1)>|@everyone`"
    sqlite_project.data("data/people.csv", f"device_id\n{hostile}\n")
    sqlite_project.write(
        "a.yaml",
        task("a", "{{ row.device_id }}").replace(
            '"id": "t"', '"id": "t", "fan_out": {"data": "data/people.csv", "key": "k1"}'
        ),
    )
    result = sqlite_project.run("plan", "--format", "markdown")
    assert result.exit_code == 4
    text = result.output
    assert "> [!CAUTION]" in text
    assert "> Policies: soft policy no-night blocks apply until overridden for the run" in text
    assert "--override no-night" in text
    assert "<img" not in text and "@everyone" not in text


def test_text_ends_with_what_blocks_and_how_to_go_on(sqlite_project: Project) -> None:
    with_policies(sqlite_project, QUIET_NOW)
    sqlite_project.write("a.yaml", task("a", "d1"))
    text = sqlite_project.run("plan").output
    assert "error (blocks apply unless overridden): campaigns/a.yaml:1:" in text
    assert "1 recipient would get it between 00:00 and 23:59 their time" in text
    assert text.rstrip().endswith('--override no-night --reason "why".')
