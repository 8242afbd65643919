"""Malformed input of every kind: one located error each, exit 1, never a traceback."""

from __future__ import annotations

import pytest

from tests.validate.conftest import PushRepo


def only_error(repo: PushRepo) -> dict:
    result = repo.validate("--format", "json")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    import json

    errors = json.loads(result.output)["errors"]
    assert len(errors) == 1, errors
    return errors[0]


def test_a_tab_in_the_indentation_is_located_and_explained(repo: PushRepo) -> None:
    repo.write("campaigns/x.yaml", "id: x\napp: shop\ntasks:\n\t- id: a\n")
    error = only_error(repo)
    assert (error["line"], error["column"], error["rule"]) == (4, 1, "yaml.syntax")
    assert "tab" in error["message"]


def test_a_duplicate_key_names_the_first_one(repo: PushRepo) -> None:
    repo.write("campaigns/x.yaml", "id: x\napp: shop\nid: y\ntasks: []\n")
    error = only_error(repo)
    assert (error["line"], error["rule"]) == (3, "yaml.duplicate-key")
    assert "line 1" in error["message"]


def test_a_duplicate_key_inside_a_flow_mapping_is_found(repo: PushRepo) -> None:
    repo.write("campaigns/x.yaml", "id: x\napp: shop\ntasks:\n  - {id: a, Title: t, Title: u}\n")
    error = only_error(repo)
    assert (error["line"], error["column"], error["rule"]) == (4, 23, "yaml.duplicate-key")


def test_bad_indentation_is_located(repo: PushRepo) -> None:
    repo.write("campaigns/x.yaml", "id: x\napp: shop\ntasks:\n  - id: a\n   Title: t\n")
    error = only_error(repo)
    assert error["rule"] == "yaml.syntax" and error["line"] == 5


def test_an_alias_bomb_is_refused_quickly(repo: PushRepo) -> None:
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 10):
        levels.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    repo.write("campaigns/x.yaml", "\n".join(levels) + "\n")
    error = only_error(repo)
    assert error["rule"] == "yaml.alias-expansion"


def test_deep_nesting_is_refused(repo: PushRepo) -> None:
    repo.write("campaigns/x.yaml", "id: x\nvars: " + "[" * 200 + "]" * 200 + "\n")
    error = only_error(repo)
    assert error["rule"] == "yaml.depth"


@pytest.mark.parametrize("text", ["", "# just a comment\n", "   \n"])
def test_an_empty_file_is_an_error(repo: PushRepo, text: str) -> None:
    repo.write("campaigns/x.yaml", text)
    error = only_error(repo)
    assert (error["line"], error["rule"]) == (1, "yaml.empty")


def test_a_binary_file_is_an_error(repo: PushRepo) -> None:
    repo.write("campaigns/x.yaml", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    error = only_error(repo)
    assert error["rule"] == "yaml.syntax" and "binary" in error["message"]


def test_a_file_in_another_encoding_is_an_error(repo: PushRepo) -> None:
    repo.write("campaigns/x.yaml", "id: x\napp: shop\ntasks: [{Title: '中文'}]\n".encode("gb18030"))
    error = only_error(repo)
    assert error["rule"] == "yaml.syntax" and "UTF-8" in error["message"]


def test_a_top_level_list_is_an_error(repo: PushRepo) -> None:
    repo.write("campaigns/x.yaml", "- id: x\n")
    error = only_error(repo)
    assert error["rule"] == "campaign.structure"


def test_two_documents_in_one_file_are_an_error(repo: PushRepo) -> None:
    repo.write("campaigns/x.yaml", "id: x\n---\nid: y\n")
    error = only_error(repo)
    assert error["rule"] == "yaml.multiple-documents" and error["line"] == 2


def test_wrong_types_are_located_at_the_value(repo: PushRepo) -> None:
    repo.write(
        "campaigns/x.yaml",
        "id: x\napp: shop\nrevision: two\ntasks:\n  - {id: a, DeviceType: iOS, PushType: NOTICE, Target: DEVICE, TargetValue: d, Body: b}\n",
    )
    error = only_error(repo)
    assert (error["line"], error["column"], error["path"]) == (3, 11, "revision")
    assert "whole number" in error["message"]


def test_an_unknown_key_suggests_the_close_one(repo: PushRepo) -> None:
    repo.write(
        "campaigns/x.yaml",
        "id: x\napp: shop\ntasks:\n  - {id: a, DeviceType: iOS, PushType: NOTICE, Target: DEVICE, TargetValue: d, Body: b, Titel: t}\n",
    )
    error = only_error(repo)
    assert error["message"] == "unknown field 'Titel'; did you mean 'Title'?"


def test_an_unknown_key_in_the_wrong_case_suggests_the_right_case(repo: PushRepo) -> None:
    repo.write(
        "campaigns/x.yaml",
        "id: x\napp: shop\ntasks:\n  - {id: a, DeviceType: iOS, PushType: NOTICE, Target: DEVICE, TargetValue: d, Body: b, title: t}\n",
    )
    error = only_error(repo)
    assert error["message"] == "unknown field 'title'; did you mean 'Title'?"


def test_an_unknown_campaign_key_suggests_the_close_one(repo: PushRepo) -> None:
    repo.write(
        "campaigns/x.yaml",
        "id: x\napp: shop\nrevison: 2\ntasks:\n  - {id: a, DeviceType: iOS, PushType: NOTICE, Target: DEVICE, TargetValue: d, Body: b}\n",
    )
    error = only_error(repo)
    assert error["message"] == "unknown field 'revison'; did you mean 'revision'?"
    assert (error["line"], error["column"]) == (3, 1)


@pytest.mark.parametrize(
    ("written", "line"),
    [("yes", 5), ("~", 5), ("1", 5), ("0x10", 5), ("off", 5), ("null", 5), ("1.5", 5)],
)
def test_a_key_yaml_would_convert_is_named_as_written_at_its_own_line(
    repo: PushRepo, written: str, line: int
) -> None:
    repo.write(
        "campaigns/x.yaml",
        "id: x\napp: shop\ntasks:\n  - {id: a, DeviceType: iOS, PushType: MESSAGE, Target: DEVICE, "
        f"TargetValue: d1, Title: t, Body: hi,\n     {written}: 1}}\n",
    )
    error = only_error(repo)
    assert (error["line"], error["column"]) == (line, 6)
    assert error["path"] == f"tasks[0].{written}"
    assert f"'{written}'" in error["message"]


def test_a_converted_key_in_a_block_mapping_is_located_too(repo: PushRepo) -> None:
    repo.write("campaigns/x.yaml", "id: x\napp: shop\nyes: 1\ntasks: []\n")
    errors = repo.validate_errors()
    (error,) = [e for e in errors if "yes" in e["path"]]
    assert (error["line"], error["column"], error["path"]) == (3, 1, "yes")


@pytest.mark.parametrize("tag", ["!!binary aGVsbG8=", "!!binary |\n      aGVsbG8="])
def test_a_binary_value_is_a_located_error(repo: PushRepo, tag: str) -> None:
    repo.write(
        "campaigns/x.yaml",
        "id: x\napp: shop\ntasks:\n  - id: a\n    DeviceType: iOS\n    PushType: MESSAGE\n"
        f"    Target: DEVICE\n    TargetValue: d1\n    Title: t\n    Body: {tag}\n",
    )
    error = only_error(repo)
    assert (error["line"], error["column"], error["rule"]) == (10, 11, "yaml.tag")
    assert error["path"] == "tasks[0].Body" and "!!binary" in error["message"]
