"""pushops state list|show|lock|rm|import|export|resolve|unlock: inspect and repair the ledger.

The ledger is the one the project uses: ``--state URL_OR_PATH`` if given, else
``PUSHOPS_STATE_DSN``, else ``pushops.yaml``'s ``state``, else ``.pushops/state.db`` under the
repository root. Every subcommand that writes takes the ledger's lock first (``--lock-timeout``,
default 0: fail at once, naming who holds it), so it never races an apply. Reporting
subcommands take ``--format json`` with a versioned, deterministic shape.
"""

from __future__ import annotations

import functools
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click

from pushops.commands import _state_view as view
from pushops.commands._common import emit_json, format_option
from pushops.config import CONFIG_FILE, find_root, load_config
from pushops.diagnostics import PushopsError
from pushops.ledger import Ledger, open_ledger
from pushops.ledger.locking import default_holder
from pushops.ledger.records import DELIVERY_STATUSES, UNSETTLED

F = TypeVar("F", bound=Callable[..., Any])


def ledger_target(state: str | None) -> tuple[str | None, Path]:
    """What ledger to open (None: the default under the root), and the repository root."""
    root = find_root()
    if state:
        return state, root
    if (root / CONFIG_FILE).is_file():
        return load_config(root).state_location(), root
    return None, root  # open_ledger: PUSHOPS_STATE_DSN, else ROOT/.pushops/state.db


@contextmanager
def opened(state: str | None, schema: str | None) -> Iterator[Ledger]:
    target, root = ledger_target(state)
    with open_ledger(target, root=root, schema=schema) as ledger:
        yield ledger


def ledger_options(fn: F) -> F:
    """``--state`` and ``--schema`` on every subcommand, so they go after its name."""
    fn = click.option(
        "--schema",
        envvar="PUSHOPS_STATE_SCHEMA",
        metavar="NAME",
        help="PostgreSQL schema of the ledger (default: pushops).",
    )(fn)
    return click.option(
        "--state",
        metavar="URL_OR_PATH",
        help="The ledger: a postgresql:// DSN or a SQLite file (default: as pushops.yaml says).",
    )(fn)


def lock_options(fn: F) -> F:
    return click.option(
        "--lock-timeout",
        type=click.FloatRange(min=0),
        default=0.0,
        show_default=True,
        metavar="SECONDS",
        help="Wait this long for the ledger lock before failing with its holder's details.",
    )(fn)


