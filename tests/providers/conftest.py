"""An in-process emulator for the provider tests, reached over real HTTP on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from provider_helpers import AKID, SECRET


@pytest.fixture
def emulator() -> Iterator[object]:
    from pushops.emulator import Emulator

    with Emulator(credentials={AKID: SECRET}, latency_ms=0) as emu:
        yield emu
