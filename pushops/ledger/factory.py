"""Which backend a ledger target names, and where the default one lives."""

from __future__ import annotations

import os
from pathlib import Path

from pushops.ledger.base import Clock, Ledger
from pushops.ledger.target import POSTGRESQL, LedgerTarget, parse_target

DSN_ENV = "PUSHOPS_STATE_DSN"
DEFAULT_PATH = Path(".pushops") / "state.db"


def resolve_target(
    target: str | os.PathLike[str] | LedgerTarget | None,
    root: str | os.PathLike[str] = ".",
) -> LedgerTarget:
    """The explicit target, else ``$PUSHOPS_STATE_DSN``, else ``ROOT/.pushops/state.db``.

    Text is read by :func:`~pushops.ledger.target.parse_target` (a DSN whatever its
    spelling, a SQLite file only when plainly one); a ``Path`` is a SQLite file. A relative
    SQLite path is relative to the repository root, not the working directory.
    """
    if isinstance(target, LedgerTarget):
        return target
    if isinstance(target, os.PathLike):
        return parse_target(os.fspath(target), "the ledger path", root, sqlite_path=True)
    if target:
        return parse_target(target, "the ledger target", root)
    from_env = os.environ.get(DSN_ENV, "")
    if from_env.strip():
        return parse_target(from_env, DSN_ENV, root)
    return parse_target(str(DEFAULT_PATH), "the default ledger", root, sqlite_path=True)


def open_ledger(
    target: str | os.PathLike[str] | LedgerTarget | None = None,
    *,
    root: str | os.PathLike[str] = ".",
    schema: str | None = None,
    clock: Clock | None = None,
    create: bool = True,
    migrate: bool = True,
) -> Ledger:
    """Open (migrating if needed) the ledger a target names.

    A PostgreSQL DSN opens the PostgreSQL backend (tables in ``schema``, default
    ``pushops``); a SQLite file path the SQLite one. With ``create=False`` a target that
    holds no ledger yet is :class:`~pushops.ledger.errors.LedgerMissingError` and nothing is
    created there (no file, no schema, no table). With ``migrate=False`` (readers: plan, the
    state views) a ledger of an older schema is read as it is, and migrated only by the
    handle's first write.
    """
    resolved = resolve_target(target, root)
    if resolved.backend == POSTGRESQL:
        # Imported here so SQLite users never need psycopg installed.
        from pushops.ledger.postgres import DEFAULT_SCHEMA, PostgresLedger

        return PostgresLedger(
            resolved.location,
            schema=schema or DEFAULT_SCHEMA,
            clock=clock,
            create=create,
            migrate=migrate,
        )
    from pushops.ledger.sqlite import SqliteLedger

    return SqliteLedger(resolved.path, clock=clock, create=create, migrate=migrate)
