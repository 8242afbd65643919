"""Fan-out over data files: rows, keys, merging into PushTasks, bad rows and bad paths."""

from __future__ import annotations

import json
import os

import pytest

from tests.render.conftest import PushRepo, emas, mpaas

PERSONAL = {
    "TargetValue": "{{ row.device }}",
    "Title": "{{ row.tier | title }} member",
    "fan_out": {"data": "data/rows.csv", "key": "{{ row.device }}"},
}


def write_rows(repo: PushRepo, rows: list[tuple[str, str]]) -> None:
    lines = ["device,tier"] + [f"{d},{t}" for d, t in rows]
    repo.write("data/rows.csv", "\n".join(lines) + "\n")


def test_one_delivery_per_row_with_its_key_and_source_row(repo: PushRepo) -> None:
    write_rows(repo, [("d1", "gold"), ("d2", "silver")])
    repo.campaign("c", emas(**PERSONAL))
    deliveries, problems = repo.deliveries()
    assert not problems
    assert [d.key for d in deliveries] == ["staging/c/r1/t/d1", "staging/c/r1/t/d2"]
    assert [d.params["Title"] for d in deliveries] == ["Gold member", "Silver member"]
    assert [d.row for d in deliveries] == [("data/rows.csv", 2), ("data/rows.csv", 3)]


def test_the_default_fan_out_key_is_the_row_number(repo: PushRepo) -> None:
    write_rows(repo, [("d1", "gold"), ("d2", "gold")])
    repo.campaign("c", emas(**{**PERSONAL, "fan_out": {"data": "data/rows.csv"}}))
    assert [d.fan_out_key for d in repo.deliveries()[0]] == ["1", "2"]


def test_rows_with_identical_messages_share_one_push_task(repo: PushRepo) -> None:
    write_rows(repo, [("d1", "gold"), ("d2", "silver"), ("d3", "gold")])
    repo.campaign("c", emas(**PERSONAL))
    (call,) = repo.calls()
    assert [t.params["TargetValue"] for t in call.tasks] == ["d1,d3", "d2"]
    assert call.form["PushTask.1.TargetValue"] == "d1,d3"
    assert [len(t.deliveries) for t in call.tasks] == [2, 1]


def test_a_merged_task_holds_at_most_1000_targets(repo: PushRepo) -> None:
    write_rows(repo, [(f"d{i}", "gold") for i in range(2500)])
    repo.campaign("c", emas(**PERSONAL))
    (call,) = repo.calls()
    assert [t.targets for t in call.tasks] == [1000, 1000, 500]
    assert call.form["PushTask.3.TargetValue"].split(",")[0] == "d2000"


def test_a_jsonl_file_fans_out_with_typed_values(repo: PushRepo) -> None:
    repo.write("data/rows.jsonl", '{"device": "d1", "n": 2}\n\n{"device": "d2", "n": 3}\n')
    repo.campaign(
        "c",
        emas(
            TargetValue="{{ row.device }}",
            Title="{{ row.n * 10 }}% off",
            fan_out={"data": "data/rows.jsonl"},
        ),
    )
    deliveries, _ = repo.deliveries()
    assert [(d.params["Title"], d.row) for d in deliveries] == [
        ("20% off", ("data/rows.jsonl", 1)),
        ("30% off", ("data/rows.jsonl", 3)),
    ]


def test_a_csv_row_with_the_wrong_field_count_names_its_line(repo: PushRepo) -> None:
    repo.write("data/rows.csv", "device,tier\nd1,gold\nd2,gold,extra\n")
    repo.campaign("c", emas(**PERSONAL))
    deliveries, problems = repo.deliveries()
    assert [d.fan_out_key for d in deliveries] == ["d1"]
    (problem,) = problems
    assert (problem.file, problem.line, problem.rule) == ("data/rows.csv", 3, "fan-out.bad-row")
    assert "3 fields, the header has 2" in problem.message


def test_a_quoted_field_over_several_lines_keeps_line_numbers_right(repo: PushRepo) -> None:
    repo.write("data/rows.csv", 'device,tier\n"d1","gold\nplus"\nd2,\n')
    repo.campaign("c", emas(**PERSONAL))
    deliveries, _problems = repo.deliveries()
    assert [d.row for d in deliveries] == [("data/rows.csv", 2), ("data/rows.csv", 4)]


