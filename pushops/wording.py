"""Counts in words: "1 campaign", "2 campaigns", "1 delivery", "3 deliveries"."""

from __future__ import annotations

_IRREGULAR = {"delivery": "deliveries", "is": "are", "was": "were", "entry": "entries"}


def plural(count: int, word: str, many: str | None = None) -> str:
    """``count`` and ``word``, the plural when ``count`` is not 1 (thousands separated)."""
    if count == 1:
        return f"1 {word}"
    return f"{count:,} {many or _IRREGULAR.get(word) or word + 's'}"
