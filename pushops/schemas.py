"""The JSON Schemas (draft 2020-12), derived from the parameter tables.

Two shapes come from one table: the provider schema checks a rendered, typed request; the
campaign (authoring) schema is what editors use, so every non-free-text field also accepts a
Jinja template string. ``x-rule``/``x-message`` on each condition let error translation name
the rule a person can look up.
"""

from __future__ import annotations

from typing import Any

from pushops.tables import (
    Condition,
    Param,
    ParameterTable,
)

DRAFT = "https://json-schema.org/draft/2020-12/schema"
BASE_ID = "https://pushops.dev/schemas/"

PATTERNS = {
    "utc-datetime": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$",
    "uuid": r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
    "time": r"^([01]\d|2[0-3]):[0-5]\d:[0-5]\d$",
}
FORMAT_HELP = {
    "utc-datetime": "UTC time as YYYY-MM-DDThh:mm:ssZ",
    "uuid": "a 36-character UUID",
    "time": "time of day as HH:mm:ss",
    "csv": "comma-separated list",
    "epoch-ms": "milliseconds since 1970-01-01 UTC",
    "int64": "a 64-bit integer (a Long in the API metadata)",
}
TEMPLATE = {
    "type": "string",
    "pattern": r"\{\{|\{%",
    "description": "A Jinja template, rendered before the value is checked.",
}

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
        "pattern": "^[A-Za-z0-9][A-Za-z0-9_.-]*$",
        "description": "Stable id of this message within the campaign; part of the delivery key.",
    },
    "vars": {"type": "object", "description": "Variables for this message's templates."},
    "fan_out": {"$ref": "#/$defs/fanOut"},
}
MESSAGE_LIST = {"emas": "tasks", "mpaas": "broadcasts"}


def _describe(param: Param) -> str:
    text = param.description.strip()
    extras: list[str] = []
    if param.values:
        extras.append(
            "Values: "
            + "; ".join(
                f"{v.value} = {v.meaning}" if v.meaning else str(v.value) for v in param.values
            )
        )
    extras.extend(f"{phrase[0].upper()}{phrase[1:]}." for phrase in param.limit_phrases())
    if param.format in FORMAT_HELP:
        extras.append(f"Format: {FORMAT_HELP[param.format]}.")
    if param.default is not None:
        extras.append(f"Default: {param.default}.")
    if param.deprecated:
        reason = param.deprecated if isinstance(param.deprecated, str) else ""
        extras.append(f"Deprecated. {reason}".strip())
    return " ".join([text, *extras]).strip()


def _value_schema(param: Param, *, authoring: bool) -> dict[str, Any]:
    """The JSON Schema of one field's typed value (before wire serialisation)."""
    allowed = list(param.allowed)
    limits = param.limits
    schema: dict[str, Any]
    if param.type == "string" and param.json == "object":
        inner: dict[str, Any] = {"type": "object"}
        if param.fields:
            inner["properties"] = {
                f.name: _annotated(f, _value_schema(f, authoring=authoring)) for f in param.fields
            }
        if "max_keys" in limits:
            inner["maxProperties"] = limits["max_keys"]
        # Either a map written in YAML or a string already holding JSON (checked by a rule).
        schema = {"anyOf": [inner, {"type": "string"}]}
    elif param.type == "string" and param.json == "array":
        arr: dict[str, Any] = {"type": "array"}
        if "max_items" in limits:
            arr["maxItems"] = limits["max_items"]
        schema = {"anyOf": [arr, {"type": "string"}]}
    elif param.type == "string":
        schema = {"type": "string"}
        if allowed and param.format != "csv":
            schema["enum"] = allowed
        if param.format in PATTERNS:
            schema["pattern"] = PATTERNS[param.format]
        if param.format == "csv" and allowed:
            alt = "|".join(str(v) for v in allowed)
            schema["pattern"] = f"^({alt})(,({alt}))*$"
        if param.required:
            schema["minLength"] = 1
    elif param.type == "integer":
        schema = {"type": "integer"}
        if allowed:
            schema["enum"] = allowed
        # Always bounded: the API's int32 (or int64) refuses a larger value.
        schema["minimum"], schema["maximum"] = param.integer_bounds()
    elif param.type == "number":
        schema = {"type": "number"}
        if allowed:
            schema["enum"] = allowed
        if "minimum" in limits:
            schema["minimum"] = limits["minimum"]
        if "maximum" in limits:
            schema["maximum"] = limits["maximum"]
    elif param.type == "boolean":
        schema = {"type": "boolean"}
    elif param.type == "map" and param.wire == "flatten":
        # Flattened maps (TransparentMessagePayload: vendor -> JSON object) nest freely.
        schema = {"type": "object"}
    elif param.type == "map":
        schema = {"type": "object", "additionalProperties": {"type": ["string", "integer"]}}
        if param.keys:
            schema["properties"] = {
                k.key: _vendor_key_schema(k.values, k.description) for k in param.keys
            }
    elif param.type == "array":
        schema = {"type": "array", "items": {"type": "integer"}}
    else:
        raise ValueError(f"{param.name}: unknown type {param.type!r} in the parameter table")
    if (authoring and param.type != "string") or (authoring and (allowed or param.format)):
        # Any typed or constrained value may instead be a template, checked after rendering.
        schema = {"anyOf": [schema, {"$ref": "#/$defs/template"}]}
    return schema


