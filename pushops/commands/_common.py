"""Options and helpers shared by the subcommands."""

from __future__ import annotations

import functools
import inspect
import json
import os
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TypeVar

import click
from click.core import ParameterSource

from pushops.config import CONFIG_FILE, Config, find_root, load_config
from pushops.diagnostics import Diagnostic, PushopsError

F = TypeVar("F", bound=Callable[..., Any])


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


def signing_clock(now: str | None, at: datetime) -> Callable[[], datetime] | None:
    """With ``--now``, provider requests are dated from that time on (an emulator whose clock
    a test moved judges them by it); else by the system clock."""
    if not now:
        return None
    started = time.monotonic()
    return lambda: at + timedelta(seconds=time.monotonic() - started)


now_option = click.option(
    "--now",
    "now",
    envvar="PUSHOPS_NOW",
    metavar="TIME",
    help="Read this time instead of the clock (ISO 8601, e.g. 2026-11-22T09:00:00Z).",
)


def markdown_format_option(suits: str) -> Callable[[F], F]:
    """``--format text|json|markdown``; ``suits`` says where the Markdown goes."""
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(["text", "json", "markdown"]),
        default="text",
        show_default=True,
        help=f"Output format; json has a versioned, deterministic shape, markdown suits {suits}.",
    )


format_option = click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output format; json has a versioned, deterministic shape.",
)


def in_ci() -> bool:
    """Whether we run in CI (GitHub Actions sets both; most other CI systems set ``CI``)."""
    return any(
        os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")
        for name in ("CI", "GITHUB_ACTIONS")
    )


def interactive() -> bool:
    """A person at a terminal: stdin is one, and this is not a CI job."""
    try:
        return sys.stdin.isatty() and not in_ci()
    except (AttributeError, ValueError):  # stdin closed or replaced
        return False


class Duration(click.ParamType):
    """``300``, ``300s``, ``5m``, ``1h``, ``2d``, up to ten years; a timedelta."""

    name = "duration"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, timedelta):
            return value
        from pushops.plan.session import parse_duration

        try:
            return parse_duration(str(value), "")
        except PushopsError as exc:
            self.fail(str(exc), param, ctx)


DURATION = Duration()


def lock_timeout_option(fn: F) -> F:
    return click.option(
        "--lock-timeout",
        type=DURATION,
        default="0s",
        show_default=True,
        metavar="DURATION",
        help="Wait this long for another run's ledger lock before failing with its holder's "
        "details (e.g. 30s, 5m).",
    )(fn)


SANDBOX_HELP = (
    "Use the built-in emulator and a separate sandbox ledger (.pushops/sandbox.db): nothing "
    "reaches a real provider, and sandbox sends never mark real deliveries as sent."
)


ACCEPT_HELP = (
    "Use a ledger of this lineage although pushops.ledgers.yaml binds the environment to "
    "another one ('new': a ledger this run creates); see docs/state.md."
)


def ledger_options(
    *,
    accept: bool = False,
    sandbox: bool = True,
    sandbox_help: str = SANDBOX_HELP,
    accept_help: str = ACCEPT_HELP,
) -> Callable[[F], F]:
    """``--state``, ``--schema`` and ``--sandbox`` (and ``--accept-lineage``), the same on
    every command that opens the ledger; the command receives them as one ``choice`` (and
    ``sandbox`` too, if it has that parameter)."""

    def decorate(fn: F) -> F:
        wants_sandbox = "sandbox" in inspect.signature(fn).parameters

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            from pushops.plan.session import LedgerChoice

            ctx = click.get_current_context()
            source = ctx.get_parameter_source("state")
            kwargs["choice"] = LedgerChoice(
                state=kwargs.pop("state"),
                origin="PUSHOPS_STATE_DSN" if source == ParameterSource.ENVIRONMENT else "--state",
                schema=kwargs.pop("schema") or None,
                sandbox=kwargs.get("sandbox", False),
                accept_lineage=kwargs.pop("accept_lineage", None),
            )
            if not wants_sandbox:
                kwargs.pop("sandbox", None)
            return fn(*args, **kwargs)

        options = [
            click.option(
                "--state",
                metavar="URL_OR_PATH",
                envvar="PUSHOPS_STATE_DSN",
                help="The ledger: a PostgreSQL DSN or a SQLite file ending in .db "
                "(default: PUSHOPS_STATE_DSN, else pushops.yaml's state).",
            ),
            click.option(
                "--schema",
                envvar="PUSHOPS_STATE_SCHEMA",
                metavar="NAME",
                help="PostgreSQL schema of the ledger (default: pushops).",
            ),
        ]
        if sandbox:
            options.append(click.option("--sandbox", is_flag=True, help=sandbox_help))
        if accept:
            options.append(
                click.option("--accept-lineage", metavar="LINEAGE|new", help=accept_help)
            )
        decorated: Any = wrapper
        for option in reversed(options):
            decorated = option(decorated)
        return decorated  # type: ignore[no-any-return]

    return decorate


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


def provider_credentials(config: Config, environment: str) -> Any:
    """The access key ``environment``'s apps use, from the variables pushops.yaml names."""
    from pushops.providers import credentials_from_env

    names = config.credential_vars(environment)
    return credentials_from_env(
        id_var=names["access_key_id_env"],
        secret_var=names["access_key_secret_env"],
        token_var=names["security_token_env"],
    )


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
