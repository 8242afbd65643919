"""pushops.github.publish: one plan comment per pull request, kept up to date, against a local
fake of the GitHub REST API."""

from __future__ import annotations

from pathlib import Path

import pytest

from pushops.github import COMMENT_LIMIT, MARKER, CommentError, publish, utf16_len
from tests.github.conftest import PULL, REPO

PLAN = f"{MARKER}\n## pushops plan: staging\n\n| action | count |\n|---|---|\n| send | 2 |\n"


def test_first_run_creates_the_comment(github, actions_env):
    outcome = publish(PLAN, actions_env(), echo=lambda line: None)

    assert outcome.comment == "created"
    (write,) = github.fake.writes
    assert (write.method, write.path) == ("POST", f"/repos/{REPO}/issues/{PULL}/comments")
    assert write.body == {"body": PLAN}
    assert [c["body"] for c in github.fake.comments[PULL]] == [PLAN]


def test_second_run_updates_the_same_comment(github, actions_env):
    env = actions_env()
    publish(PLAN, env, echo=lambda line: None)
    changed = PLAN.replace("| send | 2 |", "| send | 3 |")

    outcome = publish(changed, env, echo=lambda line: None)

    assert outcome.comment == "updated"
    (comment,) = github.fake.comments[PULL]
    assert comment["body"] == changed
    assert github.fake.writes[-1].method == "PATCH"
    assert github.fake.writes[-1].path == f"/repos/{REPO}/issues/comments/{comment['id']}"


def test_the_earlier_comment_is_found_on_a_later_page(github, actions_env):
    for n in range(250):
        github.fake.add_comment(PULL, f"review remark {n}")
    earlier = github.fake.add_comment(PULL, PLAN, login="github-actions[bot]")

    outcome = publish(PLAN + "\nupdated\n", actions_env(), echo=lambda line: None)

    assert outcome.comment == "updated"
    assert earlier["body"].endswith("updated\n")
    pages = [r.query.get("page", ["1"])[0] for r in github.fake.requests if r.method == "GET"]
    assert pages == ["1", "2", "3"]


def test_comments_without_the_marker_are_left_alone(github, actions_env):
    other = github.fake.add_comment(PULL, "## pushops plan (pasted by hand, no marker)")

    outcome = publish(PLAN, actions_env(), echo=lambda line: None)

    assert outcome.comment == "created"
    assert other["body"] == "## pushops plan (pasted by hand, no marker)"
    assert len(github.fake.comments[PULL]) == 2


def test_a_plan_without_the_marker_gets_it(github, actions_env):
    publish("## plan\n", actions_env(), echo=lambda line: None)

    assert github.fake.comments[PULL][0]["body"].startswith(MARKER)


def test_an_oversized_plan_is_cut_with_a_note_saying_what_was_cut(github, actions_env):
    rows = "".join(f"| campaign-{n} | send | ✉️ recipient {n} |\n" for n in range(6000))
    plan = f"{PLAN}\n<details><summary>details</summary>\n\n```diff\n{rows}```\n</details>\n"
    assert utf16_len(plan) > COMMENT_LIMIT

    publish(plan, actions_env(), echo=lambda line: None)

    body = github.fake.comments[PULL][0]["body"]
    assert utf16_len(body) < COMMENT_LIMIT
    assert body.startswith(PLAN)  # the summary table comes first and survives
    assert "Cut:" in body
    assert f"of {len(plan.splitlines()):,} lines are shown" in body
    assert "characters) were left out" in body
    assert body.count("```") % 2 == 0  # the open code fence is closed before the note
    assert body.count("<details>") == body.count("</details>")


def test_the_job_summary_gets_the_whole_plan(github, actions_env, tmp_path: Path):
    publish(PLAN, actions_env(), echo=lambda line: None)

    assert (tmp_path / "summary.md").read_text(encoding="utf-8") == PLAN + "\n"


def test_without_a_token_only_the_summary_is_written_with_a_notice(
    github, actions_env, tmp_path: Path
):
    said: list[str] = []

    outcome = publish(PLAN, actions_env(token=False), echo=said.append)

    assert outcome.comment == "skipped"
    assert github.fake.requests == []
    summary = (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert "No plan comment was posted: GITHUB_TOKEN is not set" in summary
    assert summary.rstrip("\n").endswith(PLAN.rstrip("\n"))
    assert said == [f"::notice title=pushops plan::{outcome.notice}"]


def test_a_pull_request_from_a_fork_posts_nothing_even_with_a_token(
    github, actions_env, tmp_path: Path
):
    said: list[str] = []

    outcome = publish(PLAN, actions_env(head_repo="stranger/push-campaigns"), echo=said.append)

    assert outcome.comment == "skipped"
    assert github.fake.requests == []
    assert "comes from a fork" in (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert len(said) == 1


@pytest.mark.parametrize(
    ("status", "words"),
    [
        (403, "may not write pull-request comments"),
        (500, "GitHub failed"),
    ],
)
def test_a_refusal_is_an_exit_3_error_with_a_clear_message(github, actions_env, status, words):
    github.fake.fail_next(status, "Resource not accessible by integration")

    with pytest.raises(CommentError) as caught:
        publish(PLAN, actions_env(), echo=lambda line: None)

    assert caught.value.exit_code == 3
    message = caught.value.format_message()
    assert message.startswith("could not post the plan comment:")
    assert f"HTTP {status}" in message
    assert words in message


def test_an_unreachable_api_is_an_exit_3_error(actions_env):
    env = actions_env()
    env["GITHUB_API_URL"] = "http://127.0.0.1:9"  # discard port: nothing listens

    with pytest.raises(CommentError) as caught:
        publish(PLAN, env, echo=lambda line: None)

    assert caught.value.exit_code == 3
    assert caught.value.format_message().startswith("could not post the plan comment: GET")
    assert "ConnectError" in caught.value.format_message()


def test_the_token_never_appears_in_an_error(github, actions_env):
    env = actions_env()
    github.fake.token = "ghs_the-token-github-expects"  # ours is now wrong: 401 echoing it

    with pytest.raises(CommentError) as caught:
        publish(PLAN, env, echo=lambda line: None)

    assert "HTTP 401" in caught.value.format_message()
    assert env["GITHUB_TOKEN"] not in caught.value.format_message()
    assert "***" in caught.value.format_message()


def test_the_token_is_sent_only_as_a_bearer_header(github, actions_env):
    env = actions_env()
    publish(PLAN, env, echo=lambda line: None)

    for request in github.fake.requests:
        assert request.headers["Authorization"] == f"Bearer {env['GITHUB_TOKEN']}"
        assert env["GITHUB_TOKEN"] not in request.path + str(request.query) + str(request.body)


def test_an_event_that_is_not_a_pull_request_is_an_exit_3_error(github, actions_env, tmp_path):
    env = actions_env()
    (tmp_path / "event.json").write_text('{"ref": "refs/heads/main"}', encoding="utf-8")

    with pytest.raises(CommentError, match="not a pull request"):
        publish(PLAN, env, echo=lambda line: None)
