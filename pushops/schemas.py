"""The JSON Schemas (draft 2020-12), derived from the parameter tables.

Two shapes come from one table. The provider schema checks a rendered, typed request (pushops
checks every delivery with it). The campaign (authoring) schema is what editors use, so it
accepts what ``pushops validate`` accepts before rendering: a Jinja template string in any
constrained field, and the text forms :func:`pushops.params.coerce` types (``Title: 2026``,
``iOSBadge: "3"``, ``StoreOffline: "true"``). It also says what only an editor reads: a title
per field, a description per enum value, the limits as ``maxLength`` (a byte limit caps the
characters: pushops counts the bytes), ``deprecationMessage``, ``patternErrorMessage`` and, on
each table condition, ``errorMessage``. ``x-rule``/``x-message`` on each condition let
pushops name the rule a person can look up.

A condition is written so that an editor reports it where ``pushops validate`` does: on the
value of the field that switched it on. "AndroidOpenType ACTIVITY needs AndroidActivity"
becomes "when AndroidActivity is missing, AndroidOpenType may not be ACTIVITY", and the value
is refused by an empty ``enum`` (it fails every value, like ``false``, but unlike ``false`` or
``not`` an editor shows its ``errorMessage``).
"""

from __future__ import annotations

import json
from typing import Any

from pushops.params import (
    boolean_text_pattern,
    integer_text_pattern,
    is_digits,
    number_text_pattern,
)
from pushops.tables import (
    INT64_FORMATS,
    Condition,
    Param,
    ParameterTable,
    Value,
)

DRAFT = "https://json-schema.org/draft/2020-12/schema"
BASE_ID = "https://pushops.dev/schemas/"

PATTERNS = {
    "utc-datetime": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$",
    "uuid": r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
    "time": r"^([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$",
}
FORMAT_HELP = {
    "utc-datetime": "UTC time as YYYY-MM-DDThh:mm:ssZ",
    "uuid": "a 36-character UUID",
    "time": "time of day as HH:mm:ss",
    "csv": "comma-separated list",
    "epoch-ms": "milliseconds since 1970-01-01 UTC",
    "int64": "a 64-bit integer (a Long in the API metadata)",
}
FORMAT_EXAMPLES = {
    "utc-datetime": "2026-11-27T01:00:00Z",
    "uuid": "c8016d13-6e76-410c-9bda-769383d11787",
    "time": "09:30:00",
}
TEMPLATE = {
    # No title or description: an editor's hover would show them instead of the field's own.
    "$comment": "A Jinja template, rendered before the value is checked.",
    "type": "string",
    "pattern": r"\{\{|\{%",
    "patternErrorMessage": "Not a template: a template holds {{ … }} or {% … %}.",
}
# Text holding JSON: the first and last characters the document can have (JSON's own white
# space around it). Whether the rest is JSON, pushops checks (the ``-json`` rules).
JSON_TEXT = {
    "object": r"^[ \t\n\r]*\{[\s\S]*\}[ \t\n\r]*$",
    "array": r"^[ \t\n\r]*\[[\s\S]*\][ \t\n\r]*$",
}
ID_PATTERN = "^[A-Za-z0-9][A-Za-z0-9_.-]*$"
ID_HELP = "Letters, digits, '_', '.' and '-', starting with a letter or digit."

# Fields pushops fills in itself: an author never writes them in a campaign.
MANAGED_FIELDS = {
    "emas": {"AppKey": "from the app's app_key in pushops.yaml", "IdempotentToken": "derived"},
    "mpaas": {
        "AppId": "from the app's app_id in pushops.yaml",
        "WorkspaceId": "from the app's workspace_id in pushops.yaml",
        "Msgkey": "derived from the delivery's key and fingerprint",
    },
}
MESSAGE_META = {
    "id": {
        "type": "string",
        "pattern": ID_PATTERN,
        "title": "id",
        "description": "Stable id of this message within the campaign; part of the delivery key. "
        + ID_HELP,
        "patternErrorMessage": ID_HELP,
    },
    "vars": {
        "type": "object",
        "title": "vars",
        "description": "Variables for this message's templates.",
    },
    "fan_out": {"$ref": "#/$defs/fanOut"},
}
MESSAGE_LIST = {"emas": "tasks", "mpaas": "broadcasts"}
MESSAGE_TITLES = {"emas": "EMAS MassPush task", "mpaas": "mPaaS PushBroadcast broadcast"}


# ------------------------------------------------------------------------------ help text


def sentence(text: str) -> str:
    """``text`` ending with a full stop (its first letter kept: "iOS", "vivo")."""
    text = text.strip()
    if not text:
        return text
    return text if text.endswith((".", "!", "?")) else text + "."


