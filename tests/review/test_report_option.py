"""Where the report goes: ``--report FILE`` besides the printed plan, ``--format html`` on
stdout, never ``--out`` (the plan file); and the comment says where the full report is."""

from __future__ import annotations

from pathlib import Path

from .support import android, new_repo, plan

ACTIONS = {
    "GITHUB_ACTIONS": "true",
    "GITHUB_SERVER_URL": "https://github.com",
    "GITHUB_REPOSITORY": "acme/pushes",
    "GITHUB_RUN_ID": "12345",
}


def test_report_writes_the_page_besides_the_printed_plan(tmp_path: Path) -> None:
    root = new_repo(tmp_path, {"a.yaml": android("sale", "Sale starts")})
    result = plan(root, "--report", "report.html")
    assert result.exit_code == 0
    assert "sale: 1 to send" in result.stdout  # the text plan, as usual
    page = (root / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and "Sale starts" in page
    assert "Wrote the HTML report to report.html." in result.stderr


def test_format_html_prints_the_report(tmp_path: Path) -> None:
    root = new_repo(tmp_path, {"a.yaml": android("sale", "Sale starts")})
    result = plan(root, "--format", "html")
    assert result.exit_code == 0 and result.stdout.startswith("<!doctype html>")


def test_out_with_an_html_name_is_refused_pointing_to_report(tmp_path: Path) -> None:
    root = new_repo(tmp_path, {"a.yaml": android("sale", "Sale starts")})
    result = plan(root, "--format", "html", "--out", "report.html")
    assert result.exit_code == 1
    assert "--out saves the plan file for `pushops apply`, not a report" in result.output
    assert "use --report report.html" in result.output
    assert not (root / "report.html").exists()


def test_the_comment_links_the_workflow_runs_artifacts_in_github_actions(tmp_path: Path) -> None:
    root = new_repo(tmp_path, {"a.yaml": android("sale", "Sale starts")})
    markdown = plan(root, "--format", "markdown", "--report", "report.html", env=ACTIONS).stdout
    assert (
        "Full report with notification previews: `report.html` in the "
        "[artifacts of this workflow run](https://github.com/acme/pushes/actions/runs/12345)."
    ) in markdown


def test_a_malformed_runner_variable_makes_no_link(tmp_path: Path) -> None:
    root = new_repo(tmp_path, {"a.yaml": android("sale", "Sale starts")})
    env = {**ACTIONS, "GITHUB_SERVER_URL": "javascript:alert(1)//"}
    markdown = plan(root, "--format", "markdown", "--report", "r.html", env=env).stdout
    assert "Full report with notification previews: `r.html`." in markdown
    assert "javascript" not in markdown
