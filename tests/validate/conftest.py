"""A throwaway push repo (config + campaigns) and a way to run the real CLI in it."""

from __future__ import annotations

import json
import shutil
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from pushops.cli import cli

REPO = Path(__file__).resolve().parents[2]
NOW = "2026-11-22T09:00:00Z"


class PushRepo:
    def __init__(self, root: Path) -> None:
        self.root = root

    def write(self, relative: str, text: str | bytes) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    def validate(self, *args: str) -> Result:
        return CliRunner().invoke(cli, ["validate", "--now", NOW, *args], catch_exceptions=False)

    def validate_json(self, *args: str) -> dict[str, Any]:
        result = self.validate("--format", "json", *args)
        return json.loads(result.output)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> PushRepo:
    shutil.copy(REPO / "pushops.yaml", tmp_path / "pushops.yaml")
    (tmp_path / "campaigns").mkdir()
    monkeypatch.chdir(tmp_path)
    return PushRepo(tmp_path)


EMAS_TASK = {
    "id": "t",
    "DeviceType": "ANDROID",
    "PushType": "NOTICE",
    "Target": "DEVICE",
    "TargetValue": "device-1",
    "Title": "Hello",
    "Body": "World",
}
MPAAS_BROADCAST = {
    "id": "b",
    "TaskName": "Task",
    "DeliveryType": 1,
    "TemplateName": "tpl",
    "ExpiredSeconds": 300,
}


def campaign_yaml(provider: str, **fields: Any) -> str:
    """A one-message campaign whose message is the valid base plus ``fields`` (None removes)."""
    base = dict(EMAS_TASK if provider == "emas" else MPAAS_BROADCAST)
    for key, value in fields.items():
        if value is None:
            base.pop(key, None)
        else:
            base[key] = value
    doc = {
        "id": "c",
        "app": "shop" if provider == "emas" else "wallet",
        ("tasks" if provider == "emas" else "broadcasts"): [base],
    }
    return json.dumps(doc, ensure_ascii=False)  # JSON is YAML: one line, exact values


@pytest.fixture
def check(repo: PushRepo) -> Callable[..., list[dict[str, Any]]]:
    """Validate one message (base + overrides) and return the diagnostics as dicts."""

    def run(provider: str, **fields: Any) -> list[dict[str, Any]]:
        repo.write("campaigns/c.yaml", campaign_yaml(provider, **fields))
        return repo.validate_json()["errors"]

    return run