def json_spelling(value: Any) -> str:
    """A value as JSON writes it (``false``, ``"0"``, ``3``): what an author types."""
    return json.dumps(value, ensure_ascii=False)


def _markdown(text: str) -> str:
    """Plain text shown as Markdown: the characters Markdown would read as markup escaped."""
    out = []
    for char in text:
        out.append("\\" + char if char in "\\`*_[]<>#|" else char)
    return "".join(out)


def _range_phrase(param: Param) -> str | None:
    if param.type == "integer" and not param.values:
        low, high = param.integer_bounds()
        width = " (a 64-bit integer)" if param.format in INT64_FORMATS else ""
        return f"A whole number from {low} to {high}{width}."
    if param.type == "number":
        low, high = param.limits.get("minimum"), param.limits.get("maximum")
        if low is not None and high is not None:
            return f"A number from {low} to {high}."
        if low is not None:
            return f"A number of at least {low}."
        if high is not None:
            return f"A number of at most {high}."
    return None


def _describe(param: Param) -> str:
    parts = [sentence(param.description)]
    listed_as_enum = bool(param.values) and param.format != "csv"
    if param.values and not listed_as_enum:
        parts.append(
            "Values: "
            + "; ".join(
                f"{v.value} ({v.meaning})" if v.meaning else str(v.value) for v in param.values
            )
            + "."
        )
    parts.extend(sentence(phrase[0].upper() + phrase[1:]) for phrase in param.limit_phrases())
    if "max_bytes" in param.limits:
        parts.append("Editors check the characters; pushops validate counts the bytes.")
    rng = _range_phrase(param)
    if rng:
        parts.append(rng)
    if param.format in FORMAT_HELP:
        parts.append(f"Format: {FORMAT_HELP[param.format]}.")
    if param.default is not None:
        parts.append(f"Default: {json_spelling(param.default)}.")
    if param.deprecated:
        parts.append(_deprecation(param))
    return " ".join(p for p in parts if p)


def _deprecation(param: Param) -> str:
    reason = param.deprecated if isinstance(param.deprecated, str) else ""
    return f"Deprecated: {sentence(reason)}" if reason else "Deprecated."


def described_enum(values: list[Any], meanings: list[str]) -> dict[str, Any]:
    """``enum`` with a description per value, as the editors' extensions read them."""
    out: dict[str, Any] = {"enum": values}
    if any(meanings):
        described = [sentence(m) if m else "" for m in meanings]
        out["enumDescriptions"] = described
        out["markdownEnumDescriptions"] = [_markdown(m) for m in described]
    return out


# ------------------------------------------------------------------------------ value schemas


def _one_of_forms(forms: list[dict[str, Any]]) -> dict[str, Any]:
    return forms[0] if len(forms) == 1 else {"anyOf": forms}


def _numeric_strings(values: tuple[Value, ...]) -> list[tuple[int, str]]:
    """The allowed values of a string field that are whole numbers written as text ("0")."""
    return [
        (int(v.value), v.meaning)
        for v in values
        if isinstance(v.value, str) and is_digits(v.value) and str(int(v.value)) == v.value
    ]


def _string_schema(param: Param, *, authoring: bool, top: bool) -> list[dict[str, Any]]:
    """The forms of a plain string field's value: text, and (top level, authoring) a number
    pushops writes as text."""
    allowed = list(param.allowed)
    text: dict[str, Any] = {"type": "string"}
    if allowed and param.format != "csv":
        text.update(described_enum(allowed, [v.meaning for v in param.values]))
    if param.format in PATTERNS:
        text["pattern"] = PATTERNS[param.format]
        text["patternErrorMessage"] = (
            f"Expected {FORMAT_HELP[param.format]}, e.g. {FORMAT_EXAMPLES[param.format]}."
        )
    if param.format == "csv" and allowed:
        alt = "|".join(str(v) for v in allowed)
        text["pattern"] = f"^({alt})(,({alt}))*$"
        text["patternErrorMessage"] = (
            f"A comma-separated list of {', '.join(str(v) for v in allowed)}, "
            "without spaces or empty entries."
        )
    if param.required:
        text["minLength"] = 1
    if not authoring:
        return [text]
    # A number is written as text (`Title: 2026` is "2026"): where no format or list of values
    # could refuse it.
    number_as_text = not allowed and param.format not in PATTERNS
    limit = param.limits.get("max_chars", param.limits.get("max_bytes"))
    if limit is not None:
        text["maxLength"] = limit
    if "max_entries" in param.limits and "pattern" not in text:
        most = param.limits["max_entries"]
        entry = r"[^,]*[^,\s][^,]*"
        text["pattern"] = f"^{entry}(,{entry}){{0,{most - 1}}}$"
        text["patternErrorMessage"] = f"At most {most} comma-separated entries, none of them empty."
    forms = [text]
    if top:
        numeric = _numeric_strings(param.values)
        if number_as_text:
            forms.append({"type": "number"})
        elif numeric and param.format != "csv":
            numbers = [n for n, _ in numeric]
            number: dict[str, Any] = {"type": "integer"}
            if numbers == list(range(min(numbers), max(numbers) + 1)):
                number.update(minimum=min(numbers), maximum=max(numbers))
            else:
                number.update(described_enum(numbers, [m for _, m in numeric]))
            forms.append(number)
    return forms


