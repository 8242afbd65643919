"""Push repos for the review specifications, and the real CLI run in them."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from pushops.cli import cli

REPO = Path(__file__).resolve().parents[2]
NOW = "2026-11-22T09:00:00Z"
CONFIG = """\
version: 1
default_environment: staging
state:
  backend: sqlite
  path: .pushops/state.db
vars:
  brand: Acme Shop
environments:
  staging:
    apps:
      shop: {provider: emas, app_key: 23267207}
      wallet: {provider: mpaas, app_id: ONEX570DA89211721, workspace_id: test}
"""


def clean_env(**extra: str) -> dict[str, str]:
    """No PUSHOPS_/GITHUB_/ALIBABA_ variable of the outer environment leaks into a run."""
    env = {k: "" for k in os.environ if k.startswith(("PUSHOPS_", "GITHUB_", "ALIBABA_"))}
    env["ALIBABA_CLOUD_ACCESS_KEY_SECRET"] = ""
    env.update(extra)
    return env


def run(root: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    old = Path.cwd()
    os.chdir(root)
    try:
        return CliRunner().invoke(
            cli, list(args), env=clean_env(**(env or {})), catch_exceptions=False
        )
    finally:
        os.chdir(old)


def plan(root: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    return run(root, "plan", "--sandbox", "--now", NOW, *args, env=env)


def plan_json(root: Path, *args: str) -> dict[str, Any]:
    result = plan(root, "--format", "json", *args)
    assert result.exit_code in (0, 2), result.output
    return json.loads(result.stdout)


def examples(root: Path) -> Path:
    """A fresh repo holding the example campaigns of this repository."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "pushops.yaml", root / "pushops.yaml")
    shutil.copytree(REPO / "campaigns", root / "campaigns")
    shutil.copytree(REPO / "data", root / "data")
    return root


def new_repo(root: Path, campaigns: dict[str, str], files: dict[str, str] | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pushops.yaml").write_text(CONFIG, encoding="utf-8")
    for name, text in campaigns.items():
        path = root / "campaigns" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for name, text in (files or {}).items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def android(
    cid: str,
    title: str,
    body: str = "Tap to see the deals.",
    *,
    extra: str = "",
    targets: str = "dev1,dev2",
) -> str:
    """An EMAS campaign with one Android notice (JSON-quoted values: any text is safe)."""
    return (
        f"id: {cid}\napp: shop\ntasks:\n  - id: android\n    DeviceType: ANDROID\n"
        f"    PushType: NOTICE\n    Target: DEVICE\n    TargetValue: {json.dumps(targets)}\n"
        f"    Title: {json.dumps(title, ensure_ascii=False)}\n"
        f"    Body: {json.dumps(body, ensure_ascii=False)}\n{extra}"
    )


def personalised(rows: int, long_row: int | None = None) -> tuple[str, str]:
    """A fan-out where every row renders its own title (no two rows merge)."""
    lines = ["device_id,name,code"]
    for i in range(rows):
        name = f"User{i}"
        if i == long_row:
            name = "Bartholomew Maximilian von Longname-Smythe"
        lines.append(f"d{i:08d},{name},C{i % 997:04d}")
    campaign = """\
id: offer
app: shop
tasks:
  - id: personal
    fan_out:
      data: data/rows.csv
      key: "{{ row.device_id }}"
    DeviceType: ANDROID
    PushType: NOTICE
    Target: DEVICE
    TargetValue: "{{ row.device_id }}"
    Title: "{{ row.name }}, your offer"
    Body: "Use code {{ row.code }} within 7 days."
"""
    return campaign, "\n".join(lines) + "\n"
