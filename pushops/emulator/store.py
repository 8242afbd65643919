"""What the emulator holds: deliveries, idempotency results, used Msgkeys.

In memory always; with a SQLite file also written through and read back at start, so a
restarted emulator still dedupes tokens and Msgkeys and still lists what it received.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import asdict, dataclass
from operator import attrgetter
from pathlib import Path
from typing import Any

from pushops.emulator.clock import iso_utc
from pushops.params import is_digits

IDEMPOTENCY_SECONDS = 15 * 60
FIRST_MESSAGE_ID = 600_000_000_001  # MessageIds are longs; these look like the real ones


@dataclass(slots=True)  # 300,000 of them in a 100-task benchmark: no per-object __dict__
class Delivery:
    """One accepted message: an EMAS PushTask or one mPaaS broadcast."""

    product: str  # emas | mpaas
    action: str
    app: str
    message_id: str
    idempotent_token: str | None
    msgkey: str | None
    params: dict[str, Any]
    received_at: float
    status: str  # sent | scheduled | cancelled
    due: float | None = None  # when a scheduled delivery goes out (epoch seconds)
    until: float | None = None  # a loop schedule's end: cancellable until then
    source: str = "API"  # QueryPushRecords' Source: API, or CONSOLE (pushops/emulator/console)

    def public(self) -> dict[str, Any]:
        return {
            "product": self.product,
            "action": self.action,
            "app": self.app,
            "message_id": self.message_id,
            "idempotent_token": self.idempotent_token,
            "msgkey": self.msgkey,
            "params": self.params,
            "received_at": iso_utc(self.received_at),
            "status": self.status,
            "source": self.source,
        }


_message_id = attrgetter("message_id")
_status = attrgetter("status")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (message_id TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tokens (key TEXT PRIMARY KEY, at REAL NOT NULL, response TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS msgkeys (key TEXT PRIMARY KEY, message_id TEXT NOT NULL);
"""


class Store:
    def __init__(self, db: str | Path | None = None) -> None:
        self._lock = threading.RLock()
        self._deliveries: dict[str, Delivery] = {}
        self._scheduled: set[str] = set()
        self._tokens: dict[str, tuple[float, dict[str, Any]]] = {}
        self._msgkeys: dict[str, str] = {}
        self._next_id = FIRST_MESSAGE_ID
        self._db: sqlite3.Connection | None = None
        if db is not None:
            self._open(Path(db))

    # --- persistence ----------------------------------------------------------------------

    def _open(self, path: Path) -> None:
        conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        # Durability of an emulator's records across a crash is not worth an fsync per call.
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=OFF")
        conn.executescript(_SCHEMA)
        for (data,) in conn.execute("SELECT data FROM deliveries"):
            d = Delivery(**json.loads(data))
            self._deliveries[d.message_id] = d
            if d.status == "scheduled":
                self._scheduled.add(d.message_id)
            if is_digits(d.message_id):
                self._next_id = max(self._next_id, int(d.message_id) + 1)
        for key, at, response in conn.execute("SELECT key, at, response FROM tokens"):
            self._tokens[key] = (at, json.loads(response))
        self._msgkeys.update(conn.execute("SELECT key, message_id FROM msgkeys"))
        self._db = conn

    def _save(self, deliveries: list[Delivery]) -> None:
        if self._db is not None:
            self._db.executemany(
                "INSERT OR REPLACE INTO deliveries VALUES (?, ?)",
                [(d.message_id, json.dumps(asdict(d), ensure_ascii=False)) for d in deliveries],
            )

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    # --- deliveries -----------------------------------------------------------------------

    def new_message_ids(self, n: int) -> list[str]:
        with self._lock:
            first = self._next_id
            self._next_id += n
        return list(map(str, range(first, first + n)))

    def add(self, deliveries: list[Delivery]) -> None:
        # C-level passes over a MassPush's 100 deliveries; most calls schedule none.
        ids = list(map(_message_id, deliveries))
        with self._lock:
            self._deliveries.update(zip(ids, deliveries, strict=True))
            if "scheduled" in map(_status, deliveries):
                self._scheduled.update(d.message_id for d in deliveries if d.status == "scheduled")
            self._save(deliveries)

    def get(self, message_id: str, now: float) -> Delivery | None:
        with self._lock:
            self._refresh(now)
            return self._deliveries.get(message_id)

    def cancel(self, delivery: Delivery) -> None:
        with self._lock:
            delivery.status = "cancelled"
            self._scheduled.discard(delivery.message_id)
            self._save([delivery])

    def all(self, now: float) -> list[Delivery]:
        with self._lock:
            self._refresh(now)
            return list(self._deliveries.values())

    def scheduled_count(self, now: float, product: str) -> int:
        with self._lock:
            self._refresh(now)
            return sum(1 for m in self._scheduled if self._deliveries[m].product == product)

    def _refresh(self, now: float) -> None:
        """Scheduled deliveries whose time has come (loops: whose end has passed) are sent."""
        done = []
        for message_id in self._scheduled:
            d = self._deliveries[message_id]
            end = d.until if d.until is not None else d.due
            if end is None or end <= now:
                d.status = "sent"
                done.append(d)
        if done:
            self._scheduled.difference_update(d.message_id for d in done)
            self._save(done)

    # --- idempotency and uniqueness --------------------------------------------------------

    def token_result(self, key: str, now: float) -> dict[str, Any] | None:
        with self._lock:
            hit = self._tokens.get(key)
            if hit is None or now - hit[0] > IDEMPOTENCY_SECONDS:
                return None
            return hit[1]

    def remember_token(self, key: str, now: float, response: dict[str, Any]) -> None:
        with self._lock:
            # Keep the first result: the window runs from the first successful call.
            if self.token_result(key, now) is not None:
                return
            self._tokens[key] = (now, response)
            if self._db is not None:
                self._db.execute(
                    "INSERT OR REPLACE INTO tokens VALUES (?, ?, ?)",
                    (key, now, json.dumps(response, ensure_ascii=False)),
                )

    def msgkey_owner(self, key: str) -> str | None:
        with self._lock:
            return self._msgkeys.get(key)

    def claim_msgkey(self, key: str, message_id: str) -> None:
        with self._lock:
            self._msgkeys[key] = message_id
            if self._db is not None:
                self._db.execute("INSERT OR REPLACE INTO msgkeys VALUES (?, ?)", (key, message_id))

    def reset(self) -> None:
        with self._lock:
            self._deliveries.clear()
            self._scheduled.clear()
            self._tokens.clear()
            self._msgkeys.clear()
            if self._db is not None:
                self._db.executescript(
                    "DELETE FROM deliveries; DELETE FROM tokens; DELETE FROM msgkeys;"
                )
