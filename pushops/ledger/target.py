"""Which ledger a piece of text names, and how to speak of a DSN without its password.

A PostgreSQL DSN is one whatever its spelling: surrounding blanks, the scheme in any case,
``postgres://``, SQLAlchemy's ``postgresql+psycopg://``, or libpq's ``host=… dbname=…``.
A SQLite ledger is chosen only by text that plainly is a file path (ending in ``.db``,
``.sqlite`` or ``.sqlite3``), or by ``pushops.yaml``'s ``state.path``, which says so. Anything
else is an error, and the error never repeats the text: a DSN that failed to parse may still
hold a password. Before this, a slightly wrong DSN was taken for a file name: a new, empty
SQLite ledger appeared (named after the DSN, password included) and apply sent everything
again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from pushops.ledger.errors import LedgerError

SQLITE = "sqlite"
POSTGRESQL = "postgresql"
SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")

# postgresql://, postgres://, POSTGRESQL://, postgresql+psycopg://, postgres+psycopg2:// ...
_PG_SCHEME = re.compile(r"(?i)(postgres(?:ql)?)(\+[a-z0-9_]+)?://")
_ANY_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
# libpq's keyword form starts with a keyword and "=" (host=..., dbname = ...).
_KEYWORDS = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\s*=")
# Schemes named back in the error: they are no secret, and say what went wrong.
_OTHER_SCHEMES = {"sqlite", "sqlite3", "file", "mysql", "mariadb", "http", "https", "redis"}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_NOT_SHOWN = "(the value is not shown: it may hold a password)"
_ACCEPTED = (
    "a PostgreSQL DSN (postgresql://…, postgres://…, or libpq's host=… dbname=…) or a "
    "SQLite file path ending in " + ", ".join(SQLITE_SUFFIXES)
)


class LedgerTargetError(LedgerError):
    """The text naming the ledger is not plainly one backend's: nothing was opened."""


@dataclass(frozen=True)
class LedgerTarget:
    """Where a ledger lives: a normalised DSN or a SQLite file, and where we were told so."""

    backend: str
    location: str
    origin: str

    @property
    def path(self) -> Path:
        return Path(self.location)

    @property
    def shown(self) -> str:
        """The location as messages may print it (a DSN without its password)."""
        return redact(self.location) if self.backend == POSTGRESQL else self.location


def parse_target(
    text: str, origin: str, root: str | Path = ".", *, sqlite_path: bool = False
) -> LedgerTarget:
    """The ledger ``text`` names; ``origin`` says where it came from (for messages).

    ``sqlite_path``: the text is declared a SQLite file (``pushops.yaml``'s ``state.path``),
    so any file name is accepted, but still not one that looks like a DSN.
    """
    value = text.strip()
    if not value:
        raise LedgerTargetError(f"{origin} is empty; it must name {_ACCEPTED}")
    if _CONTROL.search(value):
        raise LedgerTargetError(
            f"{origin} holds a control character (a line break, tab or NUL); it must name "
            f"{_ACCEPTED} {_NOT_SHOWN}"
        )
    pg = _PG_SCHEME.match(value)
    if pg is not None:
        if sqlite_path:
            raise _declared_sqlite_but_dsn(origin)
        return _postgres(f"postgresql://{value[pg.end() :]}", origin)
    if _KEYWORDS.match(value):
        if sqlite_path:
            raise _declared_sqlite_but_dsn(origin)
        return _postgres(value, origin)
    scheme = _ANY_SCHEME.match(value)
    if scheme is not None and scheme.group(1).lower() in _OTHER_SCHEMES:
        raise LedgerTargetError(
            f"{origin} is a {scheme.group(1).lower()}: URL; it must name {_ACCEPTED} (for "
            f"SQLite, the file's path itself); nothing was opened or created {_NOT_SHOWN}"
        )
    # "user:pass@host/db.db" or "host:5432/db" are not paths anyone means.
    if scheme is not None or (not sqlite_path and not value.lower().endswith(SQLITE_SUFFIXES)):
        raise LedgerTargetError(
            f"{origin} is neither {_ACCEPTED.replace(' or a ', ' nor a ')}; nothing was "
            f"opened or created {_NOT_SHOWN}"
        )
    path = Path(value)
    return LedgerTarget(SQLITE, str(path if path.is_absolute() else Path(root) / path), origin)