def _integer_schema(param: Param, *, authoring: bool, top: bool) -> list[dict[str, Any]]:
    typed: dict[str, Any] = {"type": "integer"}
    low, high = param.integer_bounds()  # the API's int32 (or int64) refuses a larger value
    if param.values:
        typed.update(described_enum(list(param.allowed), [v.meaning for v in param.values]))
    typed["minimum"], typed["maximum"] = low, high
    forms = [typed]
    if authoring and top:
        allowed = tuple(int(v) for v in param.allowed)
        pattern = integer_text_pattern(low, high, allowed)
        forms.append(
            {
                "type": "string",
                "pattern": pattern,
                "patternErrorMessage": "Expected "
                + (
                    f"one of {', '.join(map(str, allowed))}"
                    if allowed
                    else f"a whole number from {low} to {high}"
                )
                + ".",
            }
        )
    return forms


def _number_schema(param: Param, *, authoring: bool, top: bool) -> list[dict[str, Any]]:
    typed: dict[str, Any] = {"type": "number"}
    if param.values:
        typed.update(described_enum(list(param.allowed), [v.meaning for v in param.values]))
    for bound in ("minimum", "maximum"):
        if bound in param.limits:
            typed[bound] = param.limits[bound]
    forms = [typed]
    if authoring and top:
        # The range of a number written as text is pushops validate's to check.
        forms.append(
            {
                "type": "string",
                "pattern": number_text_pattern(),
                "patternErrorMessage": "Expected a number.",
            }
        )
    return forms


def _json_schema(param: Param, *, authoring: bool) -> list[dict[str, Any]]:
    """A string field holding JSON: a YAML map or list, or text already holding the JSON."""
    limits = param.limits
    value: dict[str, Any]
    if param.json == "object":
        value = {"type": "object"}
        if param.fields:
            value["properties"] = {
                f.name: _annotated(f, _value_schema(f, authoring=authoring, top=False))
                for f in param.fields
            }
            value["additionalProperties"] = False
        if "max_keys" in limits:
            value["maxProperties"] = limits["max_keys"]
    else:
        value = {"type": "array"}
        if "max_items" in limits:
            value["maxItems"] = limits["max_items"]
    text: dict[str, Any] = {"type": "string"}
    if authoring:
        kind = param.json or "object"
        text["pattern"] = JSON_TEXT[kind]
        text["patternErrorMessage"] = (
            f"A YAML {'map' if kind == 'object' else 'list'}, or text holding a JSON {kind}."
        )
    return [value, text]


def _value_schema(param: Param, *, authoring: bool, top: bool = True) -> dict[str, Any]:
    """The JSON Schema of one field's value: typed (provider), or as an author may write it
    (authoring; ``top``: a field of the message, whose literal values pushops types)."""
    forms: list[dict[str, Any]]
    if param.type == "string" and param.json:
        forms = _json_schema(param, authoring=authoring)
    elif param.type == "string":
        forms = _string_schema(param, authoring=authoring, top=top)
    elif param.type == "integer":
        forms = _integer_schema(param, authoring=authoring, top=top)
    elif param.type == "number":
        forms = _number_schema(param, authoring=authoring, top=top)
    elif param.type == "boolean":
        forms = [{"type": "boolean"}]
        if authoring and top:
            forms.append(
                {
                    "type": "string",
                    "pattern": boolean_text_pattern(),
                    "patternErrorMessage": "Expected true or false.",
                }
            )
    elif param.type == "map" and param.wire == "flatten":
        # Flattened maps (TransparentMessagePayload: vendor -> JSON object) nest freely.
        forms = [{"type": "object"}]
    elif param.type == "map":
        mapping: dict[str, Any] = {
            "type": "object",
            "additionalProperties": {"type": ["string", "integer"]},
        }
        if param.keys:
            mapping["properties"] = {
                k.key: _vendor_key_schema(k.key, k.values, k.description) for k in param.keys
            }
        forms = [mapping]
    elif param.type == "array":
        forms = [{"type": "array", "items": {"type": "integer"}}]
    else:
        raise ValueError(f"{param.name}: unknown type {param.type!r} in the parameter table")
    plain_text = forms == [{"type": "string"}]
    if authoring and not plain_text:
        # Any typed or constrained value may instead be a template, checked after rendering.
        forms.append({"$ref": "#/$defs/template"})
    return _one_of_forms(forms)


