"""The embedded default: one SQLite file (``.pushops/state.db``) in WAL mode.

The write lock is an ``flock`` on ``<db>.lock`` beside it, which the kernel drops when the
holding process dies, so a SIGKILLed apply never leaves the ledger locked.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from pushops.ledger import sql
from pushops.ledger.base import STREAM_BATCH, Clock, Ledger
from pushops.ledger.codec import json_text
from pushops.ledger.errors import (
    LedgerBusyError,
    LedgerConflictError,
    LedgerCorruptError,
    LedgerError,
    LedgerMissingError,
)
from pushops.ledger.locking import FileLock
from pushops.ledger.records import LockInfo
from pushops.ledger.storage import Tx

_CORRUPT = {"SQLITE_CORRUPT", "SQLITE_NOTADB"}

# Settling a call, one statement per call, not one per delivery: each delivery of the call
# gets its position's MessageId where the provider answered one (else keeps what it had: none,
# as written ahead) and is settled. The MessageIds go in as one blob of fixed-width slots,
# slot N holding position N's padded with spaces (all spaces, or past the end: none), each
# read in constant time. A JSON object by position, which SQLite before 3.45 parses again for
# every row, took 0.66 ms of CPU a call of 100 deliveries against 0.56 (settling
# bench_ledger's calls, best of three); a statement per delivery more. MessageIds that do not
# fit (not ASCII, spaces at either end, empty) take the JSON. One statement where there were
# two (the answered positions, then the rest of the call), as on PostgreSQL (see
# bench/README.md, 2026-12-03).
_SLOT = "substr(?1, position * ?4 + 1, ?4)"
_SETTLE_PACKED = (
    f"UPDATE deliveries SET status = {sql.SENT_STATUS},"
    f" message_id = COALESCE(NULLIF(rtrim(CAST({_SLOT} AS TEXT)), ''), message_id),"
    f" updated_at = ?2 WHERE call_id = ?3 AND is_current = 1 AND status IN {sql.UNSETTLED_IN}"
)
_POSITION = "'$.\"' || position || '\"'"
_SETTLE_SPELLED = (
    f"UPDATE deliveries SET status = {sql.SENT_STATUS},"
    f" message_id = COALESCE(json_extract(?1, {_POSITION}), message_id), updated_at = ?2"
    f" WHERE call_id = ?3 AND is_current = 1 AND status IN {sql.UNSETTLED_IN}"
)


def packed_ids(ids: dict[int, str | None]) -> tuple[bytes, int] | None:
    """A call's MessageIds by position as fixed-width slots (see _PACKED_IDS) and the width,
    or None when one does not fit them."""
    width = 1
    for message_id in ids.values():
        if message_id is not None:
            if not message_id.isascii() or message_id.strip() != message_id or not message_id:
                return None
            width = max(width, len(message_id))
    slots = [b" " * width] * (max(ids, default=-1) + 1)
    for position, message_id in ids.items():
        if message_id is not None:
            slots[position] = message_id.encode().ljust(width)
    return b"".join(slots), width


def _has_json() -> bool:
    """Whether this SQLite has the JSON functions (built in since 3.38, usually before)."""
    try:
        with sqlite3.connect(":memory:") as probe:
            return probe.execute("SELECT json_type('{\"0\": null}', '$.\"0\"')").fetchone() == (
                "null",
            )
    except sqlite3.Error:
        return False


_JSON = _has_json()


class SqliteLedger(Ledger):
    backend = "sqlite"
    # IMMEDIATE takes the write lock at BEGIN, so two writers queue on the busy timeout
    # instead of one failing when it upgrades from reader to writer.
    _BEGIN_WRITE = "BEGIN IMMEDIATE"
    _BEGIN_READ = "BEGIN DEFERRED"

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        clock: Clock | None = None,
        busy_timeout_s: float = 5.0,
        create: bool = True,
        migrate: bool = True,
    ) -> None:
        super().__init__(clock=clock)
        self.path = Path(path)
        self.location = str(self.path)
        self._busy_timeout_s = busy_timeout_s
        self._file_lock = FileLock(self.path.with_name(self.path.name + ".lock"))
        self._conn: sqlite3.Connection | None = None
        with self._errors():
            # One thread at a time, but not always the one that opened it: apply writes from a
            # thread of its own while its event loop sends (pushops/apply/writer.py).
            if create:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(
                    self.path, isolation_level=None, timeout=busy_timeout_s,
                    check_same_thread=False,
                )  # fmt: skip
            elif not self.path.is_file():
                raise LedgerMissingError(f"no ledger at {self.location}: no such file")
            else:
                # mode=rw: open what is there, never create a file.
                uri = f"file:{quote(str(self.path.absolute()))}?mode=rw"
                conn = sqlite3.connect(
                    uri, uri=True, isolation_level=None, timeout=busy_timeout_s,
                    check_same_thread=False,
                )  # fmt: skip
            self._conn = conn
            try:
                # Durability: synchronous=FULL syncs the WAL at every commit. NORMAL (in WAL
                # mode) also survives a crash of the process, since committed frames are in
                # the OS's page cache; only a power loss or kernel crash can drop the last
                # transactions. We keep FULL: a dropped write-ahead record of a call that did
                # go out means a second send once the provider's 15-minute token window has
                # passed, and with batched writes (record_pending_many) the fsync is paid once
                # per batch: measured 310 vs 330 calls/s (FULL vs NORMAL, batches of 50 calls
                # of 100 deliveries) - no reason to trade the guarantee away. Both settings
                # belong to this connection, not to the file.
                conn.execute("PRAGMA synchronous = FULL")
                conn.execute("PRAGMA foreign_keys = ON")
                # A page cache of 32 MiB, not 2: apply's batches (10,000 deliveries written
                # ahead, then settled) touch more pages than the default holds, so each was
                # read back from the file: ~100 preads a call. Measured on 100,000 deliveries:
                # 0.45 -> 0.33 ms of system time a call, ~20% less wall time.
                conn.execute("PRAGMA cache_size = -32768")
                self._prepare(create, migrate)
            except BaseException:
                self.close()
                raise

    def _before_writing(self) -> None:
        # WAL lets plan read while apply writes. The mode is kept in the file, so it is set
        # only once the file is known to be a pushops ledger (or new): a foreign database
        # given by mistake is refused unchanged.
        assert self._conn is not None
        with self._errors():
            self._use_wal(self._conn)

    def _use_wal(self, conn: sqlite3.Connection) -> None:
        # Switching to WAL needs the file to itself, and SQLite answers "database is locked"
        # at once, not through the busy timeout, while another process is creating the same
        # new ledger (two applies started together on a fresh checkout): wait for it here,
        # within the same timeout. The mode is kept in the file, so this is a no-op later.
        deadline = time.monotonic() + self._busy_timeout_s
        pause = 0.005
        while True:
            try:
                conn.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                busy = "locked" in str(exc) or "busy" in str(exc)
                if not busy or time.monotonic() + pause > deadline:
                    raise
            time.sleep(pause)
            pause = min(2 * pause, 0.1)

    def settle_sent(
        self, tx: Tx, answers: Sequence[tuple[str, Mapping[int, str | None]]], stamp: str | None
    ) -> None:
        if not _JSON:
            super().settle_sent(tx, answers, stamp)
            return
        packed, spelled = [], []
        for call_id, ids in answers:
            slots = packed_ids(ids)
            if slots is None:
                text = json_text({str(p): m for p, m in ids.items()})
                spelled.append((text, stamp, call_id))
            else:
                packed.append((slots[0], stamp, call_id, slots[1]))
        tx.executemany(_SETTLE_PACKED, packed)
        tx.executemany(_SETTLE_SPELLED, spelled)

    def close(self) -> None:
        self._file_lock.release()
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _cursor(self) -> sqlite3.Cursor:
        if self._conn is None:
            raise LedgerError(f"ledger {self.location} is closed")
        return self._conn.cursor()

    def _fix(self, query: str) -> str:
        return query

    def _translate(self, exc: BaseException) -> LedgerError | None:
        where = self.location
        if isinstance(exc, OSError):  # the directory or the lock file beside the database
            if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
                return LedgerError(
                    f"cannot use SQLite ledger {where}: {exc.filename or 'its folder'} is "
                    f"read-only for this user ({exc.strerror}); nothing was written"
                )
            if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
                return LedgerError(
                    f"cannot use SQLite ledger {where}: the disk is full ({exc.strerror}); "
                    "nothing was written: free some space and run again"
                )
            return LedgerError(f"cannot use SQLite ledger {where}: {exc}")
        if not isinstance(exc, sqlite3.Error):
            return None
        text = str(exc)
        name = getattr(exc, "sqlite_errorname", "")
        if isinstance(exc, sqlite3.IntegrityError):
            return LedgerConflictError(f"SQLite ledger {where}: {text}")
        if name in _CORRUPT or "malformed" in text or "not a database" in text:
            return LedgerCorruptError(
                f"SQLite ledger {where} is damaged or not a database ({text}); "
                "nothing was written: restore it from a backup or a `pushops state export`"
            )
        if name.startswith("SQLITE_READONLY") or "readonly database" in text:
            return LedgerError(
                f"SQLite ledger {where} is read-only: this user cannot write the file or the "
                f"folder it is in (SQLite writes {self.path.name}-wal and -shm beside it) "
                f"({text}); nothing was written"
            )
        if name == "SQLITE_FULL" or name.startswith("SQLITE_IOERR"):
            return LedgerError(
                f"writing SQLite ledger {where} failed: the disk is full, or a quota or "
                f"file-size limit was reached ({text}); the transaction in flight was rolled "
                "back, nothing of it was written: free some space and run again"
            )
        if name.startswith("SQLITE_CANTOPEN"):
            return LedgerError(
                f"cannot open SQLite ledger {where} ({text}): check that its folder exists "
                "and that this user may read and write it"
            )
        if "locked" in text or "busy" in text:
            return LedgerBusyError(
                f"SQLite ledger {where} stayed busy for more than "
                f"{self._busy_timeout_s:g}s ({text})"
            )
        return LedgerError(f"SQLite ledger {where}: {text}")

    def stream_rows(self, tx: Tx, query: str, params: Sequence[Any]) -> Iterator[tuple[Any, ...]]:
        cursor = tx.raw
        cursor.arraysize = STREAM_BATCH
        cursor.execute(query, params)
        while rows := cursor.fetchmany():
            yield from rows

    def _migration_guard(self, tx: Tx) -> None:
        # BEGIN IMMEDIATE already serialises first opens, and the file is the namespace.
        return None

    def _tables(self, tx: Tx) -> set[str]:
        rows = tx.all("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {r[0] for r in rows if not r[0].startswith("sqlite_")}

    # --- lock: flock on the file beside the database

    def _try_lock(self) -> bool:
        with self._errors():
            return self._file_lock.try_acquire()

    def _release_lock(self) -> None:
        self._file_lock.release()

    def _lock_session(self) -> int | None:
        return None

    def _live_lock_ids(self, rows: list[LockInfo]) -> set[str]:
        if self._held is not None:
            return {self._held.lock_id}
        # Only one holder can have the flock, and it writes its row after every older one.
        return {rows[-1].lock_id} if rows and self._file_lock.busy() else set()

    def _revoke(self, info: LockInfo) -> None:
        # The kernel will not take an flock from a live process; with its row gone the
        # holder's next write raises LockLostError and its with-block releases the flock.
        return None
