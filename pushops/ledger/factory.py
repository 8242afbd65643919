"""Which backend a ledger target names, and where the default one lives."""

from __future__ import annotations

import os
from pathlib import Path

from pushops.ledger.base import Clock, Ledger

DSN_ENV = "PUSHOPS_STATE_DSN"
DEFAULT_PATH = Path(".pushops") / "state.db"
_PG_SCHEMES = ("postgresql://", "postgres://")


def is_postgres(target: str | os.PathLike[str]) -> bool:
    return isinstance(target, str) and target.startswith(_PG_SCHEMES)


def resolve_target(
    target: str | os.PathLike[str] | None, root: str | os.PathLike[str] = "."
) -> str | Path:
    """The explicit target, else ``$PUSHOPS_STATE_DSN``, else ``ROOT/.pushops/state.db``.

    A relative SQLite path is relative to the repository root, not the working directory.
    """
    chosen = target if target not in (None, "") else os.environ.get(DSN_ENV) or None
    if chosen is None:
        return Path(root) / DEFAULT_PATH
    if is_postgres(chosen):
        return str(chosen)
    path = Path(chosen)
    return path if path.is_absolute() else Path(root) / path


def open_ledger(
    target: str | os.PathLike[str] | None = None,
    *,
    root: str | os.PathLike[str] = ".",
    schema: str | None = None,
    clock: Clock | None = None,
) -> Ledger:
    """Open (creating or migrating if needed) the ledger a target names.

    ``postgresql://…`` or ``postgres://…`` is a PostgreSQL DSN (tables in ``schema``,
    default ``pushops``); anything else is a SQLite file path.
    """
    resolved = resolve_target(target, root)
    if isinstance(resolved, str):
        # Imported here so SQLite users never need psycopg installed.
        from pushops.ledger.postgres import DEFAULT_SCHEMA, PostgresLedger

        return PostgresLedger(resolved, schema=schema or DEFAULT_SCHEMA, clock=clock)
    from pushops.ledger.sqlite import SqliteLedger

    return SqliteLedger(resolved, clock=clock)
