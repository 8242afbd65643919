"""A local fake of the few GitHub API endpoints pushops uses, for tests.

A stdlib ``ThreadingHTTPServer`` on 127.0.0.1 (port chosen by the OS) in a thread. It keeps
issue comments in memory, pages them the way GitHub does (``per_page``, ``page``, a ``Link``
header with ``rel="next"``), and records every request so a test can assert on what went
over the wire.

Tokens are accounts with permissions, as on GitHub: the default token is the workflow's
``GITHUB_TOKEN``, an installation token of ``github-actions[bot]`` with ``pull-requests:
write``. Such a token may not ask ``GET /user`` (403, "Resource not accessible by
integration"); the GraphQL ``viewer`` answers for any token. Listing comments needs read
access, creating one needs write, and editing one needs write **and** authorship — stricter
than GitHub, where a maintainer may edit anyone's comment: pushops must never even try.

Hooks for hostile answers: ``fail_next`` (an error status for the next request, or the next
one matching a method and path), ``next_link_base`` (page links pointing at another origin),
``html_answers`` (200 with an HTML login page, as a proxy answers).
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

ACTIONS_BOT = "github-actions[bot]"
INTEGRATION_REFUSAL = "Resource not accessible by integration"


@dataclass
class Account:
    login: str
    kind: str = "Bot"  # "Bot": an installation token; "User": a personal token
    pull_requests: str = "write"  # none | read | write


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


@dataclass
class Failure:
    status: int
    message: str
    method: str | None = None
    path: str | None = None  # a regular expression the request's path must match

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and (
            self.path is None or re.search(self.path, path) is not None
        )


@dataclass
class FakeGitHub:
    token: str = "ghs_faketoken0123456789"
    tokens: dict[str, Account] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # issue -> comments
    failures: list[Failure] = field(default_factory=list)
    next_link_base: str | None = None  # where page links point (default: this server)
    html_answers: bool = False
    next_id: int = 1000

    def account(self, token: str) -> Account | None:
        if token == self.token:
            return self.tokens.get(token) or Account(ACTIONS_BOT)
        return self.tokens.get(token)

    def add_comment(self, issue: int, body: str, login: str = "someone") -> dict[str, Any]:
        self.next_id += 1
        comment = {
            "id": self.next_id,
            "body": body,
            "user": {"login": login, "type": "Bot" if login.endswith("[bot]") else "User"},
            "html_url": f"https://github.example/pull/{issue}#issuecomment-{self.next_id}",
        }
        self.comments.setdefault(issue, []).append(comment)
        return comment

    def fail_next(
        self, status: int, message: str = "", method: str | None = None, path: str | None = None
    ) -> None:
        self.failures.append(Failure(status, message, method, path))

    @property
    def writes(self) -> list[Recorded]:
        return [r for r in self.requests if r.method in ("POST", "PATCH") and r.path != "/graphql"]


def _handler(fake: FakeGitHub, base: list[str]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # keep test output quiet
            pass

        def _answer(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
            raw = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(raw)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(raw)

        def _html(self) -> None:
            raw = b"<!doctype html><html><body><form>Sign in to the proxy</form></body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def _refuse(self, message: str = INTEGRATION_REFUSAL) -> None:
            self._answer(403, {"message": message})

        def _handle(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            fake.requests.append(
                Recorded(self.command, parts.path, parse_qs(parts.query), dict(self.headers), body)
            )
            auth = self.headers.get("Authorization", "")
            account = fake.account(auth.removeprefix("Bearer ")) if auth else None
            if account is None:
                # GitHub does not echo the header; this fake does, to prove we redact it.
                return self._answer(401, {"message": f"Bad credentials: {auth}"})
            failure = next((f for f in fake.failures if f.matches(self.command, parts.path)), None)
            if failure is not None:
                fake.failures.remove(failure)
                return self._answer(failure.status, {"message": failure.message})
            if fake.html_answers:
                return self._html()
            if parts.path == "/graphql" and self.command == "POST":
                return self._graphql(account, body)
            if parts.path == "/user" and self.command == "GET":
                if account.kind == "Bot":
                    return self._refuse()
                return self._answer(200, {"login": account.login, "type": account.kind})
            listing = re.fullmatch(r"/repos/[^/]+/[^/]+/issues/(\d+)/comments", parts.path)
            single = re.fullmatch(r"/repos/[^/]+/[^/]+/issues/comments/(\d+)", parts.path)
            if listing and self.command == "GET":
                if account.pull_requests not in ("read", "write"):
                    return self._refuse()
                return self._list(int(listing.group(1)), parse_qs(parts.query), parts.path)
            if listing and self.command == "POST":
                if account.pull_requests != "write":
                    return self._refuse()
                created = fake.add_comment(int(listing.group(1)), body["body"], account.login)
                return self._answer(201, created)
            if single and self.command == "PATCH":
                for comments in fake.comments.values():
                    for comment in comments:
                        if comment["id"] == int(single.group(1)):
                            if account.pull_requests != "write":
                                return self._refuse()
                            if comment["user"]["login"] != account.login:
                                return self._refuse()  # not the author
                            comment["body"] = body["body"]
                            return self._answer(200, comment)
            return self._answer(404, {"message": "Not Found"})

        def _graphql(self, account: Account, body: Any) -> None:
            query = str((body or {}).get("query", ""))
            if re.search(r"\bviewer\s*\{\s*login\s*\}", query):
                return self._answer(200, {"data": {"viewer": {"login": account.login}}})
            return self._answer(200, {"errors": [{"message": "this fake only knows viewer"}]})

        def _list(self, issue: int, query: dict[str, list[str]], path: str) -> None:
            per_page = int(query.get("per_page", ["30"])[0])
            page = int(query.get("page", ["1"])[0])
            comments = fake.comments.get(issue, [])
            chunk = comments[(page - 1) * per_page : page * per_page]
            headers = {}
            if page * per_page < len(comments):
                url = f"{fake.next_link_base or base[0]}{path}?per_page={per_page}&page={page + 1}"
                headers["Link"] = f'<{url}>; rel="next"'
            self._answer(200, chunk, headers)

        do_GET = do_POST = do_PATCH = _handle

    return Handler


class FakeGitHubServer:
    def __init__(self) -> None:
        self.fake = FakeGitHub()
        self._base: list[str] = [""]
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.fake, self._base))
        host, port = self.server.server_address[:2]
        self.url = f"http://{host}:{port}"
        self._base[0] = self.url
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def __enter__(self) -> FakeGitHubServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