def _vendor_key_schema(key: str, values: tuple[Value, ...], description: str) -> dict[str, Any]:
    out: dict[str, Any] = {"type": ["string", "integer"], "title": key}
    if values:
        texts = [v.value for v in values]
        numbers = [int(v.value) for v in values if is_digits(str(v.value))]
        meanings = [v.meaning for v in values]
        meanings += [v.meaning for v in values if is_digits(str(v.value))]
        out.update(described_enum(texts + numbers, meanings))
    if description:
        out["description"] = sentence(description)
    return out


def _annotated(param: Param, schema: dict[str, Any]) -> dict[str, Any]:
    out = {"title": param.name, **schema}
    if "anyOf" in out:
        # Each form titled too: yaml-language-server's hover takes forms that carry no title
        # for "every alternative matched" and would head the help "Title || Title".
        out["anyOf"] = [
            form if "$ref" in form else {"title": param.name, **form} for form in out["anyOf"]
        ]
    out["description"] = _describe(param)
    if param.example is not None:
        out["examples"] = [param.example]
    if param.default is not None and not isinstance(param.default, dict):
        out["default"] = param.default
    if param.deprecated:
        out["deprecated"] = True
        reason = param.deprecated if isinstance(param.deprecated, str) else ""
        # yaml-language-server shows every schema problem as an error: say it is a warning.
        out["deprecationMessage"] = (
            f"{param.name} is deprecated (a warning: pushops still sends it)"
            + (f": {sentence(reason)}" if reason else ".")
        )
    return out


# ------------------------------------------------------------------------------ conditions


def _refuse(message: str) -> dict[str, Any]:
    """Fails for every value, with ``message`` (see the module's docstring)."""
    return {"enum": [], "errorMessage": message}


def _is_value(param: Param | None, values: list[Any], *, authoring: bool) -> dict[str, Any]:
    """A value that is one of ``values`` in any form an author may write it: ``0`` or ``"0"``
    for an integer field, ``true`` or ``"True"`` for a boolean one."""
    forms: list[dict[str, Any]] = [{"const": values[0]} if len(values) == 1 else {"enum": values}]
    if authoring and param is not None:
        if param.type == "integer":
            low, high = param.integer_bounds()
            pattern = integer_text_pattern(low, high, tuple(int(v) for v in values))
            forms.append({"type": "string", "pattern": pattern})
        elif param.type == "boolean":
            words = "|".join("".join(f"[{c.upper()}{c}]" for c in str(v).lower()) for v in values)
            forms.append({"type": "string", "pattern": rf"^[ \t\n\r\f\v]*({words})[ \t\n\r\f\v]*$"})
    return _one_of_forms(forms)


def condition_schema(
    condition: Condition, params: dict[str, Param], *, authoring: bool = False
) -> dict[str, Any]:
    """A table condition as if/then that refuses the trigger field's value when the fields it
    needs are missing (or forbidden ones present)."""
    when, then = condition.when, condition.then
    field = when["field"]
    unmet: list[dict[str, Any]] = []
    if then.get("require"):
        unmet.append({"not": {"required": list(then["require"])}})
    if then.get("require_any"):
        unmet.append({"not": {"anyOf": [{"required": [f]} for f in then["require_any"]]}})
    if then.get("forbid"):
        unmet.append({"anyOf": [{"required": [f]} for f in then["forbid"]]})
    refuse = _refuse(sentence(condition.message))
    if "equals" in when or "in" in when:
        values = [when["equals"]] if "equals" in when else list(when["in"])
        trigger: dict[str, Any] = {
            "if": _is_value(params.get(field), values, authoring=authoring),
            "then": refuse,
        }
    else:
        trigger = refuse
    consequence: dict[str, Any] = {"properties": {field: trigger}}
    if condition.on_default:
        # The provider's default meets the condition: leaving the field out does too.
        consequence["required"] = [field]
        consequence["errorMessage"] = sentence(condition.message)
    return {
        "if": unmet[0] if len(unmet) == 1 else {"anyOf": unmet},
        "then": consequence,
        "x-rule": condition.id,
        "x-message": condition.message,
        "x-field": field,
        "x-when-absent": condition.on_default,
    }


