"""Post the plan to its pull request, and to the job summary, from inside GitHub Actions.

Everything comes from the environment the Actions runner sets: ``GITHUB_TOKEN`` (the only
secret; it is sent in one header and never printed), ``GITHUB_REPOSITORY`` (``owner/name``),
``GITHUB_EVENT_PATH`` (the event JSON, which holds the pull-request number),
``GITHUB_API_URL`` (the REST base; tests point it at a local fake) and
``GITHUB_STEP_SUMMARY`` (a file whose Markdown becomes the job summary).

One comment per pull request: the plan's Markdown carries a hidden marker
(:data:`MARKER`); the earlier comment holding it is edited in place, otherwise a new one is
created. A body longer than GitHub's limit is cut at a line, with a note saying what was cut.

Pull requests from forks get no secrets and a read-only token, so nothing is posted: the plan
goes to the job summary with a notice saying why there is no comment.

Wiring ``pushops plan --comment``: print the plan in the chosen ``--format`` as usual, then
call ``publish(markdown_of_the_plan)``. A :class:`CommentError` is a ``ClickException`` with
exit code 3, so letting it propagate makes the CLI print ``Error: ...`` and exit 3 after
the plan was printed.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import httpx

MARKER = "<!-- pushops-plan -->"
# GitHub refuses a comment body of 65,536 characters or more. It counts UTF-16 code units (an
# emoji is two), so that is what we count: a body that fits here fits there.
COMMENT_LIMIT = 65_536
# The job summary takes at most 1 MiB per step.
SUMMARY_LIMIT_BYTES = 1024 * 1024
DEFAULT_API_URL = "https://api.github.com"
TIMEOUT = httpx.Timeout(30.0, connect=10.0)
USER_AGENT = "pushops"


class CommentError(click.ClickException):
    """The plan could not be posted to the pull request (exit code 3; the plan was printed)."""

    exit_code = 3


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _cut_note(kept_lines: int, total_lines: int, dropped_chars: int, limit: int) -> str:
    return (
        f"\n\n> [!WARNING]\n> Cut: this plan is longer than GitHub's {limit:,}-character limit, "
        f"so only its first {kept_lines:,} of {total_lines:,} lines are shown here; "
        f"the remaining {total_lines - kept_lines:,} lines ({dropped_chars:,} characters) were "
        "left out. The whole plan is in the job summary and in the workflow run's `pushops-plan` "
        "artifact.\n"
    )


def _closers(text: str) -> str:
    """What closes the code fence and ``<details>`` blocks left open where ``text`` ends."""
    closing = ""
    fences = sum(1 for line in text.splitlines() if line.lstrip().startswith("```"))
    if fences % 2:
        closing += "\n```"
    open_details = len(re.findall(r"<details\b", text)) - len(re.findall(r"</details>", text))
    closing += "\n</details>" * max(open_details, 0)
    return closing


def fit(body: str, limit: int = COMMENT_LIMIT, size: Callable[[str], int] = utf16_len) -> str:
    """``body`` if ``size(body) < limit``, else its longest whole-line head that fits together
    with the blocks it leaves open closed and a note saying what was cut."""
    if size(body) < limit:
        return body
    lines = body.splitlines(keepends=True)
    total = len(lines)
    low, high = 0, total  # the most lines that fit: binary search over the line count

    def candidate(count: int) -> str:
        head = "".join(lines[:count])
        dropped = len(body) - len(head)
        return head.rstrip("\n") + _closers(head) + _cut_note(count, total, dropped, limit)

    while low < high:
        mid = (low + high + 1) // 2
        if size(candidate(mid)) < limit:
            low = mid
        else:
            high = mid - 1
    result = candidate(low)
    if size(result) >= limit:  # not even the note fits: a limit this small is a caller's bug
        raise ValueError(f"a limit of {limit} leaves no room for the cut note")
    return result


@dataclass
class Context:
    """What the Actions runner tells a step about where it runs."""

    token: str | None = None
    repository: str | None = None
    event: dict[str, Any] = field(default_factory=dict)
    api_url: str = DEFAULT_API_URL
    step_summary: Path | None = None
    actions: bool = False  # running inside GitHub Actions (workflow commands are understood)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Context:
        env = os.environ if environ is None else environ
        event: dict[str, Any] = {}
        event_path = env.get("GITHUB_EVENT_PATH")
        if event_path:
            try:
                loaded = json.loads(Path(event_path).read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise CommentError(f"cannot read the event file GITHUB_EVENT_PATH: {exc}") from None
            if isinstance(loaded, dict):
                event = loaded
        summary = env.get("GITHUB_STEP_SUMMARY")
        return cls(
            token=env.get("GITHUB_TOKEN") or None,
            repository=env.get("GITHUB_REPOSITORY") or None,
            event=event,
            api_url=(env.get("GITHUB_API_URL") or DEFAULT_API_URL).rstrip("/"),
            step_summary=Path(summary) if summary else None,
            actions=env.get("GITHUB_ACTIONS") == "true",
        )

    @property
    def pull_number(self) -> int | None:
        """The pull request's number: from a ``pull_request``/``pull_request_target`` event,
        or an ``issue_comment`` on a pull request."""
        pull = self.event.get("pull_request")
        if isinstance(pull, dict) and isinstance(pull.get("number"), int):
            return int(pull["number"])
        issue = self.event.get("issue")
        if (
            isinstance(issue, dict)
            and "pull_request" in issue
            and isinstance(issue.get("number"), int)
        ):
            return int(issue["number"])
        return None

    @property
    def from_fork(self) -> bool:
        """A pull request whose head lives in another repository: its token is read-only."""
        pull = self.event.get("pull_request")
        if not isinstance(pull, dict):
            return False
        head = ((pull.get("head") or {}).get("repo") or {}).get("full_name")
        base = ((pull.get("base") or {}).get("repo") or {}).get("full_name")
        return bool(head and base and head != base)


@dataclass(frozen=True)
class Outcome:
    """What :func:`publish` did: the comment (``created``, ``updated`` or ``skipped``), its
    address, whether the summary was written, and the notice given when it skipped."""

    comment: str
    url: str | None = None
    summary: bool = False
    notice: str | None = None


class _Client:
    def __init__(self, ctx: Context, transport: httpx.BaseTransport | None = None) -> None:
        assert ctx.token and ctx.repository
        self.ctx = ctx
        self.http = httpx.Client(
            base_url=ctx.api_url,
            headers={
                "Authorization": f"Bearer {ctx.token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28",
                "User-Agent": USER_AGENT,
            },
            timeout=TIMEOUT,
            transport=transport,
            follow_redirects=False,
        )

    def __enter__(self) -> _Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()

    def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        what = f"{method} {self._path(url)}"
        try:
            response = self.http.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise CommentError(
                self._redact(f"could not post the plan comment: {what} failed: {exc!r}")
            ) from None
        if response.status_code >= 300:
            raise CommentError(self._redact(self._explain(what, response)))
        return response

    def _path(self, url: str) -> str:
        return url.removeprefix(self.ctx.api_url)

    def _redact(self, text: str) -> str:
        token = self.ctx.token or ""
        return text.replace(token, "***") if token else text

    def _explain(self, what: str, response: httpx.Response) -> str:
        try:
            detail = str(response.json().get("message", ""))
        except (ValueError, AttributeError):
            detail = response.text[:200]
        status = response.status_code
        hint = {
            401: "GITHUB_TOKEN is not valid",
            403: "GITHUB_TOKEN may not write pull-request comments; give the job "
            "`permissions: pull-requests: write` (a pull request from a fork never can)",
            404: f"no pull request or repository {self.ctx.repository!r} the token can see",
        }.get(status, "GitHub did not accept the request" if status < 500 else "GitHub failed")
        detail = f" ({detail})" if detail else ""
        return f"could not post the plan comment: {what} answered HTTP {status}{detail}: {hint}"

    def comments_url(self, number: int) -> str:
        return f"/repos/{self.ctx.repository}/issues/{number}/comments"

    def find(self, number: int) -> dict[str, Any] | None:
        """The first comment of the pull request holding the marker, over every page."""
        url: str | None = self.comments_url(number)
        params: dict[str, Any] | None = {"per_page": 100}
        while url:
            response = self._request("GET", url, params=params)
            for comment in response.json():
                if isinstance(comment, dict) and MARKER in str(comment.get("body") or ""):
                    return comment
            following = response.links.get("next", {}).get("url")
            url, params = (following, None) if following else (None, None)
        return None

    def upsert(self, number: int, body: str) -> tuple[str, str | None]:
        earlier = self.find(number)
        if earlier is not None:
            url = f"/repos/{self.ctx.repository}/issues/comments/{earlier['id']}"
            answer = self._request("PATCH", url, json={"body": body})
            return "updated", answer.json().get("html_url")
        answer = self._request("POST", self.comments_url(number), json={"body": body})
        return "created", answer.json().get("html_url")


def comment_body(markdown: str) -> str:
    """The comment: the plan's Markdown with the marker (added when missing), cut to fit."""
    body = markdown if MARKER in markdown else f"{MARKER}\n{markdown}"
    return fit(body)


