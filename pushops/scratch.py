"""A private scratch database on disk, for working sets too large to keep in memory (plan's
frequency-cap counts, validate's fan-out key check past the first 65,536 keys).

SQLite's ``""`` database is a temporary file only this connection sees, deleted when it is
closed. Nothing in it needs to survive a crash, so it runs without a journal or syncs, with a
small page cache and file-backed sorting: memory stays flat however much is spilled.
"""

from __future__ import annotations

import sqlite3


def scratch_db(table: str, cache_kib: int = 1024) -> sqlite3.Connection:
    """A new scratch database holding ``table`` (its CREATE TABLE statement), inside an open
    transaction (one commit at the end is the fastest way to fill it)."""
    db = sqlite3.connect("", isolation_level=None)
    try:
        db.execute(f"PRAGMA cache_size = -{int(cache_kib)}")
        db.execute("PRAGMA temp_store = FILE")
        db.execute("PRAGMA journal_mode = OFF")
        db.execute("PRAGMA synchronous = OFF")
        db.execute(table)
        db.execute("BEGIN")
    except BaseException:
        db.close()
        raise
    return db


def scratch_problem(what: str, exc: sqlite3.Error) -> str:
    """The message for a scratch database that failed (most often a full temporary folder)."""
    return (
        f"could not {what} in a temporary file ({exc}); make room in the temporary directory "
        "(TMPDIR) or point TMPDIR elsewhere"
    )
