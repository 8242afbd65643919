"""Give parameter values the types the tables declare, and say which text reads as which type.

Rendered templates are text, and YAML authors write ``TargetValue: 12345`` unquoted; both are
brought to the declared type here, once, before the provider schema and rules look at them.
The campaign schema an editor uses accepts exactly the forms :func:`coerce` converts: the
patterns below are built from the same definitions (:mod:`pushops.schemas` uses them).
"""

from __future__ import annotations

import re
from typing import Any

from pushops.tables import Param

# The white space around a number or boolean written as text: ASCII only, the same in Python
# and in the JavaScript regular expressions an editor runs (their ``\s`` differ).
SPACE = " \t\n\r\f\v"
_SPACE_CLASS = r"[ \t\n\r\f\v]"
INT_TEXT = r"[+-]?[0-9]+"
NUMBER_TEXT = r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?"
BOOLEAN_TEXT = "[Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee]"
_INT = re.compile(INT_TEXT).fullmatch
_NUMBER = re.compile(NUMBER_TEXT).fullmatch


def is_digits(text: str) -> bool:
    """``text`` is one or more ASCII digits. ``str.isdigit`` (and ``\\d`` in ``re``) also take
    Arabic-Indic, fullwidth and superscript digits, which no API reads as a number (and on which
    ``int()`` either succeeds, unlike the API, or raises)."""
    return text.isascii() and text.isdigit()


def coerce(param: Param | None, value: Any) -> Any:
    """``value`` as ``param``'s type where the conversion is exact; otherwise unchanged."""
    if param is None or value is None:
        return value
    kind = param.type
    if kind == "string" and not param.json:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        return value
    if kind == "integer" and type(value) is float and value.is_integer():
        # YAML ``iOSBadge: 3.0`` means 3; on the wire "3.0" is not an integer.
        return int(value)
    if isinstance(value, str):
        text = value.strip(SPACE)
        if kind == "integer" and _INT(text):
            return int(text)
        if kind == "number" and _NUMBER(text):
            number = float(text)
            return int(number) if number.is_integer() and "." not in text else number
        if kind == "boolean" and text.lower() in ("true", "false"):
            return text.lower() == "true"
    return value


def coerce_all(params: dict[str, Any], table_params: dict[str, Param]) -> dict[str, Any]:
    return {name: coerce(table_params.get(name), value) for name, value in params.items()}


# -- the same forms as JSON Schema patterns (ECMA 262 and Python read them alike) ------------


def _spaced(body: str) -> str:
    return f"^{_SPACE_CLASS}*({body}){_SPACE_CLASS}*$"


def boolean_text_pattern() -> str:
    """Text :func:`coerce` reads as a boolean (``"true"``, ``" False "``)."""
    return _spaced(BOOLEAN_TEXT)


def number_text_pattern() -> str:
    """Text :func:`coerce` reads as a number (``"0.5"``, ``"1e-3"``)."""
    return _spaced(NUMBER_TEXT)


def integer_text_pattern(low: int, high: int, allowed: tuple[int, ...] = ()) -> str:
    """Text :func:`coerce` reads as an integer in ``allowed`` (when given) or in
    ``[low, high]``: signs and leading zeros included (``"+007"`` is 7, ``"-0"`` is 0)."""
    alternatives: list[str] = []
    if allowed:
        for value in sorted(set(allowed)):
            if value == 0:
                alternatives.append("[+-]?0+")
            elif value > 0:
                alternatives.append(rf"\+?0*{value}")
            else:
                alternatives.append(f"-0*{-value}")
    else:
        if low <= 0 <= high:
            alternatives.append("[+-]?0+")
        if high >= 1:
            alternatives.append(rf"\+?0*({_range(max(low, 1), high)})")
        if low <= -1:
            alternatives.append(f"-0*({_range(max(-high, 1), -low)})")
    return _spaced("|".join(alternatives) or "(?!)")


def _range(low: int, high: int) -> str:
    """A regular expression for the decimal numbers ``low`` to ``high`` (1 <= low <= high),
    written without leading zeros."""
    parts: list[str] = []
    for width in range(len(str(low)), len(str(high)) + 1):
        lo = str(low) if width == len(str(low)) else "1" + "0" * (width - 1)
        hi = str(high) if width == len(str(high)) else "9" * width
        parts.extend(_same_width(lo, hi))
    return "|".join(parts)


def _same_width(lo: str, hi: str) -> list[str]:
    """Regular expressions for the numbers from ``lo`` to ``hi``, both ``len(lo)`` digits."""
    if lo == hi:
        return [lo]
    rest = len(lo) - 1
    if lo[1:] == "0" * rest and hi[1:] == "9" * rest:
        head = lo[0] if lo[0] == hi[0] else f"[{lo[0]}-{hi[0]}]"
        return [head + (f"[0-9]{{{rest}}}" if rest > 1 else "[0-9]" if rest else "")]
    if lo[0] == hi[0]:
        tails = _same_width(lo[1:], hi[1:])
        return [lo[0] + (tails[0] if len(tails) == 1 else f"({'|'.join(tails)})")]
    first, last = int(lo[0]), int(hi[0])
    parts = _same_width(lo, lo[0] + "9" * rest)
    if last - first > 1:
        parts.extend(_same_width(str(first + 1) + "0" * rest, str(last - 1) + "9" * rest))
    parts.extend(_same_width(hi[0] + "0" * rest, hi))
    return parts
