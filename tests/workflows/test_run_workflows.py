"""The pushops workflows, run: every ``run:`` step of pushops-plan.yml (a pull request) and then
of pushops-apply.yml (the merge), in order, with bash as Actions runs it, against the emulator
and the local fake GitHub API, with the environment Actions would give each step.

What cannot run outside GitHub is replaced, explicitly:

- the ``uses:`` steps (checkout, setup-python, upload-artifact) and the "Install pushops"
  step are skipped by name: the checkout is a copy of this repository's push files, and
  pushops is already installed in the interpreter running the tests (tests/workflows/
  test_install.py runs that step, exactly as written, in a fresh virtualenv);
- ``gh`` (GitHub's CLI, preinstalled on its runners, not here): the drift job's step that opens
  the issue with it and the report job's that comments are skipped by name; what it is given is checked in test_workflows.py and
  its script by shellcheck;
- the secrets are provided by the test: the ledger DSN secrets name a throwaway SQLite file
  (the commands take a path as well as a PostgreSQL DSN; a PostgreSQL DSN would need a
  schema the workflow does not pass), and the send credentials are a throwaway key the
  emulator accepts, which PUSHOPS_*_ENDPOINT points the providers at.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from pushops.emulator import Emulator
from pushops.ledger import open_ledger
from pushops.yamlsource import parse_text
from tests.github.fake_github import FakeGitHubServer
from tests.plan.support import plan_calls

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
REPOSITORY = "acme/push-campaigns"
PULL = 7
AKID, SECRET = "LTAIworkflowtest", "workflow-test-secret-0f9e"
SKIPPED_ACTIONS = ("actions/checkout@", "actions/setup-python@", "actions/upload-artifact@")
SKIPPED_RUNS = (
    "Install pushops",
    "Open or update the drift issue",
    "Comment on yesterday's merged pull requests",
)


def load(name: str) -> dict[str, Any]:
    # YAML 1.2, as GitHub reads it (and pushops): `on` is a key, not True.
    return parse_text((WORKFLOWS / name).read_text(encoding="utf-8"), name).data


def expression(text: str, context: Mapping[str, str]) -> str:
    """The few ``${{ }}`` expressions the workflows use; any other one fails the test, so a
    workflow edit that this runner does not understand is noticed."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1).strip()
        if name not in context:
            raise AssertionError(f"the test runner does not know ${{{{ {name} }}}}")
        return context[name]

    return re.sub(r"\$\{\{(.*?)\}\}", value, text)


def condition(text: str | None, context: Mapping[str, str]) -> bool:
    if text is None or text == "always()":
        return True
    match = re.fullmatch(r"\s*([\w.]+)\s*(==|!=)\s*([\w.]+|'[^']*')\s*", text)
    assert match, f"the test runner does not know the condition {text!r}"

    def value(name: str) -> str:
        if name.startswith("'"):
            return name[1:-1]
        # A step output no step wrote is empty, as in Actions.
        return context.get(name, "") if name.startswith("steps.") else context[name]

    left, op, right = value(match.group(1)), match.group(2), value(match.group(3))
    return (left == right) == (op == "==")


class StepFailed(AssertionError):
    def __init__(self, name: str, done: subprocess.CompletedProcess[str], ran: list[str]):
        super().__init__(f"step {name!r} failed:\n{done.stdout}\n{done.stderr}")
        self.name, self.done, self.ran = name, done, ran