def _declared_sqlite_but_dsn(origin: str) -> LedgerTargetError:
    return LedgerTargetError(
        f"{origin} is a SQLite file path, but its value looks like a PostgreSQL DSN; for "
        "PostgreSQL use `state: {backend: postgres, dsn_env: NAME}` and put the DSN in the "
        f"environment variable NAME {_NOT_SHOWN}"
    )


def _postgres(dsn: str, origin: str) -> LedgerTarget:
    try:
        from psycopg.conninfo import conninfo_to_dict
    except ImportError:
        raise LedgerTargetError(
            f"{origin} names a PostgreSQL ledger, but the PostgreSQL driver is not installed: "
            "pip install 'pushops[postgres]'"
        ) from None
    try:
        conninfo_to_dict(dsn)
    except Exception as exc:  # psycopg.ProgrammingError, with libpq's words
        raise LedgerTargetError(
            f"{origin} is not a valid PostgreSQL DSN: {scrub(str(exc), dsn)}; nothing was "
            "opened or created"
        ) from None
    return LedgerTarget(POSTGRESQL, dsn, origin)


# ---------------------------------------------------------------- keeping passwords out


def _secrets(dsn: str) -> set[str]:
    """Every form in which the DSN's password may appear in a message (found leniently,
    so a DSN that libpq cannot parse is covered too)."""
    found: set[str] = set()
    userinfo = re.match(r"(?s)\s*[A-Za-z][A-Za-z0-9+.-]*://(.*)@", dsn)  # up to the last @
    if userinfo is not None:
        _, colon, password = userinfo.group(1).partition(":")
        if colon:
            found.update((password, unquote(password)))
    for match in re.finditer(
        r"(?i)(?:^|[\s?&])(?:ssl)?password\s*=\s*('(?:[^'\\]|\\.)*'?|[^\s&]*)", dsn
    ):
        value = match.group(1)
        found.update((value, value.strip("'"), unquote(value)))
    return {s for s in found if s}


def _shown_values(dsn: str) -> set[str]:
    """Parts of a DSN that messages may name: host, port, user, database, option names."""
    safe: set[str] = set()
    try:
        from psycopg.conninfo import conninfo_to_dict

        parts = conninfo_to_dict(dsn)
    except Exception:
        parts = {}
    for name, value in parts.items():
        safe.add(name)
        if "password" not in name and value is not None:
            safe.add(str(value))
    safe.update(m.group(1) for m in re.finditer(r"([A-Za-z_][A-Za-z0-9_]*)\s*=", dsn))
    return safe


def scrub(text: str, dsn: str) -> str:
    """``text`` (a driver's message) with nothing of the DSN's password in it.

    The password goes in every spelling, and any quoted piece of the DSN that is not a plain
    host, port, user, database or option name: libpq quotes the part of a DSN it could not
    parse (``invalid percent-encoded token: "S3%zzCRET"``), which may be the password's.
    """
    for secret in sorted(_secrets(dsn), key=len, reverse=True):
        if len(secret) >= 3:
            text = text.replace(secret, "***")
    safe = _shown_values(dsn)

    def quoted(match: re.Match[str]) -> str:
        inner = match.group(1)
        if inner in safe or (inner not in dsn and inner not in unquote(dsn)):
            return match.group(0)
        return '"…"'

    return re.sub(r'"([^"]*)"', quoted, text)


def redact(dsn: str) -> str:
    """The DSN without its password, for messages."""
    try:
        from psycopg.conninfo import conninfo_to_dict, make_conninfo

        parts = conninfo_to_dict(dsn)
    except Exception:
        return "<unparsable DSN>"
    kept = {k: v for k, v in parts.items() if v is not None and "password" not in k}
    return make_conninfo(**kept)
