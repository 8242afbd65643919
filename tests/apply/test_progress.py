"""What apply shows while it sends: a bar on a terminal, plain periodic lines otherwise."""

from __future__ import annotations

import signal

import pytest
from plan.support import Project

from pushops.apply.progress import Progress
from pushops.emulator import Emulator
from pushops.progress import Phase, Window
from pushops.wording import plural

from .interrupt_support import ledger_statuses, on_terminal, paced_project


def test_without_a_terminal_a_long_step_prints_plain_lines_with_rate_and_eta(
    capsys: pytest.CaptureFixture[str],
) -> None:
    phase = Phase("Sending", 10, "deliveries", tty=False, show_after_s=0, plain_every_s=0)
    phase.advance(4)
    phase.close()
    err = capsys.readouterr().err
    assert err.startswith("Sending: 4/10 deliveries, ")
    assert " deliveries/s, ETA " in err


def test_plain_lines_are_spaced_out_not_one_per_call(
    capsys: pytest.CaptureFixture[str],
) -> None:
    shown = Progress(deliveries=1000, calls=1000, tty=False)
    for _ in range(1000):
        shown.advance(1)
    assert capsys.readouterr().err == ""  # well inside the first interval


def test_a_step_over_within_a_second_shows_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    with Phase("Planning", None, "deliveries", tty=False, plain_every_s=0) as phase:
        phase.advance(20_000)
    assert capsys.readouterr().err == ""


def test_the_rate_is_a_moving_window_not_an_average_from_the_start() -> None:
    now = [0.0]
    window = Window(span=10.0, clock=lambda: now[0])
    # A slow start (30 s for the first 100), then 1,000 a second for 20 s.
    now[0] = 30.0
    window.add(100)
    for second in range(1, 21):
        now[0] = 30.0 + second
        window.add(100 + 1000 * second)
    assert window.rate() == pytest.approx(1000, rel=0.01)  # from start: 20,000 / 50 s = 402


def test_a_stopped_step_ends_where_it_stood(capsys: pytest.CaptureFixture[str]) -> None:
    phase = Phase("Sending", 10, "deliveries", tty=False, show_after_s=0, plain_every_s=60)
    phase.advance(4)
    phase.close("interrupted")
    err = capsys.readouterr().err
    assert "Sending: 4/10 deliveries" in err and "(interrupted)" in err


def test_on_a_terminal_apply_shows_a_bar_with_calls_rate_and_eta(
    sqlite_project: Project, emulator: Emulator
) -> None:
    paced_project(sqlite_project, 12, 4.0)  # 12 calls at 4/s: about 3 s of sending
    code, text = on_terminal(sqlite_project, "apply", "--auto-approve")
    assert code == 0, text
    assert "Sending" in text and "12/12 calls" in text and "100%" in text, text
    assert "deliveries/s" in text and "ETA" in text
    assert "Apply complete: 12 deliveries sent" in text


def test_ctrl_c_on_a_terminal_never_shows_100_percent_and_counts_what_was_not_sent(
    sqlite_project: Project, emulator: Emulator
) -> None:
    paced_project(sqlite_project, 40, 4.0)  # 40 calls at 4/s: about 10 s
    code, text = on_terminal(
        sqlite_project, "apply", "--auto-approve",
        until=lambda seen: b"8/40 calls" in seen,
        then=lambda process: process.send_signal(signal.SIGINT),
    )  # fmt: skip
    assert code == 130, text
    assert "100%" not in text, text
    assert "Sending (interrupted)" in text
    summary = next(line for line in text.splitlines() if line.startswith("Apply "))
    sent = len(emulator.deliveries())
    assert summary.startswith("Apply finished with problems: "), summary
    assert f"{plural(sent, 'delivery')} sent" in summary
    assert (
        f"{40 - sent} not sent (interrupted: never left pushops; the next plan sends them)"
    ) in summary, summary
    assert "failed" in summary and " 0 failed" in summary  # never attempted is not "failed"
    statuses = ledger_statuses(sqlite_project)
    assert sum(s == "sent" for s in statuses.values()) == sent
    assert set(statuses.values()) <= {"sent", "failed"}
    with sqlite_project.open_ledger() as ledger:
        codes = {c.error_code for c in ledger.calls("staging", ("failed",))}
    assert codes <= {"Interrupted"}  # recorded as not sent: the run stopped before them
    listed = sqlite_project.run("state", "list", "--status", "failed").output
    never_sent = [line for line in listed.splitlines()[1:] if line.strip()]
    assert never_sent  # written ahead, never sent (the rest was never written)
    assert all("not sent (interrupted: never left pushops)" in line for line in never_sent)
