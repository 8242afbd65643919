from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PUSH_FILES = ("pushops.yaml", "campaigns", "data", "schemas")


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """This repository's push files, as actions/checkout would leave them."""
    repo = tmp_path / "checkout"
    repo.mkdir()
    for name in PUSH_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, repo / name)
        else:
            shutil.copy(source, repo / name)
    return repo