def write_summary(ctx: Context, markdown: str, notice: str | None = None) -> bool:
    """Append the plan (after the notice, if any) to the job summary; False when not set."""
    if ctx.step_summary is None:
        return False
    text = markdown if notice is None else f"> [!NOTE]\n> {notice}\n\n{markdown}"
    text = fit(text.rstrip("\n") + "\n", SUMMARY_LIMIT_BYTES, lambda s: len(s.encode("utf-8")))
    with ctx.step_summary.open("a", encoding="utf-8") as fh:
        fh.write(text + "\n")
    return True


def publish(
    markdown: str,
    environ: Mapping[str, str] | None = None,
    *,
    echo: Callable[[str], None] | None = None,
    transport: httpx.BaseTransport | None = None,
) -> Outcome:
    """Post ``markdown`` (a plan with the hidden marker) as the pull request's one plan
    comment, and write it to the job summary when ``GITHUB_STEP_SUMMARY`` is set.

    Without a token, or for a pull request from a fork, only the summary is written, and a
    notice says why (``echo`` receives it, as a workflow command inside Actions). Raises
    :class:`CommentError` when GitHub refuses or cannot be reached; the summary has been
    written by then.
    """
    ctx = Context.from_env(environ)
    say = echo or (lambda line: click.echo(line, err=True))
    reason = None
    if ctx.from_fork:
        reason = "this pull request comes from a fork, which gets no write access"
    elif not ctx.token:
        reason = "GITHUB_TOKEN is not set"
    if reason is not None:
        notice = f"No plan comment was posted: {reason}. The plan is in this job summary."
        summary = write_summary(ctx, markdown, notice)
        say(f"::notice title=pushops plan::{notice}" if ctx.actions else f"notice: {notice}")
        return Outcome("skipped", summary=summary, notice=notice)
    summary = write_summary(ctx, markdown)
    if not ctx.repository:
        raise CommentError("could not post the plan comment: GITHUB_REPOSITORY is not set")
    number = ctx.pull_number
    if number is None:
        raise CommentError(
            "could not post the plan comment: the event at GITHUB_EVENT_PATH is not a pull "
            "request (run it on `pull_request`)"
        )
    with _Client(ctx, transport) as client:
        action, url = client.upsert(number, comment_body(markdown))
    say(f"plan comment {action}: {url}" if url else f"plan comment {action}")
    return Outcome(action, url=url, summary=summary)
