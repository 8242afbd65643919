"""The ledger interface and all of its logic, over a handful of backend primitives.

:class:`Ledger` implements every operation once, with the SQL of :mod:`pushops.ledger.sql`;
a backend (``sqlite.py``, ``postgres.py``) only connects, starts transactions, streams rows,
translates driver errors and provides the lock primitive. So both backends behave the same by
construction, and the one behavioural test suite checks it.

Every write is one transaction that bumps ``meta.serial`` by one. Lock bookkeeping and schema
migrations are not ledger content and leave the serial alone (a plan made before ``apply``
took its lock must still match).
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

from pushops.ledger import batch, events, sql
from pushops.ledger.codec import (
    CallPacks,
    json_text,
    row_call,
    row_delivery,
    text_json,
    text_time,
    time_text,
)
from pushops.ledger.errors import (
    LedgerConflictError,
    LedgerCorruptError,
    LedgerError,
    LedgerMissingError,
    LedgerPermissionError,
    LockError,
    LockLostError,
    LockTimeoutError,
    MigrationError,
    NotFoundError,
    SchemaVersionError,
)
from pushops.ledger.locking import default_holder, lock_from_row, wait_for
from pushops.ledger.migrations import (
    DELIVERIES_PACKED_VERSION,
    PACKED_VERSION,
    latest_version,
    pending_migrations,
    table_since,
)
from pushops.ledger.records import (
    ABANDONED,
    CANCELLED,
    CANCELLED_AT_PROVIDER,
    FAILED,
    NOT_SENT_WHY,
    OVERRIDDEN,
    PENDING,
    REFRESHED,
    REMOVED,
    REMOVED_BY,
    REPLACEABLE,
    RESOLVED,
    SCHEDULED,
    SENT,
    UNKNOWN,
    UNSETTLED,
    WITHDRAWN,
    Call,
    Delivered,
    Delivery,
    DeliveryEvent,
    FailedResult,
    KeyHistory,
    LedgerMeta,
    LockInfo,
    PolicyOverride,
    ProvenCall,
    ProvenStatus,
    ProviderStats,
    SentMessage,
    SentResult,
    any_key_problem,
    forgotten,
    key_problem,
)
from pushops.ledger.storage import Tx, chunks, select_calls

log = logging.getLogger("pushops.ledger")

Clock = Callable[[], datetime]
STREAM_BATCH = 2000


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class Ledger(ABC):
    """What has been sent, per environment, with write-ahead records and a write lock."""

    backend: str = "?"
    location: str = "?"
    _BEGIN_WRITE = "BEGIN"
    _BEGIN_READ = "BEGIN"

    def __init__(self, *, clock: Clock | None = None) -> None:
        self._clock: Clock = clock or utc_now
        self._held: LockInfo | None = None
        self._streams = 0
        # The schema version this handle found (or migrated to); below the latest only for a
        # handle opened with migrate=False, until its first write migrates. upgraded_from:
        # the version it migrated an existing ledger from, if it did.
        self._version = 0
        self.upgraded_from: int | None = None

    # ------------------------------------------------------------------ backend primitives

    @abstractmethod
    def _cursor(self) -> Any:
        """A cursor on the main connection, reconnecting first if the last one broke."""

    @abstractmethod
    def _fix(self, query: str) -> str:
        """Rewrite ``?`` placeholders for the driver."""

    @abstractmethod
    def _translate(self, exc: BaseException) -> LedgerError | None:
        """A clear ledger error for a driver error, or None to let it through."""

    @abstractmethod
    def stream_rows(self, tx: Tx, query: str, params: Sequence[Any]) -> Iterator[tuple[Any, ...]]:
        """Rows of ``query`` inside ``tx``, fetched in batches rather than all at once."""

    @abstractmethod
    def _tables(self, tx: Tx) -> set[str]:
        """The tables in the ledger's namespace (file or schema)."""

    @abstractmethod
    def _migration_guard(self, tx: Tx) -> None:
        """Make the namespace exist and serialise concurrent first opens."""

    @abstractmethod
    def _try_lock(self) -> bool: ...

    @abstractmethod
    def _release_lock(self) -> None: ...

    @abstractmethod
    def _lock_session(self) -> int | None:
        """The server session that holds the lock (PostgreSQL backend pid), if any."""

    @abstractmethod
    def _live_lock_ids(self, rows: list[LockInfo]) -> set[str]:
        """Which info rows belong to a holder that still holds the lock."""

    @abstractmethod
    def _revoke(self, info: LockInfo) -> None:
        """Take the lock away from a live holder, as far as the backend can."""

    def insert_rows(
        self, tx: Tx, table: str, columns: tuple[str, ...], rows: Sequence[Sequence[Any]]
    ) -> None:
        """Insert many rows; a backend may have a faster bulk path (PostgreSQL: COPY)."""
        for start in range(0, len(rows), sql.INSERT_CHUNK):
            chunk = rows[start : start + sql.INSERT_CHUNK]
            flat = [value for row in chunk for value in row]
            tx.execute(sql.insert_rows(table, columns, len(chunk)), flat)

    def first_try(self, tx: Tx, write: Callable[[], None]) -> bool:
        """Run ``write`` in a savepoint of ``tx``: True if it went in; False if a constraint
        refused it (a unique index, say), with nothing of it left and ``tx`` usable."""
        tx.execute("SAVEPOINT first_try")
        try:
            write()
        except Exception as exc:
            if not isinstance(exc, LedgerConflictError) and not isinstance(
                self._translate(exc), LedgerConflictError
            ):
                raise
            tx.execute("ROLLBACK TO SAVEPOINT first_try")
            tx.execute("RELEASE SAVEPOINT first_try")
            return False
        tx.execute("RELEASE SAVEPOINT first_try")
        return True

    def member_tests(self, values: Sequence[Any]) -> Iterator[tuple[str, Sequence[Any]]]:
        """Membership tests over ``values``, as (``IN (?, ...)``, its parameters) per chunk.

        PostgreSQL has a faster way (one array parameter); see its override.
        """
        for chunk in chunks(values, sql.KEYS_CHUNK):
            yield sql.member(len(chunk)), chunk

    def current_of_keys(self, keys: Sequence[str]) -> Iterator[tuple[str, Sequence[Any]]]:
        """Queries (with their parameters) for the current (key, generation, status) of keys."""
        for test, params in self.member_tests(keys):
            yield sql.CURRENT_OF_KEYS.format(test), params

    def settle_sent(
        self, tx: Tx, answers: Sequence[tuple[str, Mapping[int, str | None]]], stamp: str | None
    ) -> None:
        """Settle the deliveries of calls the provider accepted, each call given with its
        MessageIds by position (none negative): those with one get it, the rest of the call
        is settled without (sent, or scheduled if due later). In two passes here; SQLite with
        its JSON functions and PostgreSQL have one."""
        rows = [
            (call_id, position, message_id)
            for call_id, by_position in answers
            for position, message_id in sorted(by_position.items())
        ]
        self.set_message_ids(tx, rows, stamp)
        self.settle_rest(tx, [call_id for call_id, _ in answers], sql.SENT_STATUS, (stamp,))

    def set_message_ids(
        self, tx: Tx, rows: Sequence[tuple[str, int, str | None]], stamp: str | None
    ) -> None:
        """Mark the (call id, position, MessageId) ``rows`` sent, each with its MessageId.

        One statement run for every row: SQLite runs them in process, and an UPDATE ... FROM
        (VALUES ...) made it build an automatic index over the whole table every time.
        """
        tx.executemany(sql.DELIVERY_SENT, [(m, stamp, c, p) for c, p, m in rows])

    def settle_rest(
        self, tx: Tx, call_ids: Sequence[str], status: str, params: Sequence[Any]
    ) -> None:
        """Settle what is still unsettled of ``call_ids`` (``status``: an SQL expression or a
        placeholder, ``params`` its values and the time); PostgreSQL has its own way."""
        for test, members in self.member_tests(call_ids):
            query = sql.DELIVERIES_OF_CALLS.format(status=status, calls=test)
            tx.execute(query, [*params, *members])

    def _tune_storage(self, tx: Tx) -> None:
        """Backend storage settings for a new ledger: speed only, never what it holds."""
        return None

    def _fence(self, tx: Tx, held: LockInfo) -> bool:
        """Backend check, inside a write, that the lock this handle took is still its own."""
        return True

    def second_writer(self) -> Ledger | None:
        """Another handle on this ledger, its own session, writing under the lock this one
        holds (its writes are fenced by it alike), for apply to settle calls on while it
        writes the next ones ahead here; None where a second writer would only wait for the
        first (SQLite has one writer at a time). The caller closes it."""
        return None

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ transactions

    def _now(self) -> datetime:
        return self._clock()

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except LedgerError:
            raise
        except Exception as exc:
            mapped = self._translate(exc)
            if mapped is None:
                raise
            raise mapped from exc

    @contextmanager
    def _transaction(self, begin: str) -> Iterator[Tx]:
        with self._errors():
            if self._streams and begin == self._BEGIN_WRITE:
                # The stream's transaction would swallow this write (PostgreSQL) or pin it
                # behind a reader (SQLite); read fully, then write.
                raise LedgerError("finish reading the ledger stream before writing to it")
            cursor = self._cursor()
            cursor.execute(begin)
            try:
                yield Tx(cursor, self._fix)
            except BaseException:
                # If the connection is gone the server has rolled back for us.
                with suppress(Exception):
                    cursor.execute("ROLLBACK")
                raise
            cursor.execute("COMMIT")

    def _ensure_latest(self) -> None:
        """Only writers migrate: a handle opened on an older ledger without migrating (a
        read-only plan) migrates before its first write."""
        if self._version < latest_version():
            self._migrate()

    @contextmanager
    def _write(self, *, serial_last: bool = False) -> Iterator[Tx]:
        self._ensure_latest()
        with self._transaction(self._BEGIN_WRITE) as tx:
            # Serial first: on PostgreSQL its row lock queues concurrent writers, so each one
            # reads what the previous one committed. Settling a batch bumps it last instead
            # (serial_last): apply settles on a session of its own (Ledger.second_writer)
            # while its writer writes the next batch ahead, and the two touch different rows
            # (calls committed long before, new calls); bumped first, the serial's row lock
            # would make each settle wait out the whole write-ahead before starting.
            if not serial_last:
                tx.execute(sql.BUMP_SERIAL)
            held = self._held
            if held is not None and (
                tx.one(sql.LOCK_BY_ID, (held.lock_id,)) is None or not self._fence(tx, held)
            ):
                raise LockLostError(
                    f"the ledger lock {held.lock_id} was revoked or its session ended; "
                    "nothing more was written",
                    held,
                )
            yield tx
            if serial_last:
                tx.execute(sql.BUMP_SERIAL)

    def _read(self) -> Any:
        return self._transaction(self._BEGIN_READ)

    def bulk_load(self) -> Any:
        """A write transaction that leaves the serial alone: import keeps the export's."""
        self._ensure_latest()
        return self._transaction(self._BEGIN_WRITE)

    @property
    def has_events(self) -> bool:
        """Whether this ledger's schema has the delivery_events and provider_stats tables."""
        return self.has_table("delivery_events")

    @property
    def packs_requests(self) -> bool:
        """Whether this ledger stores each call's request as a zstd frame (schema 5 on)."""
        return self._version >= PACKED_VERSION

    @property
    def packs_deliveries(self) -> bool:
        """Whether apply keeps the requests of a call's deliveries with the call, once
        (schema 6 on; codec.packed_deliveries)."""
        return self._version >= DELIVERIES_PACKED_VERSION

    def call_packs(self, tx: Tx) -> CallPacks:
        """Where the delivery rows read in ``tx`` find a request their call holds
        (codec.IN_CALL), fetched on a cursor of its own: a stream may be reading on ``tx``'s."""
        side: Tx | None = None

        def fetch(call_id: str) -> bytes | memoryview | None:
            nonlocal side
            if side is None:
                side = tx.side()
            row = side.one(sql.DELIVERY_REQUESTS_OF, (call_id,))
            return None if row is None else row[0]

        return CallPacks(fetch)

    def has_table(self, table: str) -> bool:
        """Whether the ledger's schema has ``table``: an older one, read as it is, may not,
        and readers take a table it does not have yet for an empty one."""
        since = table_since(table)
        return since is not None and self._version >= since

    @property
    def schema_behind(self) -> tuple[int, int] | None:
        """(the ledger's schema version, the one this pushops knows) while this handle reads
        an older ledger it has not migrated; None when the ledger is up to date."""
        known = latest_version()
        return (self._version, known) if self._version < known else None

    def schema_notice(self) -> str | None:
        """What a reader of an older ledger says once; None when it is up to date."""
        behind = self.schema_behind
        if behind is None:
            return None
        return (
            f"ledger schema {behind[0]}, this pushops knows {behind[1]}: the next apply (or "
            "`pushops state migrate`) upgrades it; until then it is read as it is"
        )

    def migrate(self) -> tuple[int, int]:
        """Bring the ledger up to this pushops's schema: (version before, version after).
        ``pushops state migrate`` calls it holding the ledger lock."""
        with self._read() as tx:
            before = self._schema_version(tx)
        self._check_version(before)
        self._version = before
        self._before_writing()
        self._migrate()
        return before, self._version

    # ------------------------------------------------------------------ schema

    def _schema_version(self, tx: Tx) -> int:
        tables = self._tables(tx)
        if "schema_version" not in tables:
            if tables:
                raise LedgerCorruptError(
                    f"{self.location} is not a pushops ledger: it has tables "
                    f"({', '.join(sorted(tables))}) but no schema_version"
                )
            return 0
        row = tx.one(sql.SCHEMA_VERSION)
        return int(row[0]) if row and row[0] is not None else 0

    def _check_version(self, found: int) -> bool:
        """True when migrations are needed; raises for a ledger from a newer pushops."""
        supported = latest_version()
        if found > supported:
            raise SchemaVersionError(found, supported, self.location)
        return found < supported

    def _prepare(self, create: bool = True, migrate: bool = True) -> None:
        # Read first: an up-to-date ledger opens without a write, so read-only credentials
        # (plan on a pull request) work, and a store that is not a pushops ledger is refused
        # before anything in it (even a setting) is changed.
        with self._read() as tx:
            found = self._schema_version(tx)
        if found == 0 and not create:
            raise LedgerMissingError(f"no ledger at {self.location}")
        needed = self._check_version(found)
        self._version = found
        if found and not migrate:
            # A reader leaves an older ledger as it is (its role may not be allowed to
            # change it); what the newer tables would hold reads as empty.
            return
        self._before_writing()
        if needed:
            self._migrate()

    def _before_writing(self) -> None:
        """Backend settings kept in the store itself, made once it is known to be ours."""
        return None

    def _migrate(self) -> None:
        with self._transaction(self._BEGIN_WRITE) as tx:
            self._migration_guard(tx)
            found = self._schema_version(tx)  # again: another process may have done it
            if not self._check_version(found):
                self._version = found
                return
            now = time_text(self._now())
            for migration in pending_migrations(found):
                try:
                    for statement in migration.statements_for(self.backend):
                        tx.execute(statement)
                    tx.execute(sql.RECORD_VERSION, (migration.version, now))
                except Exception as exc:
                    why = self._translate(exc) or exc  # driver text, with no password in it
                    if isinstance(why, LedgerPermissionError):
                        # A role that can only read: what asked to write cannot, and says so.
                        raise LedgerPermissionError(
                            f"ledger {self.location} is at schema version {found}; migrating "
                            f"it to {migration.version} needs the role that writes, nothing "
                            f"was changed: {why}"
                        ) from exc
                    raise MigrationError(
                        f"migrating ledger {self.location} from schema version {found} to "
                        f"{migration.version} failed, nothing was changed: {why}"
                    ) from exc
            if found == 0:
                tx.execute(sql.INSERT_META, (str(uuid.uuid4()), now))
                self._tune_storage(tx)
        self._version = latest_version()
        if found:
            self.upgraded_from = found

    # ------------------------------------------------------------------ reads

    def _damaged(self, what: str, detail: str) -> LedgerCorruptError:
        return LedgerCorruptError(
            f"ledger {self.location} is damaged: {what} {detail}; nothing was written. "
            "Restore it from a backup, or correct that value by hand"
        )

    @contextmanager
    def _decoding(self, what: Callable[[], str]) -> Iterator[None]:
        """Rows that do not decode (a value changed by hand, a damaged file) are a clear
        "ledger damaged" error naming the row, never a traceback."""
        try:
            yield
        except (ValueError, TypeError, OverflowError, AttributeError) as exc:
            raise self._damaged(what(), f"holds a value pushops cannot read ({exc})") from exc

    def meta(self) -> LedgerMeta:
        with self._read() as tx:
            row = tx.one(sql.META)
            version = tx.one(sql.SCHEMA_VERSION)
        if row is None or version is None:
            raise LedgerCorruptError(f"ledger {self.location} has no meta row")
        lineage, serial, created_text = row
        for name, value, ok, kind in (
            ("meta.lineage", lineage, isinstance(lineage, str) and lineage, "an id"),
            ("meta.serial", serial, _whole(serial) and serial >= 0, "a whole number"),
            ("schema_version", version[0], _whole(version[0]), "a whole number"),
        ):
            if not ok:
                raise self._damaged(name, f"holds {_shown(value)}, not {kind}")
        with self._decoding(lambda: f"meta.created_at ({_shown(created_text)})"):
            created = text_time(created_text)
        if created is None:
            raise self._damaged("meta.created_at", "is empty")
        return LedgerMeta(
            lineage=lineage,
            serial=serial,
            schema_version=version[0],
            backend=self.backend,
            location=self.location,
            created_at=created,
        )

    def get_call(self, call_id: str) -> Call | None:
        with self._read() as tx:
            row = tx.one(select_calls(self, sql.CALL_BY_ID), (call_id,))
        with self._decoding(lambda: f"the row of call {call_id}"):
            return None if row is None else row_call(row)

    def call_deliveries(self, call_id: str) -> list[Delivery]:
        """The current deliveries a call carries, by position (what a resend must carry)."""
        with self._read() as tx, self._decoding(lambda: f"a delivery row of call {call_id}"):
            packs = self.call_packs(tx)
            return [row_delivery(r, packs) for r in tx.all(sql.CALL_DELIVERIES, (call_id,))]

    def calls(self, environment: str, statuses: Sequence[str]) -> list[Call]:
        query = select_calls(self, sql.CALLS_BY_STATUS).format(statuses=sql.marks(len(statuses)))
        with self._read() as tx:
            rows = tx.all(query, (environment, *statuses))
        row: tuple[Any, ...] = ("?",)
        with self._decoding(lambda: f"the row of call {_shown(row[0])}"):
            return [row_call(row) for row in rows]

    def not_sent_calls(self, environment: str | None = None) -> dict[str, str]:
        """Call id -> code of every failed call that never reached the provider (the codes
        of :data:`~pushops.ledger.records.NOT_SENT_WHY`): one query, for the views that say
        "not sent" rather than "failed" of their deliveries."""
        codes = tuple(NOT_SENT_WHY)
        query = sql.NOT_SENT_CALLS.format(codes=sql.marks(len(codes)))
        params: tuple[str, ...] = codes
        if environment is not None:
            query += " AND environment = ?"
            params = (*codes, environment)
        with self._read() as tx:
            return {str(call_id): str(code) for call_id, code in tx.all(query, params)}

    def pending_calls(self, environment: str, *, include_unknown: bool = False) -> list[Call]:
        """Calls written ahead but never settled (crash, lost response), oldest id first."""
        return self.calls(environment, UNSETTLED if include_unknown else (PENDING,))

    def current_deliveries(
        self, environment: str | None = None, *, with_request: bool = True
    ) -> Iterator[Delivery]:
        """The current record of every key (of one environment), in key order, streamed.

        One query in one snapshot. Skip decoding the requests (``with_request=False``) when
        only fingerprints and statuses are needed; that is most of plan's time here.
        """
        query, params = (
            (sql.CURRENT_ALL, ()) if environment is None else (sql.CURRENT_BY_ENV, (environment,))
        )
        return self._rows(
            query, params, lambda r, packs: row_delivery(r, packs if with_request else None)
        )

    def get(self, key: str) -> KeyHistory | None:
        """Every generation of ``key``, oldest first, or None if the ledger never saw it."""
        with self._read() as tx, self._decoding(lambda: f"a delivery row of key {key}"):
            packs = self.call_packs(tx)
            rows = [row_delivery(r, packs) for r in tx.all(sql.KEY_HISTORY, (key,))]
        return KeyHistory(key, rows) if rows else None

    def owned_message_ids(self, among: Collection[str]) -> set[str]:
        """Which of the provider ids ``among`` (MessageIds, mPaaS task ids) the ledger gives
        to some key, of any environment or generation: pushes that are the ledger's,
        whatever became of them since. One streamed scan; memory grows with ``among``."""
        ids = self._rows(sql.MESSAGE_IDS, (), lambda r, _: str(r[0]))
        return {mid for mid in ids if mid in among}

    def call_apps(self, environment: str) -> dict[str, str]:
        """The app of every call of ``environment``, by call id (no request is read)."""
        with self._read() as tx:
            return {str(r[0]): str(r[1]) for r in tx.all(sql.CALL_APPS, (environment,))}

    @contextmanager
    def snapshot(self) -> Iterator[Tx]:
        """A read transaction held open while the caller consumes a stream from it."""
        with self._read() as tx:
            self._streams += 1
            try:
                yield tx
            finally:
                self._streams -= 1

    def _rows(
        self,
        query: str,
        params: Sequence[Any],
        decode: Callable[[tuple[Any, ...], CallPacks], Any],
    ) -> Iterator[Any]:
        with self.snapshot() as tx:
            row: tuple[Any, ...] = ("?",)
            packs = self.call_packs(tx)
            with self._decoding(lambda: f"the row of {_shown(row[0])}"):
                for row in self.stream_rows(tx, query, params):
                    yield decode(row, packs)

    # ------------------------------------------------------------------ policies

    def delivered_between(
        self, environment: str, start: datetime, end: datetime
    ) -> Iterator[Delivered]:
        """Deliveries of ``environment`` that are out there or may be (sent, scheduled,
        pending, unknown) landing between ``start`` and ``end``, and every mPaaS one (a loop
        lands again each day), streamed: what frequency caps count."""
        params = (environment, time_text(start), time_text(end))

        def decode(r: tuple[Any, ...], packs: CallPacks) -> Delivered:
            at = text_time(r[5])
            assert at is not None
            return Delivered(r[0], r[1], r[2], r[3], r[4], at, packs.request(r[6], r[7], r[0]))

        return self._rows(sql.DELIVERED_BETWEEN, params, decode)

    def record_overrides(self, overrides: Sequence[PolicyOverride]) -> None:
        """Record the soft policies a run overrides, before it sends anything: all or none."""
        if not overrides:
            return
        rows = [
            (
                o.override_id,
                o.environment,
                o.policy,
                o.level,
                o.reason,
                o.actor,
                time_text(o.created_at),
                o.git_commit,
                json_text(o.findings),
            )
            for o in overrides
        ]
        trail = [
            DeliveryEvent(
                environment=o.environment,
                kind=OVERRIDDEN,
                actor=o.actor,
                at=o.created_at,
                evidence={
                    "override_id": o.override_id,
                    "policy": o.policy,
                    "level": o.level,
                    "reason": o.reason,
                },
            )
            for o in overrides
        ]
        with self._write() as tx:
            tx.executemany(sql.INSERT_OVERRIDE, rows)
            events.add_events(tx, trail, self._now())

    def overrides(self, environment: str, limit: int = 20) -> list[PolicyOverride]:
        """The latest overrides recorded in ``environment``, newest first."""
        if not self.has_table("policy_overrides"):
            return []  # an older ledger, opened by a reader: none recorded yet
        with self._read() as tx:
            rows = tx.all(sql.OVERRIDES_BY_ENV, (environment, limit))
        return [_override(r) for r in rows]

    # ------------------------------------------------------------------ events and statistics

    def record_events(self, trail: Sequence[DeliveryEvent]) -> None:
        """Record events in one write of their own (a change that is recorded elsewhere in
        the same transaction writes them there instead, see :func:`events.add_events`)."""
        if not trail:
            return
        events.check_events(trail)
        with self._write() as tx:
            events.add_events(tx, trail, self._now())

    def events_for(self, key: str) -> list[DeliveryEvent]:
        """The events of ``key`` and of the whole calls that carried it, oldest first."""
        return self._events(events.EVENTS_OF_KEY, (key, key))

    def events(self, environment: str | None = None) -> list[DeliveryEvent]:
        """Every event (of one environment), oldest first."""
        if environment is None:
            return self._events(events.ALL_EVENTS, ())
        return self._events(events.EVENTS_BY_ENV, (environment,))

    def _events(self, query: str, params: Sequence[Any]) -> list[DeliveryEvent]:
        if not self.has_events:
            return []  # an older ledger, opened by a reader: no event recorded yet
        with self._read() as tx:
            rows = tx.all(query, params)
        with self._decoding(lambda: "a row of delivery_events"):
            return [events.row_event(r) for r in rows]

    def sent_messages(self, environment: str) -> Iterator[SentMessage]:
        """The current deliveries of ``environment`` that went (or go) out with a provider
        id, by campaign and message id, streamed."""

        def decode(r: tuple[Any, ...], packs: CallPacks) -> SentMessage:
            request = None if r[8] is None else packs.request(r[8], r[9], r[0])
            return SentMessage(*r[:7], text_time(r[7]), request)

        return self._rows(sql.SENT_MESSAGES, (environment,), decode)

    def provider_stats(self, environment: str) -> list[ProviderStats]:
        """The cached provider statistics of ``environment``'s messages."""
        if not self.has_events:
            return []
        with self._read() as tx:
            rows = tx.all(events.STATS_BY_ENV, (environment,))
        with self._decoding(lambda: "a row of provider_stats"):
            return [events.row_stats(r) for r in rows]

    def save_provider_stats(self, stats: Sequence[ProviderStats]) -> None:
        """Cache what the provider answered. A cache, not ledger content: the serial stays
        (a saved plan still matches) and no lock is needed (each row is a whole answer)."""
        if not stats:
            return
        rows = [events.stats_row(s) for s in stats]
        self._ensure_latest()
        with self._transaction(self._BEGIN_WRITE) as tx:
            tx.executemany(events.UPSERT_STATS, rows)

    # ------------------------------------------------------------------ export / import

    def export(self) -> Iterator[str]:
        """The whole ledger as versioned JSON Lines (see :mod:`pushops.ledger.exchange`)."""
        from pushops.ledger.exchange import export_lines

        with self._decoding(lambda: "a row it exports"):
            yield from export_lines(self)

    def import_(self, lines: Iterable[str | bytes]) -> LedgerMeta:
        """Load an export into this empty ledger, keeping its lineage and serial."""
        from pushops.ledger.exchange import import_lines

        import_lines(self, lines)
        return self.meta()

    # ------------------------------------------------------------------ writes

    def record_pending(self, call: Call, deliveries: Sequence[Delivery]) -> None:
        """Write a call and its deliveries ahead of sending it: all of it or nothing.

        A key that already has a current record gets a new generation only if nothing of
        it is out there (failed, cancelled); anything else would be a second send.
        """
        self.record_pending_many([(call, deliveries)])

    def record_pending_many(self, items: Sequence[batch.PendingItem]) -> None:
        """Write many calls ahead of sending them, in one transaction: all or none.

        Deliveries are :class:`Delivery` records or, as apply writes them,
        :class:`PendingDelivery` tuples (the ledger takes the rest from the call).

        The same guards as :meth:`record_pending` for every call, over the whole batch: a
        call id already in the ledger, or a key with a live record (sent, scheduled, pending,
        unknown), raises :class:`LedgerConflictError` and nothing of the batch is written.
        A call id or key twice in the batch is the caller's mistake (``ValueError``). One
        serial bump for the batch.
        """
        batch.check_pending(items)
        if not items:
            return
        _check_keys(items)
        with self._write() as tx:
            batch.write_pending(self, tx, items, self._now())

    def record_sent(
        self,
        call_id: str,
        message_ids_by_position: Mapping[int, str | None],
        response: Any = None,
        request_id: str | None = None,
    ) -> None:
        """The provider accepted the call. Deliveries with a due time become ``scheduled``."""
        self.record_sent_many(
            [SentResult(call_id, dict(message_ids_by_position), response, request_id)]
        )

    def record_sent_many(self, results: Sequence[SentResult]) -> None:
        """Settle many calls as sent in one transaction (one serial bump): all or none.

        Every call must be in the ledger (else :class:`NotFoundError`) and unsettled, i.e.
        pending or unknown (else :class:`LedgerConflictError`); then nothing is recorded.
        """
        if not results:
            return
        with self._write(serial_last=True) as tx:
            batch.write_sent(self, tx, results, self._now())

    def record_failed(
        self, call_id: str, code: str | None, message: str | None, request_id: str | None = None
    ) -> None:
        """The provider refused the call for certain; its deliveries may be sent again later."""
        self.record_failed_many([FailedResult(call_id, code, message, request_id)])

    def record_failed_many(self, results: Sequence[FailedResult]) -> None:
        """Settle many calls as failed in one transaction (one serial bump): all or none.

        The same guards as :meth:`record_sent_many`.
        """
        if not results:
            return
        with self._write(serial_last=True) as tx:
            batch.write_failed(self, tx, results, self._now())

    def record_unknown(self, call_id: str) -> None:
        """Nobody can tell whether the call went out; its keys stay blocked until resolved."""
        now = time_text(self._now())
        with self._write() as tx:
            batch.check_unsettled(self, tx, [call_id], "record as unknown")
            tx.execute(sql.CALL_UNKNOWN, (now, call_id))
            tx.execute(sql.DELIVERIES_STATUS, (UNKNOWN, now, call_id))

    def record_attempt(self, call_id: str) -> int:
        """Count one more send of the call (with the same token); returns the count."""
        with self._write() as tx:
            batch.check_unsettled(self, tx, [call_id], "count an attempt of")
            tx.execute(sql.CALL_ATTEMPT, (time_text(self._now()), call_id))
            row = tx.one("SELECT attempts FROM calls WHERE call_id = ?", (call_id,))
        assert row is not None
        return int(row[0])

    def _current(self, tx: Tx, key: str) -> Delivery:
        row = tx.one(sql.CURRENT_OF_KEY, (key,))
        if row is None:
            raise NotFoundError(f"no current record for key {key} in the ledger")
        with self._decoding(lambda: f"the delivery row of key {key}"):
            return row_delivery(row, self.call_packs(tx))

    def resolve(
        self, key: str, sent: bool, actor: str | None = None, *, kind: str = RESOLVED
    ) -> Delivery:
        """A person settles a pending/unknown key: it did (``sent``) or did not go out.

        Once none of its call's deliveries is unsettled, the call settles too: sent if any
        of them went out, else failed. Recorded as a ``kind`` event (resolved, abandoned).
        """
        now = self._now()
        with self._write() as tx:
            current = self._current(tx, key)
            if current.status not in UNSETTLED:
                raise LedgerConflictError(
                    f"key {key} is {current.status}, only pending or unknown keys are resolved"
                )
            status = (SCHEDULED if current.due_at else SENT) if sent else FAILED
            stamp = time_text(now)
            tx.execute(sql.SET_KEY_STATUS, (status, actor, stamp, None, key))
            call_id = current.call_id
            open_row = tx.one(sql.CALL_OPEN_DELIVERIES, (call_id,))
            if open_row is not None and open_row[0] == 0:
                delivered = tx.one(sql.CALL_DELIVERED, (call_id,))
                went_out = delivered is not None and delivered[0] > 0
                note = None if went_out else f"resolved as not sent by {actor or 'someone'}"
                tx.execute(sql.CALL_SETTLE, (SENT if went_out else FAILED, note, stamp, call_id))
            said = "it went out" if sent else "it did not go out"
            events.add_events(tx, [_event(current, kind, actor, status, {"said": said})], now)
        return replace(current, status=status, actor=actor or current.actor, updated_at=now)

    def abandon_calls(self, results: Sequence[FailedResult], actor: str | None) -> None:
        """Give up whole pending/unknown calls as not sent (``state abandon``), each
        recorded as failed with its code and note and as an ``abandoned`` event naming the
        call (no key): all or none, one transaction."""
        if not results:
            return
        now = self._now()
        with self._write() as tx:
            was = dict(batch.call_statuses(self, tx, [r.call_id for r in results]))
            batch.write_failed(self, tx, results, now)
            trail = []
            for r in results:
                call = tx.one(sql.CALL_ENVIRONMENT, (r.call_id,))
                trail.append(
                    DeliveryEvent(
                        environment=call[0] if call else "?",
                        kind=ABANDONED,
                        actor=actor,
                        call_id=r.call_id,
                        status_from=was.get(r.call_id),
                        status_to=FAILED,
                        evidence={"code": r.code, "note": r.message},
                    )
                )
            events.add_events(tx, trail, now)

    def mark_cancelled(
        self, key: str, *, actor: str | None = None, cancel_call_id: str | None = None
    ) -> Delivery:
        """A scheduled delivery was withdrawn (by the call ``cancel_call_id``)."""
        now = self._now()
        with self._write() as tx:
            current = self._current(tx, key)
            if current.status != SCHEDULED:
                raise LedgerConflictError(
                    f"key {key} is {current.status}; only a scheduled delivery can be cancelled"
                )
            tx.execute(sql.SET_KEY_STATUS, (CANCELLED, actor, time_text(now), cancel_call_id, key))
            proof = {"cancel_call": cancel_call_id}
            events.add_events(tx, [_event(current, WITHDRAWN, actor, CANCELLED, proof)], now)
        return replace(
            current,
            status=CANCELLED,
            actor=actor or current.actor,
            updated_at=now,
            cancelled_by=cancel_call_id,
        )

    def record_refreshed(
        self,
        statuses: Sequence[ProvenStatus],
        calls: Sequence[ProvenCall] = (),
        actor: str | None = None,
    ) -> int:
        """Record what ``pushops refresh`` proved from the provider's records, all in one
        transaction (all or none), each key's change as a ``refreshed`` event with its
        evidence: keys whose status changed behind pushops's back (a scheduled push
        cancelled in the console is ``cancelled``), and unsettled calls the provider has
        (settled as sent with its MessageIds). A key no longer in the status refresh
        compared, or a call settled meanwhile, raises :class:`LedgerConflictError` and
        nothing is recorded. Returns how many keys changed."""
        now = self._now()
        stamp = time_text(now)
        trail: list[DeliveryEvent] = []
        with self._write() as tx:
            for proven in statuses:
                current = self._current(tx, proven.key)
                if current.status != proven.status_from:
                    raise LedgerConflictError(
                        f"the ledger changed since refresh compared it: key {proven.key} is "
                        f"{current.status}, not {proven.status_from}; nothing was recorded"
                    )
                mark = CANCELLED_AT_PROVIDER if proven.status_to == CANCELLED else None
                tx.execute(sql.SET_KEY_STATUS, (proven.status_to, actor, stamp, mark, proven.key))
                trail.append(_event(current, REFRESHED, actor, proven.status_to, proven.evidence))
            packs = self.call_packs(tx)
            before = {
                c.call_id: [
                    row_delivery(r, packs) for r in tx.all(sql.CALL_DELIVERIES, (c.call_id,))
                ]
                for c in calls
            }
            batch.write_sent(
                self, tx, [SentResult(c.call_id, dict(c.message_ids)) for c in calls], now
            )
            for proven_call in calls:
                for d in before[proven_call.call_id]:
                    status = SCHEDULED if d.due_at else SENT
                    trail.append(_event(d, REFRESHED, actor, status, proven_call.evidence))
            events.add_events(tx, trail, now)
        return len(trail)

    def remove(self, key: str, actor: str | None = None) -> Delivery:
        """Forget a key (``state rm``): the next plan sees nothing of it out there, and the
        next apply sends it again.

        Its history stays (``state show``): the current record becomes a ``cancelled`` one
        marked :data:`REMOVED_BY`, which plan reads as "nothing of it is out there", as for a
        withdrawn push. So the next send is a new generation with a token never used before:
        the provider would take a repeated IdempotentToken for a retry (EMAS, 15 minutes)
        and refuses a repeated Msgkey (mPaaS), and the old call stays in the ledger under its
        id. (Deleting the rows, as before, made the next apply reuse that call id and stop.)
        Refused while the key is pending or unknown: resolve it first.
        """
        now = self._now()
        with self._write() as tx:
            current = self._current(tx, key)
            if current.status in UNSETTLED:
                raise LedgerConflictError(f"key {key} is unsettled; resolve it before removing")
            if current.status in REPLACEABLE:
                what = "removed already" if forgotten(current) else current.status
                raise LedgerConflictError(
                    f"key {key} is {what}: nothing of it counts as sent, and the next apply "
                    "sends it again as it is; nothing was changed"
                )
            mark = f"{REMOVED_BY} ({actor or 'someone'})"
            tx.execute(sql.SET_KEY_STATUS, (CANCELLED, actor, time_text(now), mark, key))
            said = {"said": "forget it: the next apply sends it again"}
            events.add_events(tx, [_event(current, REMOVED, actor, CANCELLED, said)], now)
        return replace(
            current,
            status=CANCELLED,
            actor=actor or current.actor,
            updated_at=now,
            cancelled_by=mark,
        )

    # ------------------------------------------------------------------ the write lock

    @contextmanager
    def lock(
        self, operation: str, holder: str | None = None, timeout_s: float = 0.0
    ) -> Iterator[LockInfo]:
        """Hold the ledger's write lock for a whole command.

        Waits up to ``timeout_s`` for another holder, then raises :class:`LockTimeoutError`
        naming it. Released on leaving the block, also on an exception; a holder that dies
        loses it with its process (SQLite) or session (PostgreSQL).
        """
        if self._held is not None:
            raise LockError(f"this ledger handle already holds {self._held.describe()}")
        if not wait_for(self._try_lock, timeout_s):
            live = [i for i in self.lock_info() if not i.stale]
            who = live[-1].describe() if live else "a holder that has not written its info yet"
            raise LockTimeoutError(
                f"ledger {self.location} is locked: {who}; waited {timeout_s:g}s "
                "(raise --lock-timeout, or `pushops state unlock LOCK_ID` if it is abandoned)",
                live[-1] if live else None,
            )
        try:
            info = LockInfo(
                lock_id=str(uuid.uuid4()),
                holder=holder or default_holder(),
                operation=operation,
                started_at=self._now(),
                pid=os.getpid(),
                hostname=socket.gethostname(),
                session=self._lock_session(),
            )
            with self._transaction(self._BEGIN_WRITE) as tx:
                # Holding the lock, every row left is from a holder that died: report, clear.
                stale = [lock_from_row(r, stale=True) for r in tx.all(sql.LOCK_ROWS)]
                tx.execute(sql.DELETE_ALL_LOCKS)
                tx.execute(sql.INSERT_LOCK, _lock_row(info))
            for gone in stale:
                log.warning("cleared stale ledger lock info: %s", gone.describe())
            self._held = info
            try:
                yield info
            finally:
                self._held = None
                try:
                    with self._transaction(self._BEGIN_WRITE) as tx:
                        tx.execute(sql.DELETE_LOCK, (info.lock_id,))
                except LedgerError:
                    pass  # database unreachable: the row is stale now; the next locker clears it
        finally:
            self._release_lock()

    def lock_info(self) -> list[LockInfo]:
        """The lock info rows, oldest first; ``stale`` marks those whose holder is gone."""
        with self._read() as tx:
            raw = tx.all(sql.LOCK_ROWS)
        with self._decoding(lambda: "a row of the locks table"):
            rows = [lock_from_row(r) for r in raw]
        live = self._live_lock_ids(rows)
        return [replace(r, stale=r.lock_id not in live) for r in rows]

    def unlock(self, lock_id: str) -> LockInfo:
        """Force-release a lock (``state unlock``); returns what it was.

        The info row goes, so a live holder's next write fails with :class:`LockLostError`
        before it changes anything. On PostgreSQL the holder's lock session is also
        terminated, so the lock is free at once. On SQLite the OS lock of a live process
        cannot be taken from it: it frees when that process notices or ends.
        """
        found = [i for i in self.lock_info() if i.lock_id == lock_id]
        if not found:
            raise NotFoundError(f"no ledger lock {lock_id}")
        info = found[0]
        with self._transaction(self._BEGIN_WRITE) as tx:
            tx.execute(sql.DELETE_LOCK, (lock_id,))
        if not info.stale:
            self._revoke(info)
        return info


