"""Generate ``docs/reference/pushops-yaml.md``: every key of ``pushops.yaml`` from the config
schema (the one an editor checks the file with), and every environment variable pushops reads.

The keys' help lives once, in the schema (pushops/config.py); this page lays it out. The
environment variables are listed here; a test finds every name the code reads and fails when
one is missing, so a new variable cannot go undocumented.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pushops.config import CONFIG_SCHEMA

PAGE = "reference/pushops-yaml.md"


@dataclass(frozen=True)
class EnvironmentVariable:
    name: str
    read_by: str  # the commands that read it
    meaning: str


ENVIRONMENT_VARIABLES = (
    EnvironmentVariable(
        "PUSHOPS_STATE_DSN",
        "plan, apply, state",
        "The ledger: a PostgreSQL DSN (`postgresql://…`) or a SQLite file. Wins over "
        "`state` in pushops.yaml; `--state` wins over it. Also the default of `state.dsn_env`, "
        "the variable a `postgres` backend reads its DSN from. CI sets it from a secret.",
    ),
    EnvironmentVariable(
        "PUSHOPS_STATE_SCHEMA",
        "plan, apply, state",
        "The PostgreSQL schema holding the ledger's tables (default `pushops`); the same as "
        "`state --schema`. Lets several projects share one database.",
    ),
    EnvironmentVariable(
        "PUSHOPS_EMAS_ENDPOINT",
        "apply",
        "The EMAS API's base URL for apps that set no `endpoint` (default "
        "`https://cloudpush.aliyuncs.com`); https, or http to a loopback host only.",
    ),
    EnvironmentVariable(
        "PUSHOPS_MPAAS_ENDPOINT",
        "apply",
        "The mPaaS API's base URL for apps that set no `endpoint` (default "
        "`https://mpaas.aliyuncs.com`); https, or http to a loopback host only.",
    ),
    EnvironmentVariable(
        "PUSHOPS_MAX_PLAN_AGE",
        "apply",
        "`--max-plan-age`: refuse a saved plan file older than this (default `1h`).",
    ),
    EnvironmentVariable(
        "PUSHOPS_SEND_PROCESS",
        "apply",
        "`auto` (default): a run of 1,000 calls or more sends from a process of its own, on "
        "Linux; `always`; `never`: apply sends from its own process. See "
        "[plan-and-apply.md](../plan-and-apply.md#apply).",
    ),
    EnvironmentVariable(
        "PUSHOPS_RENDER_PROCESS",
        "plan, apply",
        "`auto` (default): a campaign whose fan-out data files hold 1 MiB or more renders "
        "in a process of its own, on Linux; `always`; `never`: plan renders in its own "
        "process. See [plan-and-apply.md](../plan-and-apply.md#plan).",
    ),
    EnvironmentVariable(
        "PUSHOPS_PLAN_KEY",
        "plan --out, apply PLANFILE",
        "A secret plan files are signed with instead of a key derived from the provider "
        "credentials, for a job that plans without them and applies in a later step; masked "
        "in every output. See [plan-and-apply.md](../plan-and-apply.md).",
    ),
    EnvironmentVariable(
        "PUSHOPS_SCHEDULE_MARGIN",
        "plan, apply",
        "`--margin`: replace or cancel a scheduled push only until this long before it is "
        "due (default `5m`).",
    ),
    EnvironmentVariable(
        "PUSHOPS_NOW",
        "validate, render, plan, apply",
        "`--now`: read this time (ISO 8601) instead of the clock, for previews and tests.",
    ),
    EnvironmentVariable(
        "ALIBABA_CLOUD_ACCESS_KEY_ID",
        "apply",
        "The AccessKey ID pushops signs its calls with, unless `credentials.access_key_id_env` "
        "names another variable.",
    ),
    EnvironmentVariable(
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
        "apply",
        "The AccessKey secret, unless `credentials.access_key_secret_env` names another "
        "variable. Never printed, logged or written anywhere.",
    ),
    EnvironmentVariable(
        "ALIBABA_CLOUD_SECURITY_TOKEN",
        "apply",
        "An STS security token for temporary credentials (optional), unless "
        "`credentials.security_token_env` names another variable.",
    ),
    EnvironmentVariable(
        "GITHUB_TOKEN",
        "plan --comment",
        "The token that posts the plan comment on the pull request; sent only to GitHub's API.",
    ),
    EnvironmentVariable(
        "GITHUB_REPOSITORY",
        "plan --comment",
        "`owner/name` of the repository whose pull request gets the comment (set by Actions).",
    ),
    EnvironmentVariable(
        "GITHUB_EVENT_PATH",
        "plan --comment",
        "The event file the pull request's number is read from (set by Actions).",
    ),
    EnvironmentVariable(
        "GITHUB_API_URL",
        "plan --comment",
        "GitHub's REST API base (set by Actions; GitHub Enterprise has its own).",
    ),
    EnvironmentVariable(
        "GITHUB_GRAPHQL_URL",
        "plan --comment",
        "GitHub's GraphQL API (set by Actions), asked which account the token acts as, so "
        "pushops updates only its own comment.",
    ),
    EnvironmentVariable(
        "GITHUB_STEP_SUMMARY",
        "plan --comment",
        "A file whose Markdown becomes the job summary; the plan is written there too.",
    ),
    EnvironmentVariable(
        "GITHUB_ACTIONS",
        "plan",
        "`true` on a GitHub Actions runner: the plan comment links the run.",
    ),
    EnvironmentVariable(
        "GITHUB_SERVER_URL",
        "plan",
        "With `GITHUB_REPOSITORY` and `GITHUB_RUN_ID`, the link to the run in the plan comment.",
    ),
    EnvironmentVariable(
        "GITHUB_RUN_ID",
        "plan",
        "With `GITHUB_SERVER_URL` and `GITHUB_REPOSITORY`, the link to the run in the plan "
        "comment.",
    ),
    EnvironmentVariable(
        "GITHUB_ACTOR",
        "apply",
        "Who holds the ledger lock during an apply in CI (shown to anyone who waits for it).",
    ),
)

EXAMPLE = """\
# yaml-language-server: $schema=schemas/pushops.schema.json
version: 1
default_environment: staging