def _object_needs(table: ParameterTable, param: Param) -> list[dict[str, Any]]:
    """The ``required_when`` of a JSON object's fields (StrategyContent by StrategyType), for
    editors: pushops checks them with its rules, which report at the same places."""
    by_outer: dict[str, dict[Any, list[str]]] = {}
    inner: list[dict[str, Any]] = []
    names = {f.name for f in param.fields}
    for sub in param.fields:
        for other, values in sub.required_when.items():
            if other in names:  # a sibling inside the object
                sibling = next(f for f in param.fields if f.name == other)
                present_and_set = {"required": [sub.name]}
                if sub.type == "array":
                    present_and_set["properties"] = {sub.name: {"minItems": 1}}
                message = f"{other} {' or '.join(map(str, values))} needs {sub.name}."
                inner.append(
                    {
                        "if": {
                            "properties": {
                                other: _is_value(sibling, list(values), authoring=False)
                            },
                            "required": [other],
                            "not": {"required": [sub.name]},
                        },
                        "then": _refuse(message),
                    }
                )
                if sub.type == "array":
                    inner.append(
                        {
                            "if": {
                                "properties": {
                                    other: _is_value(sibling, list(values), authoring=False)
                                },
                                "required": [other],
                            },
                            "then": {
                                "properties": {
                                    sub.name: {
                                        "if": {"type": "array", "maxItems": 0},
                                        "then": _refuse(message),
                                    }
                                }
                            },
                        }
                    )
            else:
                for value in values:
                    by_outer.setdefault(other, {}).setdefault(value, []).append(sub.name)
    out: list[dict[str, Any]] = []
    params = table.message_params
    for outer, needs in by_outer.items():
        for value, fields in needs.items():
            message = f"{outer} {value} needs {', '.join(fields)} in {param.name}."
            checks: list[dict[str, Any]] = [
                {
                    "if": {"type": "object", "not": {"required": fields}},
                    "then": _refuse(message),
                },
                *inner,
            ]
            out.append(
                {
                    "if": {
                        "properties": {
                            outer: _is_value(params.get(outer), [value], authoring=True)
                        },
                        "required": [outer],
                    },
                    "then": {"properties": {param.name: {"allOf": checks}}},
                }
            )
    return out


# ------------------------------------------------------------------------------ schemas


def message_schema(table: ParameterTable, *, authoring: bool) -> dict[str, Any]:
    """Schema of one message: an EMAS PushTask, or the body of one mPaaS broadcast."""
    managed = MANAGED_FIELDS[table.provider]
    params = [p for p in table.message_params.values() if not (authoring and p.name in managed)]
    properties = {p.name: _annotated(p, _value_schema(p, authoring=authoring)) for p in params}
    if authoring:
        properties = {**MESSAGE_META, **properties}
    what = table.item or "broadcast"
    schema: dict[str, Any] = {
        "type": "object",
        "title": MESSAGE_TITLES[table.provider] if authoring else f"{table.action} {what}",
        "description": f"One {table.item or table.action} message, with the API's own field names.",
        "properties": properties,
        "additionalProperties": False,
        "required": (["id"] if authoring else []) + [p.name for p in params if p.required],
    }
    conditions = [
        condition_schema(c, table.message_params, authoring=authoring) for c in table.conditions
    ]
    if authoring:
        for param in params:
            if param.fields:
                conditions.extend(_object_needs(table, param))
    if conditions:
        schema["allOf"] = conditions
    return schema


def provider_schema(table: ParameterTable) -> dict[str, Any]:
    name = f"{table.provider}-{table.action.lower()}"
    schema: dict[str, Any] = {
        "$schema": DRAFT,
        "$id": f"{BASE_ID}{name}.schema.json",
        "title": f"{table.product} {table.action} request ({table.version})",
        "description": f"Generated from schemas/tables/{table.path.name}; do not edit by hand.",
    }
    if table.item:
        top = {p.name: _annotated(p, _value_schema(p, authoring=False)) for p in table.parameters}
        top[table.item] = {
            "type": "array",
            "title": table.item,
            "minItems": 1,
            "maxItems": table.max_items,
            "items": {"$ref": f"#/$defs/{table.item}"},
            "description": f"The {table.item}s of this call, sent as {table.item}.N.Property. "
            f"From 1 to {table.max_items}.",
        }
        schema.update(
            {
                "type": "object",
                "properties": top,
                "required": [p.name for p in table.parameters if p.required] + [table.item],
                "additionalProperties": False,
                "$defs": {table.item: message_schema(table, authoring=False)},
            }
        )
    else:
        message = message_schema(table, authoring=False)
        del message["title"]
        schema.update(message)
    return schema


