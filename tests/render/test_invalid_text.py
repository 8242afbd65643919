"""Half a UTF-16 surrogate pair is not text: a template or a data row that produces one is a
located error, never a traceback from whatever first tries to encode it (fingerprint, ledger,
request)."""

from __future__ import annotations

from tests.render.conftest import NOW_TEXT, PushRepo, emas, render_errors

MESSAGE = (
    "the output holds '\\ud800', half of a UTF-16 surrogate pair: not text, so it cannot be sent"
)


def test_a_template_string_literal_that_makes_a_lone_surrogate_is_a_located_error(
    repo: PushRepo,
) -> None:
    (problem,) = render_errors(repo, "hi {{ '\\ud800' }}")
    assert (problem.rule, problem.message) == ("template.invalid-text", MESSAGE)
    assert problem.path == "tasks[0].Title"


def test_a_json_lines_row_holding_a_lone_surrogate_is_located_at_its_row(repo: PushRepo) -> None:
    repo.write(
        "data/rows.jsonl",
        '{"device": "d1", "tier": "gold"}\n{"device": "\\ud800x", "tier": "gold"}\n',
    )
    repo.campaign(
        "c",
        emas(
            TargetValue="{{ row.device }}",
            fan_out={"data": "data/rows.jsonl", "key": "{{ row.device }}"},
        ),
    )
    result = repo.validate()
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert (
        f"tasks[0].TargetValue: {MESSAGE} in row 2 (data/rows.jsonl:2) [template.invalid-text]"
        in (result.output)
    )


def test_plan_refuses_a_campaign_whose_output_is_not_text(repo: PushRepo) -> None:
    repo.campaign("c", emas(Body="{{ '\\udfff' }}"))
    repo.init_ledger()
    result = repo.cli("plan", "--now", NOW_TEXT)
    assert result.exit_code == 1
    assert "[template.invalid-text]" in result.output + result.stderr
    assert "Traceback" not in result.output + result.stderr
