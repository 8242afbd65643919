"""Every statement the ledger runs, written once in the SQL both backends speak.

Placeholders are ``?``; the PostgreSQL backend rewrites them to ``%s``. Keep ``%`` and ``?``
out of literals here so that rewrite stays a plain substitution.
"""

from __future__ import annotations

from pushops.ledger.codec import CALL_COLUMNS, DELIVERY_COLUMNS
from pushops.ledger.records import UNSETTLED


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def marks(n: int) -> str:
    return ", ".join("?" * n)


# A call's row with its request: from call_requests since schema version 4 (an older ledger,
# read as it is, still holds it in calls.request). Queries name the calls as {calls}.
_CALLS_WITH_REQUESTS = (
    ", ".join("call_requests.request" if c == "request" else f"calls.{c}" for c in CALL_COLUMNS)
    + " FROM calls JOIN call_requests ON call_requests.call_id = calls.call_id"
)
_CALLS_BEFORE_4 = ", ".join(f"calls.{c}" for c in CALL_COLUMNS) + " FROM calls"


def calls_query(query: str, requests_apart: bool) -> str:
    """``query`` (``SELECT {calls} ...``) reading each call's row and request."""
    return query.replace("{calls}", _CALLS_WITH_REQUESTS if requests_apart else _CALLS_BEFORE_4)


DELIVERY_SELECT = f"SELECT {', '.join(DELIVERY_COLUMNS)} FROM deliveries"
# Rows per multi-row INSERT: one statement instead of one per row, under both backends'
# parameter limits (SQLite 32,766; PostgreSQL 65,535).
INSERT_CHUNK = 500


def insert_rows(table: str, columns: tuple[str, ...], count: int) -> str:
    row = f"({marks(len(columns))})"
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES " + ", ".join([row] * count)


UNSETTLED_IN = _in(UNSETTLED)
# Rows per ``WITH v AS (VALUES ...)`` of a batched update and values per ``IN (...)``: a few
# thousand parameters, far under either backend's limit, and few statements per batch.
VALUES_CHUNK = 1000
KEYS_CHUNK = 500  # also under SQLite's smallest host-parameter limit (999)


def member(count: int) -> str:
    return f"IN ({marks(count)})"


def with_values(name: str, columns: tuple[str, ...], count: int) -> str:
    """``WITH name(columns) AS (VALUES (?, ...), ...)``: per-row values for one UPDATE ... FROM."""
    row = f"({marks(len(columns))})"
    return f"WITH {name} ({', '.join(columns)}) AS (VALUES " + ", ".join([row] * count) + ") "


# --- meta and schema
BUMP_SERIAL = "UPDATE meta SET serial = serial + 1"
SET_SERIAL = "UPDATE meta SET lineage = ?, serial = ?, created_at = ?"
META = "SELECT lineage, serial, created_at FROM meta WHERE id = 1"
INSERT_META = "INSERT INTO meta (id, lineage, serial, created_at) VALUES (1, ?, 0, ?)"
SCHEMA_VERSION = "SELECT MAX(version) FROM schema_version"
RECORD_VERSION = "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)"
COUNT_RECORDS = "SELECT (SELECT COUNT(*) FROM calls) + (SELECT COUNT(*) FROM deliveries)"

