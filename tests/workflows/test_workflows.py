"""What the GitHub Actions workflows, the composite action and the pre-commit hook promise."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from pushops import scaffold

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"


def load(path: Path) -> dict[Any, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    # YAML 1.1 reads the key `on` as True.
    if True in data:
        data["on"] = data.pop(True)
    return data


def steps(workflow: dict[str, Any], job: str) -> list[dict[str, Any]]:
    return workflow["jobs"][job]["steps"]


def run_text(workflow: dict[str, Any], job: str) -> str:
    return "\n".join(s.get("run", "") for s in steps(workflow, job))


def test_the_repository_pushops_workflows_are_the_scaffolds_installing_from_the_checkout():
    for file in scaffold.files(".[postgres]"):
        if str(file.path).startswith(".github/workflows/"):
            assert (ROOT / file.path).read_text(encoding="utf-8") == file.text, file.path


def test_plan_runs_on_pull_requests_with_no_more_than_read_and_comment_permissions():
    plan = load(WORKFLOWS / "pushops-plan.yml")

    assert list(plan["on"]) == ["pull_request"]
    assert plan["permissions"] == {"contents": "read", "pull-requests": "write"}


def test_plan_has_no_send_credentials_and_reads_the_ledger_through_a_read_only_secret():
    text = (WORKFLOWS / "pushops-plan.yml").read_text(encoding="utf-8")

    assert "ALIBABA_CLOUD" not in text
    assert set(re.findall(r"secrets\.([A-Z_]+)", text)) == {"PUSHOPS_STATE_DSN_READONLY"}


def test_plan_validates_then_plans_with_the_comment_and_uploads_the_plan():
    plan = load(WORKFLOWS / "pushops-plan.yml")
    names = [s.get("run", s.get("uses", "")) for s in steps(plan, "plan")]
    validate = next(i for i, n in enumerate(names) if n == "pushops validate")
    planned = next(i for i, n in enumerate(names) if "pushops plan" in n)

    assert validate < planned
    assert "--comment" in names[planned] and "--out pushops.plan" in names[planned]
    upload = next(s for s in steps(plan, "plan") if "upload-artifact" in s.get("uses", ""))
    assert upload["with"]["name"] == "pushops-plan" and upload["if"] == "always()"


def test_a_fork_pull_request_is_planned_without_secrets_in_the_sandbox_with_a_notice():
    plan = load(WORKFLOWS / "pushops-plan.yml")
    fork = next(
        s
        for s in steps(plan, "plan")
        if "!=" in str(s.get("if", "")) and "pushops plan" in s.get("run", "")
    )

    assert fork["if"] == "github.event.pull_request.head.repo.full_name != github.repository"
    assert "env" not in fork and "secrets." not in fork["run"]
    assert "--sandbox" in fork["run"] and "::notice" in fork["run"]


def test_apply_runs_on_main_in_a_protected_environment_one_at_a_time():
    apply = load(WORKFLOWS / "pushops-apply.yml")

    assert apply["on"] == {"push": {"branches": ["main"]}}
    assert apply["jobs"]["apply"]["environment"] == "production"
    assert apply["concurrency"]["cancel-in-progress"] is False
    assert apply["permissions"] == {"contents": "read"}


def test_apply_applies_the_plan_it_made_and_writes_the_job_summary():
    apply = load(WORKFLOWS / "pushops-apply.yml")
    text = run_text(apply, "apply")

    assert text.index("pushops plan") < text.index("pushops apply pushops.plan")
    assert "--auto-approve" in text
    assert text.count('>> "$GITHUB_STEP_SUMMARY"') >= 2


def test_apply_refuses_to_run_without_the_shared_ledger():
    apply = load(WORKFLOWS / "pushops-apply.yml")
    guard = next(s for s in steps(apply, "apply") if "PUSHOPS_STATE_DSN" in s.get("run", ""))

    assert 'if [ -z "$PUSHOPS_STATE_DSN" ]' in guard["run"] and "exit 1" in guard["run"]
    names = [s.get("run", "") for s in steps(apply, "apply")]
    assert names.index(guard["run"]) < next(
        i for i, n in enumerate(names) if n.startswith("pushops apply")
    )


def test_ci_still_tests_every_supported_python():
    ci = load(WORKFLOWS / "ci.yml")

    assert ci["jobs"]["test"]["strategy"]["matrix"]["python-version"] == [
        "3.10",
        "3.11",
        "3.12",
        "3.13",
    ]


def test_the_action_is_composite_and_declares_every_input_it_reads():
    action = load(ROOT / "action.yml")
    text = (ROOT / "action.yml").read_text(encoding="utf-8")

    assert action["runs"]["using"] == "composite"
    used = set(re.findall(r"inputs\.([a-z-]+)", text))
    assert used <= set(action["inputs"])
    assert {"command", "environment", "comment"} <= set(action["inputs"])


def test_the_action_passes_inputs_to_scripts_only_through_the_environment():
    action = load(ROOT / "action.yml")

    for step in action["runs"]["steps"]:
        assert "${{" not in step.get("run", ""), step.get("name")


def test_the_pre_commit_hook_validates_when_campaigns_or_config_change():
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    files = re.compile(hook["files"])

    assert hook["id"] == "pushops-validate"
    assert hook["language"] == "python"
    assert hook["entry"] == "pushops validate"
    assert hook["pass_filenames"] is False
    assert files.search("campaigns/black-friday.yaml") and files.search("pushops.yaml")
    assert not files.search("README.md")
