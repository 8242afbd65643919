"""pushops plan [--env E] [--out FILE] [--detailed-exitcode] [--format text|json|markdown|html]
[--report FILE] [--comment]

Compares what the campaigns want with what the ledger says was sent, and says what apply
would do with every delivery, grouped by the messages that go out. Reads the ledger, never
writes it, and needs no credentials. ``--report FILE`` also writes the HTML report (the one
``--format html`` prints), so one run can print, comment, save the plan and write the report.
"""

from __future__ import annotations

import json
import os
import shlex
from datetime import datetime, timedelta
from pathlib import Path

import click

from pushops.campaign import Campaign
from pushops.check.validate import load_checked
from pushops.commands._common import (
    DURATION,
    interactive,
    ledger_options,
    now_option,
    parse_now,
    project_root,
)
from pushops.compile import Call
from pushops.config import Config, load_config
from pushops.diagnostics import Report
from pushops.ledger import Ledger
from pushops.ledger.locking import default_holder
from pushops.plan.checks import DeliveryChecker
from pushops.plan.engine import build_plan, running_elsewhere
from pushops.plan.findings import HARD_EXIT, level_exit_code
from pushops.plan.grouped import Grouping
from pushops.plan.html import render_html
from pushops.plan.jsonview import plan_json
from pushops.plan.markdown import render_markdown, report_link
from pushops.plan.mask import mask, secret_values
from pushops.plan.model import InProgress, Plan
from pushops.plan.planfile import write_plan
from pushops.plan.renderproc import render_mode
from pushops.plan.session import (
    PLAN_KEY_ENV,
    LedgerChoice,
    git_commit,
    open_state,
    plan_file_key,
)
from pushops.plan.text import render_text
from pushops.plan.vendorcheck import VendorScan
from pushops.policy.evaluate import Evaluator, Override, check_overrides
from pushops.policy.gate import recent_overrides
from pushops.policy.loading import load_policies
from pushops.policy.model import PolicyError
from pushops.progress import Phase
from pushops.wording import plural

MARGIN_HELP = (
    "Replace or cancel a scheduled push only until this long before it is due "
    "(e.g. 300s, 5m); after that an edit is blocked."
)


def shared_options(func):  # type: ignore[no-untyped-def]
    """The options plan and apply share, in one place so they stay the same."""
    for option in reversed(
        [
            click.option(
                "--env", "environment", metavar="ENV", help="Environment (default: pushops.yaml's)."
            ),
            ledger_options(accept=True),
            click.option(
                "--margin",
                type=DURATION,
                default="5m",
                show_default=True,
                envvar="PUSHOPS_SCHEDULE_MARGIN",
                help=MARGIN_HELP,
            ),
            now_option,
        ]
    ):
        func = option(func)
    return func


def warn(message: str) -> None:
    click.echo(message, err=True)


def override_options(func):  # type: ignore[no-untyped-def]
    """--override NAME (repeatable) and --reason, shared by plan and apply."""
    func = click.option(
        "--reason",
        metavar="TEXT",
        help="Why the overridden policies may be let through this time (recorded in the "
        "ledger with who gave it).",
    )(func)
    return click.option(
        "--override",
        "overrides",
        metavar="NAME",
        multiple=True,
        help="Let a soft policy's findings through for this run (needs --reason); hard "
        "policies cannot be overridden.",
    )(func)


def actor() -> str:
    """Who runs this: the GitHub user in Actions, else user@host."""
    return os.environ.get("GITHUB_ACTOR") or default_holder()


def policy_setup(
    config: Config,
    environment: str,
    clock: datetime,
    given: list[Override],
    report: Report,
) -> Evaluator | None:
    """The policies of the repo for this plan, with the overrides given; None if there are
    none. Problems in the policy files go to ``report``."""
    policies, problems = load_policies(config)
    report.extend(problems)
    check_overrides(policies, given)
    evaluator = Evaluator(policies, config, environment, clock, overrides=given)
    if not evaluator:  # none applies in this environment
        evaluator.close()
        return None
    return evaluator


