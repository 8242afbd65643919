"""A 20,000-row personalised fan-out, as a reviewer reads its plan: a few lines with the count
and three samples chosen to catch mistakes, not 20,000 keys; the Markdown under GitHub's limit."""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any

import pytest

from .support import new_repo, personalised, plan, plan_json

ROWS = 20_000
LONG_ROW = 12_345
KEY = "staging/offer/r1/personal/{}"


def key(row: int) -> str:
    return KEY.format(f"d{row:08d}")


def picked() -> str:
    """The row picked by key hash: the key whose CRC-32 is smallest."""
    return min((key(i) for i in range(ROWS)), key=lambda k: zlib.crc32(k.encode()))


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    campaign, rows = personalised(ROWS, long_row=LONG_ROW)
    return new_repo(
        tmp_path_factory.mktemp("fanout"), {"offer.yaml": campaign}, {"data/rows.csv": rows}
    )


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


def test_text_is_a_screenful_not_a_line_per_row(text: str) -> None:
    assert len(text.splitlines()) < 40
    assert "offer: 20,000 to send" in text
    assert (
        "    Android notification; 20,000 recipients; 200 calls; sends at apply; "
        "each row its own text (more than 5 distinct)\n"
    ) in text
    assert "    + send     20,000 deliveries\n" in text


def test_text_shows_the_first_the_longest_and_a_hash_picked_row(text: str) -> None:
    assert f"[1] sample (first row): {key(0)}\n" in text
    assert "      Title           User0, your offer\n" in text
    assert f"[2] sample (longest title and body): {key(LONG_ROW)}\n" in text
    assert "      Title           Bartholomew Maximilian von Longname-Smythe, your offer\n" in text
    assert f"[3] sample (picked by key hash): {picked()}\n" in text


def test_markdown_stays_under_githubs_limit_with_the_samples(markdown: str) -> None:
    assert len(markdown.encode("utf-16-le")) // 2 < 65_536
    assert "| `offer` | 20,000 | 0 | 0 | 0 | 20,000 | at apply |" in markdown
    assert "| **Title** | **User0, your offer** |" in markdown
    assert "| **Title** | **Bartholomew Maximilian von Longname\\-Smythe, your offer** |" not in (
        markdown
    )  # a hyphen mid-text needs no escape
    assert "| **Title** | **Bartholomew Maximilian von Longname-Smythe, your offer** |" in markdown
    assert "<details><summary>Deliveries (20,000 to send)</summary>" in markdown
    assert markdown.count("- send `") == 5  # a few keys, then the count
    assert "- … and 19,995 more send" in markdown


def test_json_keeps_every_key_and_the_samples(data: dict[str, Any]) -> None:
    assert len(data["actions"]) == ROWS
    (message,) = data["campaigns"][0]["messages"]
    assert message["personalised"] and message["distinct"] is None
    assert (message["deliveries"], message["recipients"], message["calls"]) == (ROWS, ROWS, 200)
    assert [c["key"] for c in message["cards"]] == [key(0), key(LONG_ROW), picked()]
    assert len(message["listed"]["send"]) == 5
