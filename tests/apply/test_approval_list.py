"""Right before apply asks, it lists what the answer approves: per campaign the deliveries,
the calls and when they go out (at apply, the first send time, or the loop in words), then
the totals and what else it does (cancels, pending calls it settles). The plan above the
question can be thousands of lines; the question must not need them. A saved plan file is
listed the same way, from the file, before it is sent.
"""

from __future__ import annotations

import re
from datetime import timedelta

from plan.support import Project, emas_campaign, fanout_campaign, mpaas_campaign

from pushops.emulator import Emulator

from .interrupt_support import leave_pending, on_terminal
from .test_loops import loop_campaign


def repo_with_three_kinds(project: Project) -> None:
    """A scheduled EMAS push (2 devices, 3 hours ahead), a 50-row fan-out sent at apply
    and a daily mPaaS loop already running."""
    project.write("launch.yaml", emas_campaign("launch", push_in=timedelta(hours=3)))
    campaign, rows = fanout_campaign("offers", 50, "data/rows.csv")
    project.write("offers.yaml", campaign)
    project.data("data/rows.csv", rows)
    project.write("digest.yaml", loop_campaign())


def approval_block(text: str) -> list[str]:
    start = text.index("in environment staging:")
    lines = text[start:].splitlines()[1:]
    return [
        line.strip() for line in lines[: next(i for i, x in enumerate(lines) if "total" in x) + 1]
    ]


def row(block: list[str], campaign: str) -> list[str]:
    line = next(x for x in block if x.startswith(campaign + " "))
    return re.split(r"\s{2,}", line)


def test_before_asking_apply_lists_each_campaign_with_deliveries_calls_and_send_time(
    sqlite_project: Project, emulator: Emulator
) -> None:
    repo_with_three_kinds(sqlite_project)
    code, text = on_terminal(sqlite_project, "apply", answer="n")
    assert code == 1, text
    question = text.index("[y/N]")
    block = approval_block(text[:question])
    assert text.rindex("Approving in environment staging:", 0, question) > text.index("Plan: ")
    assert block[0].split() == ["CAMPAIGN", "DELIVERIES", "CALLS", "SENDS"]
    launch = row(block, "launch")
    assert launch[1:3] == ["1", "1"] and launch[3].startswith("first at ")
    assert re.match(r"first at \d{4}-\d\d-\d\d \d\d:\d\d UTC$", launch[3]), launch
    assert row(block, "offers")[1:] == ["50", "1", "at apply"]
    digest = row(block, "digest")
    assert digest[1:3] == ["1", "1"]
    loop = r"loop: every day at \d\d:\d\d Beijing time, \d{4}-\d\d-\d\d → \d{4}-\d\d-\d\d, "
    assert re.match(loop + r"\d+ occurrences?$", digest[3]), digest
    assert row(block, "total")[1:] == ["52", "3"]
    assert "Apply cancelled; nothing settled, nothing sent." in text
    assert emulator.deliveries() == []


def test_a_saved_plan_is_listed_the_same_way_from_the_file_before_it_is_sent(
    sqlite_project: Project, emulator: Emulator
) -> None:
    repo_with_three_kinds(sqlite_project)
    _, asked = on_terminal(sqlite_project, "apply", answer="n")
    saved = sqlite_project.run("plan", "--out", "team.plan")
    assert saved.exit_code == 0, saved.output
    result = sqlite_project.run("apply", "team.plan")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Applying the saved plan (approved when saved) in environment staging:" in out
    assert approval_block(out) == approval_block(asked)
    assert out.index("in environment staging:") < out.index("Apply complete")
    assert len(emulator.deliveries()) == 52  # what the file listed, sent


def test_what_else_apply_does_is_said_after_the_totals(
    sqlite_project: Project, emulator: Emulator
) -> None:
    sqlite_project.write("launch.yaml", emas_campaign("launch", push_in=timedelta(hours=3)))
    assert sqlite_project.run("apply", "--auto-approve").exit_code == 0
    sqlite_project.write(
        "launch.yaml", emas_campaign("launch", "New title", push_in=timedelta(hours=3))
    )
    sqlite_project.write("notice.yaml", mpaas_campaign())
    result = sqlite_project.run("apply", "--auto-approve")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Applying (--auto-approve) in environment staging:" in out
    block = approval_block(out)
    assert row(block, "total")[1:] == ["2", "2"]
    after = out[out.index("in environment staging:") :].splitlines()
    assert "  and cancel 1 scheduled push" in after


def test_sends_that_wait_on_settling_a_pending_call_are_said_to(
    sqlite_project: Project, emulator: Emulator
) -> None:
    sqlite_project.write("sale.yaml", emas_campaign())
    leave_pending(sqlite_project, emulator, age=timedelta(minutes=2), sent=False)
    sqlite_project.write("sale.yaml", emas_campaign(title="Sale now on"))
    code, text = on_terminal(sqlite_project, "apply", answer="n")
    assert code == 1, text
    block = text[text.index("Approving in environment staging:") : text.index("[y/N]")]
    assert row(approval_block(block), "total")[1:] == ["1", "1"]
    lines = [line.strip() for line in block.splitlines()]
    assert (
        "of which up to 1 delivery goes out only if settling finds that its pending call never did"
    ) in lines
    assert "and settle 1 pending call an interrupted run left" in lines
    assert emulator.deliveries() == []