state:
  backend: sqlite
  path: .pushops/state.db

credentials:
  access_key_id_env: ALIBABA_CLOUD_ACCESS_KEY_ID
  access_key_secret_env: ALIBABA_CLOUD_ACCESS_KEY_SECRET

vars:
  brand: Acme Shop

templates: templates

environments:
  staging:
    vars:
      web_host: staging.shop.example.com
    apps:
      shop:
        provider: emas
        app_key: 23267207
      wallet:
        provider: mpaas
        app_id: ONEX570DA89211721
        workspace_id: test
  production:
    credentials:
      access_key_id_env: PROD_ACCESS_KEY_ID
      access_key_secret_env: PROD_ACCESS_KEY_SECRET
    vars:
      web_host: shop.example.com
    apps:
      shop:
        provider: emas
        app_key: 24780031
        rate_limit: 250
      wallet:
        provider: mpaas
        app_id: ONEX570DA89211720
        workspace_id: default
        api_version: "2020-10-28"
        signature: acs3
"""


# ------------------------------------------------------------------------ walking the schema


@dataclass(frozen=True)
class Key:
    path: str
    schema: dict[str, Any]
    required: bool
    only: str = ""  # "provider: emas" for keys one kind of app has


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with a local ``$ref`` replaced by its target (its own keywords win)."""
    ref = schema.get("$ref")
    if not ref:
        return schema
    target: Any = CONFIG_SCHEMA
    for part in ref.removeprefix("#/").split("/"):
        target = target[part]
    return {**_resolve(target), **{k: v for k, v in schema.items() if k != "$ref"}}


def config_keys(
    schema: dict[str, Any] | None = None, prefix: str = "", only: str = ""
) -> Iterator[Key]:
    """Every key of the config, depth first, in the schema's order."""
    schema = _resolve(schema if schema is not None else CONFIG_SCHEMA)
    required = set(schema.get("required", []))
    for name, sub in schema.get("properties", {}).items():
        yield from _key(f"{prefix}{name}", sub, name in required, only)
    for branch in schema.get("allOf", []):
        # Keys one kind of app has (app_key for provider emas); ``True`` ones are shared.
        when = branch.get("if", {}).get("properties", {})
        condition = ", ".join(f"{k}: {v.get('const')}" for k, v in when.items())
        then = branch.get("then", {})
        for name, sub in then.get("properties", {}).items():
            if isinstance(sub, dict):
                yield from _key(f"{prefix}{name}", sub, name in then.get("required", []), condition)
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        placeholder = "<app>" if prefix.endswith("apps.") else "<environment>"
        yield from _key(f"{prefix}{placeholder}", extra, False, only)


