"""The project config, ``pushops.yaml``: environments, their apps, the state backend, variables.

Secrets never live here: credentials are named by environment variable only, and a key that
looks like it holds a secret is refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jsonschema

from pushops.diagnostics import Diagnostic, PushopsError
from pushops.schemas import policy_schema
from pushops.yamlsource import SourceDocument, load_file

CONFIG_FILE = "pushops.yaml"
SECRET_HINTS = ("secret", "password", "token")

_NAME = "^[A-Za-z0-9][A-Za-z0-9_.-]*$"

CONFIG_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://pushops.dev/schemas/pushops.schema.json",
    "title": "pushops project config (pushops.yaml)",
    "type": "object",
    "additionalProperties": False,
    "required": ["environments"],
    "properties": {
        "version": {"const": 1, "description": "Config format version."},
        "default_environment": {
            "type": "string",
            "description": "Environment used when --env is not given (else the first one).",
        },
        "vars": {"type": "object", "description": "Variables shared by every campaign."},
        "time_zone": {
            "type": "string",
            "description": "IANA time zone (e.g. Europe/Berlin) plan shows send times in besides "
            "UTC; an app or a campaign may set its own (mPaaS apps default to Asia/Shanghai).",
        },
        "templates": {
            "type": "string",
            "description": "Folder of shared Jinja partials and macros, inside the repo.",
        },
        "state": {
            "type": "object",
            "additionalProperties": False,
            "description": "Where the ledger lives.",
            "properties": {
                "backend": {"enum": ["sqlite", "postgres"]},
                "path": {"type": "string", "description": "SQLite file, relative to the repo."},
                "dsn_env": {
                    "type": "string",
                    "description": "Environment variable holding the PostgreSQL DSN.",
                },
            },
        },
        "credentials": {
            "type": "object",
            "additionalProperties": False,
            "description": "Names of the environment variables holding the access key.",
            "properties": {
                "access_key_id_env": {"type": "string"},
                "access_key_secret_env": {"type": "string"},
                "security_token_env": {"type": "string"},
            },
        },
        "policies": {
            "type": "array",
            "items": {"$ref": "#/$defs/policy"},
            "description": "Team policies checked in plan (more can live in policies/*.yaml); "
            "see docs/policies.md.",
        },
        "environments": {
            "type": "object",
            "minProperties": 1,
            "propertyNames": {"pattern": _NAME},
            "additionalProperties": {
                "type": "object",
                "additionalProperties": False,
                "required": ["apps"],
                "properties": {
                    "vars": {"type": "object"},
                    "credentials": {"$ref": "#/properties/credentials"},
                    "apps": {
                        "type": "object",
                        "minProperties": 1,
                        "propertyNames": {"pattern": _NAME},
                        "additionalProperties": {"$ref": "#/$defs/app"},
                    },
                },
            },
        },
    },
    "$defs": {
        "app": {
            "type": "object",
            "required": ["provider"],
            "properties": {
                "provider": {"enum": ["emas", "mpaas"]},
                "region": {"type": "string", "default": "cn-hangzhou"},
                "endpoint": {"type": "string", "format": "uri"},
                "rate_limit": {"type": "number", "exclusiveMinimum": 0},
                "signature": {"enum": ["v1", "acs3"]},
                "time_zone": {
                    "type": "string",
                    "description": "IANA time zone plan shows this app's send times in.",
                },
            },
            "allOf": [
                {
                    "if": {"properties": {"provider": {"const": "emas"}}},
                    "then": {
                        "required": ["app_key"],
                        "properties": {
                            "provider": True,
                            "region": True,
                            "endpoint": True,
                            "rate_limit": True,
                            "signature": True,
                            "time_zone": True,
                            "app_key": {"type": "integer", "minimum": 1},
                        },
                        "additionalProperties": False,
                    },
                },
                {
                    "if": {"properties": {"provider": {"const": "mpaas"}}},
                    "then": {
                        "required": ["app_id", "workspace_id"],
                        "properties": {
                            "provider": True,
                            "region": True,
                            "endpoint": True,
                            "rate_limit": True,
                            "signature": True,
                            "time_zone": True,
                            "app_id": {"type": "string", "minLength": 1},
                            "workspace_id": {"type": "string", "minLength": 1},
                            "api_version": {"enum": ["2020-10-28", "2019-08-21"]},
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
