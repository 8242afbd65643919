"""A large fan-out renders (and is checked) in a process of its own while plan decides,
compiles and writes (PUSHOPS_RENDER_PROCESS, pushops.plan.renderproc): the same plan, the
same located errors, and no plan at all when the child dies; neither process outlives the
other's death.

Plans run through the real CLI from a fresh repository: click's runner for plan files and
messages, a subprocess where something is killed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from pushops.diagnostics import PushopsError
from pushops.emulator import Emulator
from pushops.plan.renderproc import AUTO_FROM_BYTES, MODE_ENV, fan_out_bytes, render_mode, wanted

from .support import Project, plan_records

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.bench_soak import child_processes
from bench.bench_soak import running as alive

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the child's life is tied to "
                                "its parent's with a Linux prctl")  # fmt: skip

NOW = "2026-06-01T08:00:00Z"
CAMPAIGN = """\
id: coupons
app: shop
tasks:
  - id: coupon
    fan_out:
      data: data/recipients.csv
      key: "{{ row.device_id }}"
      time_zone: "{{ row.zone }}"
    DeviceType: "{{ row.device }}"
    PushType: NOTICE
    Target: DEVICE
    TargetValue: "{{ row.device_id }}"
    Title: "{{ row.name }}, your coupon"
    Body: "Use code {{ row.code }} within 7 days."
    AndroidOpenType: APPLICATION
    StoreOffline: true
  - id: reminder
    DeviceType: ANDROID
    PushType: NOTICE
    Target: DEVICE
    TargetValue: "owner1,owner2"
    Title: Coupons end soon
    Body: "{{ campaign.id }} ends on Friday."
"""


def recipients(rows: int, *, extra: str = "") -> str:
    # Every third row shares a name (tasks merge on their targets), zones vary.
    zones = ("Asia/Shanghai", "Europe/Berlin", "America/New_York")
    body = "".join(
        f"d{i:08d},Name{i // 3},C{i * 7919 % 1_000_003:07d},{zones[i % 3]},ANDROID\n"
        for i in range(rows)
    )
    return "device_id,name,code,zone,device\n" + body + extra


def coupons(project: Project, rows: int, *, extra: str = "") -> None:
    project.write("coupons.yaml", CAMPAIGN)
    project.data("data/recipients.csv", recipients(rows, extra=extra))


def plan(project: Project, mode: str, *args: str):  # type: ignore[no-untyped-def]
    return project.run("plan", *args, env={MODE_ENV: mode, "PUSHOPS_NOW": NOW})


def planned_both_ways(project: Project, *args: str):  # type: ignore[no-untyped-def]
    """The same plan rendered in plan's own process, then in a rendering process."""
    return plan(project, "never", *args), plan(project, "always", *args)


def without_creation_time(records: list[object]) -> list[object]:
    header = dict(records[0])  # type: ignore[call-overload]
    header.pop("created_at")
    return [header, *records[1:-1]]  # the MAC covers created_at: it differs with it


def test_a_fan_out_rendered_in_its_own_process_is_planned_as_in_one(
    sqlite_project: Project,
) -> None:
    coupons(sqlite_project, 3000)

    alone = plan(sqlite_project, "never", "--out", "alone.plan")
    apart = plan(sqlite_project, "always", "--out", "apart.plan")

    assert alone.exit_code == 0 and apart.exit_code == 0, alone.output + apart.output
    root = sqlite_project.root
    assert without_creation_time(plan_records(root / "apart.plan")) == without_creation_time(
        plan_records(root / "alone.plan")
    )
    assert "3001 to send" in apart.output


def test_render_errors_found_in_the_rendering_process_are_located_as_in_one(
    sqlite_project: Project,
) -> None:
    bad_rows = (
        "d00000005,Late,C1,Asia/Shanghai,ANDROID\n"  # the key of row 6 again
        "d99999999,Nobody,C2,Mars/Olympus,ANDROID\n"  # no such time zone
        ",Empty,C3,Asia/Shanghai,ANDROID\n"  # an empty key
    )
    coupons(sqlite_project, 2000, extra=bad_rows)

    alone, apart = planned_both_ways(sqlite_project)

    assert alone.exit_code == apart.exit_code == 1
    assert apart.output == alone.output
    assert "data/recipients.csv:2002" in apart.output  # the duplicate's line
    assert "Mars/Olympus" in apart.output
    assert "Traceback" not in apart.output


def test_a_delivery_the_provider_schema_refuses_stops_a_plan_checked_in_the_child(
    sqlite_project: Project,
) -> None:
    # Nothing of the campaign is in the ledger: every delivery is sent, so the child checks.
    coupons(sqlite_project, 2000, extra="d77777777,Toaster,C9,Asia/Shanghai,TOASTER\n")

    alone = plan(sqlite_project, "never", "--out", "alone.plan")
    apart = plan(sqlite_project, "always", "--out", "apart.plan")

    assert alone.exit_code == apart.exit_code == 1
    assert apart.output == alone.output
    assert "TOASTER" in apart.output and "DeviceType" in apart.output
    assert not (sqlite_project.root / "apart.plan").exists()


def test_with_the_campaign_in_the_ledger_plan_checks_the_new_rows_it_sends(
    sqlite_project: Project, emulator: Emulator
) -> None:
    coupons(sqlite_project, 1500)
    sent = sqlite_project.run("apply", "--auto-approve", env={MODE_ENV: "always"})
    assert sent.exit_code == 0, sent.output
    # A row added later, which the schema refuses: the parent checks it (the child was not
    # asked to check a campaign most of whose deliveries are unchanged).
    coupons(sqlite_project, 1500, extra="d77777777,Toaster,C9,Asia/Shanghai,TOASTER\n")

    alone, apart = planned_both_ways(sqlite_project)

    assert apart.exit_code == alone.exit_code == 1
    assert apart.output == alone.output
    assert "TOASTER" in apart.output


