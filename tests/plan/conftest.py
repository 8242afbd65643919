"""Fixtures: a push repo on each ledger backend, with an emulator on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pushops.emulator import Emulator

from .support import AKID, CONFIG, SECRET, Project, backend_env, base_env

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator(credentials={AKID: SECRET}) as emu:
        yield emu


def _project(tmp_path: Path, backend: str, emulator: Emulator) -> Iterator[Project]:
    root = tmp_path / "repo"
    (root / "campaigns").mkdir(parents=True)
    (root / "pushops.yaml").write_text(CONFIG)
    for env in backend_env(backend, root):
        yield Project(root, {**base_env(emulator.url), **env}).init_ledger()


@pytest.fixture(params=BACKENDS)
def project(
    request: pytest.FixtureRequest, tmp_path: Path, emulator: Emulator
) -> Iterator[Project]:
    yield from _project(tmp_path, request.param, emulator)


@pytest.fixture
def sqlite_project(tmp_path: Path, emulator: Emulator) -> Iterator[Project]:
    yield from _project(tmp_path, "sqlite", emulator)