def test_a_bad_jsonl_line_names_its_line(repo: PushRepo) -> None:
    repo.write("data/rows.jsonl", '{"device": "d1"}\n[1, 2]\n')
    repo.campaign("c", emas(TargetValue="{{ row.device }}", fan_out={"data": "data/rows.jsonl"}))
    _, problems = repo.deliveries()
    (problem,) = problems
    assert (problem.file, problem.line) == ("data/rows.jsonl", 2)
    assert "must be a JSON object" in problem.message


def test_bad_utf8_in_a_data_file_names_its_line(repo: PushRepo) -> None:
    repo.write("data/rows.csv", b"device,tier\nd1,gold\nd2,\xff\xfe\n")
    repo.campaign("c", emas(**PERSONAL))
    _, problems = repo.deliveries()
    assert [(p.line, p.message) for p in problems] == [(3, "not valid UTF-8 text")]


def test_a_template_error_in_one_row_names_the_row_and_the_template(repo: PushRepo) -> None:
    fields = {
        **PERSONAL,
        "Title": "{{ row.tier | api_time }}",
        "fan_out": {"data": "data/rows.jsonl"},
    }
    repo.write(
        "data/rows.jsonl",
        '{"device": "d1", "tier": "2026-11-22T10:00:00Z"}\n{"device": "d2", "tier": "soon"}\n',
    )
    repo.campaign("c", emas(**fields))
    deliveries, problems = repo.deliveries()
    assert [d.fan_out_key for d in deliveries] == ["1"]
    (problem,) = problems
    assert (problem.file, problem.path, problem.rule) == (
        "campaigns/c.yaml",
        "tasks[0].Title",
        "template.filter",
    )
    assert problem.message.endswith("in row 2 (data/rows.jsonl:2)")


def test_a_broken_template_stops_after_a_few_rows(repo: PushRepo) -> None:
    write_rows(repo, [(f"d{i}", "gold") for i in range(500)])
    repo.campaign("c", emas(**{**PERSONAL, "Title": "{{ row.tier | api_time }}"}))
    _, problems = repo.deliveries()
    rules = [p.rule for p in problems]
    assert rules.count("template.filter") == 20
    assert rules.count("fan-out.too-many-errors") == 1 and len(rules) == 21


# --- a column the rows lack (issue 13 item 12) ------------------------------------------------


def test_a_missing_column_is_one_error_per_template_with_the_rows_and_a_suggestion(
    repo: PushRepo,
) -> None:
    write_rows(repo, [(f"d{i}", "gold") for i in range(1, 501)])
    repo.campaign("c", emas(**{**PERSONAL, "Title": "{{ row.teir }}", "Body": "{{ row.Tier }}!"}))
    deliveries, problems = repo.deliveries()
    assert deliveries == []
    assert [(p.path, p.rule, p.message) for p in problems] == [
        (
            "tasks[0].Title",
            "fan-out.missing-column",
            "no column 'teir' in 500 rows of data/rows.csv (rows 1, 2, 3, 4, 5, …); "
            "did you mean 'tier'?",
        ),
        (
            "tasks[0].Body",
            "fan-out.missing-column",
            "no column 'Tier' in 500 rows of data/rows.csv (rows 1, 2, 3, 4, 5, …); "
            "did you mean 'tier'?",
        ),
    ]


def test_rows_lacking_a_key_are_counted_and_listed_in_row_order(repo: PushRepo) -> None:
    rows = [{"device": f"d{i}", **({"tier": "gold"} if i % 4 else {})} for i in range(1, 41)]
    repo.write("data/rows.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    repo.campaign("c", emas(**{**PERSONAL, "fan_out": {"data": "data/rows.jsonl"}}))
    deliveries, problems = repo.deliveries()
    assert len(deliveries) == 30  # the rows that have it still render
    (problem,) = problems
    assert problem.message == (
        "no column 'tier' in 10 rows of data/rows.jsonl (rows 4, 8, 12, 16, 20, …); "
        "did you mean 'device'?"
    ) or problem.message.startswith(
        "no column 'tier' in 10 rows of data/rows.jsonl (rows 4, 8, 12, 16, 20, …)"
    )


def test_a_missing_column_in_validate_is_one_line_at_the_template(repo: PushRepo) -> None:
    write_rows(repo, [(f"d{i}", "gold") for i in range(1, 13)])
    repo.campaign("c", emas(**{**PERSONAL, "Title": "{{ row.nmae }}"}))
    result = repo.validate()
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if "[fan-out.missing-column]" in line]
    assert len(lines) == 1
    assert "rows 1, 2, 3, 4, 5, …" in lines[0] and "row 10" not in result.output


