"""Give parameter values the types the tables declare.

Rendered templates are text, and YAML authors write ``TargetValue: 12345`` unquoted; both are
brought to the declared type here, once, before the provider schema and rules look at them.
"""

from __future__ import annotations

import re
from typing import Any

from pushops.tables import Param

_INT = re.compile(r"^[+-]?\d+$")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


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
        text = value.strip()
        if kind == "integer" and _INT.match(text):
            return int(text)
        if kind == "number" and _NUMBER.match(text):
            number = float(text)
            return int(number) if number.is_integer() and "." not in text else number
        if kind == "boolean" and text.lower() in ("true", "false"):
            return text.lower() == "true"
    return value


def coerce_all(params: dict[str, Any], table_params: dict[str, Param]) -> dict[str, Any]:
    return {name: coerce(table_params.get(name), value) for name, value in params.items()}
