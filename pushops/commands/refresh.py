"""pushops refresh [--env E] [--since 7d] [--format text|json|markdown]

Compares the ledger with what the provider says happened (pushes made elsewhere, scheduled
pushes cancelled or sent behind pushops's back, provider ids the provider does not know).
Exit 0: no drift; 2: drift found (so a nightly job fails on it); 1: an error. It only ever
asks the provider, and only reads the ledger.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import click

from pushops.commands._common import (
    DURATION,
    emit_json,
    interactive,
    ledger_options,
    now_option,
    parse_now,
    project_root,
    provider_credentials,
)
from pushops.commands.plan import warn
from pushops.config import Config, load_config
from pushops.diagnostics import PushopsError
from pushops.ledger import Ledger
from pushops.plan.session import LedgerChoice, open_state
from pushops.refresh.model import Refresh

DRIFT_EXIT = 2


async def _compare(
    config: Config, env: str, ledger: Ledger, credentials: Any, now: datetime, since: timedelta
) -> Refresh:
    from pushops.apply.gateway import Gateway
    from pushops.providers import Providers
    from pushops.providers.errors import ProviderError
    from pushops.refresh.compare import compare

    async with Providers(credentials) as providers:
        gateway = Gateway(providers, config.environment(env))
        try:
            return await compare(ledger, config.environment(env), gateway, now, since)
        except ProviderError as error:
            raise PushopsError(
                f"the provider did not answer refresh's query ({error.action or 'query'}): "
                f"{error.code}: {error.message} (RequestId {error.request_id or 'none'}); "
                "nothing was compared or recorded"
            ) from error
        finally:
            await gateway.aclose()


def _show(result: Refresh, output_format: str) -> None:
    from pushops.refresh import views

    if output_format == "json":
        emit_json(views.render_json(result))
    elif output_format == "markdown":
        click.echo(views.render_markdown(result), nl=False)
    else:
        click.echo(views.render_text(result), nl=False)


@click.command("refresh")
@click.option("--env", "environment", metavar="ENV", help="Environment (default: pushops.yaml's).")
@click.option(
    "--since",
    type=DURATION,
    default="7d",
    show_default=True,
    help="How far back to compare (at most 14d: the widest window QueryPushRecords is known "
    "to answer).",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
    help="Output format; json has a versioned, deterministic shape, markdown suits an issue.",
)
@ledger_options(sandbox=False)
@now_option
def command(
    environment: str | None,
    since: timedelta,
    output_format: str,
    choice: LedgerChoice,
    now: str | None,
) -> int:
    """Compare the ledger with the provider: drift exits 2.

    Finds pushes the provider has that no ledger record owns, scheduled pushes cancelled or
    already sent at the provider, and provider ids the provider does not know. Never sends or
    cancels anything.
    """
    from pushops.apply.gateway import check_endpoints
    from pushops.refresh.compare import MAX_SINCE

    if not timedelta(0) < since <= MAX_SINCE:
        raise click.BadParameter(
            "must be more than 0 and at most 14d (no longer retention of push records is "
            "documented)",
            param_hint="'--since'",
        )
    config = load_config(project_root())
    env = config.environment(environment).name
    clock = parse_now(now)
    check_endpoints(config.environment(env))
    credentials = provider_credentials(config, env)
    opened = open_state(
        config, choice, env, interactive=interactive(), command="refresh", notice=warn
    )
    with opened as ledger:
        result = asyncio.run(_compare(config, env, ledger, credentials, clock, since))
    _show(result, output_format)
    return DRIFT_EXIT if result.drift else 0
