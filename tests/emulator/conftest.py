"""Fixtures for the emulator specs: a running emulator and a signing caller."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from emulator_helpers import AK, SECRET, Caller

from pushops.emulator import Emulator


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(credentials={AK: SECRET}) as emulator:
        yield emulator


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client


@pytest.fixture
def call(emu: Emulator, http: httpx.Client) -> Caller:
    return Caller(emu.url, http)
