"""Where plan and apply read from: the ledger (real or sandbox), the git commit, durations.

Which ledger, in order: ``--state`` (or ``PUSHOPS_STATE_DSN``), else ``pushops.yaml``'s
``state``, else ``.pushops/state.db``. Then the lineage check (see
:mod:`pushops.ledger.binding`): the ledger must be the one the repository binds the
environment to, and no ledger is created behind the user's back. The check runs once, when
the ledger is opened, never per write.

The sandbox has a ledger of its own (``.pushops/sandbox.db``), so what the emulator accepted
never marks a real delivery as sent; it is created freely and bound to nothing.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from pushops.config import Config
from pushops.diagnostics import PushopsError
from pushops.ledger import Ledger, LedgerMissingError, open_ledger
from pushops.ledger.binding import BINDING_FILE, LINEAGE, load_bindings
from pushops.ledger.factory import DSN_ENV
from pushops.ledger.target import SQLITE, LedgerTarget, parse_target
from pushops.timeutil import DURATION_UNITS

SANDBOX_LEDGER = ".pushops/sandbox.db"
SANDBOX_EMULATOR_DB = ".pushops/sandbox-emulator.db"
SCHEMA_ENV = "PUSHOPS_STATE_SCHEMA"  # PostgreSQL schema of the ledger (default ``pushops``)
DEFAULT_STATE_PATH = ".pushops/state.db"
# --accept-lineage new: a ledger created by this run is acceptable.
ACCEPT_NEW = "new"
# A key of its own for plan files, instead of the provider credentials (a CI job that plans
# in one step without them and applies in the next); a secret like them.
PLAN_KEY_ENV = "PUSHOPS_PLAN_KEY"


class LineageError(PushopsError):
    """The ledger is not the one the repository binds the environment to (or is missing)."""


@dataclass(frozen=True)
class LedgerChoice:
    """What the command line says about the ledger."""

    state: str | None = None
    origin: str = "--state"
    schema: str | None = None
    sandbox: bool = False
    accept_lineage: str | None = None


def state_target(config: Config, choice: LedgerChoice) -> LedgerTarget:
    """The ledger the options, the environment and ``pushops.yaml`` name, in that order."""
    root = config.root
    if choice.sandbox:
        return LedgerTarget(SQLITE, str(root / SANDBOX_LEDGER), "--sandbox")
    if choice.state and choice.state.strip():
        return parse_target(choice.state, choice.origin, root)
    from_env = os.environ.get(DSN_ENV, "")
    if from_env.strip():
        return parse_target(from_env, DSN_ENV, root)
    if config.state.get("backend") == "postgres":
        var = config.state.get("dsn_env", DSN_ENV)
        dsn = os.environ.get(var, "")
        if not dsn.strip():
            raise PushopsError(
                f"pushops.yaml selects the postgres state backend; set {var} to its DSN"
            )
        return parse_target(dsn, var, root)
    path = config.state.get("path", DEFAULT_STATE_PATH)
    return parse_target(path, "pushops.yaml state.path", root, sqlite_path=True)


def describe(target: LedgerTarget, schema: str | None) -> str:
    """The ledger as messages name it: where, and where we were told (no password)."""
    if target.backend == SQLITE:
        return f"{target.shown} ({target.origin})"
    return f"{target.shown} (schema {schema or 'pushops'}; from {target.origin})"


def check_accept(value: str | None) -> str | None:
    if value is None or value == ACCEPT_NEW or LINEAGE.fullmatch(value):
        return value
    raise PushopsError(
        "--accept-lineage takes a ledger's lineage (as `pushops state list --format json` "
        f"shows it) or {ACCEPT_NEW!r}"
    )


def open_state(
    config: Config,
    choice: LedgerChoice,
    environment: str,
    *,
    interactive: bool,
    command: str,
    notice: Callable[[str], None],
) -> Ledger:
    """Open the ledger ``environment`` is planned or applied against, or refuse.

    Refused: a ledger of another lineage than the bound one, unless ``--accept-lineage``
    names it; a missing ledger, which is created only by ``--accept-lineage new`` or, for
    an unbound environment, by an interactive run on a local SQLite file (the first local
    run); and, for an unbound environment, an empty ledger in a non-interactive run (CI),
    which is what a missing or mistyped DSN secret gives.
    """
    target = state_target(config, choice)
    schema = choice.schema or os.environ.get(SCHEMA_ENV) or None
    if choice.sandbox:
        ledger = open_ledger(target, root=config.root, schema=schema)
        say_schema(ledger, notice)
        return ledger
    accept = check_accept(choice.accept_lineage)
    bound = load_bindings(config.root).get(environment)
    where = describe(target, schema)
    first_local_run = bound is None and interactive and target.backend == SQLITE
    created = False
    try:
        # Only apply migrates an older ledger as it opens it. The others read it as it is (a
        # read-only role could not migrate it: plan on a pull request, the scheduled refresh
        # and report), and one that writes (refresh --apply, report's cache) migrates it at
        # its first write.
        ledger = open_ledger(
            target, root=config.root, schema=schema, create=False, migrate=command == "apply"
        )
    except LedgerMissingError:
        if accept != ACCEPT_NEW and not first_local_run:
            raise LineageError(
                _missing(where, environment, bound, interactive, command, target)
            ) from None
        ledger = open_ledger(target, root=config.root, schema=schema, create=True)
        created = True
    try:
        say_schema(ledger, notice)
        meta = ledger.meta()
        lineage = meta.lineage
        if created:
            notice(f"Created a new, empty ledger at {where}: lineage {lineage}.")
        if bound is not None and lineage != bound:
            if not (accept == lineage or (accept == ACCEPT_NEW and created)):
                raise LineageError(_other_lineage(where, environment, bound, lineage, accept))
            notice(
                f"Using ledger {lineage} for {environment}, not the bound {bound}, as "
                f"--accept-lineage says; record the change with `pushops state init --env "
                f"{environment} --accept-lineage {lineage}` and commit {BINDING_FILE}."
            )
        elif bound is None:
            if meta.serial == 0 and not interactive and not created and accept != lineage:
                raise LineageError(_unbound_empty(where, environment, lineage, command))
            notice(
                f"Warning: environment {environment} is not bound to a ledger, so pushops "
                f"cannot tell this one (lineage {lineage}) from the wrong one; run `pushops "
                f"state init --env {environment}` and commit {BINDING_FILE}."
            )
    except BaseException:
        ledger.close()
        raise
    return ledger


def say_schema(ledger: Ledger, notice: Callable[[str], None]) -> None:
    """Once per run: that plan reads an older ledger as it is, or that apply upgraded it."""
    if text := ledger.schema_notice():
        notice(f"Note: {text}.")
    elif ledger.upgraded_from is not None:
        notice(
            f"Upgraded the ledger from schema version {ledger.upgraded_from} to "
            f"{ledger.meta().schema_version}."
        )


def _missing(
    where: str,
    environment: str,
    bound: str | None,
    interactive: bool,
    command: str,
    target: LedgerTarget,
) -> str:
    if bound is not None:
        return (
            f"no ledger at {where}, but {BINDING_FILE} binds environment {environment} to "
            f"ledger {bound}: does {target.origin} name the right database"
            f"{' and schema' if target.backend != SQLITE else ''}? Nothing was created. "
            f"If ledger {bound} is lost for good, and everything it recorded may be sent "
            "again, pass --accept-lineage new"
        )
    why = (
        f"a non-interactive {command} never creates a ledger (in CI a missing or mistyped "
        "PUSHOPS_STATE_DSN would start an empty one and send everything again)"
        if not interactive
        else "plan and apply create only a local SQLite ledger by themselves"
    )
    return (
        f"no ledger at {where}, and environment {environment} is not bound to one in "
        f"{BINDING_FILE}; {why}. Create it once with `pushops state init --env "
        f"{environment}` and commit {BINDING_FILE} (docs/state.md), or pass "
        "--accept-lineage new. Nothing was created"
    )


def _other_lineage(
    where: str, environment: str, bound: str, lineage: str, accept: str | None
) -> str:
    told = (
        f" (--accept-lineage {accept} names neither; `new` accepts only a ledger this run creates)"
        if accept
        else ""
    )
    return (
        f"the ledger at {where} is lineage {lineage}, but {BINDING_FILE} binds environment "
        f"{environment} to lineage {bound}: it is another ledger, and what {bound} recorded "
        f"as sent would be sent again{told}. Nothing was sent or written. Point it at ledger "
        f"{bound}; or, if {lineage} is the right ledger now, pass --accept-lineage {lineage} "
        f"(and record it with `pushops state init --env {environment} --accept-lineage "
        f"{lineage}`)"
    )


def _unbound_empty(where: str, environment: str, lineage: str, command: str) -> str:
    return (
        f"the ledger at {where} (lineage {lineage}) is empty, and environment {environment} "
        f"is not bound to a ledger in {BINDING_FILE}: a non-interactive {command} cannot tell "
        "it from the wrong ledger (a mistyped DSN, a new database) and would send "
        f"everything again. If it is the right one, run `pushops state init --env "
        f"{environment}` and commit {BINDING_FILE}, or pass --accept-lineage {lineage}"
    )


def plan_file_key(config: Config, environment: str, sandbox: bool) -> bytes | None:
    """The key plan files of ``environment`` are signed with (see pushops.plan.planfile):
    derived from ``PUSHOPS_PLAN_KEY`` when it is set, else from the environment's provider
    credentials, which apply needs anyway; None when neither is set (the plan file is then
    unsigned, and apply refuses it)."""
    from pushops.plan.planfile import plan_key, sandbox_key
    from pushops.providers.credentials import CredentialsError, credentials_from_env

    if sandbox:
        return sandbox_key(environment)
    own = os.environ.get(PLAN_KEY_ENV, "").strip()
    if own:
        return plan_key(PLAN_KEY_ENV, own, environment)
    names = config.credential_vars(environment)
    try:
        credentials = credentials_from_env(
            id_var=names["access_key_id_env"], secret_var=names["access_key_secret_env"]
        )
    except CredentialsError:
        return None
    return plan_key(credentials.access_key_id, credentials.access_key_secret.reveal(), environment)


def git_commit(root: Path) -> str | None:
    """HEAD of the repo the campaigns are in (None outside git)."""
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = out.stdout.strip()
    return commit if out.returncode == 0 and re.fullmatch(r"[0-9a-f]{40}", commit) else None


MAX_DURATION = timedelta(days=3650)
_DURATION = re.compile(r"\s*([0-9]+)(\.[0-9]+)?\s*([smhd]?)\s*")


def parse_duration(text: str, what: str = "") -> timedelta:
    """``300``, ``300s``, ``5m``, ``1h``, ``2d``; at most :data:`MAX_DURATION`."""
    prefix = f"{what}: " if what else ""
    shown = repr(text[:40] + ("…" if len(text) > 40 else ""))
    match = _DURATION.fullmatch(text or "")
    if not match:
        raise PushopsError(f"{prefix}{shown} is not a duration such as 300s, 5m, 1h or 2d")
    whole, fraction, unit = match.groups()
    number = float("inf") if len(whole) > 15 else float(whole + (fraction or ""))
    seconds = number * DURATION_UNITS[unit or "s"]
    if seconds > MAX_DURATION.total_seconds():
        raise PushopsError(
            f"{prefix}{shown} is longer than the longest duration accepted ({MAX_DURATION.days}d)"
        )
    return timedelta(seconds=seconds)
