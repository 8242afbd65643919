"""``pushops plan --comment`` through the real CLI against the local fake GitHub API: one
comment per pull request, kept up to date, cut to fit, and only the job summary (with a
notice) for a pull request from a fork without a token."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from fake_github import FakeGitHubServer

from pushops.cli import cli
from pushops.github import COMMENT_LIMIT, MARKER, utf16_len
from tests.github.conftest import PULL
from tests.plan.support import CONFIG, emas_campaign


@pytest.fixture
def push_repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "campaigns").mkdir(parents=True)
    (root / "pushops.yaml").write_text(CONFIG)
    (root / "campaigns" / "sale.yaml").write_text(emas_campaign())
    # The team created the ledger once (`pushops state init`); CI never creates one.
    clean = {k: "" for k in os.environ if k.startswith(("PUSHOPS_", "GITHUB_", "ALIBABA_", "CI"))}
    old = Path.cwd()
    os.chdir(root)
    try:
        init = CliRunner().invoke(cli, ["state", "init"], env=clean, catch_exceptions=False)
    finally:
        os.chdir(old)
    assert init.exit_code == 0, init.output
    return root


def plan(root: Path, env: dict[str, str], *args: str) -> Result:
    # A plan needs no credentials; the ledger is the repo's own SQLite file.
    clean = {k: "" for k in os.environ if k.startswith(("PUSHOPS_", "GITHUB_", "ALIBABA_"))}
    old = Path.cwd()
    os.chdir(root)
    try:
        return CliRunner().invoke(
            cli, ["plan", "--comment", *args], env={**clean, **env}, catch_exceptions=False
        )
    finally:
        os.chdir(old)


def test_the_first_plan_creates_the_comment_and_the_second_updates_it(
    push_repo: Path, github: FakeGitHubServer, actions_env: Callable[..., dict[str, str]]
) -> None:
    env = actions_env()
    first = plan(push_repo, env, "--format", "markdown")
    (push_repo / "campaigns" / "sale.yaml").write_text(emas_campaign(title="Sale, day two"))
    second = plan(push_repo, env, "--format", "markdown")

    assert (first.exit_code, second.exit_code) == (0, 0), first.output + second.output
    (comment,) = github.fake.comments[PULL]  # one comment, not two
    assert comment["body"].startswith(MARKER)
    assert "staging/sale/r1/android" in comment["body"]
    assert [(w.method, w.path.rsplit("/", 1)[-1]) for w in github.fake.writes] == [
        ("POST", "comments"),
        ("PATCH", str(comment["id"])),
    ]
    assert "plan comment created" in first.output and "plan comment updated" in second.output


def test_comment_posts_the_markdown_plan_whatever_format_is_printed(
    push_repo: Path, github: FakeGitHubServer, actions_env: Callable[..., dict[str, str]]
) -> None:
    result = plan(push_repo, actions_env())  # --format text (the default)

    assert result.exit_code == 0, result.output
    assert "+ send     staging/sale/r1/android" in result.output  # the text view
    (comment,) = github.fake.comments[PULL]
    assert comment["body"].startswith(MARKER) and "| campaign |" in comment["body"]


def test_an_oversized_plan_comment_is_cut_with_a_note(
    push_repo: Path, github: FakeGitHubServer, actions_env: Callable[..., dict[str, str]]
) -> None:
    # A fan-out is a few cards however many rows it has; many campaigns make a long comment.
    for n in range(150):
        title = f"Offer {n}: " + "a long title that goes on " * 6
        (push_repo / "campaigns" / f"c{n:03d}.yaml").write_text(emas_campaign(f"c{n:03d}", title))

    result = plan(push_repo, actions_env(), "--format", "markdown")

    assert result.exit_code == 0, result.output
    body = github.fake.comments[PULL][0]["body"]
    assert utf16_len(body) < COMMENT_LIMIT
    assert "Shortened to stay under GitHub's 65,536-character comment limit" in body
    assert body.count("<details") == body.count("</details>")


def test_a_fork_run_without_a_token_writes_only_the_summary_with_a_notice(
    push_repo: Path,
    github: FakeGitHubServer,
    actions_env: Callable[..., dict[str, str]],
    tmp_path: Path,
) -> None:
    env = actions_env(token=False, head_repo="stranger/push-campaigns")

    result = plan(push_repo, env, "--sandbox", "--format", "markdown")

    assert result.exit_code == 0, result.output
    assert github.fake.requests == []  # nothing posted, nothing even asked
    summary = (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert "No plan comment was posted" in summary and "fork" in summary
    assert "staging/sale/r1/android" in summary
    assert "::notice title=pushops plan::No plan comment was posted" in result.output


def test_an_impostors_marked_comment_is_left_alone_and_the_run_says_so(
    push_repo: Path, github: FakeGitHubServer, actions_env: Callable[..., dict[str, str]]
) -> None:
    for n in range(120):  # ours will be on the second page
        github.fake.add_comment(PULL, f"remark {n}")
    impostor = github.fake.add_comment(PULL, f"{MARKER}\nNo changes. Approve away.", "mallory")
    env = actions_env()
    first = plan(push_repo, env, "--format", "markdown")
    (push_repo / "campaigns" / "sale.yaml").write_text(emas_campaign(title="Sale, day two"))

    second = plan(push_repo, env, "--format", "markdown")

    assert (first.exit_code, second.exit_code) == (0, 0), first.output + second.output
    assert impostor["body"] == f"{MARKER}\nNo changes. Approve away."
    ours = [c for c in github.fake.comments[PULL] if c["user"]["login"] == "github-actions[bot]"]
    assert len(ours) == 1
    assert [(w.method, w.path.rsplit("/", 1)[-1]) for w in github.fake.writes] == [
        ("POST", "comments"),
        ("PATCH", str(ours[0]["id"])),
    ]
    assert "mallory" in ours[0]["body"]  # the genuine comment warns reviewers
    for result in (first, second):
        assert "::notice title=pushops plan::1 other comment(s)" in result.output
        assert "mallory" in result.output
    assert "plan comment updated" in second.output


def test_an_html_answer_from_a_proxy_exits_3_after_printing_the_plan(
    push_repo: Path, github: FakeGitHubServer, actions_env: Callable[..., dict[str, str]]
) -> None:
    github.fake.html_answers = True

    result = plan(push_repo, actions_env(), "--format", "markdown")

    assert result.exit_code == 3
    assert "staging/sale/r1/android" in result.output  # the plan was printed first
    assert "with text/html" in result.output and "Traceback" not in result.output


def test_a_next_page_on_another_origin_exits_3_and_that_origin_gets_nothing(
    push_repo: Path, github: FakeGitHubServer, actions_env: Callable[..., dict[str, str]]
) -> None:
    for n in range(101):
        github.fake.add_comment(PULL, f"remark {n}")
    with FakeGitHubServer() as elsewhere:
        github.fake.next_link_base = elsewhere.url

        result = plan(push_repo, actions_env(), "--format", "markdown")

        assert elsewhere.fake.requests == []
    assert result.exit_code == 3
    assert "another origin" in result.output
    assert github.fake.token not in result.output


def test_an_error_message_from_the_server_cannot_start_a_workflow_command(
    push_repo: Path, github: FakeGitHubServer, actions_env: Callable[..., dict[str, str]]
) -> None:
    github.fake.fail_next(500, "oops\n::error file=README.md::injected", method="POST",
                          path="/comments$")  # fmt: skip

    result = plan(push_repo, actions_env(), "--format", "markdown")

    assert result.exit_code == 3
    lines = re.split(r"[\r\n]", result.output)
    assert [line for line in lines if line.lstrip().startswith("::")] == []
    assert "oops\\n::error file=README.md::injected" in result.output
