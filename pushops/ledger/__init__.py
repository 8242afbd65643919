"""The ledger ("state"): what was sent, written ahead of sending, on SQLite or PostgreSQL.

Open one with :func:`open_ledger`; every backend offers the :class:`Ledger` interface.

The names below are loaded on first use: the checking stage imports only the small
:mod:`pushops.ledger.records` (for the key limit), and ``pushops validate`` should not pay
for the backends to get it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_HOMES = {
    "Ledger": "base",
    "DEFAULT_PATH": "factory",
    "DSN_ENV": "factory",
    "open_ledger": "factory",
    "resolve_target": "factory",
    **dict.fromkeys(
        (
            "ImportFormatError",
            "LedgerBusyError",
            "LedgerConflictError",
            "LedgerCorruptError",
            "LedgerError",
            "LedgerMissingError",
            "LedgerPermissionError",
            "LedgerUnavailableError",
            "LockError",
            "LockLostError",
            "LockTimeoutError",
            "MigrationError",
            "NotFoundError",
            "SchemaVersionError",
        ),
        "errors",
    ),
    **dict.fromkeys(
        (
            "Call",
            "Delivered",
            "Delivery",
            "DeliveryEvent",
            "FailedResult",
            "KeyHistory",
            "LedgerMeta",
            "LockInfo",
            "PendingDelivery",
            "PolicyOverride",
            "ProvenCall",
            "ProvenStatus",
            "ProviderStats",
            "SentResult",
        ),
        "records",
    ),
}

__all__ = [
    "DEFAULT_PATH",
    "DSN_ENV",
    "Call",
    "Delivered",
    "Delivery",
    "DeliveryEvent",
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
    "LedgerPermissionError",
    "LedgerUnavailableError",
    "LockError",
    "LockInfo",
    "LockLostError",
    "LockTimeoutError",
    "MigrationError",
    "NotFoundError",
    "PendingDelivery",
    "PolicyOverride",
    "ProvenCall",
    "ProvenStatus",
    "ProviderStats",
    "SchemaVersionError",
    "SentResult",
    "open_ledger",
    "resolve_target",
]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from pushops.ledger.base import Ledger
    from pushops.ledger.errors import (
        ImportFormatError,
        LedgerBusyError,
        LedgerConflictError,
        LedgerCorruptError,
        LedgerError,
        LedgerMissingError,
        LedgerPermissionError,
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
        DeliveryEvent,
        FailedResult,
        KeyHistory,
        LedgerMeta,
        LockInfo,
        PendingDelivery,
        PolicyOverride,
        ProvenCall,
        ProvenStatus,
        ProviderStats,
        SentResult,
    )
