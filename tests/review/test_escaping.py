"""Hostile titles, bodies, keys, descriptions and file names are shown, never obeyed: the
pull-request comment (rendered by GitHub's own cmark-gfm), the text and the HTML report carry
no element, link, mention, reference or structure a campaign tried to inject."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import cmarkgfm
import pytest
from cmarkgfm.cmark import Options

from .support import android, new_repo, plan

HOSTILE = (
    "<img src=x onerror=alert(1)> @octocat #1 `tick` **bold** [x](https://evil.example) "
    "https://evil.example www.evil.example me@evil.example | cell $x$ ~~s~~ \u202egnp.exe"
)
KEY_ROWS = "device_id\ndev`1@octocat<img src=x>\ndev2 ``[y](http://z)``\n"
FANOUT = """\
id: hostile-keys
app: shop
description: "<script>alert(1)</script> @octocat"
tasks:
  - id: m
    fan_out:
      data: data/keys.csv
      key: "{{ row.device_id }}"
    DeviceType: ANDROID
    PushType: NOTICE
    Target: DEVICE
    TargetValue: "d1"
    Title: "Row {{ row.device_id }}"
    Body: Hello
"""


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return new_repo(
        tmp_path_factory.mktemp("hostile"),
        {
            "hostile.yaml": android("hostile", "Sale " + HOSTILE[:150], HOSTILE),
            "keys.yaml": FANOUT,
            "evil\n::error file=x::forged.yaml": android("newline-file", "Hello"),
        },
        {"data/keys.csv": KEY_ROWS},
    )


@pytest.fixture(scope="module")
def markdown(repo: Path) -> str:
    result = plan(repo, "--format", "markdown")
    assert result.exit_code == 0, result.output
    return result.stdout


def rendered(markdown: str) -> str:
    """The comment as GitHub renders it, raw HTML kept (GitHub would sanitise it; we must
    not emit any of the author's)."""
    return cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)


def tags(html: str) -> set[str]:
    parser = Tags()
    parser.feed(html)
    return set(parser.tags)


def test_the_comment_renders_no_injected_element_or_link(markdown: str) -> None:
    html = rendered(markdown)
    assert tags(html) <= {
        "h2",
        "h4",
        "p",
        "strong",
        "code",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "details",
        "summary",
        "b",
        "ul",
        "li",
        "sub",
        "br",
        "blockquote",
        "pre",
    }
    assert "evil.example" in html  # shown, as text


def test_the_comment_breaks_mentions_and_issue_references(markdown: str) -> None:
    # GitHub links @user and #123 in rendered text, never inside code.
    outside_code = re.sub(r"<code>.*?</code>", "", rendered(markdown), flags=re.S)
    assert "octocat" in outside_code and "@octocat" not in outside_code
    assert "@\u200boctocat" in outside_code
    assert not re.search(r"#1\b", outside_code)
    assert "#\u200b1" in outside_code


def test_a_backtick_in_a_key_cannot_close_its_code_span(markdown: str) -> None:
    assert "- send ``staging/hostile-keys/r1/m/dev`1@octocat<img src=x>``" in markdown
    html = rendered(markdown)
    assert "<code>staging/hostile-keys/r1/m/dev`1@octocat&lt;img src=x&gt;</code>" in html


def test_direction_overrides_are_shown_not_applied(markdown: str) -> None:
    assert "\u202e" not in markdown
    assert "⟨U+202E⟩gnp.exe" in markdown


def test_a_line_break_in_a_file_name_stays_inside_its_summary(markdown: str) -> None:
    line = next(x for x in markdown.splitlines() if "<b>newline-file</b>" in x)
    assert line.endswith("</summary>") and "evil ::error file=x::forged.yaml" in line
    assert "\n::error" not in markdown


def test_the_text_plan_shows_hostile_text_with_invisible_characters_revealed(repo: Path) -> None:
    text = plan(repo).stdout
    assert "⟨U+202E⟩gnp.exe" in text and "\u202e" not in text
    assert "staging/hostile-keys/r1/m/dev`1@octocat<img src=x>" in text


def test_the_html_report_escapes_everything_and_loads_nothing(repo: Path, tmp_path: Path) -> None:
    report = tmp_path / "report.html"
    assert plan(repo, "--report", str(report)).exit_code == 0
    page = report.read_text(encoding="utf-8")
    assert tags(page) <= {
        "html",
        "head",
        "meta",
        "title",
        "style",
        "body",
        "main",
        "h1",
        "h2",
        "h3",
        "h4",
        "p",
        "div",
        "span",
        "code",
        "table",
        "tr",
        "th",
        "td",
        "section",
        "article",
        "figure",
        "figcaption",
        "ul",
        "li",
        "details",
        "summary",
        "small",
        "b",
        "br",
        "footer",
        "a",
        "pre",
    }
    assert "<script" not in page and "<img" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert set(re.findall(r'href="([^"]*)"', page)) == {  # links within the page only
        "#c-hostile",
        "#c-hostile-keys",
        "#c-newline-file",
    }
    assert "default-src 'none'" in page
