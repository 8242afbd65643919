"""The schemas say everything JSON Schema and the editors' extensions can: a title and a
sentence of help on every field, a meaning for every enum value, every limit, deprecations,
readable pattern errors and condition messages an editor shows."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pushops.tables import load_table

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "schemas"
EDITOR_SCHEMAS = ("campaign.schema.json", "pushops.schema.json", "policies.schema.json")
ALL_SCHEMAS = (*EDITOR_SCHEMAS, "emas-masspush.schema.json", "mpaas-pushbroadcast.schema.json")


def load(name: str) -> dict[str, Any]:
    return json.loads((SCHEMAS / name).read_text(encoding="utf-8"))


def nodes(schema: Any, path: str = "#") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema object inside ``schema``, with where it is."""
    if isinstance(schema, dict):
        yield path, schema
        for key, value in schema.items():
            yield from nodes(value, f"{path}/{key}")
    elif isinstance(schema, list):
        for index, value in enumerate(schema):
            yield from nodes(value, f"{path}/{index}")


def properties(schema: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every named property's schema (the things an editor's hover is about)."""
    for path, node in nodes(schema):
        if path.endswith("/enum") or "/x-" in path:
            continue
        for name, sub in (node.get("properties") or {}).items():
            if isinstance(sub, dict) and sub != {} and "$ref" not in sub:
                yield f"{path}/properties/{name}", sub


@pytest.mark.parametrize("name", EDITOR_SCHEMAS)
def test_every_field_an_editor_shows_has_a_title_and_a_sentence_of_help(name: str):
    schema = load(name)
    seen = 0
    for path, sub in properties(schema):
        if "/if/" in path or ("/then/" in path and "description" not in sub):
            continue  # the parts of a condition, not fields
        seen += 1
        assert sub.get("title"), path
        assert sub.get("description", "").endswith("."), path
    assert seen > 20


@pytest.mark.parametrize("name", ALL_SCHEMAS)
def test_every_description_and_message_is_a_sentence(name: str):
    for path, node in nodes(load(name)):
        for key in ("description", "patternErrorMessage", "errorMessage", "deprecationMessage"):
            if key in node and isinstance(node[key], str):
                assert node[key].endswith("."), f"{path}/{key}: {node[key]!r}"
        for key in ("enumDescriptions", "markdownEnumDescriptions"):
            for text in node.get(key, []):
                assert text.endswith("."), f"{path}/{key}: {text!r}"


@pytest.mark.parametrize("name", ALL_SCHEMAS)
def test_defaults_are_spelled_as_json_in_the_help(name: str):
    text = (SCHEMAS / name).read_text(encoding="utf-8")
    assert not re.search(r"Default: (True|False|None)\b", text)
    emas = load("campaign.schema.json")["$defs"]["emasMessage"]["properties"]
    assert "Default: false." in emas["StoreOffline"]["description"]
    assert 'Default: "0".' in emas["AndroidRenderStyle"]["description"]


@pytest.mark.parametrize("name", ALL_SCHEMAS)
def test_every_enum_value_has_a_meaning_where_the_table_gives_one(name: str):
    for path, node in nodes(load(name)):
        if isinstance(node.get("enum"), list) and node["enum"] and "/if" not in path:
            assert len(node.get("enumDescriptions", [])) == len(node["enum"]), path
            assert len(node["markdownEnumDescriptions"]) == len(node["enum"]), path


def test_the_enum_meanings_are_the_tables():
    emas = load("campaign.schema.json")["$defs"]["emasMessage"]["properties"]
    device = emas["DeviceType"]["anyOf"][0]

    assert device["enum"] == ["ANDROID", "iOS", "HARMONY", "ALL"]
    assert device["enumDescriptions"][1] == "iOS devices."


@pytest.mark.parametrize("name", ALL_SCHEMAS)
def test_every_pattern_says_what_it_wants_in_words(name: str):
    for path, node in nodes(load(name)):
        if "pattern" in node and isinstance(node["pattern"], str) and "/if" not in path:
            assert node.get("patternErrorMessage"), path


def test_character_and_byte_limits_are_max_length_in_the_campaign_schema():
    for provider in ("emas", "mpaas"):
        fields = load("campaign.schema.json")["$defs"][f"{provider}Message"]["properties"]
        for param in load_table(provider).message_params.values():
            limit = param.limits.get("max_chars", param.limits.get("max_bytes"))
            if limit is None or param.name not in fields:
                continue
            text = fields[param.name]["anyOf"][0]
            assert text["maxLength"] == limit, param.name
    emas = load("campaign.schema.json")["$defs"]["emasMessage"]["properties"]
    assert "At most 50 characters." in emas["AndroidPopupTitle"]["description"]
    assert "At most 200 UTF-8 bytes." in emas["Title"]["description"]


def test_numeric_ranges_are_in_the_help_text():
    emas = load("campaign.schema.json")["$defs"]["emasMessage"]["properties"]

    assert "A whole number from -2147483648 to 2147483647." in emas["iOSBadge"]["description"]
    assert "A whole number from 1 to 100." in emas["AndroidNotificationBarType"]["description"]
    assert "A number from 0 to 1." in emas["iOSRelevanceScore"]["description"]


def test_deprecated_fields_carry_the_message_editors_show():
    emas = load("campaign.schema.json")["$defs"]["emasMessage"]["properties"]

    assert emas["SendSpeed"]["deprecated"] is True
    assert emas["SendSpeed"]["deprecationMessage"].startswith(
        "SendSpeed is deprecated (a warning: pushops still sends it): "
    )
    assert "deprecationMessage" not in emas["Title"]


@pytest.mark.parametrize("provider", ["emas", "mpaas"])
def test_every_condition_carries_its_message_where_an_editor_shows_it(provider: str):
    message = load("campaign.schema.json")["$defs"][f"{provider}Message"]
    conditions = [c for c in message["allOf"] if "x-rule" in c]
    assert len(conditions) == len(load_table(provider).conditions)
    for condition in conditions:
        messages = [n["errorMessage"] for _, n in nodes(condition["then"]) if "errorMessage" in n]
        assert messages, condition["x-rule"]
        assert all(m.rstrip(".") == condition["x-message"].rstrip(".") for m in messages)


def test_strategy_content_is_closed_and_typed():
    broadcast = load("campaign.schema.json")["$defs"]["mpaasMessage"]
    content = broadcast["properties"]["StrategyContent"]["anyOf"][0]

    assert content["additionalProperties"] is False
    assert set(content["properties"]) == {
        "fixedTime",
        "startTime",
        "endTime",
        "circleType",
        "circleValue",
        "time",
    }
    text = broadcast["properties"]["StrategyContent"]["anyOf"][1]
    assert text["type"] == "string" and text["pattern"].startswith("^[ \\t\\n\\r]*\\{")
    provider = load("mpaas-pushbroadcast.schema.json")["properties"]["StrategyContent"]
    assert provider["anyOf"][0]["additionalProperties"] is False
