"""A throwaway push repo and helpers to render it, through the API and the real CLI."""

from __future__ import annotations

from typing import Any

from pushops.diagnostics import Diagnostic
from tests.pushrepo import EMAS_TASK, MPAAS_BROADCAST, NOW, NOW_TEXT, REPO, PushRepo

__all__ = ["NOW", "NOW_TEXT", "REPO", "PushRepo"]
TASK = EMAS_TASK
BROADCAST = MPAAS_BROADCAST


def emas(**fields: Any) -> dict[str, Any]:
    """A one-task EMAS campaign: the valid base task plus ``fields``."""
    return {"id": "c", "app": "shop", "tasks": [{**TASK, **fields}]}


def mpaas(**fields: Any) -> dict[str, Any]:
    return {"id": "w", "app": "wallet", "broadcasts": [{**BROADCAST, **fields}]}


def rendered(repo: PushRepo, field: str, value: Any, env: str = "staging", **extra: Any) -> Any:
    """What one EMAS field renders to (typed)."""
    repo.campaign("c", emas(**{field: value}, **extra))
    deliveries, problems = repo.deliveries(env)
    assert not problems, problems
    (delivery,) = deliveries
    return delivery.params[field]


def render_errors(repo: PushRepo, value: str, field: str = "Title") -> list[Diagnostic]:
    repo.campaign("c", emas(**{field: value}))
    deliveries, problems = repo.deliveries()
    assert deliveries == []
    return problems
