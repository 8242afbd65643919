"""The fan-out key index: exact for the keys it is given, through growth."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pushops.render.keyindex import KeyIndex


def test_a_key_is_new_once_then_seen() -> None:
    index = KeyIndex()
    assert index.add("d1") is True
    assert index.add("d1") is False
    assert index.add("d2") is True
    assert len(index) == 2


def test_growth_keeps_every_key() -> None:
    index = KeyIndex(capacity=4)
    keys = [f"device-{n}" for n in range(50_000)]
    assert all(index.add(k) for k in keys)
    assert not any(index.add(k) for k in keys)
    assert len(index) == 50_000


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=12), max_size=300))
def test_it_finds_exactly_the_repeats_a_set_finds(keys: list[str]) -> None:
    index, plain = KeyIndex(capacity=2), set()
    for key in keys:
        assert index.add(key) == (key not in plain)
        plain.add(key)
