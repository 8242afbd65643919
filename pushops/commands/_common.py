"""Options and helpers shared by the subcommands."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import click

from pushops.config import CONFIG_FILE, Config, find_root, load_config
from pushops.diagnostics import Diagnostic, PushopsError


def parse_now(value: str | None) -> datetime:
    """The one clock: ``--now`` (ISO 8601; naive means UTC) or the system clock."""
    if not value:
        return datetime.now(timezone.utc).replace(microsecond=0)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not an ISO 8601 time, e.g. 2026-11-22T09:00:00Z"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


now_option = click.option(
    "--now",
    "now",
    envvar="PUSHOPS_NOW",
    metavar="TIME",
    help="Read this time instead of the clock (ISO 8601, e.g. 2026-11-22T09:00:00Z).",
)
format_option = click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output format; json has a versioned, deterministic shape.",
)


def project_root() -> Path:
    return find_root()


def optional_config(root: Path) -> tuple[Config | None, list[Diagnostic]]:
    """The config if there is one; its problems as diagnostics rather than an exception."""
    if not (root / CONFIG_FILE).is_file():
        return None, []
    try:
        return load_config(root), []
    except PushopsError as exc:
        if exc.diagnostics:
            return None, exc.diagnostics
        raise


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False))


def build_generated(
    check: bool,
    folder: str,
    what: str,
    drift: Callable[[], list[str]],
    write: Callable[[], list[str]],
) -> int:
    """Shared shell of ``schema build`` and ``docs build``: write the generated files, or
    with ``--check`` exit 1 naming the ones that differ from their sources."""
    if check:
        changed = drift()
        for name in changed:
            click.echo(f"{folder}/{name} is out of date with {what}", err=True)
        if changed:
            click.echo(f"run `pushops {folder} build` and commit the result", err=True)
            return 1
        click.echo(f"{folder} are up to date")
        return 0
    written = write()
    for name in written:
        click.echo(f"wrote {folder}/{name}")
    if not written:
        click.echo(f"{folder} are up to date")
    return 0
