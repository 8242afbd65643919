"""pushops refresh [--env E] [--since 7d] [--format text|json|markdown] [--apply [--yes]]

Compares the ledger with what the provider says happened (pushes made elsewhere, scheduled
pushes cancelled or sent behind pushops's back, provider ids the provider does not know).
Exit 0: no drift; 2: drift found (so a nightly job fails on it); 1: an error. It only ever
asks the provider; with --apply it records in the ledger what the provider's answers prove.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import click

from pushops.commands._common import (
    DURATION,
    emit_json,
    interactive,
    ledger_options,
    lock_timeout_option,
    markdown_format_option,
    now_option,
    parse_now,
    project_root,
    provider_credentials,
    signing_clock,
)
from pushops.commands.plan import actor as default_actor
from pushops.commands.plan import warn
from pushops.config import Config, load_config
from pushops.diagnostics import PushopsError
from pushops.ledger import Ledger
from pushops.plan.session import LedgerChoice, open_state
from pushops.refresh.model import Refresh

DRIFT_EXIT = 2


async def _compare(
    config: Config,
    env: str,
    ledger: Ledger,
    credentials: Any,
    now: datetime,
    since: timedelta,
    clock: Callable[[], datetime] | None,
) -> Refresh:
    from pushops.apply.gateway import Gateway
    from pushops.providers import Providers
    from pushops.providers.errors import ProviderError
    from pushops.refresh.compare import compare

    async with Providers(credentials, clock=clock) as providers:
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


def _show(result: Refresh, output_format: str, applied: int | None = None) -> None:
    from pushops.refresh import views

    if output_format == "json":
        emit_json(views.render_json(result, applied))
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
@markdown_format_option("an issue")
@click.option(
    "--apply",
    "apply_",
    is_flag=True,
    help="Record in the ledger the statuses the provider's answers prove (after confirmation).",
)
@click.option("--yes", "-y", is_flag=True, help="With --apply: do not ask for confirmation.")
@click.option("--actor", metavar="WHO", help="Who records the changes (default: the GitHub "
              "actor, else user@host).")  # fmt: skip
@ledger_options(sandbox=False)
@lock_timeout_option
@now_option
def command(
    environment: str | None,
    since: timedelta,
    output_format: str,
    apply_: bool,
    yes: bool,
    actor: str | None,
    choice: LedgerChoice,
    lock_timeout: timedelta,
    now: str | None,
) -> int:
    """Compare the ledger with the provider: drift exits 2.

    Finds pushes the provider has that no ledger record owns, scheduled pushes cancelled or
    already sent at the provider, and provider ids the provider does not know. Never sends or
    cancels anything. With --apply, records (under the ledger lock, each change with its
    evidence) only what the provider's records prove; ambiguity is reported, never applied.
    """
    from pushops.apply.gateway import check_endpoints
    from pushops.refresh.compare import MAX_SINCE

    if not timedelta(0) < since <= MAX_SINCE:
        raise click.BadParameter(
            "must be more than 0 and at most 14d (no longer retention of push records is "
            "documented)",
            param_hint="'--since'",
        )
    if apply_ and not yes and not interactive():
        raise PushopsError(
            "refresh --apply asks for confirmation, but there is no terminal to ask on: pass "
            "--yes, or run refresh without --apply to see the drift"
        )
    config = load_config(project_root())
    env = config.environment(environment).name
    clock = parse_now(now)
    signing = signing_clock(now, clock)
    check_endpoints(config.environment(env))
    credentials = provider_credentials(config, env)
    who = actor or default_actor()
    opened = open_state(
        config, choice, env, interactive=interactive(), command="refresh", notice=warn
    )
    with opened as ledger:
        if not apply_:
            result = asyncio.run(_compare(config, env, ledger, credentials, clock, since, signing))
            _show(result, output_format)
            return DRIFT_EXIT if result.drift else 0
        with ledger.lock("refresh", who, lock_timeout.total_seconds()):
            # Under the lock from the comparison on: nothing changes the ledger in between.
            result = asyncio.run(_compare(config, env, ledger, credentials, clock, since, signing))
            return _apply(ledger, result, output_format, who, yes)


def _apply(ledger: Ledger, result: Refresh, output_format: str, who: str, yes: bool) -> int:
    from pushops.refresh.record import record_changes
    from pushops.wording import plural

    changes = result.changes
    if not changes:
        _show(result, output_format, applied=0)
        if result.drift:
            click.echo("Nothing the provider's records prove to record.", err=True)
        return DRIFT_EXIT if result.drift else 0
    if output_format != "json":
        _show(result, output_format)
    if not yes and not click.confirm(
        f"Record {plural(len(changes), 'change')} in the ledger?", err=True
    ):
        click.echo("Refresh cancelled; nothing recorded.", err=True)
        return 1
    applied = record_changes(ledger, result, who)
    if output_format == "json":
        _show(result, output_format, applied=applied)
    else:
        click.echo(f"Recorded {plural(applied, 'change')} in the ledger, each as a refreshed "
                   "event with its evidence (`pushops state history KEY`).")  # fmt: skip
    left = [d for d in result.drift if not d.provable]
    return DRIFT_EXIT if left else 0
