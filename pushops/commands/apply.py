"""pushops apply [PLANFILE] [--env E] [--auto-approve] [--sandbox] [--lock-timeout D]

Takes the ledger's write lock, settles what an interrupted run left pending, and sends what
the plan says: the saved PLANFILE exactly, or a fresh plan after confirmation.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import click

from pushops.apply.engine import Applier, Summary
from pushops.apply.gateway import Gateway, check_endpoints
from pushops.apply.progress import Progress
from pushops.apply.recovery import Recoverer
from pushops.apply.report import summary_lines
from pushops.apply.sender import Spawned, send_mode, start_early
from pushops.check.validate import load_checked
from pushops.commands._common import (
    DURATION,
    interactive,
    lock_timeout_option,
    parse_now,
    project_root,
    provider_credentials,
)
from pushops.commands.plan import (
    actor,
    make_plan,
    override_options,
    parse_overrides,
    policy_setup,
    print_diagnostics,
    shared_options,
    warn,
)
from pushops.config import Config, load_config
from pushops.diagnostics import PushopsError, Report
from pushops.ledger import Ledger
from pushops.plan.approval import approval_lines
from pushops.plan.grouped import Grouping
from pushops.plan.mask import mask, secret_values
from pushops.plan.model import Plan
from pushops.plan.planfile import PlanFileError, check_usable, read_plan
from pushops.plan.session import (
    PLAN_KEY_ENV,
    LedgerChoice,
    open_state,
    plan_file_key,
)
from pushops.plan.text import render_text
from pushops.policy.evaluate import Override, check_overrides
from pushops.policy.gate import (
    override_saved,
    record_overrides,
    refuse_blocked,
)
from pushops.policy.loading import load_policies
from pushops.progress import Phase
from pushops.wording import plural

INTERRUPTED = 130


def _fresh_plan(config: Config, env: str, ledger: Ledger, now: datetime, margin_s: float,
                sandbox: bool, overrides: list[Override], grouping: Grouping) -> Plan:  # fmt: skip
    report = Report()
    campaigns = load_checked((), config.root, config, report)
    policies = policy_setup(config, env, now, overrides, report)
    plan = None
    if report.ok:
        plan = make_plan(
            config, env, ledger, campaigns, now, report, policies, margin_s=margin_s,
            sandbox=sandbox, grouping=grouping, keep_actions=False,  # shown through grouping
        )  # fmt: skip
    if not report.ok or plan is None:
        print_diagnostics(report)
        raise PushopsError(f"{plural(len(report.errors), 'error')} in the campaigns; nothing sent")
    return plan


def _print_summary(summary: Summary, secrets: tuple[str, ...] = ()) -> None:
    for text, to_stderr in summary_lines(summary):
        click.echo(mask(text, secrets), err=to_stderr)


@click.command("apply")
@click.argument("planfile", required=False, type=click.Path(path_type=Path, dir_okay=False))
@shared_options
@click.option("--auto-approve", is_flag=True, help="Do not ask for confirmation.")
@lock_timeout_option
@click.option(
    "--max-plan-age",
    type=DURATION,
    default="1h",
    show_default=True,
    envvar="PUSHOPS_MAX_PLAN_AGE",
    help="Refuse a PLANFILE older than this.",
)
@override_options
def command(
    planfile: Path | None,
    environment: str | None,
    sandbox: bool,
    choice: LedgerChoice,
    margin: timedelta,
    now: str | None,
    auto_approve: bool,
    lock_timeout: timedelta,
    max_plan_age: timedelta,
    overrides: tuple[str, ...],
    reason: str | None,
) -> int:
    """Send what the plan says, recording every call in the ledger before sending it.

    With --sandbox everything goes to the built-in emulator and a separate sandbox ledger
    (.pushops/sandbox.db): sandbox sends never mark real deliveries as sent.
    """
    root = project_root()
    config = load_config(root)
    saved_file = read_plan(planfile) if planfile is not None else None
    env = config.environment(environment or (saved_file.environment if saved_file else None)).name
    clock = parse_now(now)
    margin_s = margin.total_seconds()
    timeout_s = lock_timeout.total_seconds()
    max_age = max_plan_age
    if saved_file is None and not auto_approve and not sys.stdin.isatty():
        raise PushopsError(
            "apply asks for confirmation, but there is no terminal to ask on: pass "
            "--auto-approve, or apply a saved plan (`pushops plan --out FILE`, then "
            "`pushops apply FILE`)"
        )
    if not sandbox:
        # Before anything is written: a bad endpoint found while sending would leave calls
        # written ahead that never went out.
        check_endpoints(config.environment(env))
    sending = send_mode()  # a bad PUSHOPS_SEND_PROCESS is refused before anything is written
    emulator = None
    saved = None
    early: Spawned | None = None
    try:
        if saved_file is not None and planfile is not None:
            # Before anything else: a plan that is not what `pushops plan` made is never used.
            saved_file.check_made_for(environment, sandbox)
            key = plan_file_key(config, env, sandbox)
            if key is None:
                names = config.credential_vars(env)
                raise PlanFileError(
                    f"cannot check plan file {planfile}: set {PLAN_KEY_ENV}, or "
                    f"{names['access_key_id_env']} and {names['access_key_secret_env']}, as when "
                    "the plan was made"
                )
            if start_early(sending, saved_file.deliveries_to_send):
                early = Spawned.begin()
            saved = saved_file.verified(key)
        if sandbox:
            from pushops.apply.sandbox import start_sandbox

            emulator, credentials = start_sandbox(root)
        else:
            credentials = provider_credentials(config, env)
        who = actor()
        given = parse_overrides(overrides, reason, who)
        opened = open_state(
            config, choice, env, interactive=interactive(), command="apply", notice=warn
        )
        with opened as ledger, ledger.lock("apply", who, timeout_s):
            if saved is not None and planfile is not None:
                meta = ledger.meta()
                check_usable(
                    saved, planfile, environment=environment, lineage=meta.lineage,
                    serial=meta.serial, sandbox=sandbox, max_age=max_age,
                    now=datetime.now(timezone.utc),
                )  # fmt: skip
            run = _Run(
                config, env, ledger, saved, clock=clock, margin_s=margin_s, sandbox=sandbox,
                auto_approve=auto_approve, actor=who, overrides=given, send_mode=sending,
                early=early,
            )  # fmt: skip
            return asyncio.run(_run(run, credentials, emulator.url if emulator else None))
    finally:
        if early is not None:
            early.abandon()  # started for nothing (apply stopped first): ends unused
        if emulator is not None:
            emulator.stop()


@dataclass(frozen=True)
class _Run:
    """What one apply works with, decided before its event loop starts."""

    config: Config
    env: str
    ledger: Ledger
    saved: Plan | None
    clock: datetime
    margin_s: float
    sandbox: bool
    auto_approve: bool
    actor: str
    overrides: list[Override]
    send_mode: str  # PUSHOPS_SEND_PROCESS (pushops.apply.sender)
    early: Spawned | None  # the sending process, started while the plan was checked


async def _run(run: _Run, credentials: Any, endpoint: str | None) -> int:
    from pushops.providers import Providers

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    received: list[int] = []

    def on_signal(signum: int) -> None:
        if not received:
            click.echo("\nInterrupted: finishing the calls in flight, then stopping.", err=True)
        received.append(signum)
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, on_signal, signum)
    # The sandbox ignores PUSHOPS_*_ENDPOINT: its throwaway key must reach only the emulator.
    async with Providers(credentials, env={} if run.sandbox else None) as providers:
        gateway = Gateway(
            providers, run.config.environment(run.env), endpoint=endpoint,
            rate_limit=not run.sandbox,
        )  # fmt: skip
        try:
            return await _apply(run, gateway, stop, interrupted=received)
        finally:
            await gateway.aclose()


async def _apply(
    run: _Run, gateway: Gateway, stop: asyncio.Event, *, interrupted: list[int]
) -> int:
    config, env, ledger = run.config, run.env, run.ledger
    secrets = tuple(secret_values(config, env))
    plan = run.saved
    if plan is not None:
        policies, _problems = load_policies(config)  # the plan was made with them
        check_overrides(policies, run.overrides)
        override_saved(plan, run.overrides)
    else:
        grouping = Grouping(env)  # as render_text groups a plan: without its campaigns
        plan = _fresh_plan(
            config, env, ledger, run.clock, run.margin_s, run.sandbox, run.overrides, grouping
        )
        click.echo(mask(render_text(plan, view=grouping.view(plan)), secrets), nl=False)
        if plan.refusals:
            raise PushopsError(f"{plural(len(plan.refusals), 'delivery')} blocked; nothing sent")
        if not plan.calls and not plan.cancels and not plan.resolves:
            if plan.blocked:
                return 1
            click.echo("No changes. Nothing to apply.")
            return 0
    refuse_unappliable(plan)  # before anyone is asked, before anything is settled or sent
    # What is approved is the whole plan: settling what an interrupted run left pending (which
    # may send it, as it was planned then), the cancels and the sends. Said right before the
    # question (the plan above can be thousands of lines), and before a saved plan is sent.
    asked = run.saved is None and not run.auto_approve
    doing = (
        "Approving" if asked
        else "Applying the saved plan (approved when saved)" if run.saved is not None
        else "Applying (--auto-approve)"
    )  # fmt: skip
    for line in approval_lines(plan, doing):
        click.echo(mask(line, secrets), err=True)
    if asked and not click.confirm("Apply this plan?", err=True):
        click.echo("Apply cancelled; nothing settled, nothing sent.", err=True)
        return 1
    if plan.calls or plan.cancels:
        record_overrides(ledger, plan)  # on record before anything goes out
    with Phase("Settling", len(plan.resolves), "pending calls") as settling:
        recovery = await Recoverer(ledger, env, gateway).run(
            only=plan.resolves, tick=settling.advance
        )
    progress = Progress(plan.calls.deliveries, len(plan.calls))
    applier = Applier(
        plan, ledger, gateway, actor=run.actor, stop=stop, progress=progress,
        send_mode=run.send_mode, early=run.early,
    )  # fmt: skip
    summary = await applier.run(recovery)
    _print_summary(summary, secrets)
    if interrupted:
        return INTERRUPTED
    return 0 if summary.ok and not plan.blocked else 1


def refuse_unappliable(plan: Plan) -> None:
    """The one place apply refuses a plan as a whole, before anyone is asked and before
    anything is settled or sent: deliveries blocked by an edit, and policy findings that block
    apply (``Finding.blocks``; policies say how to override a soft one)."""
    if plan.refusals:
        raise PushopsError(f"{plural(len(plan.refusals), 'delivery')} blocked; nothing sent")
    refuse_blocked(plan)
