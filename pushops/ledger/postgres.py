"""The shared backend: PostgreSQL through psycopg 3, tables in one schema (``pushops``).

The write lock is a session advisory lock taken on a dedicated connection held for the whole
command; the server drops it when that session ends, also when the holder dies. A connection
lost mid-transaction leaves nothing half-written (the server rolls it back) and the next
operation reconnects.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import suppress
from functools import lru_cache
from typing import Any

import psycopg
from psycopg import sql as pgsql
from psycopg.conninfo import conninfo_to_dict

from pushops.ledger import sql
from pushops.ledger.base import STREAM_BATCH, Clock, Ledger
from pushops.ledger.errors import (
    LedgerConflictError,
    LedgerCorruptError,
    LedgerError,
    LedgerPermissionError,
    LedgerUnavailableError,
)
from pushops.ledger.records import LockInfo
from pushops.ledger.storage import Tx
from pushops.ledger.target import redact, scrub

__all__ = ["DEFAULT_SCHEMA", "PostgresLedger", "advisory_key", "redact"]

DEFAULT_SCHEMA = "pushops"
# SQLSTATE classes of a lost session: 08 connection exception, 57 operator intervention
# (pg_terminate_backend, shutdown).
_GONE = ("08", "57")


# Settling, one statement per call, run together in one pipeline (executemany). Each finds
# its call's deliveries through the calls' index, whatever the statistics say: a statement
# for a whole batch (``call_id = ANY`` joined to arrays) was planned as a sequential scan of
# every delivery while the table had no statistics yet (a ledger apply is filling before
# autovacuum has analysed it): 150 ms a batch at 100,000 deliveries, growing with the ledger,
# which held apply to 17% of the quota. A call's MessageIds come as one array indexed by
# position; a position without one keeps what it had (none, as written ahead) and is settled
# all the same. One statement where there were two (the answered positions, then the rest):
# the second found the call's hundred deliveries again only to skip those the first had
# settled, and settling a call cost the server 0.42-0.44 ms and psycopg 0.10-0.14 ms against
# 0.34-0.38 and 0.05 (bench/README.md, 2026-12-03).
# The arrays go in PostgreSQL's binary format (psycopg's ``%b``, which the "?" translation
# leaves alone): dumped as text, each MessageId was quoted and escaped in Python, half of the
# client's CPU for settling a call (0.36-0.39 -> 0.17-0.19 ms, bench/README.md 2026-12-03).
_SETTLE_SENT = (
    f"UPDATE deliveries SET status = {sql.SENT_STATUS},"
    " message_id = COALESCE((%b::text[])[position + 1], message_id), updated_at = ?"
    f" WHERE call_id = ? AND {sql.CURRENT_BY_CALL} AND status IN {sql.UNSETTLED_IN}"
)
_DELIVERIES_OF_CALL = sql.DELIVERIES_OF_CALLS.replace("{calls}", "= ?")


_CURRENT_OF_KEYS = (
    "SELECT d.key, d.generation, d.status FROM unnest(?::text[]) AS k (key)"
    " CROSS JOIN LATERAL (SELECT key, generation, status FROM deliveries"
    " WHERE deliveries.key = k.key AND is_current = 1 OFFSET 0) AS d"
)


@lru_cache(maxsize=256)
def _percent_s(query: str) -> str:
    return query.replace("?", "%s")


def _application_name(dsn: str) -> str:
    try:
        return conninfo_to_dict(dsn).get("application_name") or "pushops"
    except psycopg.ProgrammingError:
        return "pushops"  # psycopg.connect reports the unparsable DSN itself


def advisory_key(schema: str, purpose: str) -> int:
    # Advisory keys are per database; deriving them from the schema keeps two ledgers in one
    # database (e.g. staging and production schemas) from locking each other.
    digest = hashlib.sha256(f"pushops:{purpose}:{schema}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _prefer_lz4(conn: psycopg.Connection[Any]) -> None:
    """Compress this session's large values with LZ4 instead of the default pglz: when a
    call's request was stored as text (~29 KB for a MassPush of 100 tasks, before schema
    version 5 packed it), the server's CPU for writing a call ahead fell by about 0.4 ms, a
    tenth of it. What is left large is a call's response (its MessageIds) and any older
    request an upgrade kept. A setting of the session, not the ledger: values already stored
    stay readable either way, and a server without LZ4 (built without it, or before
    PostgreSQL 14) keeps pglz."""
    # Autocommit: a SET the server refuses leaves nothing half done.
    with suppress(psycopg.Error):
        conn.execute("SET default_toast_compression = 'lz4'")


def _by_position(message_ids: Mapping[int, str | None]) -> list[str | None]:
    """A call's MessageIds as an array indexed by position, None where there is none."""
    ids: list[str | None] = [None] * (max(message_ids, default=-1) + 1)
    for position, message_id in message_ids.items():
        ids[position] = message_id
    return ids


