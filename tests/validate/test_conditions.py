"""Every cross-field condition of the tables (JSON Schema if/then), failing and passing,
through the real CLI."""

from __future__ import annotations

from typing import Any

import pytest

from pushops.tables import load_table

# condition id -> (fields that trigger it but leave it unmet, fields that meet it)
EXAMPLES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "emas.android-open-activity": (
        {"AndroidOpenType": "ACTIVITY"},
        {"AndroidOpenType": "ACTIVITY", "AndroidActivity": "com.example.Main"},
    ),
    "emas.android-open-url": (
        {"AndroidOpenType": "URL"},
        {"AndroidOpenType": "URL", "AndroidOpenUrl": "https://example.com"},
    ),
    "emas.android-popup": (
        {"AndroidPopupActivity": "com.example.Popup", "AndroidPopupTitle": "t"},
        {
            "AndroidPopupActivity": "com.example.Popup",
            "AndroidPopupTitle": "t",
            "AndroidPopupBody": "b",
        },
    ),
    "emas.ios-badge-auto-increment": (
        {"iOSBadgeAutoIncrement": True, "iOSBadge": 3},
        {"iOSBadgeAutoIncrement": True},
    ),
    "emas.ios-silent-mutable-content": (
        {"iOSSilentNotification": True},
        {"iOSSilentNotification": True, "iOSMutableContent": True},
    ),
    "emas.oppo-notify-level-category": (
        {"AndroidMessageOppoNotifyLevel": 2},
        {"AndroidMessageOppoNotifyLevel": 2, "AndroidMessageOppoCategory": "IM"},
    ),
    "emas.harmony-custom-page": (
        {"HarmonyActionType": "APP_CUSTOM_PAGE"},
        {"HarmonyActionType": "APP_CUSTOM_PAGE", "HarmonyUri": "app://x"},
    ),
    "emas.harmony-multi-line": (
        {"HarmonyRenderStyle": "MULTI_LINE"},
        {"HarmonyRenderStyle": "MULTI_LINE", "HarmonyInboxContent": ["a"]},
    ),
    "emas.ios-live-activity-start": (
        {"iOSLiveActivityEvent": "start", "iOSLiveActivityId": "a"},
        {
            "iOSLiveActivityEvent": "start",
            "iOSLiveActivityId": "a",
            "iOSLiveActivityAttributes": '{"k": 1}',
            "iOSLiveActivityAttributesType": "T",
        },
    ),
    "emas.title-android-harmony": (
        {"DeviceType": "HARMONY", "Title": None},
        {"DeviceType": "HARMONY"},
    ),
    "emas.title-message": (
        {"DeviceType": "iOS", "PushType": "MESSAGE", "Title": None},
        {"DeviceType": "iOS", "PushType": "MESSAGE"},
    ),
    "mpaas.bind-period": (
        {"PushStatus": 0, "BindPeriod": None},
        {"PushStatus": 0, "BindPeriod": 2},
    ),
    "mpaas.unbind-period": (
        {"PushStatus": 2, "BindPeriod": None},
        {"PushStatus": 2, "BindPeriod": None, "UnBindPeriod": 4},
    ),
    "mpaas.strategy-content": ({"StrategyType": 1}, {"StrategyType": 0}),
    "mpaas.transparent-urgency-payload": (
        {"TransparentMessageUrgency": "HIGH"},
        {"TransparentMessageUrgency": "HIGH", "TransparentMessagePayload": {"hms": {"k": "v"}}},
    ),
}
CONDITIONS = {c.id: p for p in ("emas", "mpaas") for c in load_table(p).conditions}


def test_every_condition_has_examples() -> None:
    assert set(CONDITIONS) == set(EXAMPLES)


@pytest.mark.parametrize("condition", sorted(EXAMPLES))
def test_condition_fails_when_unmet(check, condition: str) -> None:
    errors = check(CONDITIONS[condition], **EXAMPLES[condition][0])
    assert [e["rule"] for e in errors if e["severity"] == "error"] == [condition]


@pytest.mark.parametrize("condition", sorted(EXAMPLES))
def test_condition_passes_when_met(check, condition: str) -> None:
    errors = check(CONDITIONS[condition], **EXAMPLES[condition][1])
    assert [e for e in errors if e["severity"] == "error"] == []


def test_a_broadcast_without_push_status_needs_bind_period_as_push_status_0_does(check) -> None:
    # PushStatus defaults to 0 (bound users), so leaving it out is no way around BindPeriod.
    (error,) = check("mpaas", PushStatus=None, BindPeriod=None)
    assert error["rule"] == "mpaas.bind-period"
    # Named for the field left out, located at the broadcast that leaves it out.
    assert error["path"] == "broadcasts[0].PushStatus" and error["line"] == 1
    assert check("mpaas", PushStatus=None, BindPeriod=1) == []
