"""The project config, ``pushops.yaml``: environments, their apps, the state backend, variables.

Secrets never live here: credentials are named by environment variable only, and a key that
looks like it holds a secret is refused.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jsonschema

from pushops.diagnostics import Diagnostic, PushopsError
from pushops.schemas import described_enum, policy_schema
from pushops.yamlsource import SourceDocument, load_file

CONFIG_FILE = "pushops.yaml"
SECRET_HINTS = ("secret", "password", "token")

_NAME = "^[A-Za-z0-9][A-Za-z0-9_.-]*$"
_NAME_HELP = "Letters, digits, '_', '.' and '-', starting with a letter or digit."
_ENV_VAR = "^[A-Za-z_][A-Za-z0-9_]*$"
_ENV_VAR_HELP = "The name of an environment variable (letters, digits and '_'), not its value."


def _env_var(title: str, what: str, default: str | None = None) -> dict[str, Any]:
    """A key naming the environment variable that holds a secret (never the secret)."""
    text = f"Name of the environment variable holding {what}."
    if default:
        text += f" Default: {json.dumps(default)}."
    return {
        "type": "string",
        "title": title,
        "pattern": _ENV_VAR,
        "patternErrorMessage": _ENV_VAR_HELP,
        "description": text,
        **({"default": default} if default else {}),
    }


_CREDENTIALS: dict[str, Any] = {
    "type": "object",
    "title": "credentials",
    "additionalProperties": False,
    "description": "Which environment variables hold the Alibaba Cloud access key pushops signs "
    "its calls with. Secrets never live in this file: only the variables' names do.",
    "properties": {
        "access_key_id_env": _env_var(
            "access_key_id_env", "the AccessKey ID", "ALIBABA_CLOUD_ACCESS_KEY_ID"
        ),
        "access_key_secret_env": _env_var(
            "access_key_secret_env", "the AccessKey secret", "ALIBABA_CLOUD_ACCESS_KEY_SECRET"
        ),
        "security_token_env": _env_var(
            "security_token_env",
            "an STS security token, for temporary credentials (optional: unset means none)",
            "ALIBABA_CLOUD_SECURITY_TOKEN",
        ),
    },
}
_APP_COMMON: dict[str, Any] = {
    "provider": {
        "title": "provider",
        **described_enum(
            ["emas", "mpaas"],
            [
                "EMAS Mobile Push: campaigns send MassPush tasks; the app needs app_key.",
                "mPaaS Message Push: campaigns send PushBroadcast broadcasts; the app needs "
                "app_id and workspace_id.",
            ],
        ),
        "description": "Which push service the app uses.",
    },
    "region": {
        "type": "string",
        "title": "region",
        "default": "cn-hangzhou",
        "examples": ["cn-hangzhou"],
        "description": "The app's Alibaba Cloud region id; templates read it as app.region. The "
        'API address does not depend on it (see endpoint). Default: "cn-hangzhou".',
    },
    "endpoint": {
        "type": "string",
        "format": "uri",
        "title": "endpoint",
        "examples": ["https://cloudpush.aliyuncs.com"],
        "description": "The API's base URL, e.g. a regional or private endpoint: https, no "
        "path, query or user info (plain http only to a loopback host, such as the emulator). "
        "Default: PUSHOPS_EMAS_ENDPOINT or PUSHOPS_MPAAS_ENDPOINT when set, else "
        "https://cloudpush.aliyuncs.com (EMAS) or https://mpaas.aliyuncs.com (mPaaS).",
    },
    "rate_limit": {
        "type": "number",
        "exclusiveMinimum": 0,
        "title": "rate_limit",
        "description": "At most this many calls per second to the app's push API (MassPush or "
        "PushBroadcast), to stay under the account's quota. A number above 0. Default: 500 "
        "for EMAS (the documented MassPush quota, paced at 98%); none for mPaaS.",
    },
    "signature": {
        "title": "signature",
        "default": "v1",
        **described_enum(
            ["v1", "acs3"],
            [
                "RPC signature version 1 (HMAC-SHA1), what the official SDKs send by default.",
                "ACS3-HMAC-SHA256, the newer signature of the Tea SDKs.",
            ],
        ),
        "description": 'How pushops signs its API calls. Default: "v1".',
    },
    "time_zone": {
        "type": "string",
        "title": "time_zone",
        "description": "IANA time zone (e.g. Asia/Shanghai) plan shows this app's send times "
        "in besides UTC. Default: pushops.yaml's time_zone (mPaaS apps: Asia/Shanghai).",
    },
}
_APP_ANY = {name: True for name in _APP_COMMON}

CONFIG_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://pushops.dev/schemas/pushops.schema.json",
    "title": "pushops project config (pushops.yaml)",
    "description": "The project config at the root of a push repository: environments and "
    "their apps, the ledger, shared template variables. Reference: docs/reference/"
    "pushops-yaml.md.",
    "type": "object",
    "additionalProperties": False,
    "required": ["environments"],
    "properties": {
        "version": {
            "const": 1,
            "title": "version",
            "description": "Config format version: 1.",
        },
        "default_environment": {
            "type": "string",
            "title": "default_environment",
            "description": "Environment used when --env is not given. Default: the first one "
            "under environments.",
        },
        "vars": {
            "type": "object",
            "title": "vars",
            "description": "Template variables shared by every campaign (an environment's "
            "vars, then a campaign's and a message's, override them).",
        },
        "time_zone": {
            "type": "string",
            "title": "time_zone",
            "description": "IANA time zone (e.g. Europe/Berlin) plan shows send times in besides "
            "UTC; an app or a campaign may set its own (mPaaS apps default to Asia/Shanghai).",
        },
        "templates": {
            "type": "string",
            "title": "templates",
            "description": "Folder of shared Jinja partials and macros ({% include %}, "
            "{% import %}), relative to the repository and inside it.",
        },
        "state": {
            "type": "object",
            "title": "state",
            "additionalProperties": False,
            "description": "Where the ledger lives: the record of every delivery sent, which "
            "makes sends exactly-once. PUSHOPS_STATE_DSN (or --state) wins over this.",
            "properties": {
                "backend": {
                    "title": "backend",
                    "default": "sqlite",
                    **described_enum(
                        ["sqlite", "postgres"],
                        [
                            "A SQLite file in the repository (path): for one person.",
                            "A PostgreSQL database shared by the team and CI; its DSN comes "
                            "from the environment variable dsn_env names.",
                        ],
                    ),
                    "description": 'The ledger\'s database. Default: "sqlite".',
                },
                "path": {
                    "type": "string",
                    "title": "path",
                    "default": ".pushops/state.db",
                    "description": "The SQLite file, relative to the repository. Default: "
                    '".pushops/state.db".',
                },
                "dsn_env": _env_var(
                    "dsn_env", "the PostgreSQL DSN (backend postgres)", "PUSHOPS_STATE_DSN"
                ),
            },
        },
        "credentials": {"$ref": "#/$defs/credentials"},
        "policies": {
            "type": "array",
            "items": {"$ref": "#/$defs/policy"},
            "title": "policies",
            "description": "Team policies checked in plan (more can live in policies/*.yaml); "
            "see docs/policies.md.",
        },
        "environments": {
            "type": "object",
            "title": "environments",
            "minProperties": 1,
            "propertyNames": {"pattern": _NAME, "patternErrorMessage": _NAME_HELP},
            "description": "The environments (staging, production ...), each with its apps. "
            "Every plan and apply runs in one of them (--env).",
            "additionalProperties": {
                "type": "object",
                "title": "environment",
                "additionalProperties": False,
                "required": ["apps"],
                "description": "One environment: its apps, and optionally its own variables "
                "and credentials.",
                "properties": {
                    "vars": {
                        "type": "object",
                        "title": "vars",
                        "description": "Template variables of this environment (override the "
                        "top-level vars).",
                    },
                    "credentials": {
                        "$ref": "#/$defs/credentials",
                        "description": "This environment's access key variables (override the "
                        "top-level credentials).",
                    },
                    "apps": {
                        "type": "object",
                        "title": "apps",
                        "minProperties": 1,
                        "propertyNames": {"pattern": _NAME, "patternErrorMessage": _NAME_HELP},
                        "description": "The apps of this environment by name; a campaign's app "
                        "names one of them.",
                        "additionalProperties": {"$ref": "#/$defs/app"},
                    },
                },
            },
        },
    },
    "$defs": {
        "credentials": _CREDENTIALS,
        "app": {
            "type": "object",
            "title": "app",
            "description": "One app at one push service: EMAS (app_key) or mPaaS (app_id and "
            "workspace_id).",
            "required": ["provider"],
            "properties": _APP_COMMON,
            "allOf": [
                {
                    "if": {"properties": {"provider": {"const": "emas"}}},
                    "then": {
                        "required": ["app_key"],
                        "properties": {
                            **_APP_ANY,
                            "app_key": {
                                "type": "integer",
                                "minimum": 1,
                                "maximum": 2**63 - 1,
                                "title": "app_key",
                                "examples": [23267207],
                                "description": "The EMAS app's AppKey (the console's app "
                                "settings), a whole number from 1.",
                            },
                        },
                        "additionalProperties": False,
                    },
                },
                {
                    "if": {"properties": {"provider": {"const": "mpaas"}}},
                    "then": {
                        "required": ["app_id", "workspace_id"],
                        "properties": {
                            **_APP_ANY,
                            "app_id": {
                                "type": "string",
                                "minLength": 1,
                                "title": "app_id",
                                "examples": ["ONEX570DA89211721"],
                                "description": "The mPaaS app id.",
                            },
                            "workspace_id": {
                                "type": "string",
                                "minLength": 1,
                                "title": "workspace_id",
                                "examples": ["default"],
                                "description": "The mPaaS workspace the app lives in.",
                            },
                            "api_version": {
                                "title": "api_version",
                                "default": "2020-10-28",
                                **described_enum(
                                    ["2020-10-28", "2019-08-21"],
                                    [
                                        "The current PushBroadcast API.",
                                        "The legacy PushBroadcast API: fewer fields (no "
                                        "BindPeriod, StrategyType or vendor channels); "
                                        "pushops refuses fields it does not have.",
                                    ],
                                ),
                                "description": "Which PushBroadcast API version to call. "
                                'Default: "2020-10-28".',
                            },
                        },
                        "additionalProperties": False,
                    },
                },
            ],
        },
        "policy": policy_schema(),
    },
}


@dataclass(frozen=True)
class App:
    name: str
    provider: str
    app_key: int | None = None
    app_id: str | None = None
    workspace_id: str | None = None
    region: str = "cn-hangzhou"
    endpoint: str | None = None
    rate_limit: float | None = None
    signature: str = "v1"
    api_version: str | None = None
    time_zone: str | None = None  # IANA name send times are shown in (besides UTC)


@dataclass(frozen=True)
class Environment:
    name: str
    apps: dict[str, App]
    vars: dict[str, Any] = field(default_factory=dict)
    credentials: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Config:
    root: Path
    environments: dict[str, Environment]
    default_environment: str
    vars: dict[str, Any] = field(default_factory=dict)
    state: dict[str, str] = field(default_factory=dict)
    credentials: dict[str, str] = field(default_factory=dict)
    templates: str | None = None
    source: SourceDocument | None = None
    time_zone: str | None = None  # IANA name send times are shown in (besides UTC)

    def environment(self, name: str | None) -> Environment:
        chosen = name or self.default_environment
        if chosen not in self.environments:
            known = ", ".join(self.environments)
            raise PushopsError(f"unknown environment {chosen!r} (pushops.yaml defines: {known})")
        return self.environments[chosen]

    def credential_vars(self, environment: str | None = None) -> dict[str, str]:
        names = {
            "access_key_id_env": "ALIBABA_CLOUD_ACCESS_KEY_ID",
            "access_key_secret_env": "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
            "security_token_env": "ALIBABA_CLOUD_SECURITY_TOKEN",
        }
        names.update(self.credentials)
        if environment is not None:
            names.update(self.environment(environment).credentials)
        return names


def find_root(start: Path | None = None) -> Path:
    """The repo root: the nearest folder upwards holding ``pushops.yaml`` (else ``start``)."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG_FILE).is_file():
            return folder
    return here


