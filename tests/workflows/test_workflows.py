"""What the GitHub Actions workflows, the composite action and the pre-commit hook promise, read
from the files themselves: the scaffold's (as ``pushops init`` writes them), this repository's
``.github/workflows`` and its ``action.yml``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.markers import Marker
from packaging.requirements import Requirement

from pushops import scaffold
from pushops.yamlsource import parse_text

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
SOURCE = "git+https://github.com/acme/pushops@" + "0123456789abcdef" * 2 + "01234567"
PINNED = re.compile(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}")
SECRET_OR_TOKEN = re.compile(r"\$\{\{\s*(secrets\.|github\.token)")


def parse(text: str) -> dict[Any, Any]:
    # YAML 1.2, as GitHub reads it (and pushops): `on` is a key, not True.
    return parse_text(text, "workflow").data


def load(path: Path) -> dict[Any, Any]:
    return parse(path.read_text(encoding="utf-8"))


def scaffolded() -> dict[str, str]:
    """The workflows ``pushops init --source SOURCE`` writes, by file name."""
    return {
        f.path.name: f.text
        for f in scaffold.files(SOURCE)
        if str(f.path).startswith(".github/workflows/")
    }


def every_workflow() -> list[tuple[str, str]]:
    """(name, text) of every workflow we write: the scaffold's and this repository's."""
    ours = [(f"scaffold:{name}", text) for name, text in scaffolded().items()]
    return ours + [(p.name, p.read_text(encoding="utf-8")) for p in sorted(WORKFLOWS.glob("*.yml"))]


def steps(workflow: dict[str, Any], job: str) -> list[dict[str, Any]]:
    return workflow["jobs"][job]["steps"]


def step(workflow: dict[str, Any], job: str, name: str) -> dict[str, Any]:
    return next(s for s in steps(workflow, job) if s.get("name") == name)


def uses_lines(text: str) -> list[str]:
    return [
        line.strip() for line in text.splitlines() if line.strip().startswith(("uses:", "- uses:"))
    ]


def step_secrets(workflow: dict[str, Any], job: str) -> dict[str, set[str]]:
    """Which steps of ``job`` get each secret (``token``: the GitHub token)."""
    holders: dict[str, set[str]] = {}
    for each in steps(workflow, job):
        for value in (each.get("env") or {}).values():
            for secret in re.findall(r"secrets\.(\w+)|github\.(token)", str(value)):
                holders.setdefault("".join(secret), set()).add(each.get("name", "?"))
    return holders


# --- the scaffold is what this repository runs ---------------------------------------------


def test_the_repository_workflows_and_lock_are_the_scaffolds_installing_from_the_checkout():
    generated = [f for f in scaffold.files(source=".") if str(f.path).startswith(".github/")]

    assert {str(f.path) for f in generated} >= {
        ".github/workflows/pushops-plan.yml",
        ".github/workflows/pushops-apply.yml",
        scaffold.LOCK,
    }
    for file in generated:
        assert (ROOT / file.path).read_text(encoding="utf-8") == file.text, file.path


# --- 19.3: secrets only in the steps that use them -----------------------------------------


@pytest.mark.parametrize(("name", "text"), every_workflow(), ids=lambda v: str(v)[:40])
def test_no_secret_or_token_in_workflow_or_job_level_env(name: str, text: str):
    workflow = parse(text)

    assert not SECRET_OR_TOKEN.search(yaml.safe_dump(workflow.get("env") or {})), name
    for job_id, job in workflow["jobs"].items():
        assert not SECRET_OR_TOKEN.search(yaml.safe_dump(job.get("env") or {})), (name, job_id)
        for each in job["steps"]:
            outside_env = {k: v for k, v in each.items() if k != "env"}
            assert not SECRET_OR_TOKEN.search(yaml.safe_dump(outside_env)), (name, each)


def test_each_secret_reaches_only_the_steps_that_need_it():
    plan, apply = (parse(scaffolded()[f"pushops-{n}.yml"]) for n in ("plan", "apply"))

    assert step_secrets(plan, "plan") == {"PUSHOPS_STATE_DSN_READONLY": {"Plan"}, "token": {"Plan"}}
    assert step_secrets(apply, "apply") == {
        "PUSHOPS_STATE_DSN": {"Plan", "Apply"},
        "ALIBABA_CLOUD_ACCESS_KEY_ID": {"Apply"},
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": {"Apply"},
    }


def test_the_drift_job_gets_only_read_access_and_the_query_key_each_where_used():
    drift = parse(scaffolded()["pushops-drift.yml"])

    assert step_secrets(drift, "drift") == {
        "PUSHOPS_STATE_DSN_READONLY": {"Refresh"},
        "PUSHOPS_QUERY_ACCESS_KEY_ID": {"Refresh"},
        "PUSHOPS_QUERY_ACCESS_KEY_SECRET": {"Refresh"},
        "token": {"Open or update the drift issue"},
    }
    # The issue is the only thing it may write; nothing of the apply job's (send key, ledger).
    assert drift["permissions"] == {"contents": "read"}
    assert drift["jobs"]["drift"]["permissions"] == {"contents": "read", "issues": "write"}
    assert "secrets.ALIBABA_CLOUD" not in scaffolded()["pushops-drift.yml"]
    assert "secrets.PUSHOPS_STATE_DSN }}" not in scaffolded()["pushops-drift.yml"]


def test_the_drift_job_runs_nightly_and_by_hand_and_fails_on_drift_with_an_issue():
    drift = parse(scaffolded()["pushops-drift.yml"])
    refresh = step(drift, "drift", "Refresh")
    issue = step(drift, "drift", "Open or update the drift issue")
    fail = step(drift, "drift", "Fail on drift")

    assert set(drift["on"]) == {"schedule", "workflow_dispatch"}
    assert [entry["cron"] for entry in drift["on"]["schedule"]] == ["17 3 * * *"]
    assert "pushops refresh" in refresh["run"] and "--format markdown" in refresh["run"]
    assert all("--apply" not in each.get("run", "") for each in steps(drift, "drift"))
    assert 'echo "drift=true" >> "$GITHUB_OUTPUT"' in refresh["run"]
    assert issue["if"] == fail["if"] == "steps.refresh.outputs.drift == 'true'"
    assert "-F body=@pushops-drift-issue.md" in issue["run"]
    assert "head -c 60000 pushops-drift.md" in issue["run"]  # under GitHub's body limit
    assert fail["run"].rstrip().endswith("exit 1")


def test_the_report_job_reads_with_the_query_key_and_comments_with_the_token_only():
    report = parse(scaffolded()["pushops-report.yml"])

    assert step_secrets(report, "report") == {
        "PUSHOPS_STATE_DSN_READONLY": {"Report"},
        "PUSHOPS_QUERY_ACCESS_KEY_ID": {"Report"},
        "PUSHOPS_QUERY_ACCESS_KEY_SECRET": {"Report"},
        "token": {"Comment on yesterday's merged pull requests"},
    }
    assert report["permissions"] == {"contents": "read"}
    assert report["jobs"]["report"]["permissions"] == {
        "contents": "read",
        "pull-requests": "write",
    }


def test_the_report_job_comments_once_a_day_on_the_pull_requests_merged_the_day_before():
    report = parse(scaffolded()["pushops-report.yml"])
    reading = step(report, "report", "Report")["run"]
    commenting = step(report, "report", "Comment on yesterday's merged pull requests")["run"]

    assert set(report["on"]) == {"schedule", "workflow_dispatch"}
    assert "pushops report" in reading and "--format markdown" in reading
    assert 'day="$(date -u -d yesterday +%F)"' in commenting
    assert "is:pr is:merged merged:$day" in commenting
    assert 'grep -qF -- "$marker"' in commenting  # a re-run does not comment twice
    assert "-F body=@pushops-report-comment.md" in commenting
    assert "head -c 60000 pushops-report.md" in commenting
    assert step(report, "report", "Fail on unread statistics")["if"] == (
        "steps.report.outputs.exit != '0'"
    )


def test_the_plan_workflow_has_no_send_credentials():
    text = scaffolded()["pushops-plan.yml"]

    assert "ALIBABA_CLOUD" not in text
    assert set(re.findall(r"secrets\.([A-Z_]+)", text)) == {"PUSHOPS_STATE_DSN_READONLY"}


def test_the_action_reads_no_secret_itself():
    action = load(ROOT / "action.yml")  # the caller passes them in the env of its step

    assert not SECRET_OR_TOKEN.search(yaml.safe_dump(action))


# --- 13.1: third-party actions pinned by commit --------------------------------------------


def test_every_action_is_pinned_by_a_commit_sha_with_its_version_beside_it():
    pins: dict[str, set[str]] = {}
    texts = [*every_workflow(), ("action.yml", (ROOT / "action.yml").read_text(encoding="utf-8"))]
    for name, text in texts:
        for line in uses_lines(text):
            match = re.fullmatch(r"(?:- )?uses: (\S+)(?: # (v\d+\.\d+\.\d+))?", line)
            assert match, (name, line)
            ref = match.group(1)
            if ref.startswith("./"):
                continue  # this repository's own action
            assert PINNED.fullmatch(ref), (name, line)
            assert match.group(2), f"{name}: say the version the SHA is: {line}"
            pins.setdefault(ref.split("@")[0], set()).add(ref.split("@")[1])
    assert {"actions/checkout", "actions/setup-python", "actions/upload-artifact"} <= set(pins)
    assert {action: shas for action, shas in pins.items() if len(shas) > 1} == {}


# --- 19.4: checks a branch rule can require ------------------------------------------------


def test_the_check_names_are_the_ones_docs_ci_md_tells_you_to_require():
    docs = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")
    required = re.findall(r"require the `([^`]+)` check", docs)

    assert required == ["pushops plan"]
    for name, text in every_workflow():
        if "pushops-plan" in name:
            assert parse(text)["jobs"]["plan"]["name"] == "pushops plan", name
        if "pushops-apply" in name:
            assert parse(text)["jobs"]["apply"]["name"] == "pushops apply", name


def test_the_plan_runs_on_pull_requests_and_merge_queue_groups():
    plan = parse(scaffolded()["pushops-plan.yml"])

    assert set(plan["on"]) == {"pull_request", "merge_group"}
    assert plan["permissions"] == {"contents": "read", "pull-requests": "write"}
    # One group per pull request, or per merge-queue group (their refs differ).
    assert plan["concurrency"]["group"] == (
        "pushops-plan-${{ github.event.pull_request.number || github.ref }}"
    )


def test_forks_and_dependabot_plan_in_the_sandbox_with_a_notice_and_unset_secrets():
    run = step(parse(scaffolded()["pushops-plan.yml"]), "plan", "Plan")["run"]

    assert '"$HEAD_REPOSITORY" != "$REPOSITORY"' in run
    assert '"$ACTOR" = "dependabot[bot]"' in run
    sandbox = run[run.index('if [ -n "$why" ]') :]
    assert "::notice" in sandbox and "--sandbox" in sandbox
    assert "unset PUSHOPS_STATE_DSN GITHUB_TOKEN" in sandbox


# --- apply: one at a time, queued, never cancelled -----------------------------------------


def test_apply_runs_on_main_in_a_protected_environment_queued_never_cancelled():
    apply = parse(scaffolded()["pushops-apply.yml"])

    assert apply["on"] == {"push": {"branches": ["main"]}}
    assert apply["jobs"]["apply"]["environment"] == "production"
    assert apply["concurrency"] == {
        "group": "pushops-apply-production",
        "cancel-in-progress": False,
        "queue": "max",  # a newer merge waits behind a waiting apply instead of replacing it
    }
    assert apply["permissions"] == {"contents": "read"}


@pytest.mark.parametrize(("name", "text"), every_workflow(), ids=lambda v: str(v)[:40])
def test_no_workflow_asks_for_a_queue_github_refuses(name: str, text: str):
    concurrency = parse(text).get("concurrency") or {}
    if isinstance(concurrency, dict) and concurrency.get("queue") == "max":
        assert concurrency.get("cancel-in-progress") is False, name


@pytest.mark.parametrize(
    ("name", "job"), [("pushops-plan.yml", "plan"), ("pushops-apply.yml", "apply")]
)
def test_the_html_report_is_written_and_uploaded_with_the_plan(name: str, job: str):
    workflow = parse(scaffolded()[name])
    upload = next(s for s in steps(workflow, job) if "upload-artifact" in s.get("uses", ""))

    assert "--report pushops-plan.html" in step(workflow, job, "Plan")["run"]
    assert "pushops-plan.html" in upload["with"]["path"].split()
    assert upload["if"] == "always()"


def test_apply_plans_then_applies_exactly_that_plan_and_refuses_without_the_ledger():
    apply = parse(scaffolded()["pushops-apply.yml"])
    names = [s.get("name") for s in steps(apply, "apply")]
    plan, applying = step(apply, "apply", "Plan")["run"], step(apply, "apply", "Apply")["run"]

    assert names.index("Validate") < names.index("Plan") < names.index("Apply")
    assert plan.index('if [ -z "$PUSHOPS_STATE_DSN" ]') < plan.index("pushops plan")
    assert "exit 1" in plan and "--out pushops.plan" in plan
    assert applying.startswith("pushops apply pushops.plan") and "--auto-approve" in applying


# --- 13.1 / 19.3: the install step ---------------------------------------------------------


def test_every_install_step_installs_the_hashed_lock_then_the_pinned_source_alone():
    for name, text in scaffolded().items():
        workflow = parse(text)
        (job,) = workflow["jobs"]
        install = step(workflow, job, "Install pushops")
        lines = [line.strip() for line in install["run"].splitlines()]

        assert install["env"] == {"PUSHOPS_SOURCE": SOURCE}, name
        assert (
            "python -m pip install --quiet --require-hashes --only-binary :all: "
            "-r .github/pushops/requirements.txt" in lines
        ), name
        assert (
            'python -m pip install --quiet --no-deps --no-build-isolation "$PUSHOPS_SOURCE"'
            in lines
        ), name
        others = [s for s in steps(workflow, job) if s is not install]
        assert not [s for s in others if "pip " in s.get("run", "")], name


def test_without_a_known_source_the_install_step_fails_saying_how_to_set_it():
    (plan,) = [f for f in scaffold.files(None) if f.path.name == "pushops-plan.yml"]
    install = step(parse(plan.text), "plan", "Install pushops")

    assert install["env"] == {"PUSHOPS_SOURCE": ""}
    assert "pushops init --upgrade --source" in install["run"]


def locked() -> dict[str, list[tuple[str, Marker | None]]]:
    """name -> [(version, marker)] of the lock, and every line carries a sha256."""
    text = (ROOT / scaffold.LOCK).read_text(encoding="utf-8")
    entries: dict[str, list[tuple[str, Marker | None]]] = {}
    for block in re.split(r"\n(?=\S)", text):
        if block.startswith("#") or not block.strip():
            continue
        head = block.split("\\")[0].strip()
        assert "--hash=sha256:" in block, head
        requirement = Requirement(head)
        (spec,) = requirement.specifier
        assert spec.operator == "==", head
        entries.setdefault(requirement.name.lower().replace("_", "-"), []).append(
            (spec.version, requirement.marker)
        )
    return entries


@pytest.mark.parametrize("python", ["3.10", "3.11", "3.12", "3.13"])
def test_the_lock_satisfies_every_dependency_pushops_declares(python: str):
    try:
        import tomllib
    except ImportError:  # Python 3.10: pytest's own dependency
        import tomli as tomllib  # type: ignore[no-redef]

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    wanted = [
        *project["project"]["dependencies"],
        *[r for r in project["project"]["optional-dependencies"]["postgres"]],
        *project["build-system"]["requires"],
    ]
    env = {"python_version": python, "python_full_version": f"{python}.0",
           "sys_platform": "linux", "implementation_name": "cpython"}  # fmt: skip
    lock = locked()
    for text in wanted:
        requirement = Requirement(text)
        name = requirement.name.lower().replace("_", "-")
        versions = [v for v, marker in lock.get(name, []) if marker is None or marker.evaluate(env)]
        assert versions, f"{name} is not in {scaffold.LOCK}: run tools/lock/update"
        assert requirement.specifier.contains(versions[0]), (
            f"{name}=={versions[0]} in the lock does not satisfy {text}: run tools/lock/update"
        )


def test_the_lock_pins_jinja_past_the_sandbox_escape():
    (version, _), *_ = locked()["jinja2"]

    assert tuple(int(p) for p in version.split(".")) >= (3, 1, 6)  # CVE-2025-27516


# --- the composite action ------------------------------------------------------------------


def test_the_action_is_composite_and_declares_every_input_it_reads():
    action = load(ROOT / "action.yml")
    text = (ROOT / "action.yml").read_text(encoding="utf-8")

    assert action["runs"]["using"] == "composite"
    used = set(re.findall(r"inputs\.([a-z-]+)", text))
    assert used <= set(action["inputs"])
    assert {"command", "environment", "comment", "args", "apply-args"} <= set(action["inputs"])


def test_the_action_passes_inputs_to_scripts_only_through_the_environment():
    action = load(ROOT / "action.yml")

    for each in action["runs"]["steps"]:
        assert "${{" not in each.get("run", ""), each.get("name")


def test_the_action_leaves_the_callers_python_and_path_alone():
    action = load(ROOT / "action.yml")
    setup = next(s for s in action["runs"]["steps"] if "setup-python" in s.get("uses", ""))
    text = (ROOT / "action.yml").read_text(encoding="utf-8")

    assert setup["with"]["update-environment"] is False
    assert "GITHUB_PATH" not in text and "GITHUB_ENV" not in text


def test_the_action_installs_from_its_own_checkout_and_hashed_lock():
    action = load(ROOT / "action.yml")
    install = next(s for s in action["runs"]["steps"] if s.get("name") == "Install pushops")

    assert "--require-hashes" in install["run"]
    assert '--no-deps --no-build-isolation "$ACTION_PATH"' in install["run"]
    assert "version" not in action["inputs"]  # no unpinned requirement from an index


# --- pre-commit and this repository's own CI -----------------------------------------------


def test_ci_still_tests_every_supported_python():
    ci = load(WORKFLOWS / "ci.yml")

    assert ci["jobs"]["test"]["strategy"]["matrix"]["python-version"] == [
        "3.10",
        "3.11",
        "3.12",
        "3.13",
    ]


def test_the_pre_commit_hook_validates_when_campaigns_or_config_change():
    (hook,) = parse_text(
        (ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"), ".pre-commit-hooks.yaml"
    ).data
    files = re.compile(hook["files"])

    assert hook["id"] == "pushops-validate"
    assert hook["language"] == "python"
    assert hook["entry"] == "pushops validate"
    assert hook["pass_filenames"] is False
    assert files.search("campaigns/black-friday.yaml") and files.search("pushops.yaml")
    assert not files.search("README.md")
