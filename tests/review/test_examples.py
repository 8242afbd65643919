"""The plan of this repository's example campaigns, as a reviewer reads it: grouped by what goes
out, with the rendered texts, counts, times and audiences, in text, Markdown and JSON."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from pushops.wording import plural

from .support import REPO, examples, plan, plan_json


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return examples(tmp_path_factory.mktemp("examples"))


@pytest.fixture(scope="module")
def text(repo: Path) -> str:
    result = plan(repo)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture(scope="module")
def markdown(repo: Path) -> str:
    result = plan(repo, "--format", "markdown")
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture(scope="module")
def data(repo: Path) -> dict[str, Any]:
    return plan_json(repo)


def tiers() -> Counter[str]:
    with (REPO / "data" / "vip-coupons.csv").open(encoding="utf-8") as fh:
        return Counter(row["tier"] for row in csv.DictReader(fh))


def test_text_shows_each_message_with_its_rendered_title_and_body(text: str) -> None:
    assert "black-friday: 2 to send  (campaigns/black-friday.yaml, app shop)" in text
    assert "    Title           Acme Shop: Black Friday, 30% off\n" in text
    assert (
        "    Body            Our biggest sale of the year starts now. Tap to see today's deals.\n"
        in text
    )
    assert "    Subtitle        Until Sunday night\n" in text
    assert "    Opens           opens https://staging.shop.example.com/sale/black-friday\n" in text
    assert "    Extras          campaign=black-friday, screen=sale\n" in text


def test_text_counts_recipients_and_calls_and_says_when_it_sends_and_expires(text: str) -> None:
    assert (
        "    Android notification; 3 recipients; 1 call; sends at apply; "
        "expires 2026-11-23 09:00 UTC\n"
    ) in text
    assert "    iOS notification; 2 recipients; 1 call; sends at apply\n" in text


def test_text_merges_fan_out_rows_into_their_distinct_texts_with_counts(text: str) -> None:
    counts = tiers()
    assert "6 recipients; 1 call; sends at apply; 3 distinct texts" in text
    assert (
        f"[1] {plural(counts['gold'], 'delivery')}, {plural(counts['gold'], 'recipient')}\n" in text
    )
    assert "      Title           Gold member: a ¥50 coupon\n" in text
    assert (
        f"[2] {plural(counts['silver'], 'delivery')}, {plural(counts['silver'], 'recipient')}\n"
        in text
    )
    assert "      Title           Silver member: a ¥20 coupon\n" in text
    assert "    + send     6 deliveries\n" in text  # keys counted, not listed one per line


def test_text_says_an_mpaas_loop_in_words_with_its_occurrences(text: str) -> None:
    # --now 2026-11-22T09:00Z (a Sunday, 17:00 in Beijing): Mondays and Thursdays at 09:30 from
    # 22 Nov to 20 Dec 00:00 Beijing time are 23, 26, 30 Nov and 3, 7, 10, 14, 17 Dec.
    assert (
        "sends every Mon and Thu at 09:30 Beijing time, 2026-11-22 → 2026-12-20, "
        "8 occurrences; expires 1 day after each send"
    ) in text
    assert "    Audience        every bound or unbound iOS user (unbound within 60 days)\n" in text


def test_text_shows_an_mpaas_template_and_its_values(text: str) -> None:
    assert "    Template        announcement\n" in text
    assert (
        "    Template values title=Acme Shop Wallet, content=Payments pause tonight from 02:00 "
        "to 02:30 (UTC+8) for maintenance.\n"
    ) in text


def test_text_says_where_a_device_cuts_a_text(text: str) -> None:
    assert "Cut             iOS banner: body cut at 62 of 66 width units\n" in text


def test_markdown_leads_with_a_summary_table_of_the_campaigns(markdown: str) -> None:
    table = markdown.index("| campaign | send | replace | cancel | blocked | recipients |")
    assert table < markdown.index("<details")
    assert "| `black-friday` | 2 | 0 | 0 | 0 | 5 | at apply |" in markdown
    assert "| `vip-coupons` | 6 | 0 | 0 | 0 | 6 | at apply |" in markdown
    assert "| `wallet-announcement` | 1 | 0 | 0 | 0 | 1 broadcast | at apply |" in markdown
    assert (
        "| `weekly-digest` | 1 | 0 | 0 | 0 | 1 broadcast | 2026-11-23 01:30 UTC "
        "(09:30 Beijing time) |"
    ) in markdown
    assert "| **total** | 10 | 0 | 0 | 0 | 11 + 2 broadcasts |" in markdown


def test_markdown_folds_one_section_per_campaign_with_its_message_cards(markdown: str) -> None:
    assert markdown.count("<details><summary><b>") == 4  # closed: nothing blocked or replaced
    assert "<details open" not in markdown
    assert "| **Title** | **Acme Shop: Black Friday, 30% off** |" in markdown
    assert "| Subtitle | Until Sunday night |" in markdown
    assert "| **Template** | **announcement** |" in markdown
    assert "3 distinct texts" in markdown


def test_markdown_lists_the_keys_in_a_collapsed_section(markdown: str) -> None:
    assert "<details><summary>Deliveries (6 to send)</summary>" in markdown
    assert "- send `staging/vip-coupons/r1/coupon/d0000000000000000001`" in markdown
    assert "- … and 1 more send" in markdown


def test_json_groups_the_plan_by_campaign_and_message(data: dict[str, Any]) -> None:
    assert data["format_version"] == 1
    campaigns = {c["campaign"]: c for c in data["campaigns"]}
    assert sorted(campaigns) == [
        "black-friday",
        "vip-coupons",
        "wallet-announcement",
        "weekly-digest",
    ]
    coupon = campaigns["vip-coupons"]["messages"][0]
    assert (coupon["message"], coupon["deliveries"], coupon["recipients"], coupon["calls"]) == (
        "coupon",
        6,
        6,
        1,
    )
    assert coupon["distinct"] == 3 and not coupon["personalised"]
    titles = [c["notification"]["title"] for c in coupon["cards"]]
    assert titles[:2] == [
        "Gold member: a ¥50 coupon",
        "Silver member: a ¥20 coupon",
    ]
    digest = campaigns["weekly-digest"]["messages"][0]
    assert digest["sends"].endswith("8 occurrences")
    assert len(data["actions"]) == 10  # every delivery, as before


def test_json_cards_say_how_each_device_shows_the_text(data: dict[str, Any]) -> None:
    friday = {c["campaign"]: c for c in data["campaigns"]}["black-friday"]
    ios = friday["messages"][1]["cards"][0]
    banner = {s["id"]: s for s in ios["surfaces"]}["ios-banner"]
    assert banner["body"] == "Our biggest sale of the year starts now. Tap to see today's d…"
    assert banner["cut"] == {"body": {"width": 66, "shown": 62}}
    lock = {s["id"]: s for s in ios["surfaces"]}["ios-lock-screen"]
    assert lock["cut"] == {} and lock["badge"] == "+1"