def file_errors(fn: F) -> F:
    """Files the user named that cannot be read or written: a clear error, not a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except OSError as exc:
            where = f" {exc.filename}" if exc.filename else ""
            raise PushopsError(f"cannot use{where}: {exc.strerror or exc}") from exc

    return wrapper  # type: ignore[return-value]


@click.group("state")
def command() -> None:
    """Inspect and repair the ledger: what was sent, pending calls, locks."""


# ---------------------------------------------------------------- reporting


@command.command("list")
@click.option("--env", "environment", metavar="ENV", help="Only this environment.")
@click.option(
    "--status", type=click.Choice(DELIVERY_STATUSES), help="Only deliveries in this status."
)
@click.option("--locks", is_flag=True, help="List the held ledger locks instead.")
@format_option
@ledger_options
def list_(
    environment: str | None,
    status: str | None,
    locks: bool,
    output_format: str,
    state: str | None,
    schema: str | None,
) -> None:
    """One line per current delivery: key, status, fingerprint, message id, updated."""
    with opened(state, schema) as ledger:
        if locks:
            _show_locks(ledger, output_format)
            return
        meta = ledger.meta()
        found = [
            d
            for d in ledger.current_deliveries(environment, with_request=False)
            if status is None or d.status == status
        ]
    if output_format == "json":
        emit_json(view.document(meta, deliveries=[view.delivery_json(d) for d in found]))
        return
    if not found:
        click.echo("no deliveries in the ledger" + (" match" if environment or status else ""))
        return
    rows = [view.delivery_line(d) for d in found]
    click.echo("\n".join(view.table(rows, view.DELIVERY_HEADER)))


@command.command("lock")
@format_option
@ledger_options
def lock_(output_format: str, state: str | None, schema: str | None) -> None:
    """Show who holds the ledger lock: id, holder, operation, start time."""
    with opened(state, schema) as ledger:
        _show_locks(ledger, output_format)


def _show_locks(ledger: Ledger, output_format: str) -> None:
    infos = ledger.lock_info()
    if output_format == "json":
        emit_json(view.document(ledger.meta(), locks=[view.lock_json(i) for i in infos]))
    else:
        click.echo("\n".join(view.lock_lines(infos)))


@command.command("show")
@click.argument("key")
@format_option
@ledger_options
def show(key: str, output_format: str, state: str | None, schema: str | None) -> None:
    """Every generation of KEY, the calls that carried it, and the requests as recorded."""
    with opened(state, schema) as ledger:
        history = ledger.get(key)
        if history is None:
            raise PushopsError(f"no key {key} in the ledger {ledger.location}")
        call_ids = sorted({d.call_id for d in history.generations if d.call_id})
        calls = [c for c in map(ledger.get_call, call_ids) if c is not None]
        meta = ledger.meta()
    if output_format == "json":
        emit_json(
            view.document(
                meta,
                key=key,
                generations=[view.delivery_json(d, with_request=True) for d in history.generations],
                calls=[view.call_json(c) for c in calls],
            )
        )
    else:
        click.echo("\n".join(view.history_lines(history, calls)))


@command.command("export")
@click.argument("file", default="-", metavar="[FILE|-]")
@ledger_options
@file_errors
def export(file: str, state: str | None, schema: str | None) -> None:
    """Write the whole ledger as versioned JSON Lines (to stdout by default)."""
    with opened(state, schema) as ledger:
        if file == "-":
            for line in ledger.export():
                sys.stdout.write(line)
            sys.stdout.flush()
            return
        path = Path(file)
        # Into a temporary file first: a failed export never leaves a truncated one behind
        # under the real name (import would refuse it, but a person might not notice).
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or Path("."))
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
                out.writelines(ledger.export())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        meta = ledger.meta()
    click.echo(f"exported ledger {meta.lineage} (serial {meta.serial}) to {file}", err=True)


# ---------------------------------------------------------------- writing


@command.command("import")
@click.argument("file", metavar="FILE|-")
@ledger_options
@lock_options
@file_errors
def import_(file: str, state: str | None, schema: str | None, lock_timeout: float) -> None:
    """Load an export into this ledger, which must be empty (lineage and serial are kept)."""
    with opened(state, schema) as ledger, ledger.lock("state import", timeout_s=lock_timeout):
        if file == "-":
            meta = ledger.import_(sys.stdin)
        else:
            with open(file, encoding="utf-8") as lines:
                meta = ledger.import_(lines)
    click.echo(f"imported ledger {meta.lineage} (serial {meta.serial}) into {meta.location}")


@command.command("rm")
@click.argument("key")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@ledger_options
@lock_options
def rm(key: str, yes: bool, state: str | None, schema: str | None, lock_timeout: float) -> None:
    """Forget KEY (every generation): the next plan sees it as never sent."""
    with opened(state, schema) as ledger, ledger.lock("state rm", timeout_s=lock_timeout):
        history = ledger.get(key)
        if history is None:
            raise PushopsError(f"no key {key} in the ledger {ledger.location}")
        current = history.current
        if current is not None and current.status in UNSETTLED:
            raise PushopsError(
                f"key {key} is {current.status}: it may have reached the provider. Check "
                f"with the provider, then settle it with `pushops state resolve {key} --sent` "
                "or `--not-sent` before removing it"
            )
        shown = current.status if current is not None else "not current"
        if not yes:
            click.confirm(
                f"Forget {key} ({shown}, {len(history.generations)} generation(s))? "
                "The next apply would send it again",
                abort=True,
                err=True,
            )
        removed = ledger.remove(key)
    click.echo(f"removed {key}: {removed} record(s)")


@command.command("resolve")
@click.argument("key")
@click.option("--sent/--not-sent", "sent", default=None, help="Whether it reached the provider.")
@click.option("--actor", metavar="WHO", help="Who checked (default: user@host).")
@ledger_options
@lock_options
def resolve(
    key: str,
    sent: bool | None,
    actor: str | None,
    state: str | None,
    schema: str | None,
    lock_timeout: float,
) -> None:
    """Settle a pending or unknown KEY after checking with the provider whether it went out."""
    if sent is None:
        raise click.UsageError("say what the provider told you: --sent or --not-sent")
    with opened(state, schema) as ledger, ledger.lock("state resolve", timeout_s=lock_timeout):
        settled = ledger.resolve(key, sent, actor or default_holder())
    meaning = "it will not be sent again" if sent else "the next apply may send it"
    click.echo(f"resolved {key} as {settled.status}: {meaning}")


@command.command("unlock")
@click.argument("lock_id")
@ledger_options
def unlock(lock_id: str, state: str | None, schema: str | None) -> None:
    """Force-release the ledger lock LOCK_ID (see `pushops state lock`)."""
    with opened(state, schema) as ledger:
        info = ledger.unlock(lock_id)
    was = "a stale lock of a holder that is gone" if info.stale else "a live lock"
    click.echo(f"released {was}: {info.describe()}")