def _vendor_key_schema(values: tuple[Any, ...], description: str) -> dict[str, Any]:
    out: dict[str, Any] = {"type": ["string", "integer"]}
    if values:
        out["enum"] = [v.value for v in values] + [
            int(v.value) for v in values if str(v.value).isdigit()
        ]
    if description:
        out["description"] = description
    return out


def _annotated(param: Param, schema: dict[str, Any]) -> dict[str, Any]:
    out = dict(schema)
    out["description"] = _describe(param)
    if param.example is not None:
        out["examples"] = [param.example]
    if param.default is not None and not isinstance(param.default, dict):
        out["default"] = param.default
    if param.deprecated:
        out["deprecated"] = True
    return out


def condition_schema(condition: Condition) -> dict[str, Any]:
    when = condition.when
    field = when["field"]
    if "equals" in when:
        test: dict[str, Any] = {
            "properties": {field: {"const": when["equals"]}},
            "required": [field],
        }
    elif "in" in when:
        test = {"properties": {field: {"enum": list(when["in"])}}, "required": [field]}
    else:
        test = {"required": [field]}
    if condition.on_default:
        # Without "required", "properties" holds for a message that leaves the field out: the
        # provider applies its default, which meets the condition.
        del test["required"]
    then: dict[str, Any] = {}
    if condition.then.get("require"):
        then["required"] = list(condition.then["require"])
    if condition.then.get("require_any"):
        then["anyOf"] = [{"required": [f]} for f in condition.then["require_any"]]
    if condition.then.get("forbid"):
        then["not"] = {"anyOf": [{"required": [f]} for f in condition.then["forbid"]]}
    return {
        "if": test,
        "then": then,
        "x-rule": condition.id,
        "x-message": condition.message,
        "x-field": field,
        "x-when-absent": condition.on_default,
    }


def message_schema(table: ParameterTable, *, authoring: bool) -> dict[str, Any]:
    """Schema of one message: an EMAS PushTask, or the body of one mPaaS broadcast."""
    managed = MANAGED_FIELDS[table.provider]
    params = [p for p in table.message_params.values() if not (authoring and p.name in managed)]
    properties = {p.name: _annotated(p, _value_schema(p, authoring=authoring)) for p in params}
    if authoring:
        properties = {**MESSAGE_META, **properties}
    schema: dict[str, Any] = {
        "type": "object",
        "description": f"One {table.item or table.action} message, with the API's own field names.",
        "properties": properties,
        "additionalProperties": False,
        "required": (["id"] if authoring else []) + [p.name for p in params if p.required],
    }
    conditions = [condition_schema(c) for c in table.conditions]
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
            "minItems": 1,
            "maxItems": table.max_items,
            "items": {"$ref": f"#/$defs/{table.item}"},
            "description": f"The {table.item}s of this call, sent as {table.item}.N.Property.",
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
        schema.update(message_schema(table, authoring=False))
    return schema


