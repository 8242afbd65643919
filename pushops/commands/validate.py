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
from pushops.config import CONFIG_FILE, not_a_repository
from pushops.diagnostics import Diagnostic
from pushops.plan.mask import every_secret_value, mask_diagnostics
from pushops.progress import Phase
from pushops.wording import plural


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
    if not (root / CONFIG_FILE).is_file():
        # Nothing can be checked against a config that is not there: say that, and only that.
        missing = Diagnostic(CONFIG_FILE, 1, 1, "", not_a_repository(root), "config.missing")
        return _report([missing], 0, output_format)
    config, config_problems = optional_config(root)
    clock = parse_now(now)
    # On stderr, only past a second: diagnostics and the summary come after it has ended.
    with Phase("Validating", None, "deliveries") as phase:
        result = validate(paths, root, config, clock, progress=phase.advance)
    result.report.extend(config_problems)
    if config is not None:
        from pushops.policy.check import validate_policies

        result.report.extend(validate_policies(config, result.campaigns, clock))
    # A message can quote a rendered value, and a campaign can hold a pasted secret.
    diagnostics = mask_diagnostics(result.report.sorted(), every_secret_value(config))
    return _report(diagnostics, len(result.campaigns), output_format)


def _report(diagnostics: list[Diagnostic], campaigns: int, output_format: str) -> int:
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
            f"{plural(campaigns, 'campaign')} valid"
            if not diagnostics
            else f"{plural(errors, 'error')}, {plural(warnings, 'warning')} in "
            f"{plural(files, 'file')}"
        )
        click.echo(summary, err=True)
    return 1 if errors else 0
