"""pushops plan [--env E] [--out FILE] [--detailed-exitcode] [--format text|json|markdown]

Compares what the campaigns want with what the ledger says was sent, and says what apply
would do with every delivery. Reads the ledger, never writes it, and needs no credentials.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from pushops.check.validate import load_checked
from pushops.commands._common import now_option, parse_now, project_root
from pushops.config import load_config
from pushops.diagnostics import Report
from pushops.plan.checks import DeliveryChecker
from pushops.plan.engine import build_plan
from pushops.plan.jsonview import plan_json
from pushops.plan.markdown import render_markdown
from pushops.plan.mask import mask, secret_values
from pushops.plan.planfile import write_plan
from pushops.plan.session import git_commit, open_state, parse_duration
from pushops.plan.text import render_text

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
            click.option(
                "--sandbox",
                is_flag=True,
                help="Use the built-in emulator and a separate sandbox ledger "
                "(.pushops/sandbox.db): nothing reaches a real provider, and sandbox sends "
                "never mark real deliveries as sent.",
            ),
            click.option(
                "--state",
                metavar="URL_OR_PATH",
                envvar="PUSHOPS_STATE_DSN",
                help="The ledger: a PostgreSQL DSN or a SQLite file (default: pushops.yaml's).",
            ),
            click.option(
                "--margin",
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
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
    help="text for people, json for programs, markdown for pull requests.",
)
@click.option(
    "--comment", is_flag=True, help="Post the markdown plan to the pull request (GitHub Actions)."
)
def command(
    environment: str | None,
    sandbox: bool,
    state: str | None,
    margin: str,
    now: str | None,
    out: Path | None,
    detailed_exitcode: bool,
    output_format: str,
    comment: bool,
) -> int:
    """Say what apply would do with every delivery, and why."""
    root = project_root()
    config = load_config(root)
    env = config.environment(environment).name
    clock = parse_now(now)
    margin_s = parse_duration(margin, "--margin").total_seconds()
    report = Report()
    campaigns = load_checked((), root, config, report)
    if report.ok:
        checker = DeliveryChecker(clock)
        with open_state(config, state, sandbox) as ledger:
            plan = build_plan(
                config, env, ledger, campaigns, clock, report, margin_s=margin_s,
                git_commit=git_commit(root), sandbox=sandbox, check=checker,
                check_call=checker.call,
            )  # fmt: skip
    if not report.ok:
        print_diagnostics(report)
        click.echo(f"{len(report.errors)} error(s); no plan was made", err=True)
        return 1
    print_diagnostics(report)  # warnings
    secrets = tuple(secret_values(config, env))
    # The comment is always the Markdown plan, whatever --format prints.
    wants_markdown = comment or output_format == "markdown"
    markdown = mask(render_markdown(plan), secrets) if wants_markdown else ""
    if output_format == "json":
        click.echo(json.dumps(plan_json(plan, secrets), indent=2, ensure_ascii=False))
    elif output_format == "markdown":
        click.echo(markdown, nl=False)
    else:
        click.echo(mask(render_text(plan), secrets), nl=False)
    if comment:
        from pushops.github import publish

        publish(markdown)
    if plan.refusals:
        if out is not None:
            click.echo(
                f"No plan file written: {len(plan.refusals)} delivery(ies) blocked.", err=True
            )
        return 1
    if out is not None:
        write_plan(plan, out, secrets)
        click.echo(f"Saved the plan to {out}; apply it with `pushops apply {out}`.", err=True)
    if plan.blocked:
        return 1  # held keys: apply goes on without them, but someone must resolve them
    if detailed_exitcode and plan.has_changes:
        return 2
    return 0
