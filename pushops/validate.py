"""``pushops validate``'s engine: every problem of every campaign, located, in one pass.

Stages: read the YAML, check the campaign's structure, then check each message's parameters
against the provider schema (derived from the tables) and the rule registry. Templates are
rendered first where rendering applies; a value that is still a template is checked for its
type only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from pushops.campaign import Campaign, Message, discover, duplicate_ids, load_campaign
from pushops.config import Config
from pushops.diagnostics import Diagnostic, Report
from pushops.params import coerce_all
from pushops.rules import check_message
from pushops.schema_errors import iter_explained
from pushops.schemabuild import MANAGED_FIELDS, MESSAGE_META, message_schema
from pushops.tables import load_table
from pushops.yamlsource import format_path


@dataclass
class ValidationResult:
    report: Report
    campaigns: list[Campaign] = field(default_factory=list)


def has_template(value: Any) -> bool:
    if isinstance(value, str):
        return "{{" in value or "{%" in value
    if isinstance(value, dict):
        return any(has_template(v) for v in value.values())
    if isinstance(value, list):
        return any(has_template(v) for v in value)
    return False


@cache
def message_validator(provider: str) -> jsonschema.Draft202012Validator:
    """The provider's message schema, less the fields pushops fills in at compile time."""
    schema = message_schema(load_table(provider), authoring=False)
    schema["required"] = [f for f in schema["required"] if f not in MANAGED_FIELDS[provider]]
    return jsonschema.Draft202012Validator(schema)


@cache
def known_fields(provider: str) -> tuple[str, ...]:
    return (*MESSAGE_META, *load_table(provider).message_params)


def check_params(
    campaign: Campaign,
    message: Message,
    params: dict[str, Any],
    now: datetime,
    unchecked: Iterable[str] = (),
) -> list[Diagnostic]:
    """Provider schema and rules over one message's concrete parameters.

    ``unchecked`` names fields whose values are not concrete yet (still templates): problems
    located at them are not reported.
    """
    skip = set(unchecked)
    table = load_table(campaign.provider)
    typed = coerce_all(params, table.message_params)
    doc = campaign.source
    problems: list[Diagnostic] = []
    scope = campaign.provider
    for path, text, rule, key in iter_explained(
        message_validator(scope), typed, scope, known_fields(scope)
    ):
        if path and path[0] in skip:
            continue
        full = (*message.path, *path)
        problems.append(doc.diagnostic(full, text, rule, key=key, display_path=format_path(full)))
    concrete = {k: v for k, v in typed.items() if k not in skip}
    for finding in check_message(scope, concrete, now):
        full = (*message.path, *finding.field)
        problems.append(
            doc.diagnostic(
                full,
                finding.message,
                finding.rule,
                severity=finding.severity,
                display_path=format_path(full),
            )
        )
    return problems


def check_app(campaign: Campaign, config: Config | None) -> list[Diagnostic]:
    if config is None:
        return []
    providers = {
        app.provider
        for env in config.environments.values()
        for name, app in env.apps.items()
        if name == campaign.app
    }
    if not providers:
        known = sorted({a for env in config.environments.values() for a in env.apps})
        return [
            campaign.source.diagnostic(
                ("app",),
                f"no app {campaign.app!r} in pushops.yaml (apps: {', '.join(known)})",
                "campaign.unknown-app",
            )
        ]
    if campaign.provider not in providers:
        (wanted,) = sorted(providers)[:1]
        key = "tasks" if campaign.provider == "emas" else "broadcasts"
        return [
            campaign.source.diagnostic(
                (key,),
                f"app {campaign.app!r} is a {wanted} app; this campaign is written for "
                f"{campaign.provider}",
                "campaign.provider-mismatch",
                key=True,
            )
        ]
    return []


def validate(
    paths: Iterable[Path], root: Path, config: Config | None, now: datetime
) -> ValidationResult:
    report = Report()
    campaigns: list[Campaign] = []
    for path in discover(paths, root):
        campaign, problems = load_campaign(path)
        report.extend(problems)
        if campaign is None:
            continue
        campaigns.append(campaign)
        report.extend(check_app(campaign, config))
        for message in campaign.messages:
            templated = [k for k, v in message.params.items() if has_template(v)]
            report.extend(check_params(campaign, message, message.params, now, templated))
    report.extend(duplicate_ids(campaigns))
    return ValidationResult(report, campaigns)
