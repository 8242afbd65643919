"""pushops state init|list|show|history|lock|rm|import|export|resolve|abandon|unlock: the
ledger, by hand.

The ledger is the one the project uses: ``--state URL_OR_PATH`` (or ``PUSHOPS_STATE_DSN``),
else ``pushops.yaml``'s ``state``, else ``.pushops/state.db`` under the repository root;
``--sandbox`` is the sandbox's. Only ``init`` and ``import`` create a ledger; the others
refuse a missing one rather than make an empty one. Every subcommand that writes takes the
ledger's lock first (``--lock-timeout``, default 0: fail at once, naming who holds it), so it
never races an apply. Reporting subcommands take ``--format json`` with a versioned,
deterministic shape.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TypeVar

import click

from pushops.commands import _state_view as view
from pushops.commands._common import emit_json, format_option, ledger_options, lock_timeout_option
from pushops.config import CONFIG_FILE, Config, find_root, load_config
from pushops.diagnostics import PushopsError
from pushops.ledger import (
    Call,
    FailedResult,
    KeyHistory,
    Ledger,
    LedgerMissingError,
    exchange,
    open_ledger,
    timeline,
)
from pushops.ledger.binding import BINDING_FILE, load_bindings
from pushops.ledger.codec import time_text
from pushops.ledger.locking import default_holder
from pushops.ledger.migrations import upgrade_sql
from pushops.ledger.records import ABANDONED as ABANDONED_EVENT
from pushops.ledger.records import DELIVERY_STATUSES, UNSETTLED
from pushops.ledger.roles import identifier, setup_sql
from pushops.ledger.target import POSTGRESQL
from pushops.plan.session import (
    ACCEPT_NEW,
    SCHEMA_ENV,
    LedgerChoice,
    LineageError,
    check_accept,
    describe,
    say_schema,
    state_target,
)
from pushops.wording import plural

F = TypeVar("F", bound=Callable[..., Any])

SANDBOX_HELP = "The sandbox ledger (.pushops/sandbox.db) that plan and apply --sandbox use."


def _config() -> Config:
    root = find_root()
    if (root / CONFIG_FILE).is_file():
        return load_config(root)
    return Config(root=root, environments={}, default_environment="")


@contextmanager
def opened(
    choice: LedgerChoice, *, create: bool = False, migrate: bool = False, quiet: bool = False
) -> Iterator[Ledger]:
    """The ledger the options name; a missing one is an error unless ``create``.

    An older ledger is migrated on opening only for the commands that write (``migrate``);
    the views read it as it is (a read-only role may not change it) and say so once, unless
    ``quiet``.
    """
    config = _config()
    target = state_target(config, choice)
    schema = choice.schema or os.environ.get(SCHEMA_ENV) or None
    try:
        ledger = open_ledger(
            target, root=config.root, schema=schema, create=create, migrate=migrate
        )
    except LedgerMissingError:
        raise LedgerMissingError(
            f"no ledger at {describe(target, schema)}; nothing was created "
            "(`pushops state init` creates one)"
        ) from None
    with ledger:
        if not quiet:
            say_schema(ledger, functools.partial(click.echo, err=True))
        yield ledger


def state_options(fn: F) -> F:
    """``--state``, ``--schema`` and ``--sandbox`` on every subcommand, after its name."""
    return ledger_options(sandbox_help=SANDBOX_HELP)(fn)


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
@state_options
def list_(
    environment: str | None,
    status: str | None,
    locks: bool,
    output_format: str,
    choice: LedgerChoice,
) -> None:
    """One line per current delivery: key, status, fingerprint, message id, updated."""
    with opened(choice) as ledger:
        if locks:
            _show_locks(ledger, output_format)
            return
        meta = ledger.meta()
        found = [
            d
            for d in ledger.current_deliveries(environment, with_request=False)
            if status is None or d.status == status
        ]
        # Failed deliveries whose call never reached the provider read "not sent (why)".
        codes = (
            ledger.not_sent_calls(environment) if any(d.status == "failed" for d in found) else {}
        )
    if output_format == "json":
        emit_json(
            view.document(
                meta,
                deliveries=[view.delivery_json(d, code=codes.get(d.call_id or "")) for d in found],
            )
        )
        return
    if not found:
        click.echo("no deliveries in the ledger" + (" match" if environment or status else ""))
        return
    rows = [view.delivery_line(d, codes.get(d.call_id or "")) for d in found]
    click.echo("\n".join(view.table(rows, view.DELIVERY_HEADER)))


@command.command("lock")
@format_option
@state_options
def lock_(output_format: str, choice: LedgerChoice) -> None:
    """Show who holds the ledger lock: id, holder, operation, start time."""
    with opened(choice) as ledger:
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
@state_options
def show(key: str, output_format: str, choice: LedgerChoice) -> None:
    """Every generation of KEY, the calls that carried it, and the requests as recorded."""
    with opened(choice) as ledger:
        history, calls = _key_records(ledger, key)
        meta = ledger.meta()
    codes = {c.call_id: c.error_code for c in calls}
    if output_format == "json":
        emit_json(
            view.document(
                meta,
                key=key,
                generations=[
                    view.delivery_json(d, with_request=True, code=codes.get(d.call_id or ""))
                    for d in history.generations
                ],
                calls=[view.call_json(c) for c in calls],
            )
        )
    else:
        click.echo("\n".join(view.history_lines(history, calls)))


def _key_records(ledger: Ledger, key: str) -> tuple[KeyHistory, list[Call]]:
    """Every generation of ``key`` and the calls that carried them; an unknown key is an error."""
    history = ledger.get(key)
    if history is None:
        raise PushopsError(f"no key {key} in the ledger {ledger.location}")
    call_ids = sorted({d.call_id for d in history.generations if d.call_id})
    return history, [c for c in map(ledger.get_call, call_ids) if c is not None]


@command.command("history")
@click.argument("key")
@format_option
@state_options
def history(key: str, output_format: str, choice: LedgerChoice) -> None:
    """Every write that touched KEY, oldest first: each generation written ahead and what
    came of it, then every resolve, abandon, rm, cancel and refresh, with who and when."""
    with opened(choice) as ledger:
        found, calls = _key_records(ledger, key)
        events = ledger.events_for(key)
        meta = ledger.meta()
    writes = timeline.steps(found, calls, events)
    if output_format == "json":
        emit_json(view.document(meta, key=key, history=[view.step_json(s) for s in writes]))
    else:
        click.echo("\n".join(view.steps_lines(key, writes)))


@command.command("export")
@click.argument("file", default="-", metavar="[FILE|-]")
@state_options
@file_errors
def export(file: str, choice: LedgerChoice) -> None:
    """Write the whole ledger as versioned JSON Lines (to stdout by default)."""
    with opened(choice) as ledger:
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
@state_options
@lock_timeout_option
@file_errors
def import_(file: str, choice: LedgerChoice, lock_timeout: timedelta) -> None:
    """Load an export into this ledger, which must be empty (lineage and serial are kept).

    Where there is no ledger yet, import creates it, so a moved ledger keeps its lineage
    and the environments bound to it stay bound. A file that is not a valid export is
    refused before any ledger is opened; a bad line later imports nothing.
    """
    timeout_s = lock_timeout.total_seconds()
    with contextlib.ExitStack() as stack:
        source = sys.stdin.buffer if file == "-" else stack.enter_context(open(file, "rb"))
        _, lines = exchange.read_header(source)
        ledger = stack.enter_context(opened(choice, create=True, migrate=True))
        stack.enter_context(ledger.lock("state import", timeout_s=timeout_s))
        meta = ledger.import_(lines)
    click.echo(f"imported ledger {meta.lineage} (serial {meta.serial}) into {meta.location}")


@command.command("rm")
@click.argument("key")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@state_options
@lock_timeout_option
@click.option("--actor", metavar="WHO", help="Who removes it (default: user@host).")
def rm(
    key: str, yes: bool, actor: str | None, choice: LedgerChoice, lock_timeout: timedelta
) -> None:
    """Forget KEY: the next plan sees nothing of it sent, and the next apply sends it again
    (as a new generation, with a new token). Its history stays, for `pushops state show`."""
    timeout_s = lock_timeout.total_seconds()
    with opened(choice, migrate=True) as ledger, ledger.lock("state rm", timeout_s=timeout_s):
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
        ledger.remove(key, actor or default_holder())
    click.echo(f"removed {key} (it was {shown}): the next apply sends it again")


@command.command("resolve")
@click.argument("key")
@click.option("--sent/--not-sent", "sent", default=None, help="Whether it reached the provider.")
@click.option("--actor", metavar="WHO", help="Who checked (default: user@host).")
@state_options
@lock_timeout_option
def resolve(
    key: str,
    sent: bool | None,
    actor: str | None,
    choice: LedgerChoice,
    lock_timeout: timedelta,
) -> None:
    """Settle a pending or unknown KEY after checking with the provider whether it went out."""
    if sent is None:
        raise click.UsageError("say what the provider told you: --sent or --not-sent")
    timeout_s = lock_timeout.total_seconds()
    with opened(choice, migrate=True) as ledger, ledger.lock("state resolve", timeout_s=timeout_s):
        settled = ledger.resolve(key, sent, actor or default_holder())
    meaning = "it will not be sent again" if sent else "the next apply may send it"
    click.echo(f"resolved {key} as {settled.status}: {meaning}")


@command.command("abandon")
@click.argument("keys", nargs=-1, metavar="[KEY]...")
@click.option("--campaign", "campaigns", multiple=True, metavar="ID", help="Every unsettled key "
              "of this campaign (repeatable).")  # fmt: skip
@click.option("--call", "calls", multiple=True, metavar="CALL_ID", help="Every key this call "
              "carries (repeatable; plan and apply name the calls).")  # fmt: skip
@click.option("--env", "environment", metavar="ENV", help="Only this environment.")
@click.option("--actor", metavar="WHO", help="Who checked (default: user@host).")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@state_options
@lock_timeout_option
def abandon(
    keys: tuple[str, ...],
    campaigns: tuple[str, ...],
    calls: tuple[str, ...],
    environment: str | None,
    actor: str | None,
    yes: bool,
    choice: LedgerChoice,
    lock_timeout: timedelta,
) -> None:
    """Give up on pending or unknown calls: record them as not sent, many at once.

    For calls an interrupted run left whose content you have since changed: they are never
    repeated, and the next plan sends what the campaigns say now. Only when you know they did
    not go out (check with the provider): one that did would be sent twice. `state resolve
    KEY --sent` records one that did.
    """
    if not (keys or campaigns or calls):
        raise click.UsageError("say what to abandon: KEY..., --campaign ID or --call CALL_ID")
    timeout_s = lock_timeout.total_seconds()
    with opened(choice, migrate=True) as ledger, ledger.lock("state abandon", timeout_s=timeout_s):
        wanted = set(keys)
        found = [
            d
            for d in ledger.current_deliveries(environment, with_request=False)
            if d.status in UNSETTLED
            and (d.key in wanted or d.campaign in campaigns or d.call_id in calls)
        ]
        named = {d.key for d in found}
        missing = sorted(wanted - named)
        if missing:
            raise PushopsError(
                f"not pending or unknown, nothing abandoned: {', '.join(missing[:5])}"
                + (" …" if len(missing) > 5 else "")
            )
        if not found:
            raise PushopsError("no pending or unknown key matches; nothing abandoned")
        by_call = sorted({d.call_id or "?" for d in found})
        click.echo(f"{plural(len(found), 'key')} in {plural(len(by_call), 'call')}:", err=True)
        for d in found[:20]:
            click.echo(f"  {d.key} ({d.status}, call {d.call_id})", err=True)
        if len(found) > 20:
            click.echo(f"  … and {len(found) - 20} more", err=True)
        if not yes:
            click.confirm(
                "Record them as NOT sent? They will never be repeated and the next apply sends "
                "what the campaigns say now; if any did go out, it is sent twice",
                abort=True,
                err=True,
            )
        who = actor or default_holder()
        _abandon(ledger, found, who)
    click.echo(
        f"abandoned {plural(len(found), 'key')} in "
        f"{plural(len(by_call), 'call')}: recorded as not sent by {who}; the next "
        "plan sends what the campaigns say now"
    )


ABANDONED = "Abandoned"  # the code a call given up with `state abandon` is recorded with


def _abandon(ledger: Ledger, found: list[Any], who: str) -> None:
    """Whole calls in one transaction each batch (recorded failed, code Abandoned, by whom);
    keys abandoned without the rest of their call one by one, as `state resolve` does."""
    chosen: dict[str, set[str]] = {}
    for d in found:
        chosen.setdefault(d.call_id or "", set()).add(d.key)
    whole, single = [], []
    for call_id, keys in chosen.items():
        carried = {d.key for d in ledger.call_deliveries(call_id)} if call_id else set()
        if call_id and carried == keys:
            whole.append(call_id)
        else:
            single.extend(sorted(keys))
    note = f"abandoned by {who} (pushops state abandon): recorded as not sent"
    for start in range(0, len(whole), 500):
        ledger.abandon_calls(
            [FailedResult(c, ABANDONED, note) for c in whole[start : start + 500]], who
        )
    for key in single:
        ledger.resolve(key, False, who, kind=ABANDONED_EVENT)


@command.command("unlock")
@click.argument("lock_id")
@click.option(
    "--force", is_flag=True, help="Also release a lock whose holder is alive (it stops writing)."
)
@state_options
def unlock(lock_id: str, force: bool, choice: LedgerChoice) -> None:
    """Release the ledger lock LOCK_ID (see `pushops state lock`).

    A lock whose holder is gone is released at once. A live holder's lock (an apply still
    running) only with --force: the holder then fails at its next write, having written
    nothing more.
    """
    with opened(choice) as ledger:
        found = [i for i in ledger.lock_info() if i.lock_id == lock_id]
        if found and not found[0].stale and not force:
            raise PushopsError(
                f"{found[0].describe()} is live: its holder is still running. Releasing it "
                "stops that run at its next write; if that is what you want, run again with "
                "--force"
            )
        info = ledger.unlock(lock_id)
    was = "a stale lock of a holder that is gone" if info.stale else "a live lock"
    click.echo(f"released {was}: {info.describe()}")


# ---------------------------------------------------------------- creating and binding


@command.command("migrate")
@click.option(
    "--sql",
    "print_sql",
    is_flag=True,
    help="Print the SQL that upgrades this ledger, for a database administrator to review and "
    "run, and exit; nothing is changed.",
)
@state_options
@lock_timeout_option
def migrate(print_sql: bool, choice: LedgerChoice, lock_timeout: timedelta) -> None:
    """Upgrade the ledger to the schema this pushops knows, under the ledger lock.

    A newer pushops may add tables. plan and the state commands that only read use an older
    ledger as it is (a read-only role can plan); apply and the commands that write upgrade it
    themselves. Run this (or let the next apply do it) with the role that owns the ledger's
    tables; a ledger newer than this pushops is refused and left untouched.
    """
    if print_sql:
        with opened(choice, quiet=True) as ledger:
            before = ledger.meta().schema_version
        search_path = None
        if ledger.backend == POSTGRESQL:
            search_path = identifier(choice.schema or os.environ.get(SCHEMA_ENV) or "pushops")
        stamp = time_text(datetime.now(timezone.utc)) or ""
        click.echo(upgrade_sql(before, stamp, search_path, ledger.backend), nl=False)
        return
    timeout_s = lock_timeout.total_seconds()
    with opened(choice, quiet=True) as ledger, ledger.lock("state migrate", timeout_s=timeout_s):
        before, after = ledger.migrate()
    if before == after:
        click.echo(
            f"ledger {ledger.location} is at schema version {after}, the latest this "
            "pushops knows; nothing to do"
        )
    else:
        click.echo(f"upgraded ledger {ledger.location} from schema version {before} to {after}")


@command.command("init")
@click.option(
    "--env",
    "environments",
    multiple=True,
    metavar="ENV",
    help="Bind this environment to the ledger (repeatable; default: pushops.yaml's "
    "default environment).",
)
@click.option(
    "--sql",
    "print_sql",
    is_flag=True,
    help="Print the PostgreSQL setup (schema, roles, grants) for a database administrator, "
    "and exit.",
)
@ledger_options(
    accept=True,
    sandbox=False,
    accept_help="Rebind an environment already bound to another ledger: to this one's "
    "lineage, or 'new' to create a new ledger although the bound one is missing.",
)
def init(environments: tuple[str, ...], print_sql: bool, choice: LedgerChoice) -> None:
    """Create the ledger (if there is none yet) and record it in pushops.ledgers.yaml.

    The file says which ledger (lineage) each environment's deliveries are recorded in;
    commit it. plan and apply then refuse any other ledger for that environment, a new
    empty one included, so a wrong PUSHOPS_STATE_DSN can never pass for a ledger where
    nothing was sent yet. On PostgreSQL run it with the role that may create the tables
    (see --sql and docs/state.md).
    """
    if print_sql:
        click.echo(setup_sql(choice.schema or os.environ.get(SCHEMA_ENV) or "pushops"), nl=False)
        return
    root = find_root()
    config = load_config(root)
    names = [config.environment(e).name for e in environments] or [config.default_environment]
    names = list(dict.fromkeys(names))
    accept = check_accept(choice.accept_lineage)
    target = state_target(config, choice)
    schema = choice.schema or os.environ.get(SCHEMA_ENV) or None
    where = describe(target, schema)
    bindings = load_bindings(root)
    bound = {name: bindings.get(name) for name in names}
    created = False
    try:
        # Binding only reads the ledger's lineage: a read-only role can bind, on any schema.
        ledger = open_ledger(target, root=root, schema=schema, create=False, migrate=False)
    except LedgerMissingError:
        taken = {name: lineage for name, lineage in bound.items() if lineage}
        if taken and accept != ACCEPT_NEW:
            listed = ", ".join(f"{n} to {lineage}" for n, lineage in taken.items())
            raise LineageError(
                f"no ledger at {where}, but {BINDING_FILE} binds {listed}: does "
                f"{target.origin} name the right "
                f"{'database and schema' if target.backend == POSTGRESQL else 'file'}? "
                "Nothing was created. If that ledger is lost for good, and everything it "
                "recorded may be sent again, pass --accept-lineage new to start a new one"
            ) from None
        ledger = open_ledger(target, root=root, schema=schema, create=True)
        created = True
    with ledger:
        meta = ledger.meta()
    lineage = meta.lineage
    others = {n: b for n, b in bound.items() if b not in (None, lineage)}
    if others and not created and accept != lineage:
        listed = ", ".join(f"{n} to {b}" for n, b in others.items())
        raise LineageError(
            f"the ledger at {where} is lineage {lineage}, but {BINDING_FILE} binds {listed}: "
            f"another ledger. Nothing was changed. If {lineage} is the right ledger from now "
            f"on (what the other one recorded as sent may be sent again), pass "
            f"--accept-lineage {lineage}"
        )
    if created:
        click.echo(f"Created a new ledger at {where}: lineage {lineage}.")
    else:
        click.echo(f"Found ledger {lineage} at {where} (serial {meta.serial}).")
    changed = [n for n in names if bound[n] != lineage]
    if not changed:
        click.echo(f"{', '.join(names)} already bound to it in {BINDING_FILE}.")
        return
    bindings.bound(changed, lineage).write(list(config.environments))
    click.echo(
        f"Bound {', '.join(changed)} to ledger {lineage} in {BINDING_FILE}: commit it, so "
        "that plan and apply refuse any other ledger there."
    )
