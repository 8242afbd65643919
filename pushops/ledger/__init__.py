"""The ledger ("state"): what was sent, written ahead of sending, on SQLite or PostgreSQL.

Open one with :func:`open_ledger`; every backend offers the :class:`Ledger` interface.
"""

from pushops.ledger.base import Ledger
from pushops.ledger.errors import (
    ImportFormatError,
    LedgerBusyError,
    LedgerConflictError,
    LedgerCorruptError,
    LedgerError,
    LedgerMissingError,
    LedgerUnavailableError,
    LockError,
    LockLostError,
    LockTimeoutError,
    MigrationError,
    NotFoundError,
    SchemaVersionError,
)
from pushops.ledger.factory import DEFAULT_PATH, DSN_ENV, open_ledger, resolve_target
from pushops.ledger.records import (
    Call,
    Delivered,
    Delivery,
    FailedResult,
    KeyHistory,
    LedgerMeta,
    LockInfo,
    PolicyOverride,
    SentResult,
)

__all__ = [
    "DEFAULT_PATH",
    "DSN_ENV",
    "Call",
    "Delivered",
    "Delivery",
    "FailedResult",
    "ImportFormatError",
    "KeyHistory",
    "Ledger",
    "LedgerBusyError",
    "LedgerConflictError",
    "LedgerCorruptError",
    "LedgerError",
    "LedgerMeta",
    "LedgerMissingError",
    "LedgerUnavailableError",
    "LockError",
    "LockInfo",
    "LockLostError",
    "LockTimeoutError",
    "MigrationError",
    "NotFoundError",
    "PolicyOverride",
    "SchemaVersionError",
    "SentResult",
    "open_ledger",
    "resolve_target",
]
