from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fake_github import FakeGitHubServer

REPO = "acme/push-campaigns"
PULL = 42


@pytest.fixture
def github() -> Iterator[FakeGitHubServer]:
    with FakeGitHubServer() as server:
        yield server


def pull_request_event(number: int = PULL, head_repo: str = REPO) -> dict[str, object]:
    return {
        "action": "synchronize",
        "number": number,
        "pull_request": {
            "number": number,
            "head": {"repo": {"full_name": head_repo}},
            "base": {"repo": {"full_name": REPO}},
        },
    }


@pytest.fixture
def actions_env(tmp_path: Path, github: FakeGitHubServer) -> Callable[..., dict[str, str]]:
    """The environment variables a GitHub Actions step of a pull_request run sees."""

    def make(*, token: bool = True, head_repo: str = REPO, summary: bool = True) -> dict[str, str]:
        event = tmp_path / "event.json"
        event.write_text(json.dumps(pull_request_event(head_repo=head_repo)), encoding="utf-8")
        env = {
            "GITHUB_ACTIONS": "true",
            "GITHUB_REPOSITORY": REPO,
            "GITHUB_EVENT_PATH": str(event),
            "GITHUB_API_URL": github.url,
        }
        if token:
            env["GITHUB_TOKEN"] = github.fake.token
        if summary:
            env["GITHUB_STEP_SUMMARY"] = str(tmp_path / "summary.md")
        return env

    return make
