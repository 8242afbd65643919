"""Counts and durations in words: "1 delivery", "3 deliveries", "40 s", "2 min 5 s".

One place, so no message says "delivery(ies)" or rounds a 40-second age down to "0 min".
"""

from __future__ import annotations

from datetime import timedelta

_IRREGULAR = {"delivery": "deliveries", "is": "are", "was": "were", "entry": "entries"}


def plural(count: int, word: str, many: str | None = None) -> str:
    """``count`` and ``word``, the plural when ``count`` is not 1 (thousands separated)."""
    if count == 1:
        return f"1 {word}"
    return f"{count:,} {many or _IRREGULAR.get(word) or word + 's'}"


def duration(span: timedelta | float) -> str:
    """A span in its two largest units, rounded down: "40 s", "2 min 5 s", "1 h", "3 d 4 h"."""
    seconds = int(span.total_seconds() if isinstance(span, timedelta) else span)
    if seconds < 0:
        return "-" + duration(-seconds)
    units = (("d", 86_400), ("h", 3_600), ("min", 60), ("s", 1))
    parts: list[str] = []
    for name, size in units:
        amount, seconds = divmod(seconds, size)
        if amount or parts:
            parts.append(f"{amount} {name}")
        if len(parts) == 2:
            break
    parts = [p for p in parts if not p.startswith("0 ")]
    return " ".join(parts) if parts else "0 s"
