"""pushops.github.publish: one plan comment per pull request, kept up to date, against a local
fake of the GitHub REST API."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from pushops.github import COMMENT_LIMIT, MARKER, CommentError, publish, utf16_len
from tests.github.conftest import PULL, REPO
from tests.github.fake_github import ACTIONS_BOT, Account, FakeGitHubServer

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
    earlier = github.fake.add_comment(PULL, PLAN, login=ACTIONS_BOT)

    outcome = publish(PLAN + "\nupdated\n", actions_env(), echo=lambda line: None)

    assert outcome.comment == "updated"
    assert earlier["body"].endswith("updated\n")
    pages = [
        r.query.get("page", ["1"])[0]
        for r in github.fake.requests
        if r.method == "GET" and r.path.endswith("/comments")
    ]
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


def test_a_cut_plan_counts_fences_and_lines_as_markdown_ends_lines(github, actions_env):
    # A Title may carry U+2028 or U+0085: inside a Markdown line, not line ends. Read as line
    # ends, the row below would close the diff fence and leave the cut note inside it.
    odd = "| campaign-0 | send | title\u2028```js\u0085tail |\n\u2028``` a line, not a fence\n"
    rows = odd + "".join(f"| campaign-{n} | send | recipient {n} |\n" for n in range(1, 6000))
    plan = f"{PLAN}\n```diff\n{rows}```\n"
    assert utf16_len(plan) > COMMENT_LIMIT

    publish(plan, actions_env(), echo=lambda line: None)

    body = github.fake.comments[PULL][0]["body"]
    fences = [line for line in body.split("\n") if line.startswith("```")]
    assert len(fences) % 2 == 0  # the diff fence is closed before the note
    assert body.rstrip().endswith("artifact.")  # and the note is outside it
    assert f"of {plan.count(chr(10)):,} lines are shown" in body


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


def test_a_token_that_may_only_read_is_an_exit_3_error_naming_the_permission(github, actions_env):
    github.fake.tokens[github.fake.token] = Account(ACTIONS_BOT, pull_requests="read")

    with pytest.raises(CommentError) as caught:
        publish(PLAN, actions_env(), echo=lambda line: None)

    assert caught.value.exit_code == 3
    message = caught.value.format_message()
    assert f"POST /repos/{REPO}/issues/{PULL}/comments answered HTTP 403" in message
    assert "pull-requests: write" in message


@pytest.mark.parametrize(
    ("status", "words"),
    [
        (403, "may not write pull-request comments"),
        (500, "GitHub failed"),
    ],
)
def test_a_refusal_is_an_exit_3_error_with_a_clear_message(github, actions_env, status, words):
    github.fake.fail_next(status, "Resource not accessible by integration", method="POST",
                          path="/comments$")  # fmt: skip

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
    assert caught.value.format_message().startswith("could not post the plan comment: POST")
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


# Only the token's own account's marked comment is the plan: anyone can post the marker.


def test_an_impostors_marked_comment_is_left_alone_and_reported(github, actions_env, tmp_path):
    fake = github.fake.add_comment(PULL, f"{MARKER}\n## pushops plan\nNo changes.", "mallory")
    said: list[str] = []

    outcome = publish(PLAN, actions_env(), echo=said.append)

    assert outcome.comment == "created"
    assert fake["body"] == f"{MARKER}\n## pushops plan\nNo changes."
    assert not [w for w in github.fake.writes if w.method == "PATCH"]  # never even tried
    ours = github.fake.comments[PULL][-1]
    assert ours["user"]["login"] == ACTIONS_BOT
    assert "a comment by `mallory`" in ours["body"] and fake["html_url"] in ours["body"]
    assert [i.login for i in outcome.impostors] == ["mallory"]
    notice = next(line for line in said if line.startswith("::notice"))
    assert "mallory" in notice and "not written by github-actions[bot]" in notice
    assert "mallory" in (tmp_path / "summary.md").read_text(encoding="utf-8")


def test_our_comment_on_a_later_page_is_edited_past_an_impostor_on_the_first(github, actions_env):
    fake = github.fake.add_comment(PULL, f"{MARKER}\nfake plan", "mallory")
    for n in range(150):
        github.fake.add_comment(PULL, f"review remark {n}")
    ours = github.fake.add_comment(PULL, PLAN, ACTIONS_BOT)

    outcome = publish(PLAN + "\nsecond push\n", actions_env(), echo=lambda line: None)

    assert outcome.comment == "updated"
    assert ours["body"].endswith("second push\n") and fake["body"] == f"{MARKER}\nfake plan"
    (patch,) = [w for w in github.fake.writes if w.method == "PATCH"]
    assert patch.path.endswith(f"/comments/{ours['id']}")


def test_a_personal_tokens_own_comment_is_ours_and_the_bots_is_not(github, actions_env):
    github.fake.tokens[github.fake.token] = Account("release-manager", kind="User")
    bots = github.fake.add_comment(PULL, PLAN, ACTIONS_BOT)
    mine = github.fake.add_comment(PULL, PLAN, "release-manager")

    outcome = publish(PLAN + "\nagain\n", actions_env(), echo=lambda line: None)

    assert outcome.comment == "updated"
    assert mine["body"].endswith("again\n") and bots["body"] == PLAN
    assert [i.login for i in outcome.impostors] == [ACTIONS_BOT]


def test_an_installation_token_without_graphql_is_the_actions_bot(github, actions_env):
    github.fake.fail_next(404, "Not Found", method="POST", path="^/graphql$")
    ours = github.fake.add_comment(PULL, PLAN, ACTIONS_BOT)

    outcome = publish(PLAN + "\nagain\n", actions_env(), echo=lambda line: None)

    assert outcome.comment == "updated" and ours["body"].endswith("again\n")
    assert [r.path for r in github.fake.requests][:2] == ["/graphql", "/user"]


def test_the_fake_refuses_to_edit_another_accounts_comment(github):
    other = github.fake.add_comment(PULL, PLAN, "mallory")
    url = f"{github.url}/repos/{REPO}/issues/comments/{other['id']}"

    answer = httpx.patch(url, json={"body": "x"},
                         headers={"Authorization": f"Bearer {github.fake.token}"})  # fmt: skip

    assert answer.status_code == 403 and other["body"] == PLAN


# The token goes to GitHub's API only, and only GitHub's JSON is believed.


def test_a_next_page_on_another_origin_is_refused_and_never_gets_the_token(github, actions_env):
    for n in range(120):
        github.fake.add_comment(PULL, f"remark {n}")
    with FakeGitHubServer() as elsewhere:
        github.fake.next_link_base = elsewhere.url

        with pytest.raises(CommentError) as caught:
            publish(PLAN, actions_env(), echo=lambda line: None)

        assert elsewhere.fake.requests == []
    assert caught.value.exit_code == 3
    message = caught.value.format_message()
    assert "another origin" in message and "not followed" in message
    assert github.fake.writes == []  # no duplicate comment created either


def test_the_token_is_never_attached_to_a_request_for_another_origin(github, actions_env):
    from pushops.github import Context, _Client

    with FakeGitHubServer() as elsewhere, _Client(Context.from_env(actions_env())) as client:
        client.http.get(f"{elsewhere.url}/anything")

    (request,) = elsewhere.fake.requests
    assert "Authorization" not in request.headers


def test_an_html_page_answering_200_is_a_clear_exit_3_error(github, actions_env):
    github.fake.html_answers = True

    with pytest.raises(CommentError) as caught:
        publish(PLAN, actions_env(), echo=lambda line: None)

    assert caught.value.exit_code == 3
    message = caught.value.format_message()
    assert "answered HTTP 200 with text/html" in message and "not GitHub's JSON" in message
    assert "GITHUB_API_URL" in message
