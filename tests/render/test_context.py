"""What templates see: the variable layers and their precedence, metadata, reserved names."""

from __future__ import annotations

from typing import Any

import pytest

from tests.render.conftest import PushRepo, emas, mpaas, rendered

CONFIG = """
version: 1
default_environment: staging
vars: {who: project, p: from-project}
environments:
  staging:
    vars: {who: environment, e: from-env}
    apps:
      shop: {provider: emas, app_key: 23267207}
"""


def layered(repo: PushRepo, title: str, **campaign_vars: Any) -> str:
    repo.write("pushops.yaml", CONFIG)
    doc = emas(Title=title, vars={"who": "message", "m": "from-message"})
    doc["vars"] = {"who": "campaign", "c": "from-campaign", **campaign_vars}
    repo.campaign("c", doc)
    deliveries, problems = repo.deliveries()
    assert not problems, problems
    return deliveries[0].params["Title"]


def test_every_layer_is_visible(repo: PushRepo) -> None:
    assert layered(repo, "{{ p }} {{ e }} {{ c }} {{ m }}") == (
        "from-project from-env from-campaign from-message"
    )


def test_message_vars_beat_campaign_vars_beat_environment_beat_project(repo: PushRepo) -> None:
    assert layered(repo, "{{ who }}") == "message"


def test_campaign_vars_beat_environment_vars(repo: PushRepo) -> None:
    repo.write("pushops.yaml", CONFIG)
    doc = emas(Title="{{ who }}")
    doc["vars"] = {"who": "campaign"}
    repo.campaign("c", doc)
    assert repo.deliveries()[0][0].params["Title"] == "campaign"


def test_environment_vars_beat_project_vars(repo: PushRepo) -> None:
    repo.write("pushops.yaml", CONFIG)
    repo.campaign("c", emas(Title="{{ who }}"))
    assert repo.deliveries()[0][0].params["Title"] == "environment"


def test_the_row_is_only_under_row_and_never_shadows_a_variable(repo: PushRepo) -> None:
    repo.write("pushops.yaml", CONFIG)
    repo.write("data/r.csv", "who,device\nrow-value,d1\n")
    repo.campaign(
        "c",
        emas(
            Title="{{ who }}/{{ row.who }}",
            TargetValue="{{ row.device }}",
            fan_out={"data": "data/r.csv"},
        ),
    )
    (delivery,) = repo.deliveries()[0]
    assert delivery.params["Title"] == "environment/row-value"


def test_metadata_names_the_campaign_environment_app_and_now(repo: PushRepo) -> None:
    title = (
        "{{ campaign.id }} r{{ campaign.revision }} {{ campaign.app }} "
        "{{ environment.name }} {{ app.name }} {{ app.app_key }} {{ now | api_time }}"
    )
    assert rendered(repo, "Title", title, env="production") == (
        "c r1 shop production shop 24780031 2026-11-22T09:00:00Z"
    )


@pytest.mark.parametrize("name", ["now", "row", "campaign", "app", "environment"])
def test_a_variable_with_a_reserved_name_is_a_located_error(repo: PushRepo, name: str) -> None:
    doc = emas()
    doc["vars"] = {name: "x"}
    repo.campaign("c", doc)
    deliveries, problems = repo.deliveries()
    assert deliveries == []
    assert [p.rule for p in problems] == ["template.reserved-var"]
    assert problems[0].path == f"vars.{name}"


def test_variables_are_inserted_as_text_not_rendered_again(repo: PushRepo) -> None:
    doc = emas(Title="{{ raw }}")
    doc["vars"] = {"raw": "{{ now }}"}
    repo.campaign("c", doc)
    assert repo.deliveries()[0][0].params["Title"] == "{{ now }}"


def test_a_variable_cannot_change_the_structure_of_the_request(repo: PushRepo) -> None:
    doc = emas(Title="{{ evil }}")
    doc["vars"] = {"evil": "x\nBody: injected\nPushTime: 2020-01-01T00:00:00Z"}
    repo.campaign("c", doc)
    (delivery,) = repo.deliveries()[0]
    assert delivery.params["Body"] == "World" and "PushTime" not in delivery.params
    assert delivery.params["Title"].startswith("x\nBody: injected")


def test_templates_inside_yaml_maps_and_lists_are_rendered_and_typed(repo: PushRepo) -> None:
    repo.campaign(
        "w",
        mpaas(
            ExpiredSeconds="{{ 60 * 5 }}",
            StrategyType=2,
            StrategyContent={
                "startTime": "{{ now | start_of_day | epoch_ms }}",
                "endTime": "{{ now | add_days(7) | start_of_day | epoch_ms }}",
                "circleType": 2,
                "circleValue": ["{{ 1 }}", 3],
                "time": "09:00:00",
            },
            TemplateKeyValue={"name": "{{ brand }}"},
        ),
    )
    (delivery,) = repo.deliveries()[0]
    assert delivery.params["ExpiredSeconds"] == 300
    assert delivery.params["StrategyContent"] == {
        "startTime": 1795276800000,
        "endTime": 1795881600000,
        "circleType": 2,
        "circleValue": [1, 3],
        "time": "09:00:00",
    }
    assert delivery.params["TemplateKeyValue"] == {"name": "Acme Shop"}


def test_values_are_coerced_to_the_table_types(repo: PushRepo) -> None:
    assert rendered(repo, "StoreOffline", "{{ 'TRUE' }}") is True
    assert rendered(repo, "iOSBadge", "{{ 2 + 3 }}", DeviceType="iOS") == 5


def test_shared_partials_load_from_the_templates_folder(repo: PushRepo) -> None:
    repo.write("pushops.yaml", CONFIG + "templates: templates\n")
    repo.write("templates/macros.j2", "{% macro shout(x) %}{{ x | upper }}!{% endmacro %}")
    repo.campaign("c", emas(Title='{% from "macros.j2" import shout %}{{ shout(e) }}'))
    assert repo.deliveries()[0][0].params["Title"] == "FROM-ENV!"