def run_job(
    workflow: dict[str, Any], job: str, cwd: Path, env: Mapping[str, str], ctx: Mapping[str, str]
) -> list[str]:
    """Run the job's steps in order as Actions would (bash -eo pipefail); names of those run.
    A failing step raises StepFailed, and (as on GitHub) the later steps do not run."""
    spec = workflow["jobs"][job]
    base = {**env, **{k: expression(str(v), ctx) for k, v in workflow.get("env", {}).items()}}
    base.update({k: expression(str(v), ctx) for k, v in spec.get("env", {}).items()})
    ran: list[str] = []
    # What a step writes to $GITHUB_ENV (NAME=value lines) the later steps of the job get.
    github_env = cwd.parent / f"github-env-{job}.txt"
    github_env.write_text("")
    base["GITHUB_ENV"] = str(github_env)
    # What a step with an id writes to $GITHUB_OUTPUT the later steps read as
    # steps.<id>.outputs.<name>.
    ctx = dict(ctx)
    github_output = cwd.parent / f"github-output-{job}.txt"
    base["GITHUB_OUTPUT"] = str(github_output)
    for step in spec["steps"]:
        name = step.get("name") or step.get("uses", "")
        if "uses" in step:
            assert step["uses"].startswith(SKIPPED_ACTIONS), f"unknown action {step['uses']}"
            continue
        if name in SKIPPED_RUNS or not condition(step.get("if"), ctx):
            continue
        github_output.write_text("")
        step_env = {**base, **{k: expression(str(v), ctx) for k, v in step.get("env", {}).items()}}
        script = expression(step["run"], ctx)
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
            cwd=cwd, env=step_env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        if done.returncode != 0:
            raise StepFailed(name, done, ran)
        ran.append(name)
        for line in github_output.read_text().splitlines():
            key, _, value = line.partition("=")
            assert key and "<<" not in key, f"the test runner reads only NAME=value: {line!r}"
            ctx[f"steps.{step.get('id')}.outputs.{key}"] = value
        for line in github_env.read_text().splitlines():
            key, _, value = line.partition("=")
            assert key and "<<" not in key, f"the test runner reads only NAME=value: {line!r}"
            base[key] = value
        github_env.write_text("")
    return ran


@pytest.fixture
def services() -> Iterator[tuple[Emulator, FakeGitHubServer]]:
    with Emulator(credentials={AKID: SECRET}) as emulator, FakeGitHubServer() as github:
        yield emulator, github


def runner_env(tmp_path: Path, emulator: Emulator, github: FakeGitHubServer) -> dict[str, str]:
    """What the Actions runner sets for every step, plus the emulator's endpoints."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("PUSHOPS_", "GITHUB_"))}
    return {
        **keep,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "GITHUB_ACTIONS": "true",
        "GITHUB_REPOSITORY": REPOSITORY,
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_RUN_ID": "4242",
        "GITHUB_API_URL": github.url,
        "GITHUB_STEP_SUMMARY": str(tmp_path / "step-summary.md"),
        "GITHUB_OUTPUT": str(tmp_path / "step-output.txt"),
        "PUSHOPS_EMAS_ENDPOINT": emulator.url,
        "PUSHOPS_MPAAS_ENDPOINT": emulator.url,
        "PUSHOPS_NOW": "",
    }


def init_shared_ledger(checkout: Path, ledger: str, env: Mapping[str, str]) -> None:
    """What the team does once, before the first pull request (docs/state.md): create the
    shared ledger and commit the binding; CI refuses to plan or apply against an empty one."""
    init = subprocess.run(
        [sys.executable, "-m", "pushops", "state", "init", "--env", "production", "--state", ledger],
        cwd=checkout, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert init.returncode == 0, init.stderr


def event_file(tmp_path: Path, name: str, event: dict[str, Any]) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(event), encoding="utf-8")
    return str(path)


def pull_request(
    tmp_path: Path, env: dict[str, str], head: str = REPOSITORY
) -> tuple[dict[str, str], dict[str, str]]:
    """The runner's environment and the expression context of a pull_request run."""
    pull = {"number": PULL, "head": {"repo": {"full_name": head}},
            "base": {"repo": {"full_name": REPOSITORY}}}  # fmt: skip
    pr_env = {**env, "GITHUB_EVENT_PATH": event_file(tmp_path, "pr.json", {"pull_request": pull})}
    ctx = {
        "github.event_name": "pull_request",
        "github.event.pull_request.number": str(PULL),
        "github.event.pull_request.head.repo.full_name": head,
        "github.repository": REPOSITORY,
        "github.actor": "octocat",
    }
    return pr_env, ctx


