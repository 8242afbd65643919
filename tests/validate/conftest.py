"""Helpers for one-message campaigns checked through the real CLI."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.pushrepo import EMAS_TASK, MPAAS_BROADCAST, NOW_TEXT, REPO, PushRepo

__all__ = ["NOW", "REPO", "PushRepo", "campaign_yaml"]
NOW = NOW_TEXT


def campaign_yaml(provider: str, **fields: Any) -> str:
    """A one-message campaign whose message is the valid base plus ``fields`` (None removes)."""
    base = dict(EMAS_TASK if provider == "emas" else MPAAS_BROADCAST)
    for key, value in fields.items():
        if value is None:
            base.pop(key, None)
        else:
            base[key] = value
    doc = {
        "id": "c",
        "app": "shop" if provider == "emas" else "wallet",
        ("tasks" if provider == "emas" else "broadcasts"): [base],
    }
    return json.dumps(doc, ensure_ascii=False)  # JSON is YAML: one line, exact values


@pytest.fixture
def check(repo: PushRepo) -> Callable[..., list[dict[str, Any]]]:
    """Validate one message (base + overrides) and return the diagnostics as dicts."""

    def run(provider: str, **fields: Any) -> list[dict[str, Any]]:
        repo.write("campaigns/c.yaml", campaign_yaml(provider, **fields))
        return repo.validate_json()["errors"]

    return run