def _secret_keys(data: Any, path: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    found: list[tuple[str | int, ...]] = []
    if isinstance(data, dict):
        for key, value in data.items():
            lowered = str(key).lower()
            is_ref = lowered.endswith("_env")
            if not is_ref and any(h in lowered for h in SECRET_HINTS) and "vars" not in path:
                found.append((*path, key))
            found.extend(_secret_keys(value, (*path, key)))
    return found


def known_zone(name: object) -> bool:
    """Whether ``name`` is an IANA time zone this machine knows."""
    if not isinstance(name, str) or not name or name.startswith(("/", ".")) or ".." in name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _unknown_zones(doc: SourceDocument) -> list[Diagnostic]:
    """``time_zone`` values that are no IANA zone (schema-valid strings only: the rest is the
    schema's to report)."""
    data = doc.data
    found: list[tuple[str | int, ...]] = []
    if isinstance(data.get("time_zone"), str):
        found.append(("time_zone",))
    for env_name, env in (data.get("environments") or {}).items():
        apps = env.get("apps") if isinstance(env, dict) else None
        for app_name, app in (apps or {}).items() if isinstance(apps, dict) else ():
            if isinstance(app, dict) and isinstance(app.get("time_zone"), str):
                found.append(("environments", env_name, "apps", app_name, "time_zone"))
    problems = []
    for path in found:
        value = data
        for part in path:
            value = value[part]
        if not known_zone(value):
            problems.append(
                doc.diagnostic(
                    path,
                    f"{value!r} is not a time zone: use an IANA name such as Asia/Shanghai or "
                    "Europe/Berlin",
                    "config.time-zone",
                )
            )
    return problems


def not_a_repository(root: Path) -> str:
    """What to say when there is no ``pushops.yaml`` at or above ``root``."""
    return (
        f"not a pushops repository: no {CONFIG_FILE} in {root} or any folder above it; "
        "run `pushops init` to create one, or run pushops from inside the repository"
    )


def load_config(root: Path) -> Config:
    """Read ``pushops.yaml`` under ``root``; a located :class:`PushopsError` if it is wrong."""
    path = root / CONFIG_FILE
    if not path.is_file():
        raise PushopsError(not_a_repository(root))
    doc = load_file(path, CONFIG_FILE, root=root)
    problems: list[Diagnostic] = []
    if not isinstance(doc.data, dict):
        problems.append(doc.diagnostic((), "the config must be a mapping", "config.schema"))
    else:
        validator = jsonschema.Draft202012Validator(CONFIG_SCHEMA)
        for error in validator.iter_errors(doc.data):
            problems.append(
                doc.diagnostic(tuple(error.absolute_path), error.message, "config.schema")
            )
        problems.extend(_unknown_zones(doc))
        for key_path in _secret_keys(doc.data):
            problems.append(
                doc.diagnostic(
                    key_path,
                    "secrets never live in files; name the environment variable that holds it "
                    "(e.g. access_key_secret_env: ALIBABA_CLOUD_ACCESS_KEY_SECRET)",
                    "config.secret-in-file",
                    key=True,
                )
            )
    if problems:
        raise PushopsError(f"{CONFIG_FILE} is invalid", sorted(problems))
    data = doc.data
    environments: dict[str, Environment] = {}
    for env_name, env in data["environments"].items():
        apps = {
            name: App(
                name=name,
                provider=app["provider"],
                app_key=app.get("app_key"),
                app_id=app.get("app_id"),
                workspace_id=app.get("workspace_id"),
                region=app.get("region", "cn-hangzhou"),
                endpoint=app.get("endpoint"),
                rate_limit=app.get("rate_limit"),
                signature=app.get("signature", "v1"),
                api_version=app.get("api_version"),
                time_zone=app.get("time_zone"),
            )
            for name, app in env["apps"].items()
        }
        environments[env_name] = Environment(
            env_name, apps, dict(env.get("vars") or {}), dict(env.get("credentials") or {})
        )
    default = data.get("default_environment") or next(iter(environments))
    if default not in environments:
        raise PushopsError(
            f"{CONFIG_FILE}: default_environment {default!r} is not one of the environments",
            [doc.diagnostic(("default_environment",), "unknown environment", "config.schema")],
        )
    return Config(
        root=root,
        environments=environments,
        default_environment=default,
        vars=dict(data.get("vars") or {}),
        state=dict(data.get("state") or {}),
        credentials=dict(data.get("credentials") or {}),
        templates=data.get("templates"),
        source=doc,
        time_zone=data.get("time_zone"),
    )