def campaign_schema(tables: dict[str, ParameterTable]) -> dict[str, Any]:
    defs: dict[str, Any] = {
        "template": TEMPLATE,
        "fanOut": {
            "type": "object",
            "title": "fan_out",
            "description": "Render this message once per row of a data file (CSV or JSON Lines).",
            "additionalProperties": False,
            "required": ["data"],
            "properties": {
                "data": {
                    "type": "string",
                    "title": "data",
                    "description": "Path of the data file, inside the repo.",
                },
                "format": {
                    "title": "format",
                    **described_enum(["csv", "jsonl"], ["Comma-separated values", "JSON Lines"]),
                    "description": "The data file's format. Default: from its extension "
                    "(.csv, .jsonl).",
                },
                "key": {
                    "type": "string",
                    "title": "key",
                    "description": "Template giving each row's stable key. Default: the row "
                    "number.",
                },
                "time_zone": {
                    "type": "string",
                    "title": "time_zone",
                    "description": "Template giving each row's recipient time zone "
                    "(e.g. {{ row.tz }}), for the policies that read local time.",
                },
            },
        },
    }
    properties: dict[str, Any] = {
        "id": {
            "type": "string",
            "pattern": ID_PATTERN,
            "title": "id",
            "description": "Stable campaign id, unique in the repo; part of every delivery key. "
            + ID_HELP,
            "patternErrorMessage": ID_HELP,
        },
        "revision": {
            "type": "integer",
            "minimum": 1,
            "default": 1,
            "title": "revision",
            "description": "Bump to send again after a delivery went out: a push cannot be "
            "unsent. A whole number from 1. Default: 1.",
        },
        "app": {
            "type": "string",
            "title": "app",
            "description": "App name from pushops.yaml (environments.<name>.apps).",
        },
        "description": {
            "type": "string",
            "title": "description",
            "description": "Free text for people.",
        },
        "environments": {
            "type": "array",
            "items": {"type": "string"},
            "title": "environments",
            "description": "Only plan this campaign in these environments. Default: every "
            "environment whose apps have this app.",
        },
        "vars": {
            "type": "object",
            "title": "vars",
            "description": "Variables for every message of the campaign.",
        },
        "time_zone": {
            "type": "string",
            "title": "time_zone",
            "description": "IANA time zone (e.g. Europe/Berlin) plan shows this campaign's send "
            "times in besides UTC (default: its app's, then pushops.yaml's), and policies "
            "read local times in for recipients whose zone the data does not give.",
        },
        "category": {
            "title": "category",
            **described_enum(
                ["marketing", "service"],
                [
                    "News, content and promotions.",
                    "Account, orders, reminders and chat.",
                ],
            ),
            "description": "What kind of message this is, as the vendors classify them. "
            "Policies check the vendor category fields against it.",
        },
        "owner": {
            "type": "string",
            "minLength": 1,
            "title": "owner",
            "description": "Who answers for this campaign (a person or team).",
        },
        "labels": {
            "type": "object",
            "additionalProperties": {"type": "string"},
            "title": "labels",
            "description": "Free labels (team, cost centre ...); a required-fields policy can "
            "ask for labels.NAME.",
        },
    }
    for provider, table in tables.items():
        key = MESSAGE_LIST[provider]
        def_name = f"{provider}Message"
        defs[def_name] = message_schema(table, authoring=True)
        properties[key] = {
            "type": "array",
            "minItems": 1,
            "items": {"$ref": f"#/$defs/{def_name}"},
            "title": key,
            "description": f"{table.product} {table.action} messages"
            + (f" (each one {table.item})." if table.item else " (each one broadcast).")
            + " A campaign has either tasks (EMAS) or broadcasts (mPaaS).",
        }
    return {
        "$schema": DRAFT,
        "$id": f"{BASE_ID}campaign.schema.json",
        "title": "pushops campaign",
        "description": "One campaign per file. Generated from the parameter tables.",
        "type": "object",
        "required": ["id", "app"],
        "additionalProperties": False,
        "properties": properties,
        "oneOf": [{"required": [MESSAGE_LIST[p]]} for p in tables],
        "$defs": defs,
    }


# ----------------------------------------------------------------------------- policies
#
# Team policies (pushops/policy): the ``policies`` section of pushops.yaml and the files
# under policies/ share these definitions, so an editor completes both. Every kind's
# parameters sit beside the common keys; one if/then per kind names the ones it allows.

