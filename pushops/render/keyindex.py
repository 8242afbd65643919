"""The fan-out keys seen so far in one data file, in about 16 bytes each.

A Python set of a million keys (or of their hashes) costs ~70 bytes per row, so memory grew
with the file; here each key is an 8-byte stable digest in an open-addressing table kept at
most half full. Two different keys share a digest with probability ~n²/2^65 (3e-8 at a
million rows); such a pair would be reported as a duplicate key.
"""

from __future__ import annotations

from array import array
from hashlib import blake2b


def _digest(key: str) -> int:
    # 0 marks an empty slot, so a digest of 0 is moved to 1.
    return int.from_bytes(blake2b(key.encode("utf-8"), digest_size=8).digest(), "little") or 1


class KeyIndex:
    def __init__(self, capacity: int = 1024) -> None:
        self._slots = array("Q", bytes(8 * capacity))
        self._mask = capacity - 1
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def add(self, key: str) -> bool:
        """Record ``key``; False if it was recorded before."""
        digest = _digest(key)
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
