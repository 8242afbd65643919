"""A throwaway push repo (config, campaigns, data) and ways to drive it: the real CLI, or the
render and compile API. Shared by the specifications of validate, render and compile."""

from __future__ import annotations

import json
import shutil
import textwrap
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from pushops.campaign import load_campaigns
from pushops.cli import cli
from pushops.compile import Call, Delivery, compile_calls
from pushops.config import load_config
from pushops.diagnostics import Diagnostic, Report
from pushops.render import render_deliveries

REPO = Path(__file__).resolve().parents[1]
NOW_TEXT = "2026-11-22T09:00:00Z"
NOW = datetime(2026, 11, 22, 9, 0, tzinfo=timezone.utc)

# The smallest valid messages; tests add or override fields.
EMAS_TASK: dict[str, Any] = {
    "id": "t",
    "DeviceType": "ANDROID",
    "PushType": "NOTICE",
    "Target": "DEVICE",
    "TargetValue": "device-1",
    "Title": "Hello",
    "Body": "World",
}
MPAAS_BROADCAST: dict[str, Any] = {
    "id": "b",
    "TaskName": "Task",
    "DeliveryType": 1,
    "TemplateName": "tpl",
    "ExpiredSeconds": 300,
    "BindPeriod": 4,  # PushStatus defaults to 0 (bound users), which needs it
}


class PushRepo:
    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def create(cls, root: Path) -> PushRepo:
        shutil.copy(REPO / "pushops.yaml", root / "pushops.yaml")
        (root / "campaigns").mkdir(exist_ok=True)
        return cls(root)

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

    def cli(self, *args: str) -> Result:
        return CliRunner().invoke(cli, list(args), catch_exceptions=False)

    def init_ledger(self) -> Result:
        """Create the ledger and bind every environment to it (`pushops state init`)."""
        envs = [arg for name in load_config(self.root).environments for arg in ("--env", name)]
        result = self.cli("state", "init", *envs)
        assert result.exit_code == 0, result.output
        return result

    def validate(self, *args: str) -> Result:
        return self.cli("validate", "--now", NOW_TEXT, *args)

    def validate_json(self, *args: str) -> dict[str, Any]:
        return json.loads(self.validate("--format", "json", *args).output)

    def validate_errors(self, *args: str) -> list[dict[str, Any]]:
        result = self.cli("validate", "--now", NOW_TEXT, "--format", "json", *args)
        return json.loads(result.stdout)["errors"]

    def render_json(self, *args: str) -> dict[str, Any]:
        result = self.cli("render", "--now", NOW_TEXT, *args)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

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
