"""The HTML report in a real headless Chromium: the page it rendered shows every message as
device mock-ups with the texts cut where each device cuts them, fits its layout, loads and
runs nothing a campaign holds, and prints with every folded section shown. A screenshot is
saved under the test's temporary directory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .chromium import Browser, browser
from .support import android, examples, plan

HOSTILE = '<img src=x onerror="document.title=1"> @octocat'
MEASURE = """(() => {
  const lines = el => el ? Math.round(el.getBoundingClientRect().height /
                                      parseFloat(getComputedStyle(el).lineHeight)) : 0;
  const surfaces = [...document.querySelectorAll('figure[data-surface]')].map(fig => {
    const note = fig.querySelector('.note');
    const title = fig.querySelector('.n-title'), body = fig.querySelector('.n-body');
    return {
      id: fig.dataset.surface,
      campaign: fig.closest('section').id,
      message: fig.closest('article').id,
      title: title ? title.innerText : null,
      body: body ? body.innerText : null,
      titleLines: lines(title), bodyLines: lines(body),
      cutMarks: fig.querySelectorAll('.cutmark').length,
      overflows: note.scrollWidth > note.clientWidth + 1,
    };
  });
  return {
    title: document.title,
    images: document.images.length,
    scripts: document.scripts.length,
    campaigns: [...document.querySelectorAll('section.campaign h2')].map(h => h.innerText),
    summaryRows: [...document.querySelectorAll('table.summary tr')].slice(1)
      .map(tr => [...tr.cells].map(td => td.innerText)),
    findings: [...document.querySelectorAll('li.finding')].map(li => li.innerText),
    surfaces,
  };
})()"""
FOLDED = "[...document.querySelectorAll('ul.keys')].map(ul => ul.checkVisibility())"


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = examples(tmp_path_factory.mktemp("report"))
    (root / "campaigns" / "hostile.yaml").write_text(android("hostile", HOSTILE), encoding="utf-8")
    path = root / "report.html"
    result = plan(root, "--report", str(path))
    assert result.exit_code == 0, result.output
    return path


@pytest.fixture(scope="module")
def chrome() -> Iterator[Browser]:
    b = browser()
    try:
        yield b
    finally:
        b.close()


@pytest.fixture(scope="module")
def page(report: Path, chrome: Browser, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    chrome.open(report.as_uri())
    measured = chrome.evaluate(MEASURE)
    shot = tmp_path_factory.mktemp("screenshots") / "report.png"
    chrome.screenshot(shot)
    assert shot.stat().st_size > 10_000
    print(f"screenshot: {shot}")
    return measured


def surface(page: dict[str, Any], message: str, sid: str) -> dict[str, Any]:
    return next(s for s in page["surfaces"] if s["message"] == message and s["id"] == sid)


def test_the_report_shows_every_campaign_and_the_summary(page: dict[str, Any]) -> None:
    assert [c.split(" ·")[0] for c in page["campaigns"]] == [
        "black-friday",
        "hostile",
        "vip-coupons",
        "wallet-announcement",
        "weekly-digest",
    ]
    rows = {r[0]: r for r in page["summaryRows"]}
    assert rows["total"][1:6] == ["11", "0", "0", "0", "13 + 2 broadcasts"]
    assert rows["black-friday"][1:6] == ["2", "0", "0", "0", "5"]
    assert rows["weekly-digest"][5:7] == [
        "1 broadcast",
        "2026-11-23 01:30 UTC (09:30 Beijing time)",
    ]


def test_each_message_is_shown_on_the_devices_it_reaches(page: dict[str, Any]) -> None:
    friday = {s["id"] for s in page["surfaces"] if s["campaign"] == "c-black-friday"}
    assert friday == {"android-collapsed", "android-expanded", "ios-lock-screen", "ios-banner"}
    expanded = surface(page, "m-black-friday-android", "android-expanded")
    assert expanded["title"] == "30% off everything"  # the long-text style's own title
    assert expanded["body"].startswith("Shoes, coats and gadgets")


def test_texts_are_cut_where_each_device_cuts_them(page: dict[str, Any]) -> None:
    banner = surface(page, "m-black-friday-ios", "ios-banner")
    assert banner["body"] == "Our biggest sale of the year starts now. Tap to see today's d…"
    assert banner["cutMarks"] == 1
    lock = surface(page, "m-black-friday-ios", "ios-lock-screen")
    assert lock["body"] == "Our biggest sale of the year starts now. Tap to see today's deals."
    assert lock["cutMarks"] == 0
    collapsed = surface(page, "m-black-friday-android", "android-collapsed")
    assert collapsed["body"] == "Our biggest sale of the year starts now…"


def test_the_mock_ups_are_as_wide_as_the_profiles(page: dict[str, Any]) -> None:
    # A collapsed Android notification is one line of title and one of body, as the profile
    # cuts them; so are an iOS banner's and lock screen's titles.
    one_line = [
        (s["message"], s["id"], s["titleLines"], s["bodyLines"])
        for s in page["surfaces"]
        if s["id"] == "android-collapsed"
    ]
    assert one_line and all(t == 1 and b == 1 for _, _, t, b in one_line), one_line
    titles = [s["titleLines"] for s in page["surfaces"] if s["id"].startswith("ios")]
    assert titles and set(titles) == {1}


def test_no_text_overflows_its_device(page: dict[str, Any]) -> None:
    assert [s["id"] for s in page["surfaces"] if s["overflows"]] == []


def test_a_hostile_title_is_text_not_markup(page: dict[str, Any]) -> None:
    hostile = surface(page, "m-hostile-android", "android-collapsed")
    assert hostile["title"].startswith('<img src=x onerror="document.title=1"')
    assert page["images"] == 0 and page["scripts"] == 0
    assert page["title"] == "pushops plan: staging (sandbox)"


def test_findings_are_listed_under_their_campaign(page: dict[str, Any]) -> None:
    # The examples are within every vendor's limits; the hostile title is not (47 characters).
    hostile = [f for f in page["findings"] if "hostile.yaml" in f]
    assert len(hostile) == 1 and len(page["findings"]) == 1
    assert hostile[0].startswith("warning vendor-limits campaigns/hostile.yaml:9:12: android")


def test_printing_shows_the_folded_key_lists(report: Path, chrome: Browser, page: dict) -> None:
    on_screen = chrome.evaluate(FOLDED)
    assert len(on_screen) == 6 and not any(on_screen)  # folded on screen (a list per message)
    chrome.media("print")
    try:
        assert all(chrome.evaluate(FOLDED))
    finally:
        chrome.media("")
