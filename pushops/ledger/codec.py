"""Records <-> database rows, one definition for every backend.

Times are stored as fixed-width ISO 8601 UTC text (microseconds, ``+00:00``) and JSON as
compact text, in SQLite and PostgreSQL alike: both sort and compare the same way, the request
keeps its exact key order (``jsonb`` would reorder it), and an export/import between backends
is byte-for-byte lossless. Two exceptions, for what apply writes 500 times a second: since
schema version 5 a call's request, the largest value by far (~29 KB of encoded form for a
MassPush of 100 tasks), is stored as a zstd frame of that text (:func:`packed_request`); since
version 6 the requests of the deliveries apply writes ahead are stored once per call, beside
it, as one zstd frame of their texts (:func:`packed_deliveries`), each delivery row holding
:data:`IN_CALL` in their place. Every reader gets the text back (:class:`CallPacks`).
"""

from __future__ import annotations

import json
import math
from collections import OrderedDict
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from typing import Any, TypeVar

import orjson
import zstandard

from pushops.ledger.records import Call, Delivery, PendingDelivery

CALL_COLUMNS = (
    "call_id",
    "environment",
    "provider",
    "app",
    "action",
    "token",
    "request",
    "status",
    "attempts",
    "response",
    "error_code",
    "error_message",
    "request_id",
    "created_at",
    "sent_at",
    "updated_at",
    "git_commit",
    "actor",
)

DELIVERY_COLUMNS = (
    "key",
    "environment",
    "campaign",
    "task",
    "fingerprint",
    "request",
    "call_id",
    "position",
    "status",
    "message_id",
    "due_at",
    "expires_at",
    "created_at",
    "updated_at",
    "git_commit",
    "actor",
    "cancelled_by",
    "generation",
    "is_current",
)

_fromiso = datetime.fromisoformat
T = TypeVar("T")


