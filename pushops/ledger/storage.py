"""What the batched writes and export/import need from a ledger backend, and nothing more.

:mod:`~pushops.ledger.batch` and :mod:`~pushops.ledger.exchange` work through this
:class:`Storage` protocol, which :class:`~pushops.ledger.base.Ledger` implements, so they
depend on these few primitives rather than on the ledger class that calls them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol, TypeVar

from pushops.ledger import sql
from pushops.ledger.codec import CALL_COLUMNS, CallPacks, call_rows_apart

T = TypeVar("T")


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class Tx:
    """A cursor inside one transaction that speaks ``?`` placeholders on every backend."""

    __slots__ = ("_cur", "_fix")

    def __init__(self, cursor: Any, fix: Callable[[str], str]) -> None:
        self._cur = cursor
        self._fix = fix

    def execute(self, query: str, params: Sequence[Any] = ()) -> int:
        self._cur.execute(self._fix(query), params)
        return int(self._cur.rowcount)

    def executemany(self, query: str, rows: Iterable[Sequence[Any]]) -> None:
        rows = list(rows)
        if rows:
            self._cur.executemany(self._fix(query), rows)

    def one(self, query: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        self._cur.execute(self._fix(query), params)
        row: tuple[Any, ...] | None = self._cur.fetchone()
        return row

    def all(self, query: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        self._cur.execute(self._fix(query), params)
        return list(self._cur.fetchall())

    @property
    def raw(self) -> Any:
        return self._cur

    def side(self) -> Tx:
        """Another cursor in the same transaction: a query while this one streams rows."""
        return Tx(self._cur.connection.cursor(), self._fix)


def requests_apart(storage: Storage) -> bool:
    """Whether the ledger keeps each call's request in call_requests (schema version 4 on);
    an older one, read as it is, still holds it in calls.request."""
    return storage.has_table("call_requests")


def select_calls(storage: Storage, query: str) -> str:
    """``query`` (``SELECT {calls} ...``, see sql.calls_query) for the ledger's layout."""
    return sql.calls_query(query, requests_apart(storage))


def insert_calls(
    storage: Storage, tx: Tx, rows: list[tuple[Any, ...]], packs: list[bytes] | None = None
) -> None:
    """Write call rows (CALL_COLUMNS) in the ledger's layout: since schema version 4, each
    call's request into call_requests, once; with ``packs`` (schema version 6, one for each
    row), the requests of its deliveries beside it (codec.packed_deliveries)."""
    if not requests_apart(storage):
        storage.insert_rows(tx, "calls", CALL_COLUMNS, rows)
        return
    calls, requests = call_rows_apart(rows, packed=storage.packs_requests)
    storage.insert_rows(tx, "calls", CALL_COLUMNS, calls)
    if packs is None:
        storage.insert_rows(tx, "call_requests", sql.REQUEST_COLUMNS, requests)
        return
    storage.insert_rows(
        tx,
        "call_requests",
        sql.REQUEST_AND_DELIVERIES,
        [
            (call_id, request, pack)
            for (call_id, request), pack in zip(requests, packs, strict=True)
        ],
    )


class Storage(Protocol):
    """The backend primitives batched writes and export/import are written against."""

    def insert_rows(
        self, tx: Tx, table: str, columns: tuple[str, ...], rows: Sequence[Sequence[Any]]
    ) -> None: ...

    def member_tests(self, values: Sequence[Any]) -> Iterator[tuple[str, Sequence[Any]]]: ...

    def first_try(self, tx: Tx, write: Callable[[], None]) -> bool: ...

    def current_of_keys(self, keys: Sequence[str]) -> Iterator[tuple[str, Sequence[Any]]]: ...

    def settle_sent(
        self, tx: Tx, answers: Sequence[tuple[str, Mapping[int, str | None]]], stamp: str | None
    ) -> None: ...

    def settle_rest(
        self, tx: Tx, call_ids: Sequence[str], status: str, params: Sequence[Any]
    ) -> None: ...

    def stream_rows(
        self, tx: Tx, query: str, params: Sequence[Any]
    ) -> Iterator[tuple[Any, ...]]: ...

    def snapshot(self) -> AbstractContextManager[Tx]: ...

    def call_packs(self, tx: Tx) -> CallPacks: ...

    def bulk_load(self) -> AbstractContextManager[Tx]: ...

    @property
    def has_events(self) -> bool: ...

    def has_table(self, table: str) -> bool: ...

    @property
    def packs_requests(self) -> bool: ...

    @property
    def packs_deliveries(self) -> bool: ...
