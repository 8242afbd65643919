"""Keep secrets out of log records, including those httpx writes.

Our own code never formats a secret, but an STS security token travels in the v1 query
string, and httpx logs request URLs at INFO. A filter on the loggers that see URLs replaces
every registered secret value before any handler formats the record.
"""

from __future__ import annotations

import logging
import threading
from urllib.parse import quote

from pushops.providers.credentials import REDACTED

# Loggers that may receive text containing request URLs or our own messages. Filters on a
# logger apply only to records created on that very logger, hence the explicit list.
WATCHED_LOGGERS = ("httpx", "pushops.providers")


class SecretFilter(logging.Filter):
    def __init__(self) -> None:
        super().__init__()
        self._values: set[str] = set()
        self._lock = threading.Lock()

    def add(self, value: str) -> None:
        if len(value) >= 4:  # a tiny value would redact half of every message
            with self._lock:
                self._values.add(value)

    def redact(self, text: str) -> str:
        for value in self._values:
            if value in text:
                text = text.replace(value, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if self._values:
            message = record.getMessage()
            cleaned = self.redact(message)
            if cleaned != message:
                record.msg, record.args = cleaned, ()
        return True


_FILTER = SecretFilter()
_installed = False


def protect(*secrets: str) -> None:
    """Register secret values and make sure the watched loggers redact them."""
    global _installed
    for value in secrets:
        _FILTER.add(value)
        # Encoded once it appears in a logged query string; twice in a v1 string to sign.
        once = quote(value, safe="")
        _FILTER.add(once)
        _FILTER.add(quote(once, safe=""))
    if not _installed:
        for name in WATCHED_LOGGERS:
            logging.getLogger(name).addFilter(_FILTER)
        _installed = True


def redact(text: str) -> str:
    return _FILTER.redact(text)