def test_the_plan_then_apply_workflows_comment_summarise_and_send_exactly_the_plan(
    tmp_path: Path, checkout: Path, services: tuple[Emulator, FakeGitHubServer]
) -> None:
    emulator, github = services
    env = runner_env(tmp_path, emulator, github)
    ledger = str(tmp_path / "shared-ledger.db")  # the shared ledger (see the module docstring)
    # Once, before the first pull request, the team creates the shared ledger and commits the
    # binding (docs/state.md); without it CI refuses to plan or apply against an empty ledger.
    init_shared_ledger(checkout, ledger, env)
    pr_env, pr_ctx = pull_request(tmp_path, env)
    pr_ctx |= {"github.token": github.fake.token, "secrets.PUSHOPS_STATE_DSN_READONLY": ledger}

    ran = run_job(load("pushops-plan.yml"), "plan", checkout, pr_env, pr_ctx)

    assert ran == ["Validate", "Plan"]
    (comment,) = github.fake.comments[PULL]
    assert comment["body"].startswith("<!-- pushops-plan -->")
    assert comment["user"]["login"] == "github-actions[bot]"
    assert "pushops plan" in comment["body"] and "| send |" in comment["body"]
    summary = Path(env["GITHUB_STEP_SUMMARY"])
    assert "production/black-friday/r1/android" in summary.read_text(encoding="utf-8")
    planned = plan_calls(checkout / "pushops.plan")
    assert planned and emulator.deliveries() == []  # planning sent nothing
    report = (checkout / "pushops-plan.html").read_text(encoding="utf-8")  # uploaded with it
    assert "black-friday" in report
    run = f"https://github.com/{REPOSITORY}/actions/runs/4242"
    assert (
        f"`pushops-plan.html` in the [artifacts of this workflow run]({run})" in (comment["body"])
    )

    summary.write_text("", encoding="utf-8")  # a new job, a new summary
    push_env = {**env, "GITHUB_EVENT_PATH": event_file(tmp_path, "push.json", {"ref": "main"})}
    push_ctx = {
        "secrets.PUSHOPS_STATE_DSN": ledger,
        "secrets.ALIBABA_CLOUD_ACCESS_KEY_ID": AKID,
        "secrets.ALIBABA_CLOUD_ACCESS_KEY_SECRET": SECRET,
    }
    ran = run_job(load("pushops-apply.yml"), "apply", checkout, push_env, push_ctx)

    assert ran == ["Validate", "Plan", "Apply", "Summary"]
    text = summary.read_text(encoding="utf-8")
    assert "<!-- pushops-plan -->" in text and "## pushops apply" in text
    assert "Apply complete" in text
    # Exactly the plan: one provider message per planned PushTask or broadcast (deliveries
    # merged into one task share it), and every planned send recorded as sent (or scheduled).
    messages = sum(len({d[5] for d in call[8]}) for call in planned)  # type: ignore[union-attr]
    assert len(emulator.deliveries()) == messages
    with open_ledger(ledger) as opened:
        status = {d.key: d.status for d in opened.current_deliveries(with_request=False)}
    assert sorted(d[0] for call in planned for d in call[8]) == sorted(  # type: ignore[union-attr]
        k for k, v in status.items() if v in ("sent", "scheduled")
    )
    assert len(github.fake.comments[PULL]) == 1  # apply posts no comment