# --- calls
CALL_BY_ID = "SELECT {calls} WHERE calls.call_id = ?"
CALL_ENVIRONMENT = "SELECT environment FROM calls WHERE call_id = ?"
CALLS_BY_STATUS = (
    "SELECT {calls} WHERE calls.environment = ? AND calls.status IN ({statuses})"
    " ORDER BY calls.call_id"
)
ALL_CALLS = "SELECT {calls} ORDER BY calls.call_id"
REQUEST_COLUMNS = ("call_id", "request")
# Schema version 6: with the requests of the call's deliveries, packed (codec.IN_CALL).
REQUEST_AND_DELIVERIES = (*REQUEST_COLUMNS, "delivery_requests")
DELIVERY_REQUESTS_OF = "SELECT delivery_requests FROM call_requests WHERE call_id = ?"
# Failed calls whose code says they never reached the provider (records.NOT_SENT_WHY).
NOT_SENT_CALLS = (
    "SELECT call_id, error_code FROM calls WHERE status = 'failed' AND error_code IN ({codes})"
)
CALL_UNKNOWN = "UPDATE calls SET status = 'unknown', updated_at = ? WHERE call_id = ?"
CALL_ATTEMPT = "UPDATE calls SET attempts = attempts + 1, updated_at = ? WHERE call_id = ?"
# Batched settling (record_sent_many, record_failed_many): one statement per chunk of calls,
# each row's own values joined in from ``v`` (see with_values).
# {}: a membership test from Ledger.member_tests ("IN (?, ...)" or "= ANY(?)").
CALL_STATUSES_OF = "SELECT call_id, status FROM calls WHERE call_id {}"
SENT_VALUES = ("call_id", "response", "request_id")
CALLS_SENT_FROM = (
    "UPDATE calls SET status = 'sent', response = v.response, request_id = v.request_id,"
    " sent_at = ?, updated_at = ? FROM v WHERE calls.call_id = v.call_id"
)
FAILED_VALUES = ("call_id", "error_code", "error_message", "request_id")
CALLS_FAILED_FROM = (
    "UPDATE calls SET status = 'failed', error_code = v.error_code,"
    " error_message = v.error_message, request_id = v.request_id, updated_at = ?"
    " FROM v WHERE calls.call_id = v.call_id"
)
CALL_SETTLE = (
    "UPDATE calls SET status = ?, error_message = COALESCE(error_message, ?), updated_at = ?"
    f" WHERE call_id = ? AND status IN {UNSETTLED_IN}"
)

# --- deliveries of a call, as the call settles (only those not settled one by one already)
CALL_DELIVERIES = f"{DELIVERY_SELECT} WHERE call_id = ? AND is_current = 1 ORDER BY position"
SENT_STATUS = "CASE WHEN due_at IS NULL THEN 'sent' ELSE 'scheduled' END"
# The positions the provider answered for: status and MessageId (Ledger.set_message_ids) ...
DELIVERY_SENT = (
    f"UPDATE deliveries SET status = {SENT_STATUS}, message_id = ?, updated_at = ?"
    f" WHERE call_id = ? AND position = ? AND is_current = 1 AND status IN {UNSETTLED_IN}"
)
# ... then whatever of the calls is still unsettled (positions without a MessageId).
# {status}: SENT_STATUS or a placeholder; {calls}: a membership test from Ledger.member_tests.
# CURRENT_BY_CALL ("is_current + 0", not "is_current"): found through the calls' index
# alone. Written plainly, PostgreSQL (its statistics behind a ledger apply is filling)
# ANDed in the partial index of every current delivery, read whole each time: 30 ms a batch
# at 300,000 deliveries, growing with the ledger.
CURRENT_BY_CALL = "is_current + 0 = 1"
DELIVERIES_OF_CALLS = (
    "UPDATE deliveries SET status = {status}, updated_at = ?"
    f" WHERE call_id {{calls}} AND {CURRENT_BY_CALL} AND status IN {UNSETTLED_IN}"
)
DELIVERIES_STATUS = (
    "UPDATE deliveries SET status = ?, updated_at = ?"
    f" WHERE call_id = ? AND is_current = 1 AND status IN {UNSETTLED_IN}"
)
CALL_OPEN_DELIVERIES = (
    f"SELECT COUNT(*) FROM deliveries WHERE call_id = ? AND is_current = 1"
    f" AND status IN {UNSETTLED_IN}"
)
CALL_DELIVERED = (
    "SELECT COUNT(*) FROM deliveries WHERE call_id = ? AND is_current = 1"
    " AND status IN ('sent', 'scheduled')"
)

