"""validate renders a campaign once when it renders alike in every environment, and reports
exactly what rendering it in each would report."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

import pushops.check.validate as validate_module
from pushops.config import load_config
from pushops.render import Renderer
from tests.pushrepo import EMAS_TASK, MPAAS_BROADCAST, PushRepo

NOW = datetime(2026, 11, 22, 9, tzinfo=timezone.utc)


def run(repo: PushRepo, monkeypatch: pytest.MonkeyPatch, *, shortcut: bool) -> tuple[Any, list]:
    rendered: list[str] = []
    original = Renderer.render_campaign

    def spy(self: Renderer, campaign: Any, environment: str, report: Any) -> Any:
        rendered.append(environment)
        return original(self, campaign, environment, report)

    with monkeypatch.context() as patch:
        patch.setattr(Renderer, "render_campaign", spy)
        if not shortcut:
            patch.setattr(validate_module, "renders_alike", lambda *args: False)
        result = validate_module.validate([], repo.root, load_config(repo.root), NOW)
    shown = [(d.format(), d.severity) for d in result.report.diagnostics]
    return shown, rendered


def emas(**fields: Any) -> dict[str, Any]:
    return {"id": "c", "app": "shop", "tasks": [{**EMAS_TASK, **fields}, {**EMAS_TASK, "id": "u"}]}


CASES = {
    "literal and clean": (emas(), ["staging"]),
    "literal with errors": (emas(Title="x" * 250, iOSBadge=-5, Nope=1), ["staging"]),
    "reads a project var, wrong": (emas(Title="{{ brand * 30 }}"), ["staging"]),
    "reads an env var": (emas(Title="{{ deep_link_host * 20 }}"), ["staging", "production"]),
    "reads the environment": (emas(Title="{{ environment.name * 30 }}"), ["staging", "production"]),
    "reads the app": (emas(Title="{{ (app.app_key | string) * 30 }}"), ["staging", "production"]),
    "a message var shadows an env var": (
        emas(Title="{{ deep_link_host }}", vars={"deep_link_host": "h" * 210}),
        ["staging"],
    ),
    "undefined": (emas(Title="{{ nothing }}"), ["staging"]),
    "syntax error": (emas(Title="{{ brand "), ["staging", "production"]),
    "partial": (emas(Title="{% include 'x.j2' %}"), ["staging", "production"]),
    "reserved var": (
        {**emas(), "vars": {"environment": "x"}},
        ["staging", "production"],
    ),
    "mpaas": ({"id": "w", "app": "wallet", "broadcasts": [MPAAS_BROADCAST]}, ["staging"]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_the_same_findings_whether_or_not_rendering_is_shared(
    repo: PushRepo, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    doc, expected_renders = CASES[name]
    repo.campaign("c", doc)
    shared, renders = run(repo, monkeypatch, shortcut=True)
    each, every = run(repo, monkeypatch, shortcut=False)
    assert shared == each
    environments = sorted(set(every))
    if len(environments) > 1:
        assert renders == expected_renders
    if name not in ("literal and clean", "mpaas"):
        assert shared, "the case should find something"


def test_a_value_wrong_in_both_environments_names_both_when_rendered_once(
    repo: PushRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo.campaign("c", emas(Title="{{ brand * 30 }}"))
    shown, renders = run(repo, monkeypatch, shortcut=True)
    assert renders == ["staging"]
    assert any("(rendered for staging, production: 'Acme Shop" in text for text, _ in shown)