def test_a_fork_pull_request_is_planned_in_the_sandbox_into_the_summary_only(
    tmp_path: Path, checkout: Path, services: tuple[Emulator, FakeGitHubServer]
) -> None:
    emulator, github = services
    env = runner_env(tmp_path, emulator, github)
    pr_env, ctx = pull_request(tmp_path, env, head="stranger/push-campaigns")
    # A fork gets no secrets and a read-only token.
    ctx |= {"github.token": "ghs_readonly", "secrets.PUSHOPS_STATE_DSN_READONLY": ""}

    ran = run_job(load("pushops-plan.yml"), "plan", checkout, pr_env, ctx)

    assert ran == ["Validate", "Plan"]
    assert github.fake.requests == []
    summary = Path(env["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8")
    assert "comes from a fork, so it gets no secrets" in summary
    assert "production/black-friday/r1/android" in summary
    assert emulator.deliveries() == []


def test_dependabots_pull_request_without_the_secret_plans_in_the_sandbox_with_a_notice(
    tmp_path: Path, checkout: Path, services: tuple[Emulator, FakeGitHubServer]
) -> None:
    emulator, github = services
    env = runner_env(tmp_path, emulator, github)
    pr_env, ctx = pull_request(tmp_path, env)  # a branch of this repository
    ctx |= {"github.actor": "dependabot[bot]", "github.token": github.fake.token,
            "secrets.PUSHOPS_STATE_DSN_READONLY": ""}  # fmt: skip

    ran = run_job(load("pushops-plan.yml"), "plan", checkout, pr_env, ctx)

    assert ran == ["Validate", "Plan"]
    assert github.fake.requests == []  # a sandbox plan is never posted as the plan
    summary = Path(env["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8")
    assert "Dependabot's pull requests, so it gets no secrets" in summary
    assert "(sandbox)" in summary and "production/black-friday/r1/android" in summary


def test_a_pull_request_by_a_person_without_the_secret_fails_saying_which_secret(
    tmp_path: Path, checkout: Path, services: tuple[Emulator, FakeGitHubServer]
) -> None:
    emulator, github = services
    env = runner_env(tmp_path, emulator, github)
    pr_env, ctx = pull_request(tmp_path, env)
    ctx |= {"github.token": github.fake.token, "secrets.PUSHOPS_STATE_DSN_READONLY": ""}

    with pytest.raises(StepFailed) as failed:
        run_job(load("pushops-plan.yml"), "plan", checkout, pr_env, ctx)

    assert failed.value.name == "Plan" and failed.value.ran == ["Validate"]
    assert "::error title=pushops plan::Set the PUSHOPS_STATE_DSN_READONLY secret" in (
        failed.value.done.stdout
    )
    assert github.fake.requests == []


def test_a_merge_queue_group_is_planned_against_the_ledger_into_the_summary(
    tmp_path: Path, checkout: Path, services: tuple[Emulator, FakeGitHubServer]
) -> None:
    emulator, github = services
    env = runner_env(tmp_path, emulator, github)
    group = {
        "merge_group": {"head_sha": "0" * 40, "head_ref": "refs/heads/gh-readonly-queue/main/pr-7"}
    }
    mq_env = {**env, "GITHUB_EVENT_PATH": event_file(tmp_path, "mq.json", group)}
    init_shared_ledger(checkout, str(tmp_path / "shared-ledger.db"), env)
    ctx = {
        "github.event_name": "merge_group",
        "github.event.pull_request.number": "",
        "github.event.pull_request.head.repo.full_name": "",
        "github.repository": REPOSITORY,
        "github.actor": "octocat",
        "github.token": github.fake.token,
        "secrets.PUSHOPS_STATE_DSN_READONLY": str(tmp_path / "shared-ledger.db"),
    }

    ran = run_job(load("pushops-plan.yml"), "plan", checkout, mq_env, ctx)

    assert ran == ["Validate", "Plan"]
    assert github.fake.requests == []  # no pull request to comment on
    summary = Path(env["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8")
    assert "<!-- pushops-plan -->" in summary and "(sandbox)" not in summary
    assert "production/black-friday/r1/android" in summary


def test_apply_without_the_ledger_secret_fails_before_anything_is_sent(
    tmp_path: Path, checkout: Path, services: tuple[Emulator, FakeGitHubServer]
) -> None:
    emulator, github = services
    env = runner_env(tmp_path, emulator, github)
    push_env = {**env, "GITHUB_EVENT_PATH": event_file(tmp_path, "push.json", {"ref": "main"})}
    ctx = {"secrets.PUSHOPS_STATE_DSN": "", "secrets.ALIBABA_CLOUD_ACCESS_KEY_ID": AKID,
           "secrets.ALIBABA_CLOUD_ACCESS_KEY_SECRET": SECRET}  # fmt: skip

    with pytest.raises(StepFailed) as failed:
        run_job(load("pushops-apply.yml"), "apply", checkout, push_env, ctx)

    assert failed.value.name == "Plan"
    assert "Set the PUSHOPS_STATE_DSN secret" in failed.value.done.stdout
    assert emulator.deliveries() == []


def test_the_apply_summary_keeps_the_log_in_one_code_block_whatever_it_holds(tmp_path: Path):
    summary = tmp_path / "summary.md"
    (tmp_path / "pushops-apply.txt").write_text("sent\n```\n<img src=x> @team\n````\n")
    step = next(s for s in load("pushops-apply.yml")["jobs"]["apply"]["steps"]
                if s.get("name") == "Summary")  # fmt: skip

    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
        cwd=tmp_path, env={**os.environ, "GITHUB_STEP_SUMMARY": str(summary)},
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    lines = summary.read_text().splitlines()
    assert lines[2] == lines[-1] == "`````"  # longer than the longest run inside
    assert lines[3:-1] == ["sent", "```", "<img src=x> @team", "````"]


def scheduled_context(ledger: str, token: str) -> dict[str, str]:
    """The expression context of a scheduled run (pushops-drift.yml, pushops-report.yml)."""
    return {
        "secrets.PUSHOPS_STATE_DSN_READONLY": ledger,
        "secrets.PUSHOPS_QUERY_ACCESS_KEY_ID": AKID,
        "secrets.PUSHOPS_QUERY_ACCESS_KEY_SECRET": SECRET,
        "github.token": token,
        "github.repository": REPOSITORY,
        "github.server_url": "https://github.com",
        "github.run_id": "4242",
    }


def scheduled_run(
    tmp_path: Path, checkout: Path, services: tuple[Emulator, FakeGitHubServer]
) -> tuple[dict[str, str], str, dict[str, str]]:
    """A scheduled job's runner environment, the shared ledger (made and bound as the team
    does once) and the expression context."""
    emulator, github = services
    env = runner_env(tmp_path, emulator, github)
    ledger = str(tmp_path / "shared-ledger.db")
    init_shared_ledger(checkout, ledger, env)
    return env, ledger, scheduled_context(ledger, github.fake.token)


def test_the_drift_job_passes_without_drift_and_fails_on_a_console_push_asking_only(
    tmp_path: Path, checkout: Path, services: tuple[Emulator, FakeGitHubServer]
) -> None:
    emulator, _ = services
    env, _, ctx = scheduled_run(tmp_path, checkout, services)
    summary = Path(env["GITHUB_STEP_SUMMARY"])

    assert run_job(load("pushops-drift.yml"), "drift", checkout, env, ctx) == ["Refresh"]
    assert "No drift" in summary.read_text(encoding="utf-8")

    summary.write_text("", encoding="utf-8")
    emulator.console_push(
        "emas", {"DeviceType": "ANDROID", "PushType": "NOTICE", "Target": "DEVICE",
                 "Title": "From the console", "Body": "b"}, app="24780031",
    )  # fmt: skip
    with pytest.raises(StepFailed) as failed:
        run_job(load("pushops-drift.yml"), "drift", checkout, env, ctx)

    assert failed.value.name == "Fail on drift" and failed.value.ran == ["Refresh"]
    assert "::error title=pushops drift::" in failed.value.done.stdout
    report = (checkout / "pushops-drift.md").read_text(encoding="utf-8")  # the body
    assert report.startswith("## pushops refresh: production") and "unmanaged" in report
    assert report in summary.read_text(encoding="utf-8")
    actions = {c["action"] for c in emulator.calls()}
    assert actions == {"QueryPushRecords", "QueryPushSchedulerList", "QueryPushAnalysisTaskList"}
    assert len(emulator.deliveries()) == 1  # the console's push, nothing else


def test_the_drift_job_fails_on_an_error_without_calling_it_drift(
    tmp_path: Path, checkout: Path, services: tuple[Emulator, FakeGitHubServer]
) -> None:
    emulator, github = services
    env = runner_env(tmp_path, emulator, github)
    ctx = scheduled_context("", github.fake.token)

    with pytest.raises(StepFailed) as failed:
        run_job(load("pushops-drift.yml"), "drift", checkout, env, ctx)

    assert failed.value.name == "Refresh"
    assert "Set the PUSHOPS_STATE_DSN_READONLY secret" in failed.value.done.stdout


def test_the_report_job_reports_what_was_sent_into_the_summary_asking_only(
    tmp_path: Path, checkout: Path, services: tuple[Emulator, FakeGitHubServer]
) -> None:
    emulator, _ = services
    env, ledger, ctx = scheduled_run(tmp_path, checkout, services)
    sent = subprocess.run(
        [sys.executable, "-m", "pushops", "apply", "--env", "production", "--auto-approve",
         "--state", ledger],
        cwd=checkout, capture_output=True, text=True, timeout=120,
        env={**env, "ALIBABA_CLOUD_ACCESS_KEY_ID": AKID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": SECRET},
    )  # fmt: skip
    assert sent.returncode == 0, sent.stdout + sent.stderr
    held = emulator.deliveries()
    asked_from = len(emulator.calls())

    ran = run_job(load("pushops-report.yml"), "report", checkout, env, ctx)

    assert ran == ["Report"]  # no statistics left unread: nothing fails
    report = (checkout / "pushops-report.md").read_text(encoding="utf-8")  # the comment's body
    assert report in Path(env["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8")
    out_there = [d["message_id"] for d in held if d["status"] == "sent"]
    assert out_there and all(message_id in report for message_id in out_there)
    asked = {c["action"] for c in emulator.calls()[asked_from:]}
    assert asked and not asked & {"MassPush", "PushBroadcast", "CancelPush", "CancelPushScheduler"}
    assert emulator.deliveries() == held