def test_apply_without_a_plan_file_sends_every_row_once_rendered_in_the_child(
    sqlite_project: Project, emulator: Emulator
) -> None:
    coupons(sqlite_project, 1200)

    result = sqlite_project.run("apply", "--auto-approve", env={MODE_ENV: "always"})

    assert result.exit_code == 0, result.output
    targets = Counter(
        target
        for call in emulator.deliveries()
        for target in str(call["params"].get("TargetValue", "")).split(",")
    )
    assert targets.pop("owner1") == targets.pop("owner2") == 1  # the reminder
    assert len(targets) == 1200 and set(targets.values()) == {1}


# --- killed mid-way ----------------------------------------------------------------------


def rendering_processes(pid: int) -> list[int]:
    """The pids of plan ``pid``'s rendering processes (pushops.plan.renderproc)."""
    return child_processes(pid, b"pushops.plan.renderproc")


def wait_for(condition, timeout: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        found = condition()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(0.01)


def start_plan(project: Project) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "pushops", "plan", "--out", "p.plan"],
        cwd=project.root,
        env={**os.environ, **project.env, MODE_ENV: "always", "PUSHOPS_NOW": NOW},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def mid_render(project: Project) -> tuple[subprocess.Popen[str], int]:
    """A plan of a large fan-out, rendering in its child: (plan, the child's pid)."""
    coupons(project, 60_000)  # a few seconds of rendering
    proc = start_plan(project)
    child = wait_for(lambda: rendering_processes(proc.pid), 30, "the rendering process")[0]
    time.sleep(0.3)  # into the rows
    return proc, child


def test_a_killed_rendering_process_ends_the_plan_with_an_error_and_no_plan_file(
    sqlite_project: Project,
) -> None:
    proc, child = mid_render(sqlite_project)

    os.kill(child, signal.SIGKILL)
    output, _ = proc.communicate(timeout=60)

    assert proc.returncode == 1, output
    assert "the rendering process ended (killed by SIGKILL) before it had rendered" in output
    assert "nothing was planned" in output
    assert "Traceback" not in output
    assert not (sqlite_project.root / "p.plan").exists()


def test_a_killed_plan_takes_its_rendering_process_with_it(sqlite_project: Project) -> None:
    proc, child = mid_render(sqlite_project)

    proc.kill()
    proc.wait(timeout=10)

    wait_for(lambda: not alive(child), 5, "the rendering process to die with plan")
    assert not (sqlite_project.root / "p.plan").exists()


# --- when a child is used ----------------------------------------------------------------


def loaded(project: Project):  # type: ignore[no-untyped-def]
    from pushops.campaign import load_campaigns
    from pushops.config import load_config
    from pushops.diagnostics import Report

    config = load_config(project.root)
    campaigns = load_campaigns(
        [project.root / "campaigns" / "coupons.yaml"], project.root, Report()
    )
    return config, campaigns[0]


def test_auto_renders_a_small_fan_out_in_plan_and_a_large_one_apart(
    sqlite_project: Project,
) -> None:
    coupons(sqlite_project, 100)
    config, small = loaded(sqlite_project)
    assert fan_out_bytes(small, config.root) < AUTO_FROM_BYTES
    assert not wanted("auto", small, config)
    assert wanted("always", small, config)

    coupons(sqlite_project, 60_000)
    config, large = loaded(sqlite_project)
    assert fan_out_bytes(large, config.root) >= AUTO_FROM_BYTES
    assert wanted("auto", large, config)
    assert not wanted("never", large, config)


def test_a_data_file_outside_the_repo_counts_for_nothing_when_choosing(
    sqlite_project: Project, tmp_path: Path
) -> None:
    outside = tmp_path / "outside.csv"
    outside.write_text(recipients(60_000))
    coupons(sqlite_project, 10)
    (sqlite_project.root / "data" / "recipients.csv").unlink()
    (sqlite_project.root / "data" / "recipients.csv").symlink_to(outside)
    config, campaign = loaded(sqlite_project)

    assert fan_out_bytes(campaign, config.root) == 0  # the renderer refuses the file itself


def test_an_unknown_render_mode_is_an_error_naming_the_variable() -> None:
    assert render_mode({}) == "auto"
    assert render_mode({MODE_ENV: " Never "}) == "never"
    with pytest.raises(PushopsError, match=f"{MODE_ENV}='sometimes'"):
        render_mode({MODE_ENV: "sometimes"})


def test_a_campaign_pickle_cannot_carry_is_rendered_in_plan_instead(
    sqlite_project: Project,
) -> None:
    from datetime import datetime, timezone

    from pushops.diagnostics import Report
    from pushops.plan.checks import DeliveryChecker
    from pushops.plan.engine import build_plan

    coupons(sqlite_project, 300)
    config, campaign = loaded(sqlite_project)
    # Nothing the YAML loaders make is like this; a value of another kind must not stop a plan.
    campaign.vars["unpicklable"] = lambda: None
    clock = datetime(2026, 6, 1, 8, tzinfo=timezone.utc)
    report = Report()
    with sqlite_project.open_ledger() as ledger:
        plan = build_plan(
            config, "staging", ledger, [campaign], clock, report, check=DeliveryChecker(clock),
            render_mode="always",
        )  # fmt: skip

    assert report.ok, report.sorted()
    assert plan.calls.deliveries == 301