class PostgresLedger(Ledger):
    backend = "postgresql"
    _BEGIN_WRITE = "BEGIN"
    # One consistent snapshot for multi-query reads and exports.
    _BEGIN_READ = "START TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"

    def __init__(
        self,
        dsn: str,
        *,
        schema: str = DEFAULT_SCHEMA,
        clock: Clock | None = None,
        connect_timeout_s: int = 10,
        create: bool = True,
        migrate: bool = True,
        application_name: str | None = None,
    ) -> None:
        super().__init__(clock=clock)
        self._dsn = dsn
        self.schema = schema
        self.location = f"{redact(dsn)} (schema {schema})"
        self._connect_timeout_s = connect_timeout_s
        self._application_name = application_name or _application_name(dsn)
        self._conn: psycopg.Connection[Any] | None = None
        self._lock_conn: psycopg.Connection[Any] | None = None
        self._lock_key = advisory_key(schema, "lock")
        self._migrate_key = advisory_key(schema, "migrate")
        self._stream_count = 0
        self._column_types: dict[tuple[str, tuple[str, ...]], list[int]] = {}
        # Until one connection succeeds a failure is "cannot reach", not "went away".
        self._reached = False
        try:
            self._prepare(create, migrate)
        except BaseException:
            self.close()
            raise

    def _connect(self) -> psycopg.Connection[Any]:
        with self._errors():
            conn = psycopg.connect(
                self._dsn,
                autocommit=True,  # transactions are explicit BEGIN/COMMIT, as on SQLite
                connect_timeout=self._connect_timeout_s,
                # The DSN's own application_name wins: operators (and tests) tell one run's
                # sessions apart in pg_stat_activity by it.
                application_name=self._application_name,
                # No server-side prepared statements: a generic plan made while the ledger was
                # empty (a sequential scan) would stay in use as it grows to 100,000 rows.
                prepare_threshold=None,
            )
            conn.execute(pgsql.SQL("SET search_path TO {}").format(pgsql.Identifier(self.schema)))
            _prefer_lz4(conn)
            self._reached = True
            return conn

    def second_writer(self) -> PostgresLedger:
        # Named apart in pg_stat_activity ("pushops (settling)"), at most the server's 63.
        name = f"{self._application_name} (settling)"[:63]
        other = PostgresLedger(
            self._dsn, schema=self.schema, clock=self._clock,
            connect_timeout_s=self._connect_timeout_s, create=False, migrate=False,
            application_name=name,
        )  # fmt: skip
        # Fenced by this handle's lock (its session must still hold it), never its own: it
        # has no lock session to lose or release.
        other._held = self._held
        return other

    def close(self) -> None:
        for conn in (self._lock_conn, self._conn):
            if conn is not None:
                conn.close()
        self._lock_conn = self._conn = None

    def _cursor(self) -> psycopg.Cursor[Any]:
        if self._conn is None or self._conn.closed or self._conn.broken:
            if self._conn is not None:
                self._conn.close()
            self._conn = None
            self._conn = self._connect()
        return self._conn.cursor()

    @property
    def backend_pid(self) -> int | None:
        """The server process of the main connection (for operators and fault tests)."""
        return None if self._conn is None else self._conn.info.backend_pid

    def _fix(self, query: str) -> str:
        return _percent_s(query)

    def _translate(self, exc: BaseException) -> LedgerError | None:
        if not isinstance(exc, psycopg.Error):
            return None
        # Driver text can quote the DSN (and so the password): never shown unscrubbed.
        raw = str(exc).strip()
        text = scrub(raw.splitlines()[0], self._dsn) if raw else type(exc).__name__
        state = exc.sqlstate or ""
        conn = self._conn
        gone = state.startswith(_GONE) or (
            isinstance(exc, psycopg.OperationalError)
            and (conn is None or conn.closed or conn.broken)
        )
        if gone and not self._reached:
            return LedgerUnavailableError(f"cannot reach the ledger at {self.location}: {text}")
        if gone:
            return LedgerUnavailableError(
                f"PostgreSQL ledger {self.location} went away ({text}); the transaction in "
                "flight was rolled back, nothing of it was written; the next operation "
                "reconnects"
            )
        if isinstance(exc, psycopg.IntegrityError):
            return LedgerConflictError(f"PostgreSQL ledger {self.location}: {text}")
        if isinstance(exc, psycopg.errors.UndefinedTable):
            return LedgerCorruptError(
                f"PostgreSQL ledger {self.location} is missing a table ({text}); "
                "was the schema changed by hand?"
            )
        if isinstance(
            exc, psycopg.errors.InsufficientPrivilege | psycopg.errors.ReadOnlySqlTransaction
        ):
            return LedgerPermissionError(
                f"PostgreSQL ledger {self.location}: this role may not do that ({text}); "
                "see the roles in docs/state.md"
            )
        return LedgerError(f"PostgreSQL ledger {self.location}: {text}")

    def stream_rows(self, tx: Tx, query: str, params: Sequence[Any]) -> Iterator[tuple[Any, ...]]:
        # A server-side cursor: rows arrive in batches, memory stays flat for any ledger size.
        assert self._conn is not None
        self._stream_count += 1
        with self._conn.cursor(name=f"pushops_stream_{self._stream_count}") as cursor:
            cursor.itersize = STREAM_BATCH
            cursor.execute(_percent_s(query), params)
            yield from cursor

    def insert_rows(
        self, tx: Tx, table: str, columns: tuple[str, ...], rows: Sequence[Sequence[Any]]
    ) -> None:
        # COPY: about four times faster than a multi-row INSERT for a call's 100 deliveries.
        # In the binary format: the server takes each value as it comes, where the text
        # format made it scan every byte of a row for delimiters and escapes; writing a call
        # of 100 deliveries ahead cost the server 16-27% less CPU, and psycopg 12-27% less
        # (bench/README.md, 2026-12-03). Binary values must be of the column's own type, so
        # the types come from the table itself (_copy_types), never from a list kept here.
        statement = pgsql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
            pgsql.Identifier(table), pgsql.SQL(", ").join(map(pgsql.Identifier, columns))
        )
        types = self._copy_types(tx, table, columns)
        with tx.raw.copy(statement) as copy:
            copy.set_types(types)
            for row in rows:
                copy.write_row(row)

    def _copy_types(self, tx: Tx, table: str, columns: tuple[str, ...]) -> list[int]:
        """The type (OID) of each of ``columns`` of ``table``, as this ledger's schema has it;
        read once per handle (a migration runs before a handle writes)."""
        cached = self._column_types.get((table, columns))
        if cached is not None:
            return cached
        found = dict(
            tx.all(
                "SELECT a.attname, a.atttypid::int FROM pg_attribute a"
                " JOIN pg_class c ON c.oid = a.attrelid"
                " JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = ? AND c.relname = ? AND a.attnum > 0"
                " AND NOT a.attisdropped",
                (self.schema, table),
            )
        )
        missing = [c for c in columns if c not in found]
        if missing:
            raise LedgerCorruptError(
                f"PostgreSQL ledger {self.location}: table {table} has no column "
                f"{', '.join(missing)}; was the schema changed by hand?"
            )
        types = self._column_types[(table, columns)] = [found[c] for c in columns]
        return types

    def _tune_storage(self, tx: Tx) -> None:
        # Settling a call rewrites each of its deliveries (status, MessageId). With room left
        # on the page PostgreSQL updates them in place (HOT: no new entries in the four
        # indexes), which made record_sent_many about 2.5 times faster; the cost is a table
        # about twice the size on disk. A ledger created before this keeps the default.
        tx.execute("ALTER TABLE deliveries SET (fillfactor = 50)")

    def member_tests(self, values: Sequence[Any]) -> Iterator[tuple[str, Sequence[Any]]]:
        # One array parameter for any number of values: one statement per batch, and no
        # query text with thousands of placeholders for psycopg to split and the server to parse.
        yield "= ANY(?)", [list(values)]

    def current_of_keys(self, keys: Sequence[str]) -> Iterator[tuple[str, Sequence[Any]]]:
        # One index probe per key, whatever the statistics say: with ``key = ANY`` (or a
        # plain join) the planner, misled by a table that grew since its last ANALYZE,
        # scanned every current delivery instead (40 ms a batch of 5,000 keys, growing with
        # the ledger). ``OFFSET 0`` keeps the lateral subquery from being flattened into
        # such a join.
        yield _CURRENT_OF_KEYS, [list(keys)]

    def settle_sent(
        self, tx: Tx, answers: Sequence[tuple[str, Mapping[int, str | None]]], stamp: str | None
    ) -> None:
        tx.executemany(
            _SETTLE_SENT, [(_by_position(ids), stamp, call_id) for call_id, ids in answers]
        )

    def settle_rest(
        self, tx: Tx, call_ids: Sequence[str], status: str, params: Sequence[Any]
    ) -> None:
        query = _DELIVERIES_OF_CALL.format(status=status)
        tx.executemany(query, [(*params, call_id) for call_id in call_ids])

    def _tables(self, tx: Tx) -> set[str]:
        # pg_class, not information_schema: the latter hides tables this role has no
        # privilege on, and a ledger the role may not read is not "no ledger".
        rows = tx.all(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = ? AND c.relkind IN ('r', 'p')",
            (self.schema,),
        )
        return {r[0] for r in rows}

    def _migration_guard(self, tx: Tx) -> None:
        # Two first opens at once: the second waits here, then finds the schema made.
        tx.execute("SELECT pg_advisory_xact_lock(?)", (self._migrate_key,))
        # Only when it is missing: CREATE SCHEMA IF NOT EXISTS needs the database-level CREATE
        # privilege even when the schema is there, which the documented apply role lacks.
        if tx.one("SELECT 1 FROM pg_namespace WHERE nspname = ?", (self.schema,)) is None:
            tx.raw.execute(pgsql.SQL("CREATE SCHEMA {}").format(pgsql.Identifier(self.schema)))

    # --- lock: a session advisory lock on its own connection

    def _try_lock(self) -> bool:
        if self._lock_conn is None or self._lock_conn.closed:
            self._lock_conn = self._connect()
        with self._errors():
            row = self._lock_conn.execute(
                "SELECT pg_try_advisory_lock(%s)", (self._lock_key,)
            ).fetchone()
        return bool(row and row[0])

    def _release_lock(self) -> None:
        # Ending the session releases the advisory lock whatever state the session is in.
        if self._lock_conn is not None:
            self._lock_conn.close()
            self._lock_conn = None

    def _lock_session(self) -> int | None:
        return None if self._lock_conn is None else self._lock_conn.info.backend_pid

    def _holders(self, tx: Tx) -> set[int]:
        unsigned = self._lock_key & 0xFFFFFFFFFFFFFFFF
        rows = tx.all(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            " AND classid::bigint = ? AND objid::bigint = ? AND objsubid = 1",
            (unsigned >> 32, unsigned & 0xFFFFFFFF),
        )
        return {r[0] for r in rows}

    def _live_lock_ids(self, rows: list[LockInfo]) -> set[str]:
        with self._read() as tx:
            holders = self._holders(tx)
        return {r.lock_id for r in rows if r.session in holders}

    def _fence(self, tx: Tx, held: LockInfo) -> bool:
        return held.session in self._holders(tx)

    def _revoke(self, info: LockInfo) -> None:
        # Ends the holder's lock session (not its main one): the advisory lock frees now, and
        # the holder's next write fails its fence check before changing anything.
        with self._read() as tx:
            tx.one("SELECT pg_terminate_backend(?)", (info.session,))
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            with self._read() as tx:
                if info.session not in self._holders(tx):
                    return
            time.sleep(0.05)
        raise LedgerError(f"lock session {info.session} did not end after termination")
