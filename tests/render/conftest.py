"""A throwaway push repo and helpers to render it, through the API and the real CLI."""

from __future__ import annotations

import json
import shutil
import textwrap
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from pushops.cli import cli
from pushops.compile import Call, Delivery, compile_calls
from pushops.config import load_config
from pushops.diagnostics import Diagnostic, Report
from pushops.render import load_campaigns, render_deliveries

REPO = Path(__file__).resolve().parents[2]
NOW_TEXT = "2026-11-22T09:00:00Z"
NOW = datetime(2026, 11, 22, 9, 0, tzinfo=timezone.utc)


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

    def campaign(self, name: str, doc: dict[str, Any]) -> Path:
        # JSON is YAML: exact values on one line.
        return self.write(f"campaigns/{name}.yaml", json.dumps(doc, ensure_ascii=False))

    def deliveries(self, env: str = "staging") -> tuple[list[Delivery], list[Diagnostic]]:
        report = Report()
        config = load_config(self.root)
        campaigns = load_campaigns([], self.root, report)
        out = list(render_deliveries(campaigns, config, env, NOW, report))
        return out, report.sorted()

    def calls(self, env: str = "staging") -> list[Call]:
        deliveries, problems = self.deliveries(env)
        assert not [p for p in problems if p.severity == "error"], problems
        return list(compile_calls(deliveries, load_config(self.root)))

    def cli(self, *args: str) -> Result:
        return CliRunner().invoke(cli, list(args), catch_exceptions=False)

    def render_json(self, *args: str) -> dict[str, Any]:
        result = self.cli("render", "--now", NOW_TEXT, *args)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    def validate_json(self, *args: str) -> list[dict[str, Any]]:
        result = self.cli("validate", "--now", NOW_TEXT, "--format", "json", *args)
        return json.loads(result.stdout)["errors"]


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> PushRepo:
    shutil.copy(REPO / "pushops.yaml", tmp_path / "pushops.yaml")
    (tmp_path / "campaigns").mkdir()
    monkeypatch.chdir(tmp_path)
    return PushRepo(tmp_path)


TASK = {
    "id": "t",
    "DeviceType": "ANDROID",
    "PushType": "NOTICE",
    "Target": "DEVICE",
    "TargetValue": "device-1",
    "Title": "Hello",
    "Body": "World",
}
BROADCAST = {
    "id": "b",
    "TaskName": "Task",
    "DeliveryType": 1,
    "TemplateName": "tpl",
    "ExpiredSeconds": 300,
}


def emas(**fields: Any) -> dict[str, Any]:
    """A one-task EMAS campaign: the valid base task plus ``fields``."""
    return {"id": "c", "app": "shop", "tasks": [{**TASK, **fields}]}


def mpaas(**fields: Any) -> dict[str, Any]:
    return {"id": "w", "app": "wallet", "broadcasts": [{**BROADCAST, **fields}]}


def rendered(repo: PushRepo, field: str, value: Any, env: str = "staging", **extra: Any) -> Any:
    """What one EMAS field renders to (typed)."""
    repo.campaign("c", emas(**{field: value}, **extra))
    deliveries, problems = repo.deliveries(env)
    assert not problems, problems
    (delivery,) = deliveries
    return delivery.params[field]


def render_errors(repo: PushRepo, value: str, field: str = "Title") -> list[Diagnostic]:
    repo.campaign("c", emas(**{field: value}))
    deliveries, problems = repo.deliveries()
    assert deliveries == []
    return problems