POLICY_KIND_PARAMS: dict[str, dict[str, Any]] = {
    "quiet-hours": {
        "start": {
            "type": "string",
            "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9]$",
            "patternErrorMessage": "A time of day as HH:MM, e.g. 21:00.",
            "description": "Local time the quiet hours start, HH:MM (e.g. 21:00).",
        },
        "end": {
            "type": "string",
            "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9]$",
            "patternErrorMessage": "A time of day as HH:MM, e.g. 08:00.",
            "description": "Local time they end, HH:MM (e.g. 08:00); before start: overnight.",
        },
        "time_zone": {
            "type": "string",
            "description": "Zone of recipients whose zone nobody gave (fan_out.time_zone, the "
            "campaign's, the app's or pushops.yaml's time_zone). Default: Asia/Shanghai.",
        },
    },
    "frequency-cap": {
        "max": {
            "type": "integer",
            "minimum": 1,
            "description": "At most this many deliveries per target in the window.",
        },
        "window": {
            "type": "string",
            "pattern": r"^([0-9]+[smhd]|day)$",
            "patternErrorMessage": "A number and a unit (90m, 24h, 7d; s, m, h or d), or day.",
            "description": "A rolling window (90m, 24h, 7d), or day: the calendar day in "
            "time_zone.",
        },
        "per": {
            "type": "array",
            "items": {"enum": ["device", "account", "alias"]},
            "minItems": 1,
            "uniqueItems": True,
            "description": "Which targets are counted (EMAS Target DEVICE, ACCOUNT, ALIAS). "
            "Default: all three. An mPaaS broadcast counts for every device.",
        },
        "category": {
            "enum": ["marketing", "service", "any"],
            "description": "Count only deliveries of this category. Default: any.",
        },
        "action": {
            "enum": ["block", "drop"],
            "description": "block: a finding at the policy's level; drop: the plan leaves "
            "out the deliveries over the cap (shown as skipped). Default: block.",
        },
        "time_zone": {
            "type": "string",
            "description": "Zone of the calendar day for window: day. Default: Asia/Shanghai.",
        },
    },
    "vendor-rules": {
        "vendors": {
            "type": "array",
            "items": {"enum": ["huawei", "honor", "xiaomi", "oppo", "vivo", "harmony"]},
            "minItems": 1,
            "uniqueItems": True,
            "description": "Which vendors' rules to check. Default: all of them.",
        },
        "checks": {
            "type": "array",
            "items": {"enum": ["categories", "channel", "windows", "caps"]},
            "minItems": 1,
            "uniqueItems": True,
            "description": "Which rules: category fields present and consistent, the Xiaomi "
            "channel id, the delivery windows, the daily marketing caps. Default: all.",
        },
        "app_type": {
            "enum": ["news", "other"],
            "description": "The app's vendor classification, which sets the daily caps "
            "(news apps get more). Default: other.",
        },
        "caps": {
            "type": "object",
            "propertyNames": {"enum": ["huawei", "honor", "xiaomi", "oppo", "vivo", "harmony"]},
            "additionalProperties": {"type": "integer", "minimum": 1},
            "description": "Daily marketing caps per device granted to this app, by vendor, "
            "where they differ from the vendors' published defaults.",
        },
        "action": {
            "enum": ["block", "drop"],
            "description": "For the daily caps: block (a finding) or drop the deliveries "
            "over the cap. Default: block.",
        },
    },
    "blast-radius": {
        "max_recipients": {
            "type": "integer",
            "minimum": 0,
            "description": "A plan sending to more recipients than this is a finding.",
        },
        "broadcasts": {
            "type": "boolean",
            "description": "Whether any broadcast to all devices (mPaaS PushBroadcast) is a "
            "finding too. Default: true.",
        },
    },
    "required-fields": {
        "campaign": {
            "type": "array",
            "items": {"type": "string", "minLength": 1},
            "uniqueItems": True,
            "description": "Campaign keys every campaign must set (owner, category, "
            "description, time_zone, labels.team ...).",
        },
        "message": {
            "type": "array",
            "items": {"type": "string", "minLength": 1},
            "uniqueItems": True,
            "description": "API fields every message must carry once rendered (e.g. "
            "ExpireTime); a field its provider does not have is not asked for.",
        },
    },
}
POLICY_REQUIRED = {
    "quiet-hours": ["start", "end"],
    "frequency-cap": ["max", "window"],
    "vendor-rules": [],
    "blast-radius": ["max_recipients"],
    "required-fields": [],
}
POLICY_COMMON: dict[str, Any] = {
    "name": {
        "type": "string",
        "pattern": ID_PATTERN,
        "patternErrorMessage": ID_HELP,
        "description": "Unique name; what --override NAME refers to.",
    },
    "kind": {
        "enum": list(POLICY_KIND_PARAMS),
        "description": "What the policy checks.",
    },
    "level": {
        "enum": ["advisory", "soft", "hard"],
        "description": "advisory: a warning in plan; soft: blocks apply unless overridden "
        "for the run with --override NAME --reason; hard: blocks, no override.",
    },
    "description": {"type": "string", "description": "Why the team has this policy."},
    "environments": {
        "type": "array",
        "items": {"type": "string"},
        "minItems": 1,
        "description": "Only in these environments. Default: all.",
    },
    "campaigns": {
        "type": "array",
        "items": {"type": "string", "minLength": 1},
        "minItems": 1,
        "description": "Only campaigns whose id matches one of these patterns (* and ?). "
        "Default: all.",
    },
    "categories": {
        "type": "array",
        "items": {"enum": ["marketing", "service"]},
        "minItems": 1,
        "uniqueItems": True,
        "description": "Only campaigns of these categories (a campaign without category: "
        "counts as marketing).",
    },
}


