"""Helpers for the policy specifications: policies written into the repo, campaigns with
targets and times, the plan's JSON and what the emulator received."""

from __future__ import annotations

import json
import textwrap
from typing import Any

from plan.support import CONFIG, Project

OVERRIDE_ENV = {"GITHUB_ACTOR": "alice"}


def with_policies(project: Project, policies: str, config: str = CONFIG) -> None:
    """``pushops.yaml`` with a ``policies:`` section (YAML, indented as written)."""
    text = config + "policies:\n" + textwrap.indent(textwrap.dedent(policies).strip(), "  ")
    (project.root / "pushops.yaml").write_text(text + "\n")


def task(
    cid: str,
    targets: str,
    *,
    push_time: str | None = None,
    category: str | None = None,
    title: str = "Hello",
    extra: dict[str, Any] | None = None,
    app: str = "shop",
    env: list[str] | None = None,
) -> str:
    """An EMAS campaign of one task (JSON is YAML: exact values)."""
    message: dict[str, Any] = {
        "id": "t",
        "DeviceType": "ANDROID",
        "PushType": "NOTICE",
        "Target": "DEVICE",
        "TargetValue": targets,
        "Title": title,
        "Body": "Open the app.",
    }
    if push_time:
        message["PushTime"] = push_time
    message.update(extra or {})
    doc: dict[str, Any] = {"id": cid, "app": app, "tasks": [message]}
    if category:
        doc["category"] = category
    if env:
        doc["environments"] = env
    return json.dumps(doc, ensure_ascii=False) + "\n"


def plan_json(project: Project, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    result = project.run("plan", "--format", "json", *args, env=env)
    assert result.exit_code in (0, 2, 4, 5), result.output
    return json.loads(result.stdout)


def findings(project: Project, *args: str) -> list[dict[str, Any]]:
    return plan_json(project, *args)["findings"]


def received(emulator: Any) -> list[str]:
    """Every target the emulator accepted a delivery for, in order."""
    return [
        target
        for d in emulator.deliveries()
        for target in str(d["params"].get("TargetValue", "")).split(",")
    ]