def campaign_schema(tables: dict[str, ParameterTable]) -> dict[str, Any]:
    defs: dict[str, Any] = {
        "template": TEMPLATE,
        "fanOut": {
            "type": "object",
            "description": "Render this message once per row of a data file (CSV or JSON Lines).",
            "additionalProperties": False,
            "required": ["data"],
            "properties": {
                "data": {
                    "type": "string",
                    "description": "Path of the data file, inside the repo.",
                },
                "format": {"enum": ["csv", "jsonl"], "description": "Default: from the extension."},
                "key": {
                    "type": "string",
                    "description": "Template giving each row's stable key "
                    "(default: the row number).",
                },
                "time_zone": {
                    "type": "string",
                    "description": "Template giving each row's recipient time zone "
                    "(e.g. {{ row.tz }}), for the policies that read local time.",
                },
            },
        },
    }
    properties: dict[str, Any] = {
        "id": {
            "type": "string",
            "pattern": "^[A-Za-z0-9][A-Za-z0-9_.-]*$",
            "description": "Stable campaign id, unique in the repo; part of every delivery key.",
        },
        "revision": {
            "type": "integer",
            "minimum": 1,
            "default": 1,
            "description": "Bump to send again after a delivery went out: a push cannot be unsent.",
        },
        "app": {"type": "string", "description": "App name from pushops.yaml."},
        "description": {"type": "string"},
        "environments": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Only plan this campaign in these environments (default: all).",
        },
        "vars": {"type": "object", "description": "Variables for every message of the campaign."},
        "time_zone": {
            "type": "string",
            "description": "IANA time zone (e.g. Europe/Berlin) plan shows this campaign's send "
            "times in besides UTC (default: its app's, then pushops.yaml's), and policies "
            "read local times in for recipients whose zone the data does not give.",
        },
        "category": {
            "enum": ["marketing", "service"],
            "description": "What kind of message this is, as the vendors classify them: "
            "marketing (news, content, promotions) or service (account, orders, reminders, "
            "chat). Policies check the vendor category fields against it.",
        },
        "owner": {
            "type": "string",
            "minLength": 1,
            "description": "Who answers for this campaign (a person or team).",
        },
        "labels": {
            "type": "object",
            "additionalProperties": {"type": "string"},
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
            "description": f"{table.product} {table.action} messages"
            + (f" (each one {table.item})." if table.item else " (each one broadcast)."),
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
            "pattern": r"^([01]\d|2[0-3]):[0-5]\d$",
            "description": "Local time the quiet hours start, HH:MM (e.g. 21:00).",
        },
        "end": {
            "type": "string",
            "pattern": r"^([01]\d|2[0-3]):[0-5]\d$",
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
            "pattern": r"^(\d+[smhd]|day)$",
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
        "pattern": "^[A-Za-z0-9][A-Za-z0-9_.-]*$",
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
        "description": "Only in these environments (default: all).",
    },
    "campaigns": {
        "type": "array",
        "items": {"type": "string", "minLength": 1},
        "minItems": 1,
        "description": "Only campaigns whose id matches one of these patterns (* and ?); "
        "default: all.",
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


def policy_schema() -> dict[str, Any]:
    """The JSON Schema of one policy (a ``$defs`` entry)."""
    branches = []
    for kind, params in POLICY_KIND_PARAMS.items():
        branches.append(
            {
                "if": {"properties": {"kind": {"const": kind}}, "required": ["kind"]},
                "then": {
                    "properties": {**{k: True for k in POLICY_COMMON}, **params},
                    "required": POLICY_REQUIRED[kind],
                    "additionalProperties": False,
                },
            }
        )
    return {
        "type": "object",
        "description": "A team policy checked in plan.",
        "required": ["name", "kind", "level"],
        "properties": dict(POLICY_COMMON),
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
                "description": "The policies of this file.",
            }
        },
        "$defs": {"policy": policy_schema()},
    }
