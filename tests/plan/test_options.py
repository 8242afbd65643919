"""One option vocabulary across commands, and durations that are errors rather than
OverflowError tracebacks (issues 12.18 and 13's friction list), through the real CLI."""

from __future__ import annotations

import pytest

from .support import Project, emas_campaign

HUGE = "99999999999999d"


@pytest.mark.parametrize(
    "args",
    [
        ("plan", "--margin", HUGE),
        ("apply", "--auto-approve", "--margin", HUGE),
        ("apply", "--auto-approve", "--lock-timeout", HUGE),
        ("apply", "plan.json", "--max-plan-age", HUGE),
        ("state", "rm", "k", "--yes", "--lock-timeout", HUGE),
        ("state", "resolve", "k", "--sent", "--lock-timeout", "9" * 5000),
    ],
    ids=lambda a: " ".join(a)[:40],
)
def test_an_enormous_duration_is_a_clear_error_naming_the_option(
    sqlite_project: Project, args: tuple[str, ...]
) -> None:
    result = sqlite_project.run(*args)
    assert result.exit_code == 1
    assert "Traceback" not in result.output and "OverflowError" not in result.output
    option = next(a for a in args if a.startswith("--") and a not in ("--yes", "--sent"))
    if option == "--auto-approve":
        option = args[args.index("--auto-approve") + 1]
    assert f"'{option}'" in result.output
    assert "longer than the longest duration accepted (3650d)" in result.output


def test_a_duration_from_the_environment_is_checked_the_same_way(
    sqlite_project: Project,
) -> None:
    result = sqlite_project.run("plan", env={"PUSHOPS_SCHEDULE_MARGIN": "soon"})
    assert result.exit_code == 1
    assert "'soon' is not a duration such as 300s, 5m, 1h or 2d" in result.output


def test_lock_timeout_takes_the_same_durations_on_apply_and_on_state(
    sqlite_project: Project,
) -> None:
    sqlite_project.write("sale.yaml", emas_campaign())
    applied = sqlite_project.run("apply", "--auto-approve", "--lock-timeout", "5s")
    removed = sqlite_project.run(
        "state", "rm", "staging/sale/r1/android", "--yes", "--lock-timeout", "5s"
    )
    resolved = sqlite_project.run("state", "resolve", "nope", "--sent", "--lock-timeout", "2m")
    assert applied.exit_code == 0, applied.output
    assert removed.exit_code == 0, removed.output
    assert "no current record for key nope" in resolved.output  # past the option parsing


def test_state_commands_take_sandbox_and_plan_takes_schema(sqlite_project: Project) -> None:
    sqlite_project.write("sale.yaml", emas_campaign())
    assert sqlite_project.run("apply", "--sandbox", "--auto-approve").exit_code == 0
    listed = sqlite_project.run("state", "list", "--sandbox")
    real = sqlite_project.run("state", "list")
    planned = sqlite_project.run("plan", "--schema", "unused_on_sqlite")
    assert listed.exit_code == 0 and "staging/sale/r1/android" in listed.output
    assert "no deliveries in the ledger" in real.output  # the sandbox's sends are its own
    assert planned.exit_code == 0, planned.output
