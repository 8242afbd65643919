"""Drift, from `pushops init` to recording a console cancel, through the real CLI.

`pushops` runs as a subprocess in a repository made by `pushops init`, against the emulator
in a process of its own and the team's PostgreSQL ledger (the team journey's fixtures). The
"console" is the emulator's console controls over HTTP, as someone in the Alibaba Cloud
console would act behind pushops's back; the emulator's log of every API call it received
proves refresh only asked.
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from test_team_journey import Team, pg_schema, provider, scheduled_campaign

__all__ = ["pg_schema", "provider"]

QUERIES = {"QueryPushRecords", "QueryPushSchedulerList", "QueryPushAnalysisTaskList"}
STAGING_APP_KEY = "10000001"  # the scaffold's staging app (pushops/scaffold/pushops.yaml)


def emulator(url: str, path: str, doc: dict[str, Any] | None = None) -> dict[str, Any]:
    """GET (or POST ``doc`` to) one of the emulator's own controls."""
    data = None if doc is None else json.dumps(doc).encode()
    request = urllib.request.Request(
        f"{url}/_emulator/{path}", data=data, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.load(answer)


@pytest.mark.postgres
def test_drift_from_init_to_a_recorded_console_cancel(
    tmp_path: Path, provider: str, pg_schema: str
) -> None:
    team = Team.init(tmp_path / "pushes", provider, pg_schema)
    assert team.pushops("state", "init", "--env", "staging").returncode == 0
    team.write("launch.yaml", scheduled_campaign(1, "Launch day"))
    applied = team.pushops("apply", "--auto-approve")
    assert applied.returncode == 0, applied.stdout + applied.stderr

    # Right after apply, the ledger and the provider agree.
    agreed = team.pushops("refresh")
    assert agreed.returncode == 0, agreed.stdout + agreed.stderr
    assert "No drift" in agreed.stdout
    asked_from = emulator(provider, "calls")["count"]

    # Behind pushops's back: the launch is cancelled in the console, and someone pushes a
    # notice of their own there, with a title made to abuse a Markdown issue.
    (launch,) = [d for d in team.received() if d["params"].get("Title") == "Launch day"]
    emulator(provider, "console/cancel", {"message_id": launch["message_id"]})
    hostile = "@acme/oncall see [this](https://evil.example) <script>x</script>"
    made = emulator(provider, "console/push", {"product": "emas", "app": STAGING_APP_KEY,
        "params": {"DeviceType": "ALL", "PushType": "NOTICE", "Target": "DEVICE",
                   "TargetValue": "device-z", "Title": hostile, "Body": "Hi"}})  # fmt: skip

    held = [(d["message_id"], d["status"]) for d in team.received()]
    found = team.pushops("refresh")
    assert found.returncode == 2, found.stdout + found.stderr
    assert "Cancelled at the provider (1):" in found.stdout
    assert "Pushed from elsewhere (no ledger record owns it) (1):" in found.stdout
    page = team.pushops("refresh", "--format", "markdown").stdout
    assert "<script>" not in page and "](https://" not in page and "@acme/oncall" not in page
    assert "| cancelled | `mobile` | `staging/launch/r1/android` |" in page

    recorded = team.pushops("refresh", "--apply", "--yes", "--actor", "ops-night")
    assert recorded.returncode == 2, recorded.stdout + recorded.stderr  # the console push stays
    assert "Recorded 1 change in the ledger" in recorded.stdout
    history = team.pushops("state", "history", "staging/launch/r1/android", "--format", "json")
    (step,) = [s for s in json.loads(history.stdout)["history"] if s["what"] == "refreshed"]
    assert (step["status_from"], step["status_to"], step["actor"]) == (
        "scheduled", "cancelled", "ops-night",
    )  # fmt: skip
    assert launch["message_id"] in json.dumps(step)

    left = json.loads(team.pushops("refresh", "--format", "json").stdout)
    assert [(d["kind"], d["message_id"]) for d in left["drift"]] == [
        ("unmanaged", made["message_id"])
    ]
    # Every call since the first refresh was a query: nothing sent, nothing cancelled.
    calls = emulator(provider, "calls")["calls"][asked_from:]
    assert calls and {c["action"] for c in calls} <= QUERIES
    assert [(d["message_id"], d["status"]) for d in team.received()] == held
