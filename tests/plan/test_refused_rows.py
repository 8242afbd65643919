"""A plan refused by its delivery checks says which data rows to fix, lists a bounded few of
them, and fails in a plan's time and memory however many rows are refused.

A fan-out template that is wrong is wrong in every row: such a campaign of a million rows
must fail as quickly as it would have planned, saying which row and value, not print (or
keep) a million copies of one error. Through the real CLI from a fresh repository, with the
fan-out rendered in plan's own process and in a process of its own alike.
"""

from __future__ import annotations

import re

import pytest

from pushops.check.validate import MAX_ROW_PROBLEMS
from pushops.diagnostics import ERROR, WARNING, Diagnostic, Report
from pushops.plan.checks import RowProblems
from pushops.plan.renderproc import MODE_ENV

from .support import Project

CAMPAIGN = """\
id: coupons
app: shop
tasks:
  - id: coupon
    fan_out:
      data: data/people.csv
      key: "{{ row.device }}"
    DeviceType: "{{ row.kind }}"
    PushType: NOTICE
    Target: DEVICE
    TargetValue: "{{ row.device }}"
    Title: "{{ row.name }}, your coupon"
    Body: Use it within 7 days.
    AndroidOpenType: APPLICATION
"""
ROW = re.compile(r"'TOASTER' in data/people\.csv:(\d+)\)")


def people(project: Project, kinds: list[str]) -> None:
    project.write("coupons.yaml", CAMPAIGN)
    rows = "".join(f"dev{n:05d},Name {n},{kind}\n" for n, kind in enumerate(kinds))
    project.data("data/people.csv", "device,name,kind\n" + rows)


@pytest.mark.parametrize("mode", ["never", "always"])
def test_a_refused_delivery_names_its_data_row_and_rendered_value(
    sqlite_project: Project, mode: str
) -> None:
    people(sqlite_project, ["ANDROID"] * 6 + ["TOASTER"] + ["ANDROID"] * 3)

    result = sqlite_project.run("plan", env={MODE_ENV: mode})

    assert result.exit_code == 1
    refused = [line for line in result.output.splitlines() if "TOASTER" in line]
    assert len(refused) == 1
    # the template's line and field, then the environment, value and row it rendered for
    assert refused[0].startswith("campaigns/coupons.yaml:8:")
    assert "tasks[0].DeviceType:" in refused[0]
    assert "(rendered for staging: 'TOASTER' in data/people.csv:8)" in refused[0]


@pytest.mark.parametrize("mode", ["never", "always"])
def test_a_fan_out_refused_in_every_row_lists_its_first_rows_and_counts_the_rest(
    sqlite_project: Project, mode: str
) -> None:
    people(sqlite_project, ["TOASTER"] * 500)

    result = sqlite_project.run("plan", env={MODE_ENV: mode})

    assert result.exit_code == 1
    rows = [int(m.group(1)) for m in ROW.finditer(result.output)]
    assert rows == list(range(2, 2 + MAX_ROW_PROBLEMS))  # the first rows, in the file's order
    (counted,) = [
        line for line in result.output.splitlines() if "[plan.problems-not-listed]" in line
    ]
    assert counted.startswith("campaigns/coupons.yaml:4:")  # at the message
    assert f"{500 - MAX_ROW_PROBLEMS} more errors in this message's deliveries" in counted
    assert "no plan was made" in result.output


def test_both_processes_report_a_refused_fan_out_alike(sqlite_project: Project) -> None:
    people(sqlite_project, ["TOASTER", "ANDROID"] * 40)

    alone = sqlite_project.run("plan", env={MODE_ENV: "never"})
    apart = sqlite_project.run("plan", env={MODE_ENV: "always"})

    assert alone.exit_code == apart.exit_code == 1
    assert apart.output == alone.output


# --- the parts --------------------------------------------------------------------------


def problem(message: str, severity: str = ERROR) -> Diagnostic:
    return Diagnostic("campaigns/c.yaml", 9, 17, "tasks[0].Title", message, "rule", severity)


class _Delivery:
    campaign, message = "c", "m"


def test_an_error_is_listed_though_as_many_warnings_as_the_limit_were_listed_first() -> None:
    rows = RowProblems(limit=2)
    for n in range(3):
        rows.admit(_Delivery(), [problem(f"warning {n}", WARNING)])  # type: ignore[arg-type]

    admitted = rows.admit(_Delivery(), [problem("an error")])  # type: ignore[arg-type]

    assert admitted == [problem("an error")]  # so the plan fails on it


def test_the_same_problem_in_many_deliveries_is_listed_once_and_not_counted() -> None:
    rows = RowProblems(limit=2)
    admitted = [rows.admit(_Delivery(), [problem("same")]) for _ in range(5)]  # type: ignore[arg-type]

    assert admitted == [[problem("same")], [], [], [], []]
    assert rows.summaries({}) == []


def test_a_report_counts_errors_added_after_it_was_asked() -> None:
    report = Report()
    assert report.ok
    report.add(problem("a warning", WARNING))
    assert report.ok
    report.extend([problem("an error")])
    assert not report.ok and report.error_count() == 1
    report.diagnostics.append(problem("another error"))  # added around add() and extend()
    assert report.error_count() == 2


def test_a_report_whose_list_was_cut_counts_it_again() -> None:
    report = Report([problem("an error"), problem("another")])
    assert report.error_count() == 2
    del report.diagnostics[1:]

    assert report.error_count() == 1
