"""Previews: how each device surface cuts a text (CJK counted double), which vendors refuse it,
an mPaaS strategy in words; and the display profiles and vendor limits kept as data with
their sources and dates."""

from __future__ import annotations

import re
from datetime import date

import pytest

from pushops.preview.data import display_profiles, vendor_limits
from pushops.preview.notification import notification
from pushops.preview.schedule import mpaas_schedule
from pushops.preview.surfaces import surfaces
from pushops.preview.text import cut, reveal, width
from pushops.preview.vendors import refusals

IOS = {
    "DeviceType": "iOS",
    "PushType": "NOTICE",
    "Target": "DEVICE",
    "TargetValue": "d1",
    "Title": "Hi",
}
ANDROID = {**IOS, "DeviceType": "ANDROID"}


def surface(request: dict[str, object], sid: str):  # type: ignore[no-untyped-def]
    return {s.id: s for s in surfaces(notification("emas", request))}[sid]


def test_a_cjk_character_is_two_units_wide() -> None:
    assert width("Sale") == 4 and width("大促") == 4 and width("e\u0301") == 1
    assert cut("大" * 60, 110) == ("大" * 54 + "…", True)
    assert cut("a" * 110, 110) == ("a" * 110, False)


def test_the_ios_lock_screen_shows_110_latin_or_55_chinese_characters_of_the_body() -> None:
    assert surface({**IOS, "Body": "a" * 110}, "ios-lock-screen").cuts == {}
    lock = surface({**IOS, "Body": "a" * 111}, "ios-lock-screen")
    assert lock.body == "a" * 109 + "…" and lock.cuts == {"body": (111, 110)}
    assert surface({**IOS, "Body": "中" * 55}, "ios-lock-screen").cuts == {}
    assert surface({**IOS, "Body": "中" * 56}, "ios-lock-screen").cuts == {"body": (112, 110)}


def test_the_ios_banner_shows_62_units_of_the_body() -> None:
    banner = surface({**IOS, "Body": "中" * 40}, "ios-banner")
    assert banner.body == "中" * 30 + "…" and banner.cuts == {"body": (80, 62)}


def test_the_collapsed_android_shade_shows_one_line_and_the_long_text_style_more() -> None:
    request = {**ANDROID, "Body": "word " * 30, "AndroidRenderStyle": "1"}
    assert surface(request, "android-collapsed").body.endswith("…")
    assert not surface(request, "android-expanded").cuts


def test_an_inbox_style_shows_five_lines_each_cut_at_its_end() -> None:
    lines = '["' + '","'.join([f"line {i} " + "x" * 50 for i in range(7)]) + '"]'
    expanded = surface(
        {**ANDROID, "AndroidRenderStyle": "3", "AndroidInboxBody": lines}, "android-expanded"
    )
    assert len(expanded.lines) == 5 and all(line.endswith("…") for line in expanded.lines)
    assert expanded.cuts["lines"] == (7, 5)


def test_a_message_to_the_app_appears_on_no_surface() -> None:
    assert surfaces(notification("emas", {**ANDROID, "PushType": "MESSAGE"})) == []


def test_vivo_refuses_a_title_of_21_chinese_characters_xiaomi_does_not() -> None:
    found = {(r.vendor, r.field): r for r in refusals({**ANDROID, "Title": "中" * 21})}
    assert found[("vivo", "Title")].length == 42 and found[("vivo", "Title")].limit == 40
    assert ("xiaomi", "Title") not in found


def test_a_harmonyos_notice_meets_harmonyos_limits_only() -> None:
    found = refusals({**ANDROID, "DeviceType": "HARMONY", "Title": "中" * 31})
    assert [(r.vendor, r.length, r.limit) for r in found] == [("harmony", 62, 60)]


def test_an_auxiliary_popup_is_checked_instead_of_title_and_body() -> None:
    request = {
        **ANDROID,
        "Title": "x" * 60,
        "AndroidPopupActivity": "a.B",
        "AndroidPopupTitle": "Short",
        "AndroidPopupBody": "Short",
    }
    assert refusals(request) == []


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (
            {
                "startTime": 1764432000000,
                "endTime": 1764950400000,
                "circleType": 1,
                "time": "20:00:00",
            },
            "every day at 20:00 Beijing time, 2025-11-30 → 2025-12-06, 6 occurrences",
        ),
        (
            {
                "startTime": 1764432000000,
                "endTime": 1767110400000,
                "circleType": 2,
                "circleValue": [2, 5],
                "time": "20:00:00",
            },
            "every Tue and Fri at 20:00 Beijing time, 2025-11-30 → 2025-12-31, 9 occurrences",
        ),
        (
            {
                "startTime": 1764432000000,
                "endTime": 1772294400000,
                "circleType": 3,
                "circleValue": [1, 15],
                "time": "08:00:00",
            },
            "on day 1 and 15 of every month at 08:00 Beijing time, 2025-11-30 → 2026-03-01, "
            "6 occurrences",
        ),
    ],
)
def test_an_mpaas_loop_is_said_in_words(content: dict[str, object], words: str) -> None:
    assert mpaas_schedule({"StrategyType": 2, "StrategyContent": content}) == words


def test_a_scheduled_mpaas_broadcast_says_when_in_utc_and_beijing_time() -> None:
    request = {"StrategyType": 1, "StrategyContent": '{"fixedTime": 1764504000000}'}
    assert mpaas_schedule(request) == "once, at 2025-11-30 12:00 UTC (20:00 Beijing time)"


def test_invisible_characters_are_revealed() -> None:
    assert reveal("a\u202eb\u200bc\x1b") == "a⟨U+202E⟩b⟨U+200B⟩c⟨U+001B⟩"


def _dated(value: object) -> bool:
    return isinstance(value, date) or bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(value)))


def test_every_display_profile_names_its_sources_and_when_they_were_read() -> None:
    for sid, spec in display_profiles().items():
        assert spec["sources"], sid
        for source in spec["sources"]:
            assert source["url"].startswith("https://") and source["what"], sid
            assert _dated(source["read"]), sid


def test_every_vendor_limit_names_its_sources_and_when_they_were_read() -> None:
    data = vendor_limits()
    for key, vendor in [*data["vendors"].items(), ("harmony", data["harmony"])]:
        assert vendor["title"]["count"] in ("chars", "width"), key
        assert vendor["sources"] and set(vendor["sources"]) <= set(data["sources"]), key
    for source in data["sources"].values():
        assert source["url"].startswith("https://") and _dated(source["read"])