def _check_keys(items: Sequence[batch.PendingItem]) -> None:
    """Keys and call ids both backends store alike (validate refuses campaigns that would
    make others; this is the last guard, before anything is written)."""
    texts = [t for call, ds in items for t in (call.call_id, *(d.key for d in ds))]
    # Apply writes 50,000 keys a second: all of them checked at once (joining texts makes no
    # control character nor a longer text); one by one only to name the one at fault.
    if not any_key_problem(texts):
        return
    for call, deliveries in items:
        for what, text in (("call id", call.call_id), *(("key", d.key) for d in deliveries)):
            problem = key_problem(text)
            if problem is not None:
                raise LedgerError(
                    f"{what} {text[:80]!r}{'…' if len(text) > 80 else ''} {problem}; "
                    "nothing was recorded or sent"
                )


def _event(
    current: Delivery, kind: str, actor: str | None, status_to: str, evidence: Any
) -> DeliveryEvent:
    """The event of a change to one key's current record."""
    return DeliveryEvent(
        environment=current.environment,
        kind=kind,
        actor=actor,
        key=current.key,
        call_id=current.call_id,
        status_from=current.status,
        status_to=status_to,
        evidence=evidence,
    )


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:59] + "…"


def _lock_row(info: LockInfo) -> tuple[Any, ...]:
    return (
        info.lock_id,
        info.holder,
        info.operation,
        time_text(info.started_at),
        info.pid,
        info.hostname,
        info.session,
    )


def _override(r: tuple[Any, ...]) -> PolicyOverride:
    created = text_time(r[6])
    assert created is not None
    return PolicyOverride(
        override_id=r[0],
        environment=r[1],
        policy=r[2],
        level=r[3],
        reason=r[4],
        actor=r[5],
        created_at=created,
        git_commit=r[7],
        findings=text_json(r[8]),
    )
