"""The fan-out duplicate-key check, in memory that stays flat however long the data file is.

Each key is reduced to a stable 8-byte digest (blake2b). The first :data:`IN_MEMORY_KEYS`
distinct keys go into :class:`KeyIndex`, an open-addressing table kept at most half full (at
most 2 x 65,536 slots, 1 MB): a repeat of one of them is known at once. Every later key is
first looked up in that table, then spilled with its key, row and line to a private temporary
SQLite database on disk (:class:`KeyCheck`; ~40 bytes a row for short keys, in SQLite's
temporary directory, ``TMPDIR``; 1 MB of page cache, sorting in files); repeats among the
spilled keys are found by one sorted query once the file has been read
(:meth:`KeyCheck.repeats`). Keeping every key in memory instead grew with the file (a Python
set: ~75 bytes a row; the table alone: 16-24), which broke the promise that a fan-out renders
in bounded memory: peak RSS went from 62 MB at 100,000 rows to 83 MB at a million, and is now
the same at both.

Two different keys share a digest with probability ~n²/2^65 (3e-8 at a million rows); such a
pair would be reported as a duplicate key.
"""

from __future__ import annotations

import sqlite3
from array import array
from dataclasses import dataclass
from hashlib import blake2b

from pushops.scratch import scratch_db, scratch_problem

IN_MEMORY_KEYS = 65_536  # keys checked in memory; later ones go to disk (read at KeyCheck())
SPILL_BATCH = 4096  # spilled keys written per executemany
_SIGNED = 1 << 63


def _digest(key: str) -> int:
    # 0 marks an empty slot, so a digest of 0 is moved to 1.
    return int.from_bytes(blake2b(key.encode("utf-8"), digest_size=8).digest(), "little") or 1


class KeyIndex:
    """Digests of keys in an open-addressing table that doubles when half full."""

    def __init__(self, capacity: int = 1024) -> None:
        self._slots = array("Q", bytes(8 * capacity))
        self._mask = capacity - 1
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def add(self, key: str) -> bool:
        """Record ``key``; False if it was recorded before."""
        return self.add_digest(_digest(key))

    def add_digest(self, digest: int) -> bool:
        """Record a (non-zero) digest; False if it was recorded before."""
        slots, mask = self._slots, self._mask
        i = digest & mask
        while True:
            seen = slots[i]
            if seen == 0:
                slots[i] = digest
                self._count += 1
                if self._count * 2 > len(slots):
                    self._grow()
                return True
            if seen == digest:
                return False
            i = (i + 1) & mask

    def has_digest(self, digest: int) -> bool:
        slots, mask = self._slots, self._mask
        i = digest & mask
        while True:
            seen = slots[i]
            if seen == digest:
                return True
            if seen == 0:
                return False
            i = (i + 1) & mask

    def _grow(self) -> None:
        old = self._slots
        self._slots = array("Q", bytes(16 * len(old)))
        self._mask = 2 * len(old) - 1
        slots, mask = self._slots, self._mask
        for digest in old:
            if digest:
                i = digest & mask
                while slots[i]:
                    i = (i + 1) & mask
                slots[i] = digest


class KeyCheckError(Exception):
    """The temporary database of spilled keys could not be written or read (a full or
    unwritable temporary directory): the keys cannot be checked, so nothing may be sent."""


@dataclass(frozen=True)
class Repeat:
    """A row whose key an earlier row already had."""

    key: str
    row: int
    line: int
    first_row: int
    first_line: int


class KeyCheck:
    """The keys of one data file's rows: :meth:`add` each row's key in row order, then, once
    every row has been added, :meth:`repeats` for the repeats :meth:`add` could not tell.
    Close it (it is a context manager) to drop the temporary database."""

    def __init__(self, in_memory: int | None = None) -> None:
        self._limit = IN_MEMORY_KEYS if in_memory is None else in_memory
        self._index = KeyIndex()
        # The batch waiting to be spilled, in columns: tuples that live until the next write
        # would make the garbage collector run (and walk the whole heap) far more often.
        self._rows, self._lines, self._digests = array("q"), array("q"), array("q")
        self._keys: list[str] = []
        self._db: sqlite3.Connection | None = None
        self.spilled = 0

    def __enter__(self) -> KeyCheck:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add(self, key: str, row: int, line: int) -> bool:
        """False if ``key`` repeats one of the keys kept in memory (known at once). True
        otherwise, including for a repeat of a spilled key: :meth:`repeats` reports those."""
        digest = _digest(key)
        index = self._index
        if len(index) < self._limit:
            return index.add_digest(digest)
        if index.has_digest(digest):
            return False
        self._rows.append(row)
        self._lines.append(line)
        self._digests.append(digest - (1 << 64) if digest >= _SIGNED else digest)  # as SQLite's
        self._keys.append(key)
        if len(self._keys) >= SPILL_BATCH:
            self._flush()
        return True

    def _flush(self) -> None:
        try:
            self._write()
        except sqlite3.Error as exc:
            raise KeyCheckError(_explain(exc)) from None

    def _write(self) -> None:
        if not self._keys:
            return
        db = self._db
        if db is None:
            db = self._db = scratch_db(
                "CREATE TABLE spilled (row INTEGER PRIMARY KEY, line INTEGER, digest INTEGER, "
                "key TEXT)"
            )
        db.executemany(
            "INSERT INTO spilled VALUES (?, ?, ?, ?)",
            zip(self._rows, self._lines, self._digests, self._keys, strict=True),
        )
        self.spilled += len(self._keys)
        self._clear()

    def _clear(self) -> None:
        for column in (self._rows, self._lines, self._digests):
            del column[:]
        self._keys.clear()

    def repeats(self, limit: int) -> tuple[list[Repeat], int]:
        """The first ``limit`` rows (in row order) whose key an earlier spilled row had, each
        with that first row, and how many such rows there are in all."""
        self._flush()
        try:
            return self._repeats(limit)
        except sqlite3.Error as exc:
            raise KeyCheckError(_explain(exc)) from None

    def _repeats(self, limit: int) -> tuple[list[Repeat], int]:
        db = self._db
        if db is None:
            return [], 0
        db.execute("CREATE TABLE repeated (digest INTEGER PRIMARY KEY, first INTEGER, n INTEGER)")
        db.execute(
            "INSERT INTO repeated SELECT digest, MIN(row), COUNT(*) FROM spilled "
            "GROUP BY digest HAVING COUNT(*) > 1"
        )
        (total,) = db.execute("SELECT COALESCE(SUM(n - 1), 0) FROM repeated").fetchone()
        if not total or limit <= 0:
            return [], total
        # CROSS JOIN keeps the scan of spilled outermost, in row order: no index on digest.
        found = db.execute(
            "SELECT s.key, s.row, s.line, f.row, f.line FROM spilled AS s "
            "CROSS JOIN repeated AS r ON r.digest = s.digest "
            "CROSS JOIN spilled AS f ON f.row = r.first "
            "WHERE s.row > r.first ORDER BY s.row LIMIT ?",
            (limit,),
        ).fetchall()
        return [Repeat(*values) for values in found], total

    def close(self) -> None:
        self._clear()
        if self._db is not None:
            self._db.close()
            self._db = None


def _explain(exc: sqlite3.Error) -> str:
    return scratch_problem("check the keys for repeats", exc)