# --- deliveries by key
# {}: a membership test from Ledger.member_tests.
CURRENT_OF_KEYS = "SELECT key, generation, status FROM deliveries WHERE is_current = 1 AND key {}"
RETIRE_CURRENT = "UPDATE deliveries SET is_current = 0 WHERE is_current = 1 AND key {}"
CURRENT_BY_ENV = f"{DELIVERY_SELECT} WHERE environment = ? AND is_current = 1 ORDER BY key"
CURRENT_ALL = f"{DELIVERY_SELECT} WHERE is_current = 1 ORDER BY key"
KEY_HISTORY = f"{DELIVERY_SELECT} WHERE key = ? ORDER BY generation"
CURRENT_OF_KEY = f"{DELIVERY_SELECT} WHERE key = ? AND is_current = 1"
ALL_DELIVERIES = f"{DELIVERY_SELECT} ORDER BY key, generation"
# Every provider id the ledger gives to some key, any generation (refresh: what is ours).
# No index holds message_id: one scan, streamed, costs less than probes per id.
MESSAGE_IDS = "SELECT message_id FROM deliveries WHERE message_id IS NOT NULL"
CALL_APPS = "SELECT call_id, app FROM calls WHERE environment = ?"
SET_KEY_STATUS = (
    "UPDATE deliveries SET status = ?, actor = COALESCE(?, actor), updated_at = ?,"
    " cancelled_by = COALESCE(?, cancelled_by) WHERE key = ? AND is_current = 1"
)

# --- lock info rows (bookkeeping, not ledger content: no serial bump)
LOCK_COLUMNS = "lock_id, holder, operation, started_at, pid, hostname, session"
LOCK_ROWS = f"SELECT {LOCK_COLUMNS} FROM locks ORDER BY started_at"
LOCK_BY_ID = f"SELECT {LOCK_COLUMNS} FROM locks WHERE lock_id = ?"
INSERT_LOCK = f"INSERT INTO locks ({LOCK_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"
DELETE_LOCK = "DELETE FROM locks WHERE lock_id = ?"
DELETE_ALL_LOCKS = "DELETE FROM locks"

# --- what the policies read and write (frequency caps, overrides)
# A delivery that may be out there lands at its due time, else when its call was sent, else
# (pending, unknown) when it was written ahead. mPaaS broadcasts are read whatever their
# first time: a loop lands again every day until its end (policy.recipients.occurrences).
_LANDS = "COALESCE(d.due_at, c.sent_at, d.created_at)"
DELIVERED_BETWEEN = (
    f"SELECT d.key, d.campaign, c.app, c.provider, d.status, {_LANDS}, d.request, d.call_id "
    "FROM deliveries d JOIN calls c ON c.call_id = d.call_id "
    "WHERE d.environment = ? AND d.is_current = 1 "
    f"AND d.status IN {_in(('sent', 'scheduled', 'pending', 'unknown'))} "
    f"AND (({_LANDS} >= ? AND {_LANDS} <= ?) OR c.provider = 'mpaas') "
    # By call: the requests a call keeps (schema 6) are then read once for all its rows,
    # whatever the order of its keys. In key order they jumped from call to call when the
    # data file was not sorted by its key: 100,000 such rows took 4.1 s, by call 1.2 s (rows
    # holding their own requests: 1.5 s; bench/README.md, 2026-12-03).
    "ORDER BY d.call_id, d.position"
)
# What pushops report reads: deliveries out there with the provider's id, by message (and an
# mPaaS broadcast's request: a loop's statistics grow until its end).
SENT_MESSAGES = (
    "SELECT d.key, d.campaign, d.task, c.provider, c.app, d.message_id, d.status, "
    "COALESCE(d.due_at, c.sent_at), CASE WHEN c.provider = 'mpaas' THEN d.request END, "
    "d.call_id FROM deliveries d JOIN calls c ON c.call_id = d.call_id "
    "WHERE d.environment = ? AND d.is_current = 1 AND d.status IN ('sent', 'scheduled') "
    "AND d.message_id IS NOT NULL ORDER BY d.campaign, d.message_id, d.key"
)
OVERRIDE_COLUMNS = (
    "override_id",
    "environment",
    "policy",
    "level",
    "reason",
    "actor",
    "created_at",
    "git_commit",
    "findings",
)
INSERT_OVERRIDE = (
    f"INSERT INTO policy_overrides ({', '.join(OVERRIDE_COLUMNS)}) "
    f"VALUES ({marks(len(OVERRIDE_COLUMNS))})"
)
OVERRIDES_BY_ENV = (
    f"SELECT {', '.join(OVERRIDE_COLUMNS)} FROM policy_overrides WHERE environment = ? "
    "ORDER BY created_at DESC, override_id LIMIT ?"
)
ALL_OVERRIDES = f"SELECT {', '.join(OVERRIDE_COLUMNS)} FROM policy_overrides ORDER BY override_id"
