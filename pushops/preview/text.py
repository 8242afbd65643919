"""Text as a device and as a reviewer see it: display width, cutting, invisible characters.

Widths are display units: a CJK character (East Asian wide or fullwidth, most emoji too) is 2,
a combining mark 0, anything else 1, the way notification layouts and the vendors' limits
count (vivo's "20 Chinese or 40 Latin characters").
"""

from __future__ import annotations

import re
import unicodedata

ELLIPSIS = "…"

# Characters that change how text reads without being seen: C0/C1 controls (tab and newline
# aside), bidirectional overrides and isolates (a title could read differently from what is
# sent), zero-width characters and the BOM. Shown as ⟨U+XXXX⟩ wherever pushops shows text.
_HIDDEN = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
)


def char_width(char: str) -> int:
    if char < "\u0300":  # Latin and most punctuation: the common case
        return 1
    if unicodedata.combining(char):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def width(text: str) -> int:
    """Display width of ``text`` (see the module docstring)."""
    if text.isascii():
        return len(text)
    return sum(char_width(c) for c in text)


def cut(text: str, limit: int) -> tuple[str, bool]:
    """``text`` as a surface ``limit`` units wide shows it: whole, or cut with an ellipsis
    (which takes one unit). Returns the text shown and whether it was cut."""
    if width(text) <= limit:
        return text, False
    shown: list[str] = []
    used = 0
    for char in text:
        w = char_width(char)
        if used + w > limit - 1:
            break
        shown.append(char)
        used += w
    return "".join(shown).rstrip() + ELLIPSIS, True


def cut_lines(text: str, lines: int, per_line: int, total: int | None = None) -> tuple[str, bool]:
    """``text`` in at most ``lines`` lines of ``per_line`` units (and ``total`` units in all):
    a newline ends a line, a long line wraps. What fits, with an ellipsis where it was cut."""
    rows_left = lines
    units_left = total if total is not None else lines * per_line
    out: list[str] = []
    for line in text.split("\n"):
        if rows_left <= 0 or units_left <= 0:
            last = out[-1] if out else ""
            room = max(1, -(-width(last) // per_line)) * per_line
            out[-1:] = [last + ELLIPSIS if width(last) < room else cut(last + "..", width(last))[0]]
            return "\n".join(out), True
        w = width(line)
        room = min(rows_left * per_line, units_left)
        if w > room:
            out.append(cut(line, room)[0])
            return "\n".join(out), True
        out.append(line)
        rows_left -= max(1, -(-w // per_line))
        units_left -= w
    return "\n".join(out), False


def reveal(text: str) -> str:
    """``text`` with invisible and direction-changing characters shown as ⟨U+XXXX⟩."""
    if text.isascii() and text.isprintable():
        return text
    return _HIDDEN.sub(lambda m: f"⟨U+{ord(m.group()):04X}⟩", text)


def one_line(text: str) -> str:
    """``text`` revealed, its line breaks shown as ⏎ (for a summary on one line)."""
    return reveal(text).replace("\r\n", "⏎").replace("\n", "⏎").replace("\t", " ")
