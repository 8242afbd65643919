"""Typed values to wire strings, as the real SDK traffic has them (api-facts §0.2).

Booleans are ``true``/``false`` (the API accepts them in any case; the SDKs' ``True`` is an
accident of ``str()``), numbers are decimal strings, JSON-string fields and ``wire: json`` maps
are compact JSON (``separators=(",", ":")``, ``ensure_ascii=False``), ``wire: flatten`` maps
become ``Name.key=value`` fields (nested maps ``Name.a.b``, lists ``Name.1`` 1-based).
"""

from __future__ import annotations

import json
from typing import Any

from pushops.tables import Param

_COMPACT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def compact_json(value: Any) -> str:
    return _COMPACT.encode(value)


def scalar(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return repr(value)
    return compact_json(value)


def _flatten(prefix: str, value: Any, out: dict[str, str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(f"{prefix}.{key}", item, out)
    elif isinstance(value, list):
        for index, item in enumerate(value, 1):
            _flatten(f"{prefix}.{index}", item, out)
    else:
        out[prefix] = scalar(value)


def serialise(name: str, value: Any, param: Param | None, out: dict[str, str]) -> None:
    """Add field ``name`` (already prefixed, e.g. ``PushTask.3.Title``) to ``out``."""
    if value is None:
        return
    if param is not None and param.type == "map" and param.wire == "flatten":
        _flatten(name, value, out)
    elif isinstance(value, (dict, list)):
        # json: object/array strings and wire: json maps alike travel as one JSON field.
        out[name] = compact_json(value)
    else:
        out[name] = scalar(value)


def serialise_params(
    params: dict[str, Any], table: dict[str, Param], prefix: str, out: dict[str, str]
) -> None:
    """Every field of ``params`` in name order, so the form does not depend on YAML order."""
    for name in sorted(params):
        value = params[name]
        if type(value) is str:  # most fields: no conversion to decide
            out[prefix + name] = value
        else:
            serialise(prefix + name, value, table.get(name), out)
