"""pushops render [PATH...] [--env E] [--format json|yaml] [--now T]

The calls each campaign would make in one environment if nothing had been sent yet: wire
parameters, delivery keys, fingerprints and tokens. No credentials are read, nothing is sent,
and the same input gives byte-identical output.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import click
import yaml

from pushops.campaign import load_campaigns
from pushops.commands._common import now_option, parse_now, project_root
from pushops.compile import Call, compile_calls
from pushops.config import load_config
from pushops.diagnostics import Report
from pushops.render import render_deliveries

FORMAT_VERSION = 1


def _time(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def call_json(call: Call) -> dict[str, Any]:
    return {
        "call_id": call.call_id,
        "provider": call.provider,
        "app": call.app,
        "action": call.action,
        "token": call.token,
        "query": call.query,
        "form": call.form,
        "deliveries": [
            {
                "key": d.key,
                "fingerprint": d.fingerprint,
                "due_at": _time(d.due_at),
                "expires_at": _time(d.expires_at),
            }
            for d in call.deliveries
        ],
    }


def render_document(
    paths: tuple[Path, ...], environment: str | None, now: datetime
) -> tuple[dict[str, Any], Report]:
    """The render output as plain data, and the problems found on the way."""
    root = project_root()
    config = load_config(root)
    env = config.environment(environment).name
    report = Report()
    campaigns = load_campaigns(paths, root, report)
    out: list[dict[str, Any]] = []
    for campaign in campaigns:
        calls = compile_calls(render_deliveries([campaign], config, env, now, report), config)
        rendered = [call_json(c) for c in calls]
        if rendered:
            out.append({"id": campaign.id, "file": campaign.file, "calls": rendered})
    document = {
        "version": FORMAT_VERSION,
        "environment": env,
        "now": _time(now),
        "campaigns": out,
    }
    return document, report


@click.command("render")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--env", "environment", metavar="ENV", help="Environment (default: the config's).")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["json", "yaml"]),
    default="json",
    show_default=True,
    help="Output format.",
)
@now_option
def command(
    paths: tuple[Path, ...], environment: str | None, output_format: str, now: str | None
) -> int:
    """Show the requests each campaign would send, exactly as they would go on the wire."""
    document, report = render_document(paths, environment, parse_now(now))
    errors = report.errors
    if errors:
        for diagnostic in report.sorted():
            click.echo(diagnostic.format(), err=True)
        click.echo(f"{len(errors)} error(s); nothing rendered", err=True)
        if output_format == "json":
            click.echo(
                json.dumps(
                    {"version": FORMAT_VERSION, "errors": [d.to_json() for d in report.sorted()]},
                    indent=2,
                    ensure_ascii=False,
                )
            )
        return 1
    if output_format == "yaml":
        click.echo(
            yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=1 << 20), nl=False
        )
    else:
        click.echo(json.dumps(document, indent=2, ensure_ascii=False))
    return 0
