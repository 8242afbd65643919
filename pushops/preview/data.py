"""The preview data files (display profiles, vendor limits), read once."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

DATA = Path(__file__).resolve().parent / "data"


@cache
def load(name: str) -> dict[str, Any]:
    """``data/<name>.yaml`` as loaded (shared: treat it as read-only)."""
    with (DATA / f"{name}.yaml").open(encoding="utf-8") as fh:
        loaded = yaml.safe_load(fh)
    assert isinstance(loaded, dict) and loaded.get("version") == 1, name
    return loaded


def display_profiles() -> dict[str, Any]:
    return load("display_profiles")["surfaces"]  # type: ignore[no-any-return]


def vendor_limits() -> dict[str, Any]:
    return load("vendor_limits")
