"""Failures of the ledger, each a :class:`~pushops.diagnostics.PushopsError` the CLI prints as is.

The classes are distinct so callers (plan, apply, ``pushops state``) can react to the cause:
retry after reconnecting, stop and ask the user to resolve, or refuse to run at all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pushops.diagnostics import PushopsError

if TYPE_CHECKING:
    from pushops.ledger.records import LockInfo


class LedgerError(PushopsError):
    """Any ledger failure."""


class LedgerPermissionError(LedgerError):
    """The ledger's role may not do that: a role that can only read (plan's) asked to write."""


class LedgerCorruptError(LedgerError):
    """The store exists but is not a readable pushops ledger (damaged file, foreign database)."""


class LedgerMissingError(LedgerError):
    """No ledger where one was expected, and this command may not create one (nothing was)."""


class SchemaVersionError(LedgerError):
    """The ledger was written by a newer pushops; this one must not touch it."""

    def __init__(self, found: int, supported: int, location: str) -> None:
        super().__init__(
            f"ledger {location} has schema version {found}, newer than version {supported} "
            f"that this pushops supports; upgrade pushops (nothing was changed)"
        )
        self.found = found
        self.supported = supported


class MigrationError(LedgerError):
    """Moving an older ledger forward failed; the transaction was rolled back."""


class LedgerUnavailableError(LedgerError):
    """The database went away (connection lost, server shut down, backend terminated).

    The transaction in flight was rolled back by the server; the next operation reconnects.
    """


class LedgerBusyError(LedgerError):
    """Another writer held the database longer than the busy timeout."""


class LedgerConflictError(LedgerError):
    """The write contradicts what the ledger holds (a second send of a delivered key, ...)."""


class NotFoundError(LedgerError):
    """No record with that key or call id."""


class ImportFormatError(LedgerError):
    """An export stream that cannot be imported (wrong version, truncated, malformed line)."""


class LockError(LedgerError):
    """Base of the lock failures; carries what is known about the holder."""

    def __init__(self, message: str, info: LockInfo | None = None) -> None:
        super().__init__(message)
        self.info = info


class LockTimeoutError(LockError):
    """Someone else held the lock for longer than the timeout."""


class LockLostError(LockError):
    """The lock this process held was revoked (``state unlock``) or its session died."""
