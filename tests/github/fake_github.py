"""A local fake of the few GitHub REST endpoints pushops uses, for tests.

A stdlib ``ThreadingHTTPServer`` on 127.0.0.1 (port chosen by the OS) in a thread. It keeps
issue comments in memory, pages them the way GitHub does (``per_page``, ``page``, a ``Link``
header with ``rel="next"``), checks the bearer token, and records every request so a test
can assert on what went over the wire. ``fail_next`` makes the next request answer an error.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


@dataclass
class FakeGitHub:
    token: str = "ghs_faketoken0123456789"
    requests: list[Recorded] = field(default_factory=list)
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # issue -> comments
    failures: list[tuple[int, str]] = field(default_factory=list)
    next_id: int = 1000

    def add_comment(self, issue: int, body: str, login: str = "someone") -> dict[str, Any]:
        self.next_id += 1
        comment = {
            "id": self.next_id,
            "body": body,
            "user": {"login": login},
            "html_url": f"https://github.example/pull/{issue}#issuecomment-{self.next_id}",
        }
        self.comments.setdefault(issue, []).append(comment)
        return comment

    def fail_next(self, status: int, message: str = "") -> None:
        self.failures.append((status, message))

    @property
    def writes(self) -> list[Recorded]:
        return [r for r in self.requests if r.method in ("POST", "PATCH")]


def _handler(fake: FakeGitHub, base: list[str]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # keep test output quiet
            pass

        def _answer(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
            raw = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(raw)

        def _handle(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            fake.requests.append(
                Recorded(self.command, parts.path, parse_qs(parts.query), dict(self.headers), body)
            )
            if self.headers.get("Authorization") != f"Bearer {fake.token}":
                # GitHub does not echo the header; this fake does, to prove we redact it.
                got = self.headers.get("Authorization", "")
                return self._answer(401, {"message": f"Bad credentials: {got}"})
            if fake.failures:
                status, message = fake.failures.pop(0)
                return self._answer(status, {"message": message or f"HTTP {status}"})
            listing = re.fullmatch(r"/repos/[^/]+/[^/]+/issues/(\d+)/comments", parts.path)
            single = re.fullmatch(r"/repos/[^/]+/[^/]+/issues/comments/(\d+)", parts.path)
            if listing and self.command == "GET":
                return self._list(int(listing.group(1)), parse_qs(parts.query), parts.path)
            if listing and self.command == "POST":
                return self._answer(201, fake.add_comment(int(listing.group(1)), body["body"]))
            if single and self.command == "PATCH":
                for comments in fake.comments.values():
                    for comment in comments:
                        if comment["id"] == int(single.group(1)):
                            comment["body"] = body["body"]
                            return self._answer(200, comment)
            return self._answer(404, {"message": "Not Found"})

        def _list(self, issue: int, query: dict[str, list[str]], path: str) -> None:
            per_page = int(query.get("per_page", ["30"])[0])
            page = int(query.get("page", ["1"])[0])
            comments = fake.comments.get(issue, [])
            chunk = comments[(page - 1) * per_page : page * per_page]
            headers = {}
            if page * per_page < len(comments):
                url = f"{base[0]}{path}?per_page={per_page}&page={page + 1}"
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
