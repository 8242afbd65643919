"""Post the plan to its pull request, and to the job summary, from inside GitHub Actions.

Everything comes from the environment the Actions runner sets: ``GITHUB_TOKEN`` (the only
secret; it is sent in one header and never printed), ``GITHUB_REPOSITORY`` (``owner/name``),
``GITHUB_EVENT_PATH`` (the event JSON, which holds the pull-request number),
``GITHUB_API_URL`` (the REST base; tests point it at a local fake), ``GITHUB_GRAPHQL_URL``
and ``GITHUB_STEP_SUMMARY`` (a file whose Markdown becomes the job summary).

One comment per pull request: the plan's Markdown carries a hidden marker
(:data:`MARKER`); the earlier comment holding it **and written by the token's own account**
(``github-actions[bot]`` for the workflow's ``GITHUB_TOKEN``; asked of the API, never assumed
from the marker) is edited in place, otherwise a new one is created. Anyone can post the
marker: a marked comment by anyone else is never edited, and is reported (a notice, and a
warning in the plan comment) because it may show reviewers a fake plan. A body longer than
GitHub's limit is cut at a line, with a note saying what was cut.

The token goes only to the origins of ``GITHUB_API_URL`` and ``GITHUB_GRAPHQL_URL``: a
``Link: rel="next"`` pointing anywhere else is refused, not followed, and every answer must
be JSON (a proxy's HTML login page answering 200 is an error, not a traceback).

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
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import click
import httpx

from pushops.workflowcmd import command as workflow_command

MARKER = "<!-- pushops-plan -->"
# GitHub refuses a comment body of 65,536 characters or more. It counts UTF-16 code units (an
# emoji is two), so that is what we count: a body that fits here fits there.
COMMENT_LIMIT = 65_536
# The job summary takes at most 1 MiB per step.
SUMMARY_LIMIT_BYTES = 1024 * 1024
DEFAULT_API_URL = "https://api.github.com"
# Who the workflow's own GITHUB_TOKEN comments as (an installation token cannot ask GET /user).
ACTIONS_BOT = "github-actions[bot]"
VIEWER_QUERY = "query { viewer { login } }"
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


# A line as Markdown (CommonMark) ends one: at LF, CR or CRLF only. ``str.splitlines`` also
# breaks at U+2028, U+0085 and other separators a Title may carry, which would count a fence
# inside a line, or cut a line in two.
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
_FENCE = re.compile(r" {0,3}```")  # indented by up to three spaces, nothing else


def markdown_lines(text: str) -> list[str]:
    """``text``'s lines as Markdown reads them, each with its line ending."""
    return _LINE.findall(text)


