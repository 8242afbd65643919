"""Fixtures shared across the specifications."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.pushrepo import PushRepo


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> PushRepo:
    """A fresh push repo with the example pushops.yaml, as the working directory."""
    monkeypatch.chdir(tmp_path)
    return PushRepo.create(tmp_path)
