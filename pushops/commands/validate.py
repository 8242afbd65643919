"""pushops validate [PATH...]"""

from __future__ import annotations

from pathlib import Path

import click

from pushops.check.validate import validate
from pushops.commands._common import (
    emit_json,
    now_option,
    optional_config,
    parse_now,
    project_root,
)


@click.command("validate")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@now_option
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "github"]),
    default="text",
    show_default=True,
    help="Output format; json has a versioned, deterministic shape; github prints GitHub "
    "Actions annotations, shown on the pull request's changed lines.",
)
def command(paths: tuple[Path, ...], now: str | None, output_format: str) -> int:
    """Check campaigns (default: everything under campaigns/) and report every problem."""
    root = project_root()
    config, config_problems = optional_config(root)
    clock = parse_now(now)
    result = validate(paths, root, config, clock)
    result.report.extend(config_problems)
    if config is not None:
        from pushops.policy.check import validate_policies

        result.report.extend(validate_policies(config, result.campaigns, clock))
    diagnostics = result.report.sorted()
    errors = sum(1 for d in diagnostics if d.severity == "error")
    if output_format == "json":
        emit_json({"version": 1, "errors": [d.to_json() for d in diagnostics]})
    else:
        for diagnostic in diagnostics:
            github = output_format == "github"
            click.echo(diagnostic.annotation() if github else diagnostic.format())
        warnings = len(diagnostics) - errors
        files = len({d.file for d in diagnostics})
        summary = (
            f"{len(result.campaigns)} campaign(s) valid"
            if not diagnostics
            else f"{errors} error(s), {warnings} warning(s) in {files} file(s)"
        )
        click.echo(summary, err=True)
    return 1 if errors else 0