@pytest.mark.parametrize(
    ("path", "why"),
    [
        ("../rows.csv", "'..'"),
        ("/etc/passwd", "absolute"),
        ("data/../../rows.csv", "'..'"),
        ("data/missing.csv", "no data file"),
    ],
)
def test_data_paths_outside_the_repo_are_refused(repo: PushRepo, path: str, why: str) -> None:
    repo.campaign("c", emas(**{**PERSONAL, "fan_out": {"data": path}}))
    _, problems = repo.deliveries()
    (problem,) = problems
    assert (problem.rule, problem.path) == ("fan-out.path", "tasks[0].fan_out.data")
    assert why in problem.message


def test_a_symlink_pointing_out_of_the_repo_is_refused(repo: PushRepo, tmp_path_factory) -> None:
    outside = tmp_path_factory.mktemp("outside") / "rows.csv"
    outside.write_text("device,tier\nd1,gold\n")
    (repo.root / "data").mkdir()
    os.symlink(outside, repo.root / "data" / "rows.csv")
    repo.campaign("c", emas(**PERSONAL))
    _, problems = repo.deliveries()
    assert [p.rule for p in problems] == ["fan-out.path"]
    assert "symlink" in problems[0].message


def test_fan_out_on_an_mpaas_broadcast_is_an_error(repo: PushRepo) -> None:
    write_rows(repo, [("d1", "gold")])
    repo.campaign("w", mpaas(fan_out={"data": "data/rows.csv"}))
    _, problems = repo.deliveries()
    assert [p.rule for p in problems] == ["fan-out.provider"]


def test_validate_reports_a_bad_row_at_the_data_file_line(repo: PushRepo) -> None:
    repo.write("data/rows.csv", "device,tier\nd1,gold\nd2\n")
    repo.campaign("c", emas(**PERSONAL))
    (error,) = repo.validate_errors()
    assert (error["file"], error["line"], error["rule"]) == ("data/rows.csv", 3, "fan-out.bad-row")


# --- a fan-out cannot multiply the per-evaluation time into hours (issue 12 item 12) -------


@pytest.fixture
def quick_fan_out_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    import pushops.render.sandbox as sandbox

    monkeypatch.setattr(sandbox, "FANOUT_SECONDS", 0.3)
    monkeypatch.setattr(sandbox, "FANOUT_ROW_SECONDS", 0.0005)


def test_a_message_whose_templates_are_slow_on_every_row_is_stopped(
    repo: PushRepo, quick_fan_out_clock: None
) -> None:
    # Each row's Title runs 30,000 loop steps: legal for one evaluation (a third of the
    # budget), hours over many rows, and well over the 0.5 ms a row allowed here on any
    # machine (3,000 steps took less than that on a fast one, and nothing was stopped).
    write_rows(repo, [(f"d{i}", "gold") for i in range(3000)])
    slow = "{% for i in range(30000) %}{% endfor %}{{ row.tier }}"
    repo.campaign("c", emas(**{**PERSONAL, "Title": slow}))
    deliveries, problems = repo.deliveries()
    (problem,) = problems
    assert (problem.path, problem.rule) == ("tasks[0].fan_out", "template.too-large")
    assert "the templates took" in problem.message and "stopped" in problem.message
    assert len(deliveries) < 3000


def test_the_time_the_consumer_holds_the_rows_is_not_counted(
    repo: PushRepo, quick_fan_out_clock: None
) -> None:
    import time

    from pushops.campaign import load_campaigns
    from pushops.config import load_config
    from pushops.diagnostics import Report
    from pushops.render import render_deliveries
    from tests.render.conftest import NOW

    write_rows(repo, [(f"d{i}", "gold") for i in range(600)])
    repo.campaign("c", emas(**PERSONAL))
    report = Report()
    campaigns = load_campaigns([], repo.root, report)
    got = 0
    for _ in render_deliveries(campaigns, load_config(repo.root), "staging", NOW, report):
        time.sleep(0.002)  # 1.2 s in all: apply sending, plan reading the ledger
        got += 1
    assert (got, report.diagnostics) == (600, [])