def parse_overrides(names: tuple[str, ...], reason: str | None, who: str) -> list[Override]:
    if names and not (reason or "").strip():
        raise PolicyError('--override needs --reason "why": the reason goes on record')
    if reason and not names:
        raise PolicyError("--reason is given without --override NAME")
    return [Override(name, (reason or "").strip(), who) for name in dict.fromkeys(names)]


def planning() -> Phase:
    """What plan shows while it renders and compares (only if that takes over a second)."""
    return Phase("Planning", None, "deliveries rendered")


def make_plan(
    config: Config,
    environment: str,
    ledger: Ledger,
    campaigns: list[Campaign],
    clock: datetime,
    report: Report,
    policies: Evaluator | None,
    *,
    margin_s: float,
    sandbox: bool,
    in_progress: InProgress | None = None,
    grouping: Grouping | None = None,
    keep_actions: bool = True,
) -> Plan:
    """The plan of ``campaigns`` against ``ledger``, as plan and apply make it: every
    delivery checked, the policies evaluated (and closed), the recent overrides and the
    vendor findings attached. ``grouping``, when given, is fed the calls and actions as
    plan makes them (its :meth:`~Grouping.view` of the plan then reads nothing back).
    ``keep_actions=False``: only counted (no view but ``--format json`` lists them all)."""
    checker = DeliveryChecker(clock)
    vendors = VendorScan()  # fed as the calls are compiled: they are not read back for it

    def on_call(call: Call) -> None:
        vendors.add_call(call)
        if grouping is not None:
            grouping.add_compiled(call)

    try:
        with planning() as phase:
            plan = build_plan(
                config, environment, ledger, campaigns, clock, report, margin_s=margin_s,
                git_commit=git_commit(config.root), sandbox=sandbox, check=checker,
                check_call=checker.call, policies=policies, in_progress=in_progress,
                progress=phase.advance, render_mode=render_mode(), on_call=on_call,
                on_action=None if grouping is None else grouping.action_listener(),
                keep_actions=keep_actions,
            )  # fmt: skip
    finally:
        if policies is not None:
            policies.close()
    plan.overrides = recent_overrides(ledger, environment)
    plan.findings.extend(vendors.findings(campaigns))
    return plan


def apply_command(planfile: Path, sandbox: bool) -> str:
    """The command that applies ``planfile`` as it was made (a sandbox plan needs --sandbox)."""
    return shlex.join(["pushops", "apply", *(["--sandbox"] if sandbox else []), str(planfile)])


def print_diagnostics(report: Report) -> None:
    for diagnostic in report.sorted():
        click.echo(diagnostic.format(), err=True)


