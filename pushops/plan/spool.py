"""Append-only sequences that keep a plan's per-delivery data in bounded memory.

A fan-out of a million rows makes a million actions and ten thousand calls: as Python
objects that was about a gigabyte. A :class:`Spool` keeps the last few thousand items in
memory and writes the rest, pickled in blocks, to an anonymous temporary file (deleted by
the OS when it is closed or the process ends, however it ends); iterating reads them back in
the order they were appended, as many times as needed. :class:`SortedSpool` sorts each run
of items before writing it and merges the runs while iterating (an external merge sort), so
a plan's actions still come out in key order without ever being all in memory.

Items go in and come out through ``encode`` and ``decode`` (an object <-> a tuple of plain
values): pickling tuples is several times faster than pickling dataclass instances. The file
is private to this process and only ever read back by it.
"""

from __future__ import annotations

import heapq
import os
import pickle
import tempfile
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any, Generic, TypeVar

T = TypeVar("T")

BLOCK = 2048  # items per pickled block on disk (and read back at a time)
RUN = 65_536  # items sorted in memory per run of a SortedSpool


def _identity(item: Any) -> Any:
    return item


class Spool(Generic[T]):
    """A list that can only be appended to and iterated, mostly on disk."""

    def __init__(
        self,
        encode: Callable[[T], Any] = _identity,
        decode: Callable[[Any], T] = _identity,
        *,
        block: int = BLOCK,
    ) -> None:
        self._encode = encode
        self._decode = decode
        self._block = block
        self._buffer: list[Any] = []
        self._file: IO[bytes] | None = None
        self._size = 0  # bytes written to the file
        self._blocks: list[tuple[int, int]] = []  # (offset, length) of each block written
        self._len = 0

    def append(self, item: T) -> None:
        self.append_encoded(self._encode(item))

    def append_encoded(self, encoded: Any) -> None:
        """Append an item already in its encoded form (what ``encode`` would make of it)."""
        self._buffer.append(encoded)
        self._len += 1
        if len(self._buffer) >= self._block:
            self._blocks.append(self._write(self._buffer))
            self._buffer = []

    def extend(self, items: Iterable[T]) -> None:
        for item in items:
            self.append(item)

    def __len__(self) -> int:
        return self._len

    def __bool__(self) -> bool:
        return self._len > 0

    def __iter__(self) -> Iterator[T]:
        decode = self._decode
        for where in list(self._blocks):
            for encoded in self._read(where):
                yield decode(encoded)
        for encoded in list(self._buffer):
            yield decode(encoded)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __del__(self) -> None:
        self.close()

    # ------------------------------------------------------------------ the file

    def _write(self, items: list[Any]) -> tuple[int, int]:
        if self._file is None:
            self._file = tempfile.TemporaryFile(prefix="pushops-plan-")  # noqa: SIM115
        data = pickle.dumps(items, protocol=pickle.HIGHEST_PROTOCOL)
        offset = self._size
        os.pwrite(self._file.fileno(), data, offset)
        self._size += len(data)
        return offset, len(data)

    def _read(self, where: tuple[int, int]) -> list[Any]:
        assert self._file is not None
        offset, length = where
        data = os.pread(self._file.fileno(), length, offset)
        items: list[Any] = pickle.loads(data)
        return items


class SortedSpool(Spool[T]):
    """A :class:`Spool` that iterates in the order of ``key`` (stable: equal keys keep the
    order they were appended in)."""

    def __init__(
        self,
        key: Callable[[Any], Any],
        encode: Callable[[T], Any] = _identity,
        decode: Callable[[Any], T] = _identity,
        *,
        block: int = BLOCK,
        run: int = RUN,
    ) -> None:
        """``key`` reads the encoded form (a tuple), not the item."""
        super().__init__(encode, decode, block=block)
        self._key = key
        self._run = run
        self._runs: list[list[tuple[int, int]]] = []  # the blocks of each sorted run

    def append(self, item: T) -> None:
        self.append_encoded(self._encode(item))

    def append_encoded(self, encoded: Any) -> None:
        """Append an item already in its encoded form (what ``encode`` would make of it)."""
        self._buffer.append(encoded)
        self._len += 1
        if len(self._buffer) >= self._run:
            self._spill()

    def _spill(self) -> None:
        self._buffer.sort(key=self._key)
        items, self._buffer = self._buffer, []
        step = self._block
        self._runs.append([self._write(items[i : i + step]) for i in range(0, len(items), step)])

    def _run_items(self, blocks: list[tuple[int, int]]) -> Iterator[Any]:
        for where in blocks:
            yield from self._read(where)

    def __iter__(self) -> Iterator[T]:
        decode = self._decode
        tail = sorted(self._buffer, key=self._key)
        if not self._runs:
            for encoded in tail:
                yield decode(encoded)
            return
        runs = [self._run_items(blocks) for blocks in list(self._runs)]
        for encoded in heapq.merge(*runs, iter(tail), key=self._key):
            yield decode(encoded)
