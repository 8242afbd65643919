"""The generated JSON Schemas: every table row is in them, they are valid draft 2020-12, they
accept the example campaigns, and the drift check catches a table edited without a rebuild."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from pushops.cli import cli
from pushops.schemas import MANAGED_FIELDS
from pushops.tables import load_table, schemas_dir

REPO = Path(__file__).resolve().parents[2]
SCHEMAS = REPO / "schemas"


def load(name: str) -> dict:
    return json.loads((SCHEMAS / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    "name",
    [
        "emas-masspush.schema.json",
        "mpaas-pushbroadcast.schema.json",
        "campaign.schema.json",
        "pushops.schema.json",
    ],
)
def test_each_generated_schema_is_valid_draft_2020_12(name: str) -> None:
    schema = load(name)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_every_emas_row_is_in_the_provider_schema_with_its_help() -> None:
    schema = load("emas-masspush.schema.json")
    table = load_table("emas")
    task = schema["$defs"]["PushTask"]["properties"]
    for param in table.item_parameters:
        assert param.name in task, param.name
        assert param.description.split(".")[0] in task[param.name]["description"]
        if param.example is not None:
            assert task[param.name]["examples"] == [param.example]
    for param in table.parameters:
        assert param.name in schema["properties"]


def test_every_mpaas_row_is_in_the_provider_schema() -> None:
    schema = load("mpaas-pushbroadcast.schema.json")
    for param in load_table("mpaas").parameters:
        assert param.name in schema["properties"], param.name


def test_every_sdk_field_is_in_the_provider_schemas() -> None:
    from alibabacloud_mpaas20201028.models import PushBroadcastRequest
    from alibabacloud_push20160801.models import MassPushRequestPushTask

    task = load("emas-masspush.schema.json")["$defs"]["PushTask"]["properties"]
    probe = {k: "x" for k in _tea_wire_names(MassPushRequestPushTask)}
    assert len(probe) >= 114
    assert not set(probe) - set(task)
    broadcast = load("mpaas-pushbroadcast.schema.json")["properties"]
    names = _tea_wire_names(PushBroadcastRequest)
    assert len(names) >= 32
    assert not set(names) - set(broadcast)


def _tea_wire_names(model: type) -> set[str]:
    """Wire names of a Tea model: set every attribute, serialise, read the keys."""
    instance = model()
    for attribute in list(vars(instance)):
        setattr(instance, attribute, "x")
    return set(instance.to_map())


def test_the_campaign_schema_offers_every_field_an_author_writes() -> None:
    schema = load("campaign.schema.json")
    emas = schema["$defs"]["emasMessage"]["properties"]
    mpaas = schema["$defs"]["mpaasMessage"]["properties"]
    for provider, props in (("emas", emas), ("mpaas", mpaas)):
        for name in load_table(provider).message_params:
            assert (name in props) != (name in MANAGED_FIELDS[provider]), name


def test_the_campaign_schema_marks_deprecated_fields() -> None:
    emas = load("campaign.schema.json")["$defs"]["emasMessage"]["properties"]
    assert emas["SendSpeed"]["deprecated"] is True
    assert "deprecated" not in emas["Title"]


def test_the_schemas_carry_the_tables_conditions_as_if_then_on_the_trigger_value() -> None:
    message = load("emas-masspush.schema.json")["$defs"]["PushTask"]
    rules = {c["x-rule"]: c for c in message["allOf"]}
    activity = rules["emas.android-open-activity"]
    assert activity["if"] == {"not": {"required": ["AndroidActivity"]}}
    refused = activity["then"]["properties"]["AndroidOpenType"]
    assert refused["if"] == {"const": "ACTIVITY"}
    assert refused["then"] == {
        "enum": [],
        "errorMessage": "AndroidOpenType ACTIVITY needs AndroidActivity, the Activity to open.",
    }


@pytest.mark.parametrize("path", sorted((REPO / "campaigns").glob("*.yaml")), ids=lambda p: p.name)
def test_an_editor_accepts_each_example_campaign(path: Path) -> None:
    validator = jsonschema.Draft202012Validator(load("campaign.schema.json"))
    errors = [e.message for e in validator.iter_errors(yaml.safe_load(path.read_text()))]
    assert errors == []


def test_an_editor_flags_a_typo_in_a_campaign() -> None:
    validator = jsonschema.Draft202012Validator(load("campaign.schema.json"))
    doc = {"id": "x", "app": "a", "tasks": [{"id": "t", "Titel": "x"}]}
    assert not validator.is_valid(doc)


def test_schema_build_check_passes_on_the_committed_schemas() -> None:
    result = CliRunner().invoke(cli, ["schema", "build", "--check"])
    assert result.exit_code == 0, result.output
    assert schemas_dir() == SCHEMAS


def test_schema_build_check_fails_after_a_table_edit_without_rebuild(tmp_path: Path) -> None:
    copy = tmp_path / "schemas"
    shutil.copytree(SCHEMAS, copy)
    table = copy / "tables" / "emas-masspush.yaml"
    table.write_text(
        table.read_text(encoding="utf-8").replace("max_bytes: 200", "max_bytes: 150", 1),
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli, ["schema", "build", "--check", "--schemas-dir", str(copy)])
    assert result.exit_code == 1
    assert "emas-masspush.schema.json is out of date" in result.output
    assert CliRunner().invoke(cli, ["schema", "build", "--schemas-dir", str(copy)]).exit_code == 0
    assert (
        CliRunner()
        .invoke(cli, ["schema", "build", "--check", "--schemas-dir", str(copy)])
        .exit_code
        == 0
    )
