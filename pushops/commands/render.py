"""pushops render [PATH...] [--env E] [--format json|yaml] [--now T]

The calls each campaign would make in one environment if nothing had been sent yet: wire
parameters, delivery keys, fingerprints and tokens. Nothing is sent, and the same input gives
byte-identical output. Credentials are read only to mask them: a secret pasted into a campaign
is shown as plan, plan files and the ledger show it, ``******``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import click

from pushops.campaign import Campaign, load_campaigns
from pushops.commands._common import now_option, parse_now, project_root
from pushops.compile import Call, compile_calls
from pushops.config import Config, load_config
from pushops.diagnostics import Report
from pushops.plan.mask import mask, mask_diagnostics, secret_values
from pushops.progress import Phase, counted
from pushops.render import render_deliveries
from pushops.wording import plural
from pushops.yamlsource import dump

FORMAT_VERSION = 1
MB = 1_000_000  # what writing the document counts in (a 200,000-row fan-out is 110 MB)


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


def not_rendered(campaign: Campaign, config: Config, environment: str) -> str | None:
    """Why ``campaign`` has nothing to render in ``environment`` (None: it does)."""
    if isinstance(campaign.environments, list) and environment not in campaign.environments:
        return f"it is only for {', '.join(map(str, campaign.environments))}"
    app = config.environments[environment].apps.get(campaign.app)
    if app is None:
        return f"{environment} has no app {campaign.app!r}"
    if app.provider != campaign.provider:
        return f"app {campaign.app!r} is a {app.provider} app in {environment}"
    return None


def render_document(
    paths: tuple[Path, ...], environment: str | None, now: datetime
) -> tuple[dict[str, Any], Report, list[str]]:
    """The render output as plain data (secrets masked), the problems found on the way, and
    notes on campaigns that were not rendered and why."""
    root = project_root()
    config = load_config(root)
    env = config.environment(environment).name
    report = Report()
    campaigns = load_campaigns(paths, root, report)
    out: list[dict[str, Any]] = []
    notes: list[str] = []
    # On stderr, only past a second: stdout stays the document alone.
    with Phase("Rendering", None, "deliveries") as phase:
        for campaign in campaigns:
            reason = not_rendered(campaign, config, env)
            if reason is not None:
                notes.append(
                    f"{campaign.file}: {campaign.id!r} is not rendered for {env}: {reason}"
                )
                continue
            deliveries = render_deliveries([campaign], config, env, now, report)
            calls = compile_calls(counted(deliveries, phase.advance), config)
            rendered = [call_json(c) for c in calls]
            if rendered:
                out.append({"id": campaign.id, "file": campaign.file, "calls": rendered})
    document = {
        "version": FORMAT_VERSION,
        "environment": env,
        "now": _time(now),
        "campaigns": out,
    }
    secrets = secret_values(config, env)
    report = Report(mask_diagnostics(report.diagnostics, secrets))
    return mask(document, secrets), report, notes


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
    document, report, notes = render_document(paths, environment, parse_now(now))
    for note in notes:
        click.echo(note, err=True)
    errors = report.errors
    if errors:
        for diagnostic in report.sorted():
            click.echo(diagnostic.format(), err=True)
        click.echo(f"{plural(len(errors), 'error')}; nothing rendered", err=True)
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
        # Quoted wherever YAML 1.1 and 1.2 would read a value differently ("yes", "1e3").
        click.echo(dump(document), nl=False)
    else:
        with Phase("Writing", None, "MB") as phase:
            write_json(document, phase.advance)
    return 0


def write_json(document: dict[str, Any], advance: Callable[[int], None]) -> None:
    """``document`` exactly as ``json.dumps(document, indent=2, ensure_ascii=False)`` and a
    line break, written a megabyte at a time: encoding a large fan-out takes seconds, which a
    terminal shows (``advance`` is told each megabyte written) rather than a silent wait."""
    buffer: list[str] = []
    size = written = 0
    for chunk in json.JSONEncoder(indent=2, ensure_ascii=False).iterencode(document):
        buffer.append(chunk)
        size += len(chunk)
        if size >= MB:
            text = "".join(buffer)
            click.echo(text, nl=False)
            before, written = written, written + len(text.encode("utf-8", "surrogatepass"))
            advance(written // MB - before // MB)
            buffer, size = [], 0
    click.echo("".join(buffer))
