"""Everything user-controlled, made inert in GitHub Markdown.

Titles, bodies, keys, file names and URLs come from campaign files and data files anyone can
change in a pull request; the bot's comment must show them, never act on them. Three contexts:

- :func:`text`: Markdown text (paragraphs, list items, table cells). The characters that
  start inline Markdown are backslash-escaped (no emphasis, links, images, code spans,
  strikethrough, math or table cells can start; a leading ``#``, ``+``, ``-``, ``=`` or
  ``1.`` cannot start a block), ``&``, ``<`` and ``>`` become entities (no HTML, no entities
  of the author's), and a zero-width space breaks what GitHub links in rendered text
  whatever the Markdown said: ``@user`` and ``@org/team`` (a mention notifies people),
  ``#123`` (a reference writes into another issue's timeline), ``http://``, ``www.`` and
  e-mail addresses (a link in the bot's comment looks endorsed).
- :func:`html`: inside raw HTML such as ``<summary>``, where Markdown is not parsed:
  entities only, and the same zero-width spaces.
- :func:`code`: an inline code span, fenced with more backticks than the text holds; GitHub
  neither links nor mentions inside code. In a table cell ``|`` is escaped too.

Invisible and direction-changing characters are shown as ``⟨U+XXXX⟩`` in all three, so a
reviewer reads what is sent.
"""

from __future__ import annotations

import re

from pushops.preview.text import reveal

ZWSP = "\u200b"
_INLINE = re.compile(r"([\\`*_\[\]|~$])")
_BLOCK_START = re.compile(r"^([#+=-]|[0-9]+[.)])")
_AUTOLINK = re.compile(r"(?i)(://|www\.)")
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_LINKS = re.compile(r"([@#])")
_TICKS = re.compile(r"`+")


def _entities(value: str) -> str:
    return "".join(_ENTITIES.get(c, c) for c in value) if any(c in value for c in "&<>") else value


def text(value: str, *, cell: bool = False) -> str:
    """``value`` as inert Markdown text; line breaks become ``<br>`` in a table cell, spaces
    elsewhere (a line break could end the list item or the table)."""
    value = reveal(value)
    value = _INLINE.sub(r"\\\1", value)
    value = _BLOCK_START.sub(r"\\\1", value)
    value = _entities(value)
    value = _LINKS.sub(lambda m: m.group() + ZWSP, value)
    value = _AUTOLINK.sub(lambda m: m.group()[0] + ZWSP + m.group()[1:], value)
    return value.replace("\n", "<br>" if cell else " ")


def html(value: str) -> str:
    """``value`` as inert text inside raw HTML (``<summary>``, ``<sub>``)."""
    value = reveal(value).replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
    value = _entities(value).replace('"', "&quot;").replace("'", "&#39;")
    return _LINKS.sub(lambda m: m.group() + ZWSP, value)


def code(value: str, *, cell: bool = False) -> str:
    """``value`` as an inline code span (one line: a line break shows as ⏎)."""
    value = reveal(value).replace("\r\n", "⏎").replace("\n", "⏎").replace("\r", "⏎")
    if cell:
        value = value.replace("|", "\\|")
    longest = max((len(m) for m in _TICKS.findall(value)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if value.startswith(("`", " ")) or value.endswith(("`", " ")) or not value else ""
    return f"{fence}{pad}{value}{pad}{fence}"


def fence(body: str, info: str = "") -> str:
    """A fenced code block holding ``body`` whatever backticks it contains."""
    longest = max((len(m) for m in _TICKS.findall(body)), default=0)
    marks = "`" * max(3, longest + 1)
    return f"{marks}{info}\n{reveal(body)}\n{marks}"
