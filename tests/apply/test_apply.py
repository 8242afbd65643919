"""pushops apply against the emulator over loopback, on both ledger backends."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from datetime import timedelta

import pytest
from plan.support import (
    SECRET,
    Project,
    emas_campaign,
    mpaas_campaign,
    plan_text,
)

from pushops.emulator import Emulator


def statuses(emulator: Emulator) -> list[tuple[str, str]]:
    return sorted(
        (d["params"].get("Title") or d["params"].get("TaskName"), d["status"])
        for d in emulator.deliveries()
    )


def test_plan_apply_plan_again_shows_no_changes(project: Project, emulator: Emulator) -> None:
    project.write("sale.yaml", emas_campaign())
    project.write("notice.yaml", mpaas_campaign())
    planned = json.loads(project.run("plan", "--format", "json").stdout)
    sends = [a for a in planned["actions"] if a["action"] == "send"]
    applied = project.run("apply", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert "Apply complete: 2 deliveries sent in 2 calls" in applied.output
    again = project.run("plan", "--detailed-exitcode")
    assert again.exit_code == 0, again.output
    assert "No changes." in again.output
    assert len(emulator.deliveries()) == len(sends)


def test_edited_delivered_campaign_is_blocked_with_its_diff(
    project: Project, emulator: Emulator
) -> None:
    project.write("sale.yaml", emas_campaign())
    assert project.run("apply", "--auto-approve").exit_code == 0
    project.write("sale.yaml", emas_campaign(title="Sale now on"))
    result = project.run("plan")
    assert result.exit_code == 1
    assert "x blocked  staging/sale/r1/android" in result.output
    assert "a push cannot be unsent" in result.output
    assert '~ Title: "Sale starts" -> "Sale now on"' in result.output
    refused = project.run("apply", "--auto-approve")
    assert refused.exit_code == 1 and "blocked; nothing sent" in refused.output
    assert len(emulator.deliveries()) == 1


def test_edited_future_scheduled_delivery_is_replaced(project: Project, emulator: Emulator) -> None:
    project.write("sale.yaml", emas_campaign(push_in=timedelta(hours=2)))
    assert project.run("apply", "--auto-approve").exit_code == 0
    project.write("sale.yaml", emas_campaign(title="Sale moved", push_in=timedelta(hours=2)))
    result = project.run("plan", "--detailed-exitcode")
    assert result.exit_code == 2
    assert "~ replace  staging/sale/r1/android" in result.output
    assert '~ Title: "Sale starts" -> "Sale moved"' in result.output
    applied = project.run("apply", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert statuses(emulator) == [("Sale moved", "scheduled"), ("Sale starts", "cancelled")]
    assert project.run("plan", "--detailed-exitcode").exit_code == 0


def test_removed_future_scheduled_delivery_is_cancelled(
    project: Project, emulator: Emulator
) -> None:
    project.write("sale.yaml", emas_campaign(push_in=timedelta(hours=2)))
    assert project.run("apply", "--auto-approve").exit_code == 0
    project.remove("sale.yaml")
    result = project.run("plan", "--detailed-exitcode")
    assert result.exit_code == 2 and "- cancel   staging/sale/r1/android" in result.output
    assert project.run("apply", "--auto-approve").exit_code == 0
    assert statuses(emulator) == [("Sale starts", "cancelled")]
    with project.open_ledger() as ledger:
        assert ledger.get("staging/sale/r1/android").current.status == "cancelled"


def test_edit_within_the_safety_margin_is_blocked(
    sqlite_project: Project, emulator: Emulator
) -> None:
    sqlite_project.write("sale.yaml", emas_campaign(push_in=timedelta(minutes=3)))
    assert sqlite_project.run("apply", "--auto-approve").exit_code == 0
    sqlite_project.write("sale.yaml", emas_campaign(title="Too late", push_in=timedelta(minutes=3)))
    result = sqlite_project.run("plan")
    assert result.exit_code == 1
    assert "within the 5 min safety margin: too late to replace it" in result.output
    assert "replace" in sqlite_project.run("plan", "--margin", "1m").output


def test_failed_call_is_recorded_and_independent_ones_go_on(
    sqlite_project: Project, emulator: Emulator
) -> None:
    sqlite_project.write("sale.yaml", emas_campaign())
    sqlite_project.write("notice.yaml", mpaas_campaign())
    emulator.enqueue_fault(code="InvalidParameter", action="MassPush", message="no such thing")
    result = sqlite_project.run("apply", "--auto-approve")
    assert result.exit_code == 1
    assert "InvalidParameter: no such thing" in result.output
    assert "1 delivery sent in 1 call" in result.output and "1 failed" in result.output
    with sqlite_project.open_ledger() as ledger:
        call = ledger.get_call(ledger.get("staging/sale/r1/android").current.call_id)
        assert call.status == "failed" and call.error_code == "InvalidParameter"
        assert call.request_id
    # The failed delivery is planned again (a new generation, a new token).
    assert "+ send     staging/sale/r1/android" in sqlite_project.run("plan").output
    assert sqlite_project.run("apply", "--auto-approve").exit_code == 0
    assert len(emulator.deliveries()) == 2


def test_apply_without_terminal_or_auto_approve_refuses(sqlite_project: Project) -> None:
    sqlite_project.write("sale.yaml", emas_campaign())
    result = sqlite_project.run("apply")
    assert result.exit_code == 1
    assert "no terminal to ask on: pass --auto-approve, or apply a saved plan" in result.output


def test_missing_credentials_name_the_variables(sqlite_project: Project) -> None:
    sqlite_project.write("sale.yaml", emas_campaign())
    result = sqlite_project.run(
        "apply", "--auto-approve",
        env={"ALIBABA_CLOUD_ACCESS_KEY_ID": "", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": ""},
    )  # fmt: skip
    assert result.exit_code == 1
    assert "ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET" in result.output


def test_a_held_lock_is_reported_with_its_details_and_nothing_is_sent(
    project: Project, emulator: Emulator
) -> None:
    project.write("sale.yaml", emas_campaign())
    with project.open_ledger() as ledger, ledger.lock("apply", "alice@ci"):
        result = project.run("apply", "--auto-approve", "--lock-timeout", "0.3s")
    assert result.exit_code == 1
    assert "is locked: lock" in result.output and "held by alice@ci" in result.output
    assert "'apply' since" in result.output
    assert emulator.deliveries() == []


def test_two_applies_at_once_never_both_send(project: Project, emulator: Emulator) -> None:
    project.write("sale.yaml", emas_campaign())
    project.write("notice.yaml", mpaas_campaign())
    emulator.configure(latency_ms=300)
    env = {**__import__("os").environ, **project.env}
    cmd = [sys.executable, "-m", "pushops", "apply", "--auto-approve", "--lock-timeout", "30s"]
    runs = [
        subprocess.Popen(
            cmd,
            cwd=project.root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [r.communicate(timeout=120)[0] for r in runs]
    assert [r.returncode for r in runs] == [0, 0], outputs
    assert sum("Apply complete: 2 deliveries" in o for o in outputs) == 1
    assert sum("No changes. Nothing to apply." in o for o in outputs) == 1
    assert len(emulator.deliveries()) == 2


def test_secrets_never_in_plan_output_plan_file_ledger_or_logs(
    sqlite_project: Project, emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sqlite_project.write("sale.yaml", emas_campaign())
    sqlite_project.write("notice.yaml", mpaas_campaign())
    seen = []
    for fmt in ("text", "json", "markdown"):
        seen.append(sqlite_project.run("plan", "--format", fmt).output)
    sqlite_project.run("plan", "--out", "p.plan")
    seen.append(plan_text(sqlite_project.root / "p.plan"))
    seen.append(sqlite_project.run("apply", "p.plan").output)
    with sqlite_project.open_ledger() as ledger:
        seen.extend(ledger.export())
    seen.append(caplog.text)
    assert len(emulator.deliveries()) == 2
    for text in seen:
        assert SECRET not in text


def test_sandbox_main_job_works_without_account_and_remembers(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import os
    import shutil
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    work = tmp_path / "clone"
    work.mkdir()
    for name in ("pushops.yaml", "campaigns", "data", "schemas"):  # what a clone has
        src = repo / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, work / name)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ALIBABA_CLOUD_", "PUSHOPS_"))}
    pushops = [sys.executable, "-m", "pushops"]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*pushops, *args], cwd=work, env=env, capture_output=True, text=True, timeout=120
        )

    plan = run("plan", "--sandbox")
    assert plan.returncode == 0, plan.stderr
    first = run("apply", "--sandbox", "--auto-approve")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "Apply complete" in first.stdout
    # The README's first line, on the examples as they are: clean, nothing a new user must
    # puzzle over (a vendor that would refuse an example title, a warning of any kind).
    for said in (plan.stdout + plan.stderr, first.stdout + first.stderr):
        assert "warning" not in said.lower() and "Refused by" not in said, said
    second = run("apply", "--sandbox", "--auto-approve")
    assert second.returncode == 0 and "No changes. Nothing to apply." in second.stdout
    assert not (work / ".pushops" / "state.db").exists()  # the real ledger is untouched
    assert (work / ".pushops" / "sandbox.db").exists()