# What each value of the policies' enums means, for the editor's completion and hover.
POLICY_VALUES = {
    "quiet-hours": "No pushes to recipients during these local hours.",
    "frequency-cap": "At most so many deliveries per target in a window.",
    "vendor-rules": "The Android vendors' rules: categories, channels, windows, daily caps.",
    "blast-radius": "A plan reaching more recipients than this is a finding.",
    "required-fields": "Campaign keys and message fields every campaign must set.",
    "advisory": "A warning in plan.",
    "soft": "Blocks apply unless overridden for the run with --override NAME --reason.",
    "hard": "Blocks apply, no override.",
    "marketing": "News, content and promotions.",
    "service": "Account, orders, reminders and chat.",
    "any": "Every delivery, whatever its category.",
    "block": "A finding at the policy's level.",
    "drop": "The plan leaves out the deliveries over the cap (shown as skipped).",
    "news": "A news app (the vendors allow it more daily pushes).",
    "other": "Any other app.",
    "device": "EMAS Target DEVICE.",
    "account": "EMAS Target ACCOUNT.",
    "alias": "EMAS Target ALIAS.",
    "huawei": "Huawei.",
    "honor": "Honor.",
    "xiaomi": "Xiaomi.",
    "oppo": "OPPO.",
    "vivo": "vivo.",
    "harmony": "HarmonyOS.",
    "categories": "The vendor category fields are present and consistent.",
    "channel": "The Xiaomi channel id.",
    "windows": "The vendors' delivery windows.",
    "caps": "The daily marketing caps.",
}


def _for_editors(properties: dict[str, Any]) -> dict[str, Any]:
    """``properties`` with a title on each and a meaning on each enum value."""
    out = {}
    for name, schema in properties.items():
        schema = {"title": name, **schema}
        for holder in (schema, schema.get("items"), schema.get("propertyNames")):
            if isinstance(holder, dict) and "enum" in holder:
                holder.update(
                    described_enum(holder["enum"], [POLICY_VALUES[v] for v in holder["enum"]])
                )
        out[name] = schema
    return out


def policy_schema() -> dict[str, Any]:
    """The JSON Schema of one policy (a ``$defs`` entry)."""
    branches = []
    for kind, params in POLICY_KIND_PARAMS.items():
        branches.append(
            {
                "if": {"properties": {"kind": {"const": kind}}, "required": ["kind"]},
                "then": {
                    "properties": {**{k: True for k in POLICY_COMMON}, **_for_editors(params)},
                    "required": POLICY_REQUIRED[kind],
                    "additionalProperties": False,
                },
            }
        )
    return {
        "type": "object",
        "title": "policy",
        "description": "A team policy checked in plan.",
        "required": ["name", "kind", "level"],
        "properties": _for_editors(POLICY_COMMON),
        "allOf": branches,
    }


def policies_schema() -> dict[str, Any]:
    """The schema of a file under ``policies/`` (for editors; pushops checks the same)."""
    return {
        "$schema": DRAFT,
        "$id": f"{BASE_ID}policies.schema.json",
        "title": "pushops policies (policies/*.yaml)",
        "description": "Team policies checked in plan; the same shape as the policies "
        "section of pushops.yaml.",
        "type": "object",
        "additionalProperties": False,
        "required": ["policies"],
        "properties": {
            "policies": {
                "type": "array",
                "items": {"$ref": "#/$defs/policy"},
                "title": "policies",
                "description": "The policies of this file.",
            }
        },
        "$defs": {"policy": policy_schema()},
    }
