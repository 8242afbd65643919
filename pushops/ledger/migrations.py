"""The ledger's schema, as an ordered list of migrations shared by both backends.

The SQL is the common subset of SQLite and PostgreSQL (TEXT, INTEGER/BIGINT, CHECK, partial
indexes), so one list serves both. A ledger records every version it went through in
``schema_version``; its version is the highest. Append a migration to change the schema; never
edit a released one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pushops.ledger.records import CALL_STATUSES, DELIVERY_STATUSES, EVENT_KINDS, PROVIDERS


def _one_of(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


@dataclass(frozen=True)
class Migration:
    version: int
    summary: str
    statements: tuple[str, ...]
    # Run after ``statements`` on PostgreSQL only: what SQLite cannot say (dropping a
    # constraint) where it costs SQLite nothing to keep.
    postgresql: tuple[str, ...] = ()

    def statements_for(self, backend: str) -> tuple[str, ...]:
        return (*self.statements, *self.postgresql) if backend == "postgresql" else self.statements


INITIAL = Migration(
    1,
    "meta, calls, deliveries with generations, lock info",
    (
        """CREATE TABLE schema_version (
            version INTEGER PRIMARY KEY,
            applied_at TEXT NOT NULL
        )""",
        # One row: the ledger's identity and its change counter.
        """CREATE TABLE meta (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            lineage TEXT NOT NULL,
            serial BIGINT NOT NULL,
            created_at TEXT NOT NULL
        )""",
        f"""CREATE TABLE calls (
            call_id TEXT PRIMARY KEY,
            environment TEXT NOT NULL,
            provider TEXT NOT NULL CHECK (provider IN ({_one_of(PROVIDERS)})),
            app TEXT NOT NULL,
            action TEXT NOT NULL,
            token TEXT NOT NULL,
            request TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ({_one_of(CALL_STATUSES)})),
            attempts INTEGER NOT NULL,
            response TEXT,
            error_code TEXT,
            error_message TEXT,
            request_id TEXT,
            created_at TEXT NOT NULL,
            sent_at TEXT,
            updated_at TEXT NOT NULL,
            git_commit TEXT,
            actor TEXT
        )""",
        "CREATE INDEX calls_by_status ON calls (environment, status)",
        # Every generation of a key is kept; at most one is current (the partial unique index),
        # and plan reads the current ones of an environment in key order from its own index.
        f"""CREATE TABLE deliveries (
            key TEXT NOT NULL,
            environment TEXT NOT NULL,
            campaign TEXT NOT NULL,
            task TEXT NOT NULL,
            fingerprint TEXT NOT NULL,
            request TEXT NOT NULL,
            call_id TEXT NOT NULL REFERENCES calls (call_id),
            position INTEGER NOT NULL,
            status TEXT NOT NULL CHECK (status IN ({_one_of(DELIVERY_STATUSES)})),
            message_id TEXT,
            due_at TEXT,
            expires_at TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            git_commit TEXT,
            actor TEXT,
            cancelled_by TEXT,
            generation INTEGER NOT NULL,
            is_current INTEGER NOT NULL CHECK (is_current IN (0, 1)),
            PRIMARY KEY (key, generation)
        )""",
        "CREATE UNIQUE INDEX deliveries_current_key ON deliveries (key) WHERE is_current = 1",
        "CREATE INDEX deliveries_current_env ON deliveries (environment, key) WHERE is_current = 1",
        "CREATE INDEX deliveries_by_call ON deliveries (call_id, position)",
        # Who holds the write lock, for reporting; the lock itself is flock or an advisory lock.
        """CREATE TABLE locks (
            lock_id TEXT PRIMARY KEY,
            holder TEXT NOT NULL,
            operation TEXT NOT NULL,
            started_at TEXT NOT NULL,
            pid INTEGER,
            hostname TEXT,
            session INTEGER
        )""",
    ),
)

POLICY_OVERRIDES = Migration(
    2,
    "policy overrides: who let a soft policy through, for which run, and why",
    (
        # One row per overridden policy per apply: the reason and actor given with
        # --override, and the findings it let through (JSON), shown by the next plans.
        """CREATE TABLE policy_overrides (
            override_id TEXT PRIMARY KEY,
            environment TEXT NOT NULL,
            policy TEXT NOT NULL,
            level TEXT NOT NULL,
            reason TEXT NOT NULL,
            actor TEXT NOT NULL,
            created_at TEXT NOT NULL,
            git_commit TEXT,
            findings TEXT NOT NULL
        )""",
        "CREATE INDEX policy_overrides_by_env ON policy_overrides (environment, created_at)",
    ),
)

EVENTS_AND_STATS = Migration(
    3,
    "delivery events (every write besides apply's sending) and cached provider statistics",
    (
        # One row per change a write made outside apply's hot path (resolve, abandon, rm,
        # cancel, override, refresh), ordered by the write's serial and its place in it.
        # key is NULL when the event names a whole call (abandon) or run (override).
        f"""CREATE TABLE delivery_events (
            serial BIGINT NOT NULL,
            position INTEGER NOT NULL,
            environment TEXT NOT NULL,
            key TEXT,
            call_id TEXT,
            at TEXT NOT NULL,
            actor TEXT,
            kind TEXT NOT NULL CHECK (kind IN ({_one_of(EVENT_KINDS)})),
            status_from TEXT,
            status_to TEXT,
            evidence TEXT,
            PRIMARY KEY (serial, position)
        )""",
        "CREATE INDEX delivery_events_by_key ON delivery_events (key)",
        "CREATE INDEX delivery_events_by_call ON delivery_events (call_id)",
        # A cache of what the provider's statistics APIs answered, per message; not ledger
        # content (writing it leaves the serial alone), refreshed until final.
        f"""CREATE TABLE provider_stats (
            environment TEXT NOT NULL,
            provider TEXT NOT NULL CHECK (provider IN ({_one_of(PROVIDERS)})),
            app TEXT NOT NULL,
            message_id TEXT NOT NULL,
            counts TEXT NOT NULL,
            fetched_at TEXT NOT NULL,
            final INTEGER NOT NULL CHECK (final IN (0, 1)),
            PRIMARY KEY (environment, provider, app, message_id)
        )""",
    ),
)

CALL_REQUESTS = Migration(
    4,
    "a call's request in a table of its own, written once with the call and never again",
    (
        # A MassPush call's request is its whole encoded form (~29 KB for 100 tasks). Kept in
        # the calls row, every settle rewrote it: SQLite rewrites a row's overflow pages
        # whole on any UPDATE, 0.27 ms of a call's ~5 ms budget at the quota. The old column
        # stays, emptied (SQLite before 3.35 cannot drop a column); nothing reads it.
        """CREATE TABLE call_requests (
            call_id TEXT PRIMARY KEY REFERENCES calls (call_id),
            request TEXT NOT NULL
        )""",
        "INSERT INTO call_requests (call_id, request) SELECT call_id, request FROM calls",
        "UPDATE calls SET request = ''",
    ),
    postgresql=(
        # PostgreSQL checks a foreign key with a trigger and a row lock on the call for every
        # delivery: 0.6 to 0.9 ms of the server's CPU for a call of 100 (SQLite's check costs
        # nothing measurable and stays). Every delivery still names a call of the ledger:
        # write-ahead writes the call and its deliveries together, in one transaction, and
        # an import refuses a delivery whose call the export does not have.
        "ALTER TABLE deliveries DROP CONSTRAINT IF EXISTS deliveries_call_id_fkey",
    ),
)

PACKED_REQUESTS = Migration(
    5,
    "a call's request kept as a zstd frame of its JSON text",
    # SQLite keeps what it is given whatever the column's declared type: a frame goes into
    # call_requests.request as it is, and the requests written before stay text.
    (),
    postgresql=(
        # Written ahead at the quota, the requests' ~29 KB each (a MassPush of 100 tasks) cost
        # the server its TOAST compression and the client the bytes on the wire; as a frame of
        # ~2 KB, compressed by apply's writer, the server spent 17-30% less CPU on a call
        # written ahead and settled (bench/README.md). Requests stored before keep their
        # text, as UTF-8.
        "ALTER TABLE call_requests ALTER COLUMN request TYPE BYTEA"
        " USING convert_to(request, 'UTF8')",
    ),
)

DELIVERY_REQUESTS = Migration(
    6,
    "the requests of the deliveries a call writes ahead, kept once with the call",
    (
        # Each delivery row held its own request (~215 bytes of a fan-out PushTask, two
        # fifths of the row), written ahead and rewritten with its page as the call settled.
        # Apply now packs its deliveries' requests into one zstd frame with the call
        # (codec.packed_deliveries) and their rows hold codec.IN_CALL. Rows written before,
        # and by import, keep their own. A declared BYTEA is PostgreSQL's binary type;
        # SQLite keeps the frame's bytes as they are whatever the declared type.
        "ALTER TABLE call_requests ADD COLUMN delivery_requests BYTEA",
    ),
)

# The first version with delivery_events and provider_stats: a reader of an older ledger
# (plan with a read-only role) finds none, and only a write migrates it.
EVENTS_VERSION = EVENTS_AND_STATS.version
# The first version that stores call requests packed; a handle on an older ledger (read as it
# is) writes nothing, and a writer migrates first, so no ledger mixes layouts by mistake.
PACKED_VERSION = PACKED_REQUESTS.version
# The first version that may keep a delivery's request with its call (as PACKED_VERSION).
DELIVERIES_PACKED_VERSION = DELIVERY_REQUESTS.version

MIGRATIONS: list[Migration] = [
    INITIAL,
    POLICY_OVERRIDES,
    EVENTS_AND_STATS,
    CALL_REQUESTS,
    PACKED_REQUESTS,
    DELIVERY_REQUESTS,
]


def latest_version() -> int:
    # Read at call time (not a constant) so tests can append a migration and watch it apply.
    return MIGRATIONS[-1].version


def pending_migrations(current: int) -> list[Migration]:
    return [m for m in MIGRATIONS if m.version > current]


def upgrade_sql(
    found: int, applied_at: str, search_path: str | None = None, backend: str = "postgresql"
) -> str:
    """The statements that bring a ledger from version ``found`` to the latest, as one
    transaction a database administrator can review and run (``pushops state migrate --sql``):
    what :meth:`~pushops.ledger.base.Ledger.migrate` runs, recorded in ``schema_version`` the
    same way. ``search_path``: the PostgreSQL schema, already quoted as an identifier;
    ``backend``: the ledger's ("sqlite" leaves out what only PostgreSQL runs)."""
    pending = pending_migrations(found)
    latest = latest_version()
    if not pending:
        return f"-- The ledger is at schema version {found}, the latest this pushops knows.\n"
    lines = [
        f"-- Upgrades the ledger from schema version {found} to {latest}, in one transaction.",
        "-- Run it as the role that owns the ledger's tables (see docs/state.md).",
        "BEGIN;",
    ]
    if search_path is not None:
        lines.append(f"SET LOCAL search_path TO {search_path};")
    for migration in pending:
        lines.append(f"-- {migration.version}: {migration.summary}")
        statements = migration.statements_for(backend)
        lines += [f"{_dedent(statement)};" for statement in statements]
        lines.append(
            "INSERT INTO schema_version (version, applied_at) "
            f"VALUES ({migration.version}, '{applied_at}');"
        )
    lines.append("COMMIT;")
    return "\n".join(lines) + "\n"


def _dedent(statement: str) -> str:
    first, _, rest = statement.partition("\n")
    return "\n".join([first, *(line.removeprefix("        ") for line in rest.splitlines())])


_CREATE_TABLE = re.compile(r"\s*CREATE\s+TABLE\s+(\w+)", re.IGNORECASE)


def table_since(table: str) -> int | None:
    """The schema version that created ``table`` (None: no migration does): a reader of an
    older ledger (plan with a read-only role, before the next apply migrates it) finds no such
    table and reads it as empty. Derived from the statements themselves, so a new migration
    needs no bookkeeping."""
    for migration in MIGRATIONS:
        for statement in migration.statements:
            match = _CREATE_TABLE.match(statement)
            if match and match.group(1) == table:
                return migration.version
    return None
