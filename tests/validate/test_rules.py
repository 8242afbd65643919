"""Every rule in the registry, with a failing and a passing example each.

``test_every_rule_has_examples`` fails when a rule is added without examples here.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import pytest

from pushops.check.rules import REGISTRY, RuleContext, check_call, check_message
from pushops.check.rules.limits import kebab
from pushops.tables import load_table

NOW = datetime(2026, 11, 22, 9, 0, 0, tzinfo=timezone.utc)
DAY_MS = 86_400_000
# 2026-11-22 00:00 in UTC+8 is 2026-11-21T16:00Z.
TODAY_MS = int(datetime(2026, 11, 21, 16, 0, tzinfo=timezone.utc).timestamp() * 1000)


def loop(**content: Any) -> dict[str, Any]:
    base = {
        "startTime": TODAY_MS,
        "endTime": TODAY_MS + 7 * DAY_MS,
        "circleType": 2,
        "circleValue": [1, 3],
        "time": "09:00:00",
    }
    base.update(content)
    return {"StrategyType": 2, "StrategyContent": base}


def task(n: int, targets: int = 1) -> dict[str, Any]:
    return {"TargetValue": ",".join(f"d{i}" for i in range(targets))}


# rule id -> (provider, scope, failing input, passing input)
EXAMPLES: dict[str, tuple[str, str, dict[str, Any], dict[str, Any]]] = {
    "emas.title-bytes": ("emas", "message", {"Title": "标" * 67}, {"Title": "标" * 66 + "ab"}),
    "emas.android-big-title-bytes": (
        "emas",
        "message",
        {"AndroidBigTitle": "x" * 201},
        {"AndroidBigTitle": "x" * 200},
    ),
    "emas.android-big-body-bytes": (
        "emas",
        "message",
        {"AndroidBigBody": "文" * 334},
        {"AndroidBigBody": "文" * 333},
    ),
    "emas.android-popup-title-chars": (
        "emas",
        "message",
        {"AndroidPopupTitle": "弹" * 51},
        {"AndroidPopupTitle": "弹" * 50},
    ),
    "emas.android-popup-body-chars": (
        "emas",
        "message",
        {"AndroidPopupBody": "b" * 201},
        {"AndroidPopupBody": "b" * 200},
    ),
    "emas.target-value-entries": (
        "emas",
        "message",
        {"TargetValue": ",".join(["d"] * 1001)},
        {"TargetValue": ",".join(["d"] * 1000)},
    ),
    "emas.android-ext-parameters-json": (
        "emas",
        "message",
        {"AndroidExtParameters": "[1, 2]"},
        {"AndroidExtParameters": '{"k": "v"}'},
    ),
    "emas.ios-ext-parameters-json": (
        "emas",
        "message",
        {"iOSExtParameters": "{not json"},
        {"iOSExtParameters": {"k": "v"}},
    ),
    "emas.harmony-ext-parameters-json": (
        "emas",
        "message",
        {"HarmonyExtParameters": '"text"'},
        {"HarmonyExtParameters": "{}"},
    ),
    "emas.android-inbox-body-json": (
        "emas",
        "message",
        {"AndroidInboxBody": json.dumps(["a"] * 6)},
        {"AndroidInboxBody": json.dumps(["a"] * 5)},
    ),
    "emas.harmony-inbox-content-json": (
        "emas",
        "message",
        {"HarmonyInboxContent": ["a", "b", "c", "d"]},
        {"HarmonyInboxContent": '["a","b","c"]'},
    ),
    "emas.content-bytes": (
        "emas",
        "message",
        {"DeviceType": "ANDROID", "PushType": "MESSAGE", "Title": "标题", "Body": "文" * 599},
        {"DeviceType": "ANDROID", "PushType": "MESSAGE", "Title": "标题", "Body": "文" * 597},
    ),
    "emas.deprecated": ("emas", "message", {"SendSpeed": 3}, {"Title": "t"}),
    "emas.expire-after-push": (
        "emas",
        "message",
        {"PushTime": "2026-11-22T10:00:00Z", "ExpireTime": "2026-11-22T10:00:03Z"},
        {"PushTime": "2026-11-22T10:00:00Z", "ExpireTime": "2026-11-22T10:00:04Z"},
    ),
    "emas.expire-within-72h": (
        "emas",
        "message",
        {"ExpireTime": "2026-11-25T09:00:01Z"},
        {"ExpireTime": "2026-11-25T09:00:00Z"},
    ),
    "emas.expire-time-past": (
        "emas",
        "message",
        {"ExpireTime": "2026-11-22T09:00:00Z"},
        {"ExpireTime": "2026-11-22T09:00:01Z"},
    ),
    "emas.push-time-past": (
        "emas",
        "message",
        {"PushTime": "2026-11-22T08:59:59Z"},
        {"PushTime": "2026-11-22T09:00:01Z"},
    ),
    "emas.push-within-7-days": (
        "emas",
        "message",
        {"PushTime": "2026-11-29T09:00:01Z"},
        {"PushTime": "2026-11-29T09:00:00Z"},
    ),
    "emas.tasks-per-call": (
        "emas",
        "call",
        {"PushTask": [task(i) for i in range(101)]},
        {"PushTask": [task(i) for i in range(100)]},
    ),
    "emas.call-size": (
        "emas",
        "call",
        {"PushTask": [task(0, 1000)] * 11},
        {"PushTask": [task(0, 1000)] * 10},
    ),
    "emas.idempotent-token": (
        "emas",
        "call",
        {"IdempotentToken": "c2a1d8f0-8a0b-4b1e-9c55"},
        {"IdempotentToken": "C2A1D8F0-8A0B-4B1E-9C55-3F2D1B7E9A10"},
    ),
    "mpaas.extended-params-json": (
        "mpaas",
        "message",
        {"ExtendedParams": {f"k{i}": i for i in range(21)}},
        {"ExtendedParams": {f"k{i}": i for i in range(20)}},
    ),
    "mpaas.template-key-value-json": (
        "mpaas",
        "message",
        {"TemplateKeyValue": "content"},
        {"TemplateKeyValue": '{"content": "x"}'},
    ),
    "mpaas.strategy-content-json": (
        "mpaas",
        "message",
        {"StrategyContent": "[]"},
        {"StrategyContent": "{}"},
    ),
    "mpaas.strategy-content": (
        "mpaas",
        "message",
        {"StrategyType": 1, "StrategyContent": {}},
        {"StrategyType": 1, "StrategyContent": '{"fixedTime": 1795000000000}'},
    ),
    "mpaas.loop-window": (
        "mpaas",
        "message",
        loop(startTime=TODAY_MS + DAY_MS, endTime=TODAY_MS),
        loop(startTime=TODAY_MS),
    ),
    "mpaas.loop-start-past": (
        "mpaas",
        "message",
        loop(startTime=TODAY_MS - 1),
        loop(startTime=TODAY_MS),
    ),
    "mpaas.loop-ended": (
        "mpaas",
        "message",
        loop(startTime=TODAY_MS - 7 * DAY_MS, endTime=TODAY_MS - 1),
        loop(startTime=TODAY_MS - 7 * DAY_MS, endTime=TODAY_MS),
    ),
    "mpaas.circle-value": ("mpaas", "message", loop(circleValue=[0, 8]), loop(circleValue=[1, 7])),
    "mpaas.fixed-time-past": (
        "mpaas",
        "message",
        {"StrategyType": 1, "StrategyContent": {"fixedTime": int(NOW.timestamp() * 1000)}},
        {"StrategyType": 1, "StrategyContent": {"fixedTime": int(NOW.timestamp() * 1000) + 1000}},
    ),
}

for _provider, _field in (("emas", "AndroidExtParameters"), ("mpaas", "ExtendedParams")):
    EXAMPLES[f"{_provider}.json-number"] = (
        _provider,
        "message",
        {_field: {"ratio": float("nan"), "list": [1, float("-inf")]}},
        {_field: {"ratio": 0.5, "list": [1, 2]}},
    )

# Every other "string holding JSON" field gets the same pair: text that is not JSON of its kind.
for _provider in ("emas", "mpaas"):
    for _param in load_table(_provider).message_params.values():
        _rule = f"{_provider}.{kebab(_param.name)}-json"
        if _param.json and _rule not in EXAMPLES:
            _empty = "{}" if _param.json == "object" else "[]"
            _wrong = "[]" if _param.json == "object" else "{}"
            EXAMPLES[_rule] = (_provider, "message", {_param.name: _wrong}, {_param.name: _empty})


def findings(rule_id: str, data: dict[str, Any]) -> list[Any]:
    provider, scope = EXAMPLES[rule_id][:2]
    run = check_message if scope == "message" else check_call
    return [f for f in run(provider, data, NOW) if f.rule == rule_id]


def test_every_rule_has_examples() -> None:
    missing = sorted(set(REGISTRY) - set(EXAMPLES))
    assert not missing, f"rules without a failing and a passing example: {missing}"


@pytest.mark.parametrize("rule_id", sorted(EXAMPLES))
def test_rule_fails_on_its_failing_example(rule_id: str) -> None:
    failing = EXAMPLES[rule_id][2]
    assert findings(rule_id, failing), f"{rule_id} passed {failing}"


@pytest.mark.parametrize("rule_id", sorted(EXAMPLES))
def test_rule_passes_its_passing_example(rule_id: str) -> None:
    assert findings(rule_id, EXAMPLES[rule_id][3]) == []


def test_content_bytes_counts_the_notice_fields_of_the_platform() -> None:
    notice = {
        "DeviceType": "iOS",
        "PushType": "NOTICE",
        "Body": "b" * 1700,
        "iOSExtParameters": {"url": "u" * 100},
    }
    (finding,) = findings("emas.content-bytes", notice)
    assert "Body + iOSExtParameters" in finding.message
    assert not findings("emas.content-bytes", {**notice, "DeviceType": "HARMONY"})


def test_deprecated_parameters_are_warnings_not_errors() -> None:
    (finding,) = findings("emas.deprecated", {"SendSpeed": 3})
    assert finding.severity == "warning"


def test_past_times_are_warnings_so_sent_campaigns_stay_valid() -> None:
    past = ("emas.push-time-past", "emas.expire-time-past", "mpaas.fixed-time-past")
    for rule_id in (*past, "mpaas.loop-start-past", "mpaas.loop-ended"):
        (finding,) = findings(rule_id, EXAMPLES[rule_id][2])
        assert finding.severity == "warning"


def test_a_loop_start_in_the_past_is_an_error_only_for_a_loop_about_to_be_sent() -> None:
    (finding,) = findings("mpaas.loop-start-past", EXAMPLES["mpaas.loop-start-past"][2])
    assert finding.error_when_sent
    assert not any(f.error_when_sent for f in findings("mpaas.loop-ended", loop(endTime=0)))


def test_a_loop_that_ended_is_not_also_reported_as_starting_in_the_past() -> None:
    ended = loop(startTime=TODAY_MS - 7 * DAY_MS, endTime=TODAY_MS - 1)
    assert findings("mpaas.loop-start-past", ended) == []


def test_loop_end_more_than_180_days_ahead_fails() -> None:
    assert findings("mpaas.loop-window", loop(endTime=TODAY_MS + 182 * DAY_MS))
    assert not findings("mpaas.loop-window", loop(endTime=TODAY_MS + 180 * DAY_MS))


def test_loop_end_before_start_fails() -> None:
    (finding,) = findings("mpaas.loop-window", loop(startTime=TODAY_MS + DAY_MS, endTime=TODAY_MS))
    assert finding.message == "endTime is before startTime"


def test_a_loop_needs_its_start_end_type_and_time() -> None:
    (finding,) = findings(
        "mpaas.strategy-content", {"StrategyType": 2, "StrategyContent": {"startTime": TODAY_MS}}
    )
    assert (
        "endTime" in finding.message
        and "circleType" in finding.message
        and "time" in finding.message
    )


def test_monthly_circle_values_run_1_to_31() -> None:
    assert not findings("mpaas.circle-value", loop(circleType=3, circleValue=[1, 31]))
    assert findings("mpaas.circle-value", loop(circleType=3, circleValue=[32]))


def test_time_rules_read_the_clock_they_are_given() -> None:
    later = datetime(2026, 11, 23, tzinfo=timezone.utc)
    data = {"PushTime": "2026-11-22T12:00:00Z"}
    assert not [f for f in check_message("emas", data, NOW) if f.rule == "emas.push-time-past"]
    assert [f for f in check_message("emas", data, later) if f.rule == "emas.push-time-past"]


def _every_rule(provider: str, scope: str, data: dict[str, Any]) -> list[Any]:
    """What the registry finds without dispatch: every rule of the provider and scope."""
    ctx = RuleContext(now=NOW, table=load_table(provider))
    return [
        finding
        for rule in REGISTRY.values()
        if rule.provider == provider and rule.scope == scope
        for finding in rule.fn(data, ctx)
    ]


@pytest.mark.parametrize("rule_id", sorted(EXAMPLES))
def test_dispatch_by_field_finds_what_running_every_rule_finds(rule_id: str) -> None:
    provider, scope, failing, passing = EXAMPLES[rule_id]
    run = check_message if scope == "message" else check_call
    for data in (failing, passing):
        assert run(provider, data, NOW) == _every_rule(provider, scope, data)


@pytest.mark.parametrize("rule_id", sorted(r for r in REGISTRY if REGISTRY[r].reads))
def test_a_rule_finds_nothing_when_none_of_the_fields_it_reads_is_there(rule_id: str) -> None:
    rule = REGISTRY[rule_id]
    failing = EXAMPLES[rule_id][2]
    without = {k: v for k, v in failing.items() if k not in (rule.reads or ())}
    ctx = RuleContext(now=NOW, table=load_table(rule.provider))
    assert list(rule.fn(without, ctx)) == []