def time_text(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        # A naive time is ambiguous across machines and CI runners; refuse it at the door.
        raise ValueError(f"naive datetime {value!r}: the ledger needs timezone-aware times")
    return value.astimezone(timezone.utc).isoformat(timespec="microseconds")


def text_time(value: str | None) -> datetime | None:
    return None if value is None else _fromiso(value)


# The stdlib encoder, for what orjson declines (integers beyond 64 bits, keys that are not
# text): the same compact text either way.
_stdlib_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode


def finite(value: Any) -> bool:
    """Whether ``value`` holds no NaN or infinity (JSON has neither; orjson writes null)."""
    if type(value) is float:
        return math.isfinite(value)
    if type(value) is dict:
        return all(finite(v) for v in value.values())
    if type(value) is list:
        return all(finite(v) for v in value)
    return True


def _encode(value: Any) -> str:
    """Compact JSON text, as ``json.dumps(value, ensure_ascii=False, separators=(",", ":"),
    allow_nan=False)``: apply writes a request per delivery, 50,000 a second at the quota,
    and orjson encodes one several times faster than the stdlib encoder.
    """
    try:
        data = orjson.dumps(value)
    except TypeError:  # an integer beyond 64 bits, a key that is not text
        return _stdlib_encode(value)
    if b"null" in data and not finite(value):
        # orjson writes NaN and infinities as null; the ledger refuses them as before.
        raise ValueError(f"{str(value)[:80]}: not a finite number, which JSON cannot hold")
    return data.decode()


def json_text(value: Any) -> str:
    return _encode(value)


def text_json(value: str | bytes | None) -> Any:
    # The stdlib reader: orjson reads an integer beyond 64 bits as a float, losing digits.
    if value is None:
        return None
    return json.loads(value if type(value) is str else unpacked_text(value))


# Level 1: 29 KB of a MassPush's form becomes ~2 KB in ~0.03 ms on apply's writer thread;
# higher levels spend more time for a few percent.
_PACK_LEVEL = 1
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def packed_request(text: str) -> bytes:
    """A call's request text as it is stored (schema version 5): apply writes one ahead per
    call, 500 a second at the quota, and the ledger's work follows its bytes (SQLite's pages
    written twice, to the WAL and back; PostgreSQL's TOAST and wire)."""
    return zstandard.compress(text.encode(), _PACK_LEVEL)


def unpacked_text(value: bytes | memoryview) -> str:
    """The text of a stored request: a zstd frame (:func:`packed_request`), or the UTF-8 text
    of one stored before schema version 5 (PostgreSQL's bytea kept it as it was)."""
    raw = bytes(value)
    if not raw.startswith(_ZSTD_MAGIC):
        return raw.decode()
    try:
        return zstandard.decompress(raw).decode()
    except zstandard.ZstdError as exc:  # a damaged frame: the ledger's "damaged" error names it
        raise ValueError(f"a damaged zstd frame ({exc})") from exc


# A delivery row's request held by its call (schema version 6): the empty text, which no JSON
# value encodes to, so a row says for itself where its request is.
IN_CALL = ""
# What a read keeps of the calls whose rows it met, and why (CallPacks): a row costs a dict
# lookup when its call's rows come one after another, as when a fan-out's data file is sorted
# by its key and the rows are read by key; otherwise it costs its call's frame decompressed
# (~25 KB for a call of 100: ~20 us) and its line found, without a query while the frame is
# among the last BLOBS_KEPT (~3 KB each). Fetching and splitting each pack again instead made
# reading 100,000 rows whose calls interleave 8x slower than rows holding their own requests
# (12.6 s against 1.5 s; bench/README.md, 2026-12-03). Both bounds hold the read's memory
# where it was (bench_ledger --quick: 28.6 MB peak; 64 and 4,096 took it to 31.3, over 30).
PACKS_KEPT = 16
BLOBS_KEPT = 1024


def packed_deliveries(requests: Iterable[tuple[str, str]]) -> bytes:
    """The requests of a call's deliveries as stored once, with the call (schema version 6):
    a zstd frame of ``key<TAB>request JSON`` lines. Neither part can hold a tab or a line
    break (a key holds no control character, and JSON escapes them in its strings).

    Each request was 215 bytes of a delivery's row (a fan-out PushTask), two fifths of it:
    written ahead, and its page rewritten again as the call settled. Packed once per call,
    SQLite settled 1,194-1,274 calls/s instead of 780-806 and PostgreSQL wrote 350-384 calls/s
    ahead instead of 281-311 (bench_ledger interleaved, a slow hour; bench/README.md)."""
    return packed_request("".join(f"{key}\t{request}\n" for key, request in requests))


def _unpacked_text(value: bytes | memoryview) -> str:
    try:
        return unpacked_text(value)
    except ValueError as exc:  # a damaged frame, or bytes that are not UTF-8
        raise ValueError(f"delivery requests: {exc}") from exc


def _requests_by_key(text: str) -> dict[str, str]:
    # Split on the line feed alone: str.splitlines also breaks at U+2028, U+0085 and the
    # like, which JSON leaves unescaped in a request's strings.
    lines = text.split("\n")
    if lines.pop() != "":
        raise ValueError("a damaged frame of delivery requests (its last line is cut)")
    try:
        return dict(line.split("\t", 1) for line in lines)
    except ValueError:  # a line without its tab
        raise ValueError("a damaged frame of delivery requests (a line without its key)") from None


def _request_of(text: str, key: str) -> str | None:
    """The request text of ``key`` in a pack's text, found without splitting the rest."""
    needle = key + "\t"
    if text.startswith(needle):
        at = 0
    else:
        at = text.find("\n" + needle) + 1
        if at == 0:
            return None
    end = text.find("\n", at)
    if end < 0:
        raise ValueError("a damaged frame of delivery requests (its last line is cut)")
    return text[at + len(needle) : end]


def _keep(kept: OrderedDict[str, T], call_id: str, value: T, most: int) -> T:
    """``value`` kept as the newest of ``kept``, the oldest dropped past ``most``."""
    kept[call_id] = value
    if len(kept) > most:
        kept.popitem(last=False)
    return value


class CallPacks:
    """The requests of deliveries rows that hold :data:`IN_CALL`, read from their calls'
    packs while one read runs (see :data:`PACKS_KEPT` for what it keeps). ``fetch`` gives a
    call's pack (None: it has none)."""

    def __init__(self, fetch: Callable[[str], bytes | memoryview | None]) -> None:
        self._fetch = fetch
        self._decoded: OrderedDict[str, dict[str, str]] = OrderedDict()
        self._blobs: OrderedDict[str, bytes] = OrderedDict()
        # The call of the row before: its requests by key once a second row of it came,
        # before that its pack's text.
        self._last_id: str | None = None
        self._last: dict[str, str] | None = None
        self._last_text = ""

    def text(self, call_id: str, key: str) -> str:
        if call_id == self._last_id:
            if self._last is None:  # a second row of this call: decode it whole
                decoded = _requests_by_key(self._last_text)
                self._last = _keep(self._decoded, call_id, decoded, PACKS_KEPT)
                self._last_text = ""
            found = self._last.get(key)
        elif (decoded := self._decoded.get(call_id)) is not None:
            self._decoded.move_to_end(call_id)
            self._last_id, self._last = call_id, decoded
            found = decoded.get(key)
        else:
            text = _unpacked_text(self._blob(call_id))
            self._last_id, self._last, self._last_text = call_id, None, text
            found = _request_of(text, key)
        if found is None:
            raise ValueError(f"its request is held by call {call_id}, which has none of it")
        return found

    def _blob(self, call_id: str) -> bytes:
        blob = self._blobs.get(call_id)
        if blob is not None:
            self._blobs.move_to_end(call_id)
            return blob
        fetched = self._fetch(call_id)
        if fetched is None:
            raise ValueError(f"its request is held by call {call_id}, which holds none")
        return _keep(self._blobs, call_id, bytes(fetched), BLOBS_KEPT)

    def request(self, stored: str, call_id: str, key: str) -> Any:
        """The request of a delivery row: its own text, or its call's."""
        return text_json(self.text(call_id, key) if stored == IN_CALL else stored)


def call_row(c: Call) -> tuple[Any, ...]:
    return (
        c.call_id,
        c.environment,
        c.provider,
        c.app,
        c.action,
        c.token,
        json_text(c.request),
        c.status,
        c.attempts,
        None if c.response is None else json_text(c.response),
        c.error_code,
        c.error_message,
        c.request_id,
        time_text(c.created_at),
        time_text(c.sent_at),
        time_text(c.updated_at),
        c.git_commit,
        c.actor,
    )


_REQUEST_AT = CALL_COLUMNS.index("request")


def call_rows_apart(
    rows: list[tuple[Any, ...]], *, packed: bool
) -> tuple[list[tuple[Any, ...]], list[tuple[str, str | bytes]]]:
    """Call rows (CALL_COLUMNS) as schema version 4 stores them: the calls rows with their
    request emptied, and (call_id, request) for call_requests, the request ``packed`` as
    version 5 stores it."""
    at = _REQUEST_AT
    pack = packed_request if packed else str
    return [(*r[:at], "", *r[at + 1 :]) for r in rows], [(r[0], pack(r[at])) for r in rows]


def row_call(r: tuple[Any, ...]) -> Call:
    return Call(
        call_id=r[0],
        environment=r[1],
        provider=r[2],
        app=r[3],
        action=r[4],
        token=r[5],
        request=text_json(r[6]),
        status=r[7],
        attempts=r[8],
        response=text_json(r[9]),
        error_code=r[10],
        error_message=r[11],
        request_id=r[12],
        created_at=text_time(r[13]),
        sent_at=text_time(r[14]),
        updated_at=text_time(r[15]),
        git_commit=r[16],
        actor=r[17],
    )


def delivery_row(d: Delivery) -> tuple[Any, ...]:
    return (
        d.key,
        d.environment,
        d.campaign,
        d.task,
        d.fingerprint,
        json_text(d.request),
        d.call_id,
        d.position,
        d.status,
        d.message_id,
        time_text(d.due_at),
        time_text(d.expires_at),
        time_text(d.created_at),
        time_text(d.updated_at),
        d.git_commit,
        d.actor,
        d.cancelled_by,
        d.generation,
        1 if d.current else 0,
    )


def _pending_row(
    key: str,
    environment: str,
    campaign: str,
    task: str,
    fingerprint: str,
    request: str,
    call_id: str,
    position: int,
    message_id: str | None,
    due_at: datetime | None,
    expires_at: datetime | None,
    stamp: str | None,
    git_commit: str | None,
    actor: str | None,
    generation: int,
) -> tuple[Any, ...]:
    """A delivery's row (DELIVERY_COLUMNS) as it is written ahead: pending and current;
    ``request`` as stored (its JSON text, or IN_CALL)."""
    return (
        key,
        environment,
        campaign,
        task,
        fingerprint,
        request,
        call_id,
        position,
        "pending",
        message_id,
        None if due_at is None else time_text(due_at),
        None if expires_at is None else time_text(expires_at),
        stamp,
        stamp,
        git_commit,
        actor,
        None,
        generation,
        1,
    )


def pending_delivery_row(
    d: Delivery, call: Call, position: int, stamp: str | None, generation: int, request: str
) -> tuple[Any, ...]:
    """The row of a delivery written ahead of its call; the fields the ledger owns are set;
    ``request`` as stored (:func:`json_text` of ``d.request``, or IN_CALL).

    Same columns as :func:`delivery_row`, without building a new Delivery for each one.
    """
    return _pending_row(
        d.key, d.environment, d.campaign, d.task, d.fingerprint, request, call.call_id,
        position if d.position is None else d.position, d.message_id, d.due_at, d.expires_at,
        stamp, call.git_commit if d.git_commit is None else d.git_commit,
        call.actor if d.actor is None else d.actor, generation,
    )  # fmt: skip


def planned_delivery_row(
    d: PendingDelivery, call: Call, stamp: str | None, generation: int, request: str
) -> tuple[Any, ...]:
    """:func:`pending_delivery_row` of a :class:`PendingDelivery` (apply's usual case): the
    ledger takes environment, commit and actor from the call."""
    key, campaign, task, fingerprint, _, position, due_at, expires_at = d
    return _pending_row(
        key, call.environment, campaign, task, fingerprint, request, call.call_id, position,
        None, due_at, expires_at, stamp, call.git_commit, call.actor, generation,
    )  # fmt: skip


def row_delivery(r: tuple[Any, ...], packs: CallPacks | None) -> Delivery:
    """A delivery row's record; without ``packs``, without its request (plan reads only
    fingerprints and statuses)."""
    # Written out by hand rather than zip()ed: plan decodes 100,000 of these per run.
    return Delivery(
        key=r[0],
        environment=r[1],
        campaign=r[2],
        task=r[3],
        fingerprint=r[4],
        request=None if packs is None else packs.request(r[5], r[6], r[0]),
        call_id=r[6],
        position=r[7],
        status=r[8],
        message_id=r[9],
        due_at=None if r[10] is None else _fromiso(r[10]),
        expires_at=None if r[11] is None else _fromiso(r[11]),
        created_at=None if r[12] is None else _fromiso(r[12]),
        updated_at=None if r[13] is None else _fromiso(r[13]),
        git_commit=r[14],
        actor=r[15],
        cancelled_by=r[16],
        generation=r[17],
        current=bool(r[18]),
    )
