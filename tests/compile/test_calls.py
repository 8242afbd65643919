"""Compiling deliveries into calls: grouping, wire serialisation, keys, tokens."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from pushops.compile import Delivery, compile_calls, fingerprint, msgkey
from pushops.compile.model import canonical_json
from pushops.config import load_config

REPO = Path(__file__).resolve().parents[2]
CONFIG = load_config(REPO)
TASK = {"DeviceType": "ANDROID", "PushType": "NOTICE", "Target": "DEVICE", "Title": "t"}


def delivery(
    key: str, target: str = "d", campaign: str = "c", message: str = "m", **params: Any
) -> Delivery:
    typed = {**TASK, "TargetValue": target, **params}
    return Delivery(
        key=f"staging/{campaign}/r1/{message}/{key}",
        environment="staging",
        campaign=campaign,
        revision=1,
        message=message,
        fan_out_key=key,
        provider="emas",
        app="shop",
        params=typed,
        fingerprint=fingerprint(typed),
        due_at=None,
        expires_at=None,
        source=("campaigns/c.yaml", 1, 1),
    )


def test_a_call_puts_app_key_and_token_in_the_query_and_tasks_in_the_form() -> None:
    (call,) = compile_calls([delivery("1", StoreOffline=True, iOSRelevanceScore=0.5)], CONFIG)
    assert call.action == "MassPush"
    assert call.query == {"AppKey": "23267207", "IdempotentToken": call.token}
    assert call.form == {
        "PushTask.1.DeviceType": "ANDROID",
        "PushTask.1.PushType": "NOTICE",
        "PushTask.1.StoreOffline": "true",
        "PushTask.1.Target": "DEVICE",
        "PushTask.1.TargetValue": "d",
        "PushTask.1.Title": "t",
        "PushTask.1.iOSRelevanceScore": "0.5",
    }


def test_json_fields_are_compact_json_and_flatten_maps_become_dotted_fields() -> None:
    (call,) = compile_calls(
        [
            delivery(
                "1",
                AndroidExtParameters={"a": "é", "n": 1},
                AndroidOppoPrivateTitleParameters={"x": "1", "y": "2"},
                AndroidInboxBody=["l1", "l2"],
            )
        ],
        CONFIG,
    )
    assert call.form["PushTask.1.AndroidExtParameters"] == '{"a":"é","n":1}'
    assert call.form["PushTask.1.AndroidInboxBody"] == '["l1","l2"]'
    assert call.form["PushTask.1.AndroidOppoPrivateTitleParameters.x"] == "1"
    assert call.form["PushTask.1.AndroidOppoPrivateTitleParameters.y"] == "2"


def test_at_most_100_push_tasks_per_call() -> None:
    # 250 different titles: no merging, 250 tasks.
    deliveries = [delivery(str(i), f"d{i}", Title=f"t{i}") for i in range(250)]
    calls = list(compile_calls(deliveries, CONFIG))
    assert [len(c.tasks) for c in calls] == [100, 100, 50]
    assert "PushTask.100.Title" in calls[0].form and "PushTask.101.Title" not in calls[0].form
    assert calls[1].form["PushTask.1.Title"] == "t100"
    assert len({c.token for c in calls}) == 3


def test_tasks_times_widest_target_list_stays_within_10000() -> None:
    # 30 messages of 1000 targets each: at most 10 such tasks fit one call.
    deliveries = [
        delivery(f"{m}-{i}", f"d{i}", Title=f"t{m}") for m in range(30) for i in range(1000)
    ]
    calls = list(compile_calls(deliveries, CONFIG))
    assert [len(c.tasks) for c in calls] == [10, 10, 10]
    assert all(t.targets == 1000 for c in calls for t in c.tasks)


def test_only_deliveries_of_the_same_message_merge() -> None:
    calls = list(
        compile_calls([delivery("1", "a", message="m1"), delivery("1", "b", message="m2")], CONFIG)
    )
    ((call,),) = [calls]
    assert [t.params["TargetValue"] for t in call.tasks] == ["a", "b"]


def test_calls_never_mix_campaigns() -> None:
    calls = list(
        compile_calls([delivery("1", campaign="c1"), delivery("1", campaign="c2")], CONFIG)
    )
    assert [c.deliveries[0].campaign for c in calls] == ["c1", "c2"]


def test_the_token_is_a_uuid_derived_from_the_content() -> None:
    first = next(iter(compile_calls([delivery("1"), delivery("2", "e")], CONFIG)))
    again = next(iter(compile_calls([delivery("1"), delivery("2", "e")], CONFIG)))
    changed = next(iter(compile_calls([delivery("1"), delivery("2", "f")], CONFIG)))
    assert str(uuid.UUID(first.token)) == first.token
    assert first.token == again.token and first.call_id == again.call_id
    assert changed.token != first.token


def test_adding_a_delivery_later_sends_only_that_one() -> None:
    # Plan compiles only what the ledger lacks; the new row gets a call of its own.
    (call,) = compile_calls([delivery("3", "new")], CONFIG)
    assert call.form["PushTask.1.TargetValue"] == "new"
    assert [d.key for d in call.deliveries] == ["staging/c/r1/m/3"]


def test_open_merge_groups_are_bounded_and_flushed_oldest_first(monkeypatch) -> None:
    import pushops.compile as compile_module

    monkeypatch.setattr(compile_module, "MAX_OPEN_GROUPS", 2)
    deliveries = [delivery(str(i), f"d{i}", Title=f"t{i % 2}") for i in range(4)]
    deliveries += [delivery(str(i), f"d{i}", Title=f"t{i % 3}") for i in range(4, 10)]
    (call,) = compile_calls(deliveries, CONFIG)
    # Two titles fit the two open groups and merge; a third title flushes the oldest group.
    assert [t.params["TargetValue"] for t in call.tasks] == [
        "d0,d2",
        "d1,d3,d4",
        "d5",
        "d6",
        "d7",
        "d8",
        "d9",
    ]


def test_fingerprint_ignores_key_order_and_pushops_fields() -> None:
    a = fingerprint({"Title": "x", "Body": "y"})
    assert a == fingerprint({"Body": "y", "Title": "x", "AppKey": 1, "Msgkey": "k"})
    assert a.startswith("sha256:") and len(a) == 7 + 64
    assert canonical_json({"b": 1, "a": "é"}) == '{"a":"é","b":1}'


def mpaas_delivery(app: str = "wallet", **params: Any) -> Delivery:
    typed = {"TaskName": "T", "DeliveryType": 1, "TemplateName": "t", "ExpiredSeconds": 60}
    typed.update(params)
    return Delivery(
        key="staging/w/r1/b",
        environment="staging",
        campaign="w",
        revision=1,
        message="b",
        fan_out_key=None,
        provider="mpaas",
        app=app,
        params=typed,
        fingerprint=fingerprint(typed),
        due_at=datetime(2026, 1, 1, tzinfo=timezone.utc),
        expires_at=None,
        source=("campaigns/w.yaml", 1, 1),
    )


def test_an_mpaas_broadcast_is_one_flat_call_with_json_string_maps() -> None:
    d = mpaas_delivery(
        TemplateKeyValue={"name": "张三"},
        ThirdChannelCategory={"hms": "1", "vivo": "1"},
        NotifyLevel={"hms": "2"},
        StrategyType=1,
        StrategyContent={"fixedTime": 1800000000000},
        ExtendedParams={"k": "v"},
    )
    (call,) = compile_calls([d], CONFIG)
    assert (call.action, call.query, call.token) == ("PushBroadcast", {}, msgkey(d))
    assert call.form["AppId"] == "ONEX570DA89211721"
    assert call.form["WorkspaceId"] == "test"
    assert call.form["Msgkey"] == msgkey(d)
    assert call.form["TemplateKeyValue"] == '{"name":"张三"}'
    assert call.form["ThirdChannelCategory"] == '{"hms":"1","vivo":"1"}'
    assert call.form["NotifyLevel"] == '{"hms":"2"}'
    assert call.form["StrategyContent"] == '{"fixedTime":1800000000000}'
    assert call.form["DeliveryType"] == "1"


def test_the_msgkey_is_32_hex_characters_from_key_and_fingerprint() -> None:
    d = mpaas_delivery()
    other = mpaas_delivery(TaskName="changed")
    assert len(msgkey(d)) == 32 and int(msgkey(d), 16) >= 0
    assert msgkey(d) == msgkey(mpaas_delivery()) != msgkey(other)


def test_a_2019_app_refuses_fields_that_version_lacks(tmp_path: Path) -> None:
    from pushops.compile import CompileError

    text = (
        (REPO / "pushops.yaml")
        .read_text()
        .replace("workspace_id: test", "workspace_id: test\n        api_version: 2019-08-21")
    )
    (tmp_path / "pushops.yaml").write_text(text)
    config = load_config(tmp_path)
    (call,) = compile_calls([mpaas_delivery()], config)
    assert call.form["TemplateName"] == "t"
    with pytest.raises(CompileError, match="no StrategyType"):
        list(compile_calls([mpaas_delivery(StrategyType=0)], config))