@click.command("plan")
@shared_options
@click.option(
    "--out", "out", type=click.Path(path_type=Path), help="Save the plan for `pushops apply FILE`."
)
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 0 when there are no changes, 2 when there are, 1 on an error.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "markdown", "html"]),
    default="text",
    show_default=True,
    help="text for people, json for programs, markdown for pull requests, html for the "
    "report with notification previews.",
)
@click.option(
    "--report",
    "report_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Also write the HTML report with notification previews to this file.",
)
@click.option(
    "--comment", is_flag=True, help="Post the markdown plan to the pull request (GitHub Actions)."
)
@override_options
def command(
    environment: str | None,
    sandbox: bool,
    choice: LedgerChoice,
    margin: timedelta,
    now: str | None,
    out: Path | None,
    detailed_exitcode: bool,
    output_format: str,
    report_path: Path | None,
    comment: bool,
    overrides: tuple[str, ...],
    reason: str | None,
) -> int:
    """Say what apply would do with every delivery, and why."""
    if out is not None and out.suffix.lower() in (".html", ".htm"):
        raise click.UsageError(
            f"--out saves the plan file for `pushops apply`, not a report: to write the HTML "
            f"report, use --report {out} (or --format html > {out})"
        )
    root = project_root()
    config = load_config(root)
    env = config.environment(environment).name
    clock = parse_now(now)
    margin_s = margin.total_seconds()
    report = Report()
    campaigns = load_checked((), root, config, report)
    given = parse_overrides(overrides, reason, actor())
    policies = policy_setup(config, env, clock, given, report)
    grouping = Grouping(env, campaigns, config)  # the view, fed as plan compiles
    if report.ok:
        opened = open_state(
            config, choice, env, interactive=interactive(), command="plan", notice=warn
        )
        with opened as ledger:
            plan = make_plan(
                config, env, ledger, campaigns, clock, report, policies, margin_s=margin_s,
                sandbox=sandbox, in_progress=running_elsewhere(ledger), grouping=grouping,
                keep_actions=output_format == "json",  # the one view that lists every action
            )  # fmt: skip
    if not report.ok:
        print_diagnostics(report)
        click.echo(f"{plural(len(report.errors), 'error')}; no plan was made", err=True)
        return 1
    print_diagnostics(report)  # warnings
    secrets = tuple(secret_values(config, env))
    view = grouping.view(plan)  # one pass, shared by every format written
    # The comment is always the Markdown plan, whatever --format prints.
    wants_markdown = comment or output_format == "markdown"
    markdown = ""
    if wants_markdown:
        link = report_link(str(report_path) if report_path else None)
        markdown = mask(render_markdown(plan, secrets=secrets, view=view, link=link), secrets)
    if report_path is not None:
        page = mask(render_html(plan, secrets=secrets, view=view), secrets)
        report_path.write_text(page, encoding="utf-8")
        click.echo(f"Wrote the HTML report to {report_path}.", err=True)
    if output_format == "json":
        data = plan_json(plan, secrets, view=view)
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    elif output_format == "markdown":
        click.echo(markdown, nl=False)
    elif output_format == "html":
        click.echo(mask(render_html(plan, secrets=secrets, view=view), secrets), nl=False)
    else:
        click.echo(mask(render_text(plan, secrets=secrets, view=view), secrets), nl=False)
    if comment:
        from pushops.github import publish

        publish(markdown)
    if plan.refusals:
        if out is not None:
            click.echo(
                f"No plan file written: {plural(len(plan.refusals), 'delivery')} blocked.",
                err=True,
            )
        return 1
    stopped = level_exit_code(plan.findings)
    if out is not None and stopped == HARD_EXIT:
        click.echo("No plan file written: a hard policy blocks apply.", err=True)
        return stopped
    if out is not None and plan.in_progress is not None:
        click.echo(
            f"No plan file written: {plan.in_progress.describe()}, and the ledger will have "
            "changed when it is done. Plan again then.",
            err=True,
        )
        return 1
    if out is not None:
        key = plan_file_key(config, env, sandbox)
        write_plan(plan, out, key, secrets)
        how = apply_command(out, sandbox)
        if stopped is not None:
            names = " ".join(
                f"--override {n}" for n in dict.fromkeys(f.source for f in plan.blocking)
            )
            how += f' {names} --reason "why"'
        click.echo(f"Saved the plan to {out}; apply it with `{how}`.", err=True)
        if key is None:
            names = config.credential_vars(env)
            click.echo(
                f"Warning: {out} is not signed: neither {PLAN_KEY_ENV} nor "
                f"{names['access_key_id_env']} and {names['access_key_secret_env']} are set, so "
                "`pushops apply` will refuse it (it cannot tell it from an edited plan). Make "
                "the plan where apply runs.",
                err=True,
            )
    if stopped is not None:
        return stopped
    if plan.blocked:
        return 1  # held keys: apply goes on without them, but someone must resolve them
    if detailed_exitcode and plan.has_changes:
        return 2
    return 0