def _key(path: str, schema: dict[str, Any], required: bool, only: str) -> Iterator[Key]:
    resolved = _resolve(schema)
    yield Key(path, resolved, required, only)
    if resolved.get("type") == "object" and (
        "properties" in resolved or isinstance(resolved.get("additionalProperties"), dict)
    ):
        yield from config_keys(resolved, f"{path}.", only)


# ------------------------------------------------------------------------ the page


def _type(schema: dict[str, Any]) -> str:
    if "const" in schema:
        return f"`{json.dumps(schema['const'])}`"
    if "enum" in schema:
        return "one of " + ", ".join(f"`{json.dumps(v)}`" for v in schema["enum"])
    kind = schema.get("type", "")
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return "map of names to the entries below"
    words = {
        "string": "text",
        "integer": "whole number",
        "number": "number",
        "object": "map",
        "array": "list",
    }
    out = words.get(kind, kind)
    if schema.get("format") == "uri":
        out += " (URL)"
    if "pattern" in schema and "patternErrorMessage" in schema:
        out += f"; {schema['patternErrorMessage'].rstrip('.').lower()}"
    return out


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _section(key: Key) -> list[str]:
    schema = key.schema
    lines = [f"### `{key.path}`", ""]
    description = schema.get("description", "")
    if description:
        lines += [description, ""]
    facts = [f"- **type**: {_type(schema)}"]
    facts.append(f"- **required**: {'yes' if key.required else 'no'}")
    if key.only:
        facts.append(f"- **only for**: apps with `{key.only}`")
    if "default" in schema:
        facts.append(f"- **default**: `{json.dumps(schema['default'])}`")
    if "examples" in schema:
        facts.append(f"- **example**: `{json.dumps(schema['examples'][0])}`")
    lines += [*facts, ""]
    if "enum" in schema and "enumDescriptions" in schema:
        lines += ["| value | meaning |", "|---|---|"]
        for value, meaning in zip(schema["enum"], schema["enumDescriptions"], strict=True):
            lines.append(f"| `{json.dumps(value)}` | {_cell(meaning)} |")
        lines.append("")
    return lines


def page() -> str:
    """The Markdown reference of ``pushops.yaml`` and the environment variables."""
    lines = [
        "# `pushops.yaml` reference",
        "",
        "<!-- Generated from the config schema (pushops/config.py) by `pushops docs build`; "
        "do not edit by hand. -->",
        "",
        "`pushops.yaml` at the root of a push repository says which environments there are, "
        "which apps each one has at which push service, where the ledger lives and which "
        "template variables every campaign shares. pushops finds it in the working folder or "
        "the nearest folder above. Secrets never live in it: it names the environment "
        "variables that hold them, and a key that looks like it holds a secret is refused "
        "(`config.secret-in-file`).",
        "",
        "Editors check the file as you type with `schemas/pushops.schema.json` (the first line "
        "of the example below, or the `yaml.schemas` setting `pushops init` writes). pushops "
        "reads it as YAML 1.2, as editors do: see [campaigns.md](../campaigns.md#yaml).",
        "",
        "## Example",
        "",
        "```yaml",
        EXAMPLE.rstrip("\n"),
        "```",
        "",
        "## Keys",
        "",
    ]
    all_keys = list(config_keys())
    for key in all_keys:
        lines += _section(key)
    lines += [
        "## Environment variables",
        "",
        "What pushops reads from the environment. Command-line options win over the variables "
        "that stand for them; the variables win over `pushops.yaml`.",
        "",
        "| variable | read by | meaning |",
        "|---|---|---|",
    ]
    for variable in ENVIRONMENT_VARIABLES:
        lines.append(f"| `{variable.name}` | {variable.read_by} | {_cell(variable.meaning)} |")
    return "\n".join(lines).rstrip("\n") + "\n"
