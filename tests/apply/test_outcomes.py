"""What apply reports and records when something other than a clean send happens: a refused
endpoint, an error inside a send, a provider failing every call. Never a traceback, never
"Apply complete" over a problem, never a call marked pending that was never sent."""

from __future__ import annotations

import shlex
import socket
import subprocess
import sys

import pytest
from plan.support import Project, emas_campaign, mpaas_campaign

from pushops.emulator import Emulator


def ledger_calls(project: Project) -> list[tuple[str, str | None]]:
    """(status, error code) of every call in the ledger, whatever its status."""
    with project.open_ledger() as ledger:
        found = ledger.calls("staging", ("pending", "sent", "failed", "unknown"))
    return sorted((c.status, c.error_code) for c in found)


def ledger_serial(project: Project) -> int:
    with project.open_ledger() as ledger:
        return ledger.meta().serial


@pytest.mark.parametrize(
    ("endpoint", "said"),
    [
        ("https://deploy:S3cretPassw0rd@cloudpush.example.com", "carries user info"),
        ("http://cloudpush.aliyuncs.com", "plain http is allowed only for a loopback host"),
        ("https://cloudpush.aliyuncs.com/v1/push", "must not have a path"),
        ("https://cloudpush.aliyuncs.com/?token=S3cretPassw0rd", "may not carry a query"),
        ("http://[::1", "is not a valid URL"),
    ],
)
def test_a_refused_endpoint_stops_apply_before_anything_is_written(
    sqlite_project: Project, emulator: Emulator, endpoint: str, said: str
) -> None:
    sqlite_project.write("sale.yaml", emas_campaign())
    before = ledger_serial(sqlite_project)
    result = sqlite_project.run("apply", "--auto-approve", env={"PUSHOPS_EMAS_ENDPOINT": endpoint})
    assert result.exit_code == 1
    assert "PUSHOPS_EMAS_ENDPOINT" in result.output and said in result.output
    assert "S3cretPassw0rd" not in result.output
    assert "Traceback" not in result.output and "Apply complete" not in result.output
    assert ledger_serial(sqlite_project) == before  # nothing written
    assert ledger_calls(sqlite_project) == [] and emulator.deliveries() == []


def test_an_endpoint_in_pushops_yaml_is_checked_for_every_app_before_sending(
    sqlite_project: Project, emulator: Emulator
) -> None:
    config = sqlite_project.root / "pushops.yaml"
    config.write_text(
        config.read_text().replace(
            "wallet: {provider: mpaas, app_id: ONEX570DA89211721, workspace_id: test}",
            "wallet: {provider: mpaas, app_id: ONEX570DA89211721, workspace_id: test, "
            "endpoint: 'https://ops:Hunter2Pass@mpaas.example.com'}",
        )
    )
    # Only the EMAS campaign is planned: the mPaaS app's endpoint still stops the run first.
    sqlite_project.write("sale.yaml", emas_campaign())
    before = ledger_serial(sqlite_project)
    result = sqlite_project.run("apply", "--auto-approve", env={"PUSHOPS_MPAAS_ENDPOINT": ""})
    assert result.exit_code == 1, result.output
    assert "mpaas endpoint in config" in result.output and "***@mpaas.example.com" in result.output
    assert "Hunter2Pass" not in result.output
    assert ledger_serial(sqlite_project) == before and emulator.deliveries() == []


def test_a_call_whose_app_is_gone_is_recorded_not_sent_and_the_run_fails(
    sqlite_project: Project, emulator: Emulator
) -> None:
    sqlite_project.write("sale.yaml", emas_campaign())
    sqlite_project.write("notice.yaml", mpaas_campaign())
    assert sqlite_project.run("plan", "--out", "p.plan").exit_code == 0
    # The app is removed from pushops.yaml after the plan was saved.
    config = sqlite_project.root / "pushops.yaml"
    config.write_text(
        "\n".join(line for line in config.read_text().splitlines() if "wallet:" not in line)
    )
    result = sqlite_project.run("apply", "p.plan")
    assert result.exit_code == 1
    assert "Traceback" not in result.output and "Apply complete" not in result.output
    assert "no app 'wallet' in environment 'staging'" in result.output
    assert "Apply finished with problems" in result.output
    # Never reached the wire: recorded as such, not left pending for a recovery to resend.
    assert ("pending", None) not in ledger_calls(sqlite_project)
    assert ("failed", "UnknownApp") in ledger_calls(sqlite_project)
    assert [d["params"]["Title"] for d in emulator.deliveries()] == ["Sale starts"]


def test_an_unexpected_error_inside_a_send_reaches_the_outcome_and_leaves_the_call_pending(
    sqlite_project: Project, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pushops.providers.transport import Transport

    async def broken(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("a defect below the gateway")

    sqlite_project.write("sale.yaml", emas_campaign())
    monkeypatch.setattr(Transport, "call", broken)
    result = sqlite_project.run("apply", "--auto-approve")
    assert result.exit_code == 1
    assert "Traceback" not in result.output and "Apply complete" not in result.output
    assert "RuntimeError: a defect below the gateway" in result.output
    # It may have gone out: pending, for the next run to settle (never sent blindly).
    assert ledger_calls(sqlite_project) == [("pending", None)]
    monkeypatch.undo()
    settled = sqlite_project.run("apply", "--auto-approve")
    assert settled.exit_code == 0, settled.output
    assert len(emulator.deliveries()) == 1


def test_internal_error_on_every_call_is_reported_with_its_code_and_request_id(
    sqlite_project: Project, emulator: Emulator
) -> None:
    sqlite_project.write("sale.yaml", emas_campaign())
    emulator.configure(error_rate=1.0)
    result = sqlite_project.run("apply", "--auto-approve")
    assert result.exit_code == 1
    assert "unanswered" not in result.output
    line = next(x for x in result.output.splitlines() if "InternalError" in x)
    assert "staging/sale/r1/android" in line and "RequestId " in line, result.output
    assert "docs/errors.md" in result.output
    assert "1 pending (the next run settles them)" in result.output
    assert ledger_calls(sqlite_project) == [("pending", None)]


def test_a_saved_sandbox_plan_names_the_command_that_applies_it(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    import os
    import shutil
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    work = tmp_path / "my pushes"
    work.mkdir()
    for name in ("pushops.yaml", "campaigns", "data"):
        src = repo / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, work / name)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ALIBABA_CLOUD_", "PUSHOPS_"))}
    planned = subprocess.run(
        [sys.executable, "-m", "pushops", "plan", "--sandbox", "--out", "sandbox plan.json"],
        cwd=work, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert planned.returncode == 0, planned.stderr
    hint = planned.stderr.split("apply it with `", 1)[1].split("`", 1)[0]
    assert hint == "pushops apply --sandbox 'sandbox plan.json'"
    argv = shlex.split(hint)
    applied = subprocess.run(
        [sys.executable, "-m", "pushops", *argv[1:]],
        cwd=work, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "Apply complete" in applied.stdout


def test_the_emulator_on_a_taken_port_says_so_without_a_traceback() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "pushops", "emulator", "--port", str(port)],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in result.stderr
    assert "pick another --port, or 0 for a free one" in result.stderr
