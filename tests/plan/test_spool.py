"""Spools: a plan's per-delivery data in bounded memory, read back in order."""

from __future__ import annotations

import random

from pushops.plan.spool import SortedSpool, Spool


def test_spool_gives_back_every_item_in_order_across_blocks_many_times() -> None:
    spool: Spool[int] = Spool(block=7)
    spool.extend(range(100))
    assert len(spool) == 100 and spool._blocks  # most of it went to disk
    assert list(spool) == list(range(100))
    assert list(spool) == list(range(100))  # a second pass reads the same


def test_spool_encodes_and_decodes_items() -> None:
    spool: Spool[str] = Spool(encode=lambda s: (s.upper(),), decode=lambda t: t[0], block=3)
    spool.extend(["a", "b", "c", "d"])
    assert list(spool) == ["A", "B", "C", "D"]


def test_sorted_spool_merges_its_runs_in_key_order_and_keeps_equal_keys_in_order() -> None:
    rng = random.Random(7)
    items = [(rng.randrange(50), n) for n in range(1000)]
    spool: SortedSpool[tuple[int, int]] = SortedSpool(key=lambda t: t[0], block=16, run=100)
    spool.extend(items)
    assert len(spool._runs) == 10
    assert list(spool) == sorted(items, key=lambda t: t[0])  # sorted() is stable too


def test_an_empty_spool_is_empty_and_false() -> None:
    assert list(Spool()) == [] and not Spool()
    assert list(SortedSpool(key=lambda t: t)) == []
