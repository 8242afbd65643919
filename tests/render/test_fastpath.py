"""The shortcut for simple templates gives exactly what Jinja gives, or steps aside."""

from __future__ import annotations

import pytest

from pushops.render.fastpath import shortcut
from pushops.render.sandbox import Sandbox

CONTEXT = {"brand": "Acme", "n": 3, "x": 0.5, "row": {"name": "ada lovelace", "items": "col"}}


@pytest.mark.parametrize(
    "source",
    [
        "{{ row.name }}",
        "Hi {{ row.name | title }} from {{ brand }}",
        "{{ n }} and {{ x }}",
        "{{ row.name | upper | trim }}!",
        "plain {{ brand }}",
    ],
)
def test_the_shortcut_matches_jinja(source: str) -> None:
    sandbox = Sandbox()
    fast = shortcut(sandbox.parse(source), sandbox.filters)
    assert fast is not None
    assert fast(CONTEXT) == sandbox.from_string(source).render(**CONTEXT)


@pytest.mark.parametrize(
    "source",
    [
        "{{ row.items }}",
        "{{ row['name'] }}",
        "{{ n + 1 }}",
        "{% if n %}x{% endif %}",
        "{{ x | round(1) }}",
    ],
)
def test_what_the_shortcut_cannot_be_sure_of_is_left_to_jinja(source: str) -> None:
    sandbox = Sandbox()
    assert shortcut(sandbox.parse(source), sandbox.filters) is None


def test_a_missing_value_falls_back_so_jinja_reports_it() -> None:
    sandbox = Sandbox()
    fast = shortcut(sandbox.parse("{{ row.nope }}"), sandbox.filters)
    assert fast is not None and fast(CONTEXT) is None