def _closers(text: str) -> str:
    """What closes the code fence and ``<details>`` blocks left open where ``text`` ends."""
    closing = ""
    fences = sum(1 for line in markdown_lines(text) if _FENCE.match(line))
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
    lines = markdown_lines(body)
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
    graphql_url: str = DEFAULT_API_URL + "/graphql"
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
        api_url = (env.get("GITHUB_API_URL") or DEFAULT_API_URL).rstrip("/")
        # The runner sets GITHUB_GRAPHQL_URL; without it, GitHub's own layout: api.github.com
        # -> api.github.com/graphql, and an Enterprise server's /api/v3 -> /api/graphql.
        graphql_url = env.get("GITHUB_GRAPHQL_URL") or api_url.removesuffix("/v3") + "/graphql"
        return cls(
            token=env.get("GITHUB_TOKEN") or None,
            repository=env.get("GITHUB_REPOSITORY") or None,
            event=event,
            api_url=api_url,
            graphql_url=graphql_url.rstrip("/"),
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
class Impostor:
    """A comment holding the plan marker that this token's account did not write."""

    login: str
    url: str | None


@dataclass(frozen=True)
class Outcome:
    """What :func:`publish` did: the comment (``created``, ``updated`` or ``skipped``), its
    address, whether the summary was written, the notices given (why it skipped, or that
    marked comments by other accounts were left alone) and those comments."""

    comment: str
    url: str | None = None
    summary: bool = False
    notice: str | None = None
    impostors: tuple[Impostor, ...] = ()


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return (url.scheme, url.host, url.port)


class _TokenForOrigins(httpx.Auth):
    """Adds the bearer token to requests for the origins the runner named, and to no other:
    the last line of defence if a URL from an answer ever pointed elsewhere."""

    def __init__(self, token: str, origins: set[tuple[str, str, int | None]]) -> None:
        self.token = token
        self.origins = origins

    def auth_flow(self, request: httpx.Request):  # type: ignore[no-untyped-def]
        if _origin(request.url) in self.origins:
            request.headers["Authorization"] = f"Bearer {self.token}"
        yield request


class _Client:
    def __init__(self, ctx: Context, transport: httpx.BaseTransport | None = None) -> None:
        assert ctx.token and ctx.repository
        self.ctx = ctx
        self.api = httpx.URL(ctx.api_url)
        self.origins = {_origin(self.api), _origin(httpx.URL(ctx.graphql_url))}
        self.http = httpx.Client(
            base_url=ctx.api_url,
            auth=_TokenForOrigins(ctx.token, self.origins),
            headers={
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

    def _send(self, method: str, url: str, **kwargs: Any) -> tuple[str, httpx.Response]:
        what = f"{method} {self._path(url)}"
        try:
            response = self.http.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise CommentError(
                self._redact(f"could not post the plan comment: {what} failed: {exc!r}")
            ) from None
        return what, response

    def _request(self, method: str, url: str, **kwargs: Any) -> Any:
        """The JSON answer of a request that must succeed."""
        what, response = self._send(method, url, **kwargs)
        if response.status_code >= 300:
            raise CommentError(self._redact(self._explain(what, response)))
        return self._json(what, response)

    def _json(self, what: str, response: httpx.Response) -> Any:
        kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
        try:
            if "json" not in kind:
                raise ValueError(kind)
            return response.json()
        except ValueError:
            said = f"{kind} ({len(response.content):,} bytes)" if kind else "no content type"
            raise CommentError(
                self._redact(
                    f"could not post the plan comment: {what} answered HTTP "
                    f"{response.status_code} with {said}, not GitHub's JSON: GITHUB_API_URL "
                    f"({self.ctx.api_url}) is not answering as GitHub's REST API (a proxy's "
                    "login page answers like this)"
                )
            ) from None

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

    def whoami(self) -> str:
        """The login of the account the token acts as: the GraphQL ``viewer`` (works for the
        workflow's installation token and for personal tokens alike); failing that, REST
        ``GET /user``, which an installation token may not ask (403) — in Actions that
        token is the workflow's own, ``github-actions[bot]``."""
        what, response = self._send("POST", self.ctx.graphql_url, json={"query": VIEWER_QUERY})
        if response.status_code == 401:
            raise CommentError(self._redact(self._explain(what, response)))
        if response.status_code < 300:
            answer = self._json(what, response)
            login = ((answer.get("data") or {}).get("viewer") or {}).get("login")
            if isinstance(login, str) and login:
                return login
        what, response = self._send("GET", "/user")
        if response.status_code < 300:
            login = self._json(what, response).get("login")
            if isinstance(login, str) and login:
                return login
        if response.status_code == 403:
            return ACTIONS_BOT
        raise CommentError(
            self._redact(
                "could not post the plan comment: cannot tell which account GITHUB_TOKEN "
                f"belongs to ({self._explain(what, response).split(': ', 1)[1]}), so no "
                "comment can be recognised as pushops' own"
            )
        )

    def comments_url(self, number: int) -> str:
        return f"/repos/{self.ctx.repository}/issues/{number}/comments"

    def _next_page(self, response_links: dict[str, dict[str, str]]) -> str | None:
        following = response_links.get("next", {}).get("url")
        if not following:
            return None
        if _origin(httpx.URL(following)) != _origin(self.api):
            raise CommentError(
                "could not post the plan comment: GitHub's answer points the next page of "
                f"comments at another origin ({httpx.URL(following).host}); it was not "
                f"followed, GITHUB_TOKEN is only ever sent to {self.ctx.api_url}"
            )
        return following

    def find(self, number: int, me: str) -> tuple[dict[str, Any] | None, list[Impostor]]:
        """Over every page of the pull request's comments: the first one holding the marker
        and written by ``me``, and the marked ones written by anyone else."""
        ours: dict[str, Any] | None = None
        impostors: list[Impostor] = []
        url: str | None = self.comments_url(number)
        params: dict[str, Any] | None = {"per_page": 100}
        while url:
            what, response = self._send("GET", url, params=params)
            if response.status_code >= 300:
                raise CommentError(self._redact(self._explain(what, response)))
            page = self._json(what, response)
            if not isinstance(page, list):
                raise CommentError(f"could not post the plan comment: {what} is not a list")
            for comment in page:
                if not isinstance(comment, dict) or MARKER not in str(comment.get("body") or ""):
                    continue
                login = str((comment.get("user") or {}).get("login") or "")
                if login == me:
                    ours = ours or comment
                else:
                    impostors.append(Impostor(login or "(unknown)", comment.get("html_url")))
            url, params = self._next_page(response.links), None
        return ours, impostors

    def upsert(self, number: int, markdown: str) -> Outcome:
        """Edit our marked comment, or create it; the Outcome names the impostors."""
        me = self.whoami()
        earlier, impostors = self.find(number, me)
        body = comment_body(markdown, me, impostors)
        notice = impostor_notice(me, impostors) if impostors else None
        if earlier is not None:
            url = f"/repos/{self.ctx.repository}/issues/comments/{earlier['id']}"
            answer = self._request("PATCH", url, json={"body": body})
            return Outcome("updated", _html_url(answer), notice=notice, impostors=(*impostors,))
        answer = self._request("POST", self.comments_url(number), json={"body": body})
        return Outcome("created", _html_url(answer), notice=notice, impostors=(*impostors,))


def _html_url(answer: Any) -> str | None:
    url = answer.get("html_url") if isinstance(answer, dict) else None
    return url if isinstance(url, str) else None


def _code(text: str) -> str:
    """``text`` as an inline code span that nothing in it can close or break."""
    text = " ".join(text.split())
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _mention(impostor: Impostor) -> str:
    """A Markdown reference to a marked comment: the login as code (never an @mention), and
    its GitHub address as a link only when it looks like one."""
    who = f"a comment by {_code(impostor.login)}"
    url = impostor.url or ""
    if re.fullmatch(r"https?://[^\s()<>\[\]]+", url):
        return f"[{who}]({url})"
    return who


def impostor_notice(me: str, impostors: list[Impostor] | tuple[Impostor, ...]) -> str:
    who = ", ".join(f"{i.login} ({i.url})" if i.url else i.login for i in impostors)
    return (
        f"{len(impostors)} other comment(s) on this pull request carry the pushops plan marker "
        f"but were not written by {me}, which posts the plan: {who}. They were left alone; "
        "they are not the plan and may show a fake one."
    )


def comment_body(
    markdown: str, me: str | None = None, impostors: list[Impostor] | tuple[Impostor, ...] = ()
) -> str:
    """The comment: the plan's Markdown with the marker (added when missing), then a warning
    naming marked comments by other accounts, cut to fit."""
    body = markdown if MARKER in markdown else f"{MARKER}\n{markdown}"
    if impostors:
        links = ", ".join(_mention(i) for i in impostors)
        warning = (
            f"\n\n> [!WARNING]\n> This is the plan, posted by {_code(me or ACTIONS_BOT)}. "
            f"{links} on this pull request also carries the plan's hidden marker: it is not "
            "from pushops and may show a different plan.\n"
        )
        # The warning goes first so that cutting a long plan never drops it.
        body = body.replace(MARKER, MARKER + warning, 1)
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


def _notice(ctx: Context, text: str) -> str:
    if ctx.actions:
        return workflow_command("notice", text, {"title": "pushops plan"})
    return f"notice: {text}"


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
    notice says why (``echo`` receives it, as a workflow command inside Actions). Marked
    comments by other accounts are left alone and reported the same way. Raises
    :class:`CommentError` when GitHub refuses, cannot be reached or does not answer JSON;
    the summary has been written by then.
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
        say(_notice(ctx, notice))
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
        outcome = client.upsert(number, markdown)
    if outcome.notice is not None:
        say(_notice(ctx, outcome.notice))
        if ctx.step_summary is not None:
            with ctx.step_summary.open("a", encoding="utf-8") as fh:
                fh.write(f"> [!WARNING]\n> {outcome.notice}\n\n")
    url = outcome.url
    say(f"plan comment {outcome.comment}: {url}" if url else f"plan comment {outcome.comment}")
    return replace(outcome, summary=summary)
