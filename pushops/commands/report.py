"""pushops report [--env E] [--campaign ID] [--format text|json|markdown]

The provider's delivery statistics of what the ledger says was sent: per environment,
campaign and message. Only statistics queries go to the provider (within their quota); the
answers are cached in the ledger (``provider_stats``, not ledger content: the serial stays)
with the time they were read, and only what can still change is read again. Exit 0; 1 when
the provider did not answer for some message (the rest is shown and cached).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Any

import click

from pushops.commands._common import (
    emit_json,
    interactive,
    ledger_options,
    markdown_format_option,
    now_option,
    parse_now,
    project_root,
    provider_credentials,
    signing_clock,
)
from pushops.commands.plan import warn
from pushops.config import Config, load_config
from pushops.diagnostics import PushopsError, printable
from pushops.ledger import Ledger
from pushops.plan.session import LedgerChoice, open_state
from pushops.report.model import Report


async def _collect(
    config: Config,
    env: str,
    ledger: Ledger,
    credentials: Any,
    at: datetime,
    campaign: str | None,
    clock: Callable[[], datetime] | None,
) -> Report:
    from pushops.apply.gateway import Gateway
    from pushops.providers import Providers
    from pushops.report.collect import collect

    async with Providers(credentials, clock=clock) as providers:
        gateway = Gateway(providers, config.environment(env))
        try:
            return await collect(ledger, gateway, env, at, campaign)
        finally:
            await gateway.aclose()


@click.command("report")
@click.option("--env", "environment", metavar="ENV", help="Environment (default: pushops.yaml's).")
@click.option("--campaign", metavar="ID", help="Only this campaign's messages.")
@markdown_format_option("a comment on the merged pull request")
@ledger_options(sandbox=False)
@now_option
def command(
    environment: str | None,
    campaign: str | None,
    output_format: str,
    choice: LedgerChoice,
    now: str | None,
) -> int:
    """Delivery statistics of what was sent: the provider's counts per campaign and message.

    Accepted, sent, received, opened (and deleted, for EMAS), read from EMAS
    QueryPushStatByMsg and the mPaaS push-analysis queries for the message ids the ledger
    recorded. Statistics arrive late: counts can grow until a day after sending, so each
    report reads again what can still change and keeps the rest from the ledger's cache.
    Only asks the provider; never sends or cancels anything.
    """
    from pushops.apply.gateway import check_endpoints
    from pushops.report import views

    config = load_config(project_root())
    env = config.environment(environment).name
    at = parse_now(now)
    check_endpoints(config.environment(env))
    credentials = provider_credentials(config, env)
    opened = open_state(
        config, choice, env, interactive=interactive(), command="report", notice=warn
    )
    with opened as ledger:
        clock = signing_clock(now, at)
        report = asyncio.run(_collect(config, env, ledger, credentials, at, campaign, clock))
    if output_format == "json":
        emit_json(views.render_json(report))
    elif output_format == "markdown":
        click.echo(views.render_markdown(report), nl=False)
    else:
        click.echo(views.render_text(report), nl=False)
    if report.not_cached:
        click.echo(
            "Note: the statistics read now were not cached: this ledger role can only read "
            f"({printable(report.not_cached)}); the next report reads them again.",
            err=True,
        )
    failed = report.failed
    for m in failed:
        click.echo(
            f"Error: the provider did not give the statistics of {m.provider} message "
            f"{printable(m.message_id)} ({printable(m.campaign)}): {printable(m.error or '')}",
            err=True,
        )
    if failed:
        raise PushopsError(
            f"statistics of {len(failed)} of {len(report.messages)} messages could not be "
            "read; the others are shown and cached"
        )
    return 0
