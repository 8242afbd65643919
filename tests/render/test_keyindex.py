"""The fan-out key index (exact for the keys it is given, through growth) and the key check
built on it: the first keys in memory, the rest spilled to a temporary database."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pushops.render.keyindex import KeyCheck, KeyIndex, Repeat


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


def test_the_key_check_keeps_at_most_its_limit_of_keys_in_memory() -> None:
    with KeyCheck(in_memory=1024) as check:
        for n in range(10_000):
            check.add(f"device-{n}", n + 1, n + 2)
        assert len(check._index) == 1024
        assert len(check._index._slots) == 2048
        assert check.spilled == 10_000 - 1024 - len(check._keys)


def test_a_repeat_of_a_spilled_key_names_both_rows_and_lines() -> None:
    with KeyCheck(in_memory=2) as check:
        added = [check.add(key, n, n * 10) for n, key in enumerate("abcdcec", 1)]
        assert added == [True] * 7  # none of them repeats a key held in memory
        assert check.repeats(20) == (
            [Repeat("c", 5, 50, 3, 30), Repeat("c", 7, 70, 3, 30)],
            2,
        )


def test_the_repeats_listed_are_capped_but_all_counted() -> None:
    with KeyCheck(in_memory=0) as check:
        for n in range(1, 11):
            check.add("same", n, n)
        found, total = check.repeats(3)
        assert ([r.row for r in found], total) == ([2, 3, 4], 9)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from("abcdefgh"), max_size=40), st.integers(0, 5))
def test_the_check_finds_exactly_the_repeats_a_set_finds(keys: list[str], limit: int) -> None:
    first: dict[str, int] = {}
    expected, found = [], []
    with KeyCheck(in_memory=limit) as check:
        for row, key in enumerate(keys, 1):
            if key in first:
                expected.append((row, first[key]))
            else:
                first[key] = row
            if not check.add(key, row, row + 1):
                found.append((row, first[key]))
        late, total = check.repeats(len(keys))
    found += [(r.row, r.first_row) for r in late]
    assert total == len(late)
    assert sorted(found) == expected
