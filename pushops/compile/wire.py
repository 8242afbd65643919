"""Typed values to wire strings, as the real SDK traffic has them (api-facts §0.2, §5).

Booleans are ``true``/``false`` (the API accepts them in any case; the SDKs' ``True`` is an
accident of ``str()``), numbers are decimal strings (an integer field never carries ``3.0``),
JSON-string fields and ``wire: json`` maps are compact JSON (``separators=(",", ":")``,
``ensure_ascii=False``) and never hold NaN or Infinity, which are not JSON; a vendor map's
values (``ThirdChannelCategory``, ``NotifyLevel``) are strings, as the documents and SDK
examples write them (``{"hms":"9"}``), whatever YAML type the author used; ``wire: flatten``
maps become ``Name.key=value`` fields (nested maps ``Name.a.b``, lists ``Name.1`` 1-based).
"""

from __future__ import annotations

import json
import math
from typing import Any

from pushops.tables import Param

_COMPACT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)


class WireError(ValueError):
    """A value no API takes (validate reports these earlier, located): NaN, Infinity, a
    fraction in an integer field."""


def compact_json(value: Any) -> str:
    try:
        return _COMPACT.encode(value)
    except ValueError:
        raise WireError("NaN and Infinity are not JSON numbers") from None


def scalar(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise WireError(f"{value!r} is not a number the API takes")
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


def _integer(value: Any) -> str:
    if type(value) is float and value.is_integer():
        return str(int(value))
    if type(value) is not int:
        raise WireError(f"{value!r} is not an integer")
    return str(value)


def serialise(name: str, value: Any, param: Param | None, out: dict[str, str]) -> None:
    """Add field ``name`` (already prefixed, e.g. ``PushTask.3.Title``) to ``out``."""
    if value is None:
        return
    kind = param.type if param is not None else None
    if kind == "map" and param is not None and param.wire == "flatten":
        _flatten(name, value, out)
    elif kind == "map" and isinstance(value, dict):
        out[name] = compact_json({key: scalar(item) for key, item in value.items()})
    elif isinstance(value, (dict, list)):
        # json: object/array strings travel as one JSON field.
        out[name] = compact_json(value)
    elif kind == "integer" and not isinstance(value, (bool, str)):
        out[name] = _integer(value)
    else:
        out[name] = scalar(value)


def serialise_params(
    params: dict[str, Any], table: dict[str, Param], prefix: str, out: dict[str, str]
) -> None:
    """Every field of ``params`` in name order, so the form does not depend on YAML order.

    Raises :class:`WireError` naming the field for a value no API takes."""
    for name in sorted(params):
        value = params[name]
        if type(value) is str:  # most fields: no conversion to decide
            out[prefix + name] = value
            continue
        try:
            serialise(prefix + name, value, table.get(name), out)
        except WireError as exc:
            raise WireError(f"{name}: {exc}") from None
