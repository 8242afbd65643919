"""Message cards: one shown content of a message, as plain rows every plan view renders.

A :class:`Card` is what a reviewer reads about one distinct text (or one sample row of a
personalised message): the fields people see, in the order they see them, what tapping it
does, when it goes out and until when, where each device cuts it and which vendor channels
refuse it. Text, Markdown and HTML render the same cards, each its own way; secrets are
masked here, before any view escapes anything (an escaped secret would no longer match).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any

from pushops.plan.grouped import MAX_VARIANTS, MessageGroup, Sample, Variant
from pushops.plan.mask import mask
from pushops.preview.notification import Notification, notification
from pushops.preview.schedule import expiry_words, moment_text, send_words
from pushops.preview.surfaces import Surface, surfaces
from pushops.preview.vendors import refusals
from pushops.wording import plural

KIND_WORDS = {
    "notice": "notification",
    "message": "message to the app (not shown)",
    "broadcast": "broadcast from a console template",
}


@dataclass
class Card:
    key: str  # the delivery it shows (the first of a variant, or the sample)
    label: str  # "4 deliveries, 4 devices" or "sample: first row, longest title and body"
    notification: Notification
    fields: list[tuple[str, str]]  # (name, value) as sent, masked, not escaped
    surfaces: list[Surface] = field(default_factory=list)
    cuts: list[str] = field(default_factory=list)  # "iOS banner: body cut at 62 of 66"
    refusals: list[str] = field(default_factory=list)  # "vivo: Title is 45, the limit is 40"

    @property
    def headline(self) -> str:
        """Title, or body, or template: one line that names the card."""
        n = self.notification
        return n.title or n.popup_title or n.body or n.popup_body or n.template or self.key


@dataclass
class MessageSummary:
    """The facts of one message as a whole (every delivery, not one card)."""

    what: str  # "Android notification" / "mPaaS iOS broadcast"
    deliveries: int
    recipients: str  # "4 devices" / "broadcast" / ""
    calls: int
    sends: str  # "at apply" / "2026-12-02 12:00 UTC … 2026-12-03 …" / mPaaS strategy words
    expires: str
    distinct: str  # "2 distinct texts" / "each row its own text (more than 5 distinct)"

    def phrases(self) -> list[str]:
        """The facts as the text and Markdown views list them, empty ones left out."""
        parts = [self.what, self.recipients, plural(self.calls, "call"), f"sends {self.sends}"]
        if self.expires:
            parts.append(f"expires {self.expires}")
        if self.distinct:
            parts.append(self.distinct)
        return [p for p in parts if p]


def _pairs(mapping: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" if k else v for k, v in mapping.items())


def card_fields(
    n: Notification, request: dict[str, Any], provider: str, zone: tzinfo | None, times: bool = True
) -> list[tuple[str, str]]:
    """The card's rows; ``times`` False leaves out when it is sent and until when (said once
    for the whole message when every card has the same)."""
    rows: list[tuple[str, str]] = []

    def add(name: str, value: str) -> None:
        if value:
            rows.append((name, value))

    add("Title", n.title)
    add("Subtitle", n.subtitle)
    add("Body", n.body)
    if n.style == "big-text":
        add("Expanded title", n.big_title)
        add("Expanded body", n.big_body)
    if n.lines:
        add("Lines", "\n".join(n.lines))
    add("Picture", n.picture_url)
    add("Icon", n.icon_url)
    if n.popup_title or n.popup_body:
        label = "Vendor popup" if n.kind == "notice" else "Offline notice"
        add(f"{label} title", n.popup_title)
        add(f"{label} body", n.popup_body)
    add("Badge", n.badge)
    add("Template", n.template)
    add("Template values", _pairs(n.template_values))
    add("Opens", n.opens)
    add("Extras", _pairs(n.extras))
    add("Channel", n.channel)
    add("Audience", n.audience if provider == "mpaas" else "")
    if times:
        add("Sends", send_words(request, provider, zone))
        add("Expires", expiry_words(request, provider, zone))
    return rows


def _cut_notes(shown: list[Surface]) -> list[str]:
    notes = []
    for s in shown:
        for name, (length, budget) in s.cuts.items():
            if name == "lines":
                notes.append(f"{s.label}: shows {budget} of {length} lines")
            else:
                notes.append(f"{s.label}: {name} cut at {budget} of {length} width units")
    return notes


def make_card(
    item: Variant | Sample,
    why: str,
    group: MessageGroup,
    zone: tzinfo | None,
    secrets: Iterable[str],
    times: bool = True,
) -> Card:
    provider = group.provider or "emas"
    request = mask(item.request, tuple(secrets))
    n = notification(provider, request)
    if isinstance(item, Variant):
        unit = "broadcast" if provider == "mpaas" else f"{plural(item.recipients, 'recipient')}"
        label = f"{plural(item.deliveries, 'delivery')}, {unit}"
    else:
        label = f"sample ({why}): {item.key}"
    shown = surfaces(n)
    refused = [r.describe() for r in refusals(request)] if provider == "emas" else []
    return Card(
        item.key,
        label,
        n,
        card_fields(n, request, provider, zone, times),
        shown,
        _cut_notes(shown),
        refused,
    )


def cards(group: MessageGroup, zone: tzinfo | None, secrets: Iterable[str] = ()) -> list[Card]:
    """The message's cards. Send and expiry times are in the message's summary, and on a
    card only when the message's deliveries do not all share them."""
    secrets = tuple(secrets)
    shown = group.shown()
    provider = group.provider or "emas"
    same = len(
        {
            (send_words(i.request, provider, zone), expiry_words(i.request, provider, zone))
            for i, _ in shown
        }
    ) <= 1 and (group.first_send == group.last_send)
    return [make_card(item, why, group, zone, secrets, not same) for item, why in shown]


def summary(group: MessageGroup, zone: tzinfo | None) -> MessageSummary:
    provider = group.provider or "emas"
    first = next(iter(group.shown()), None)
    n = notification(provider, first[0].request) if first else None
    if n is None:
        what = "nothing to send"
    elif provider == "mpaas":
        what = f"mPaaS {n.platform_words} {KIND_WORDS[n.kind]}"
    else:
        what = f"{n.platform_words} {KIND_WORDS[n.kind]}"
    if provider == "mpaas":
        recipients = "broadcast" if group.broadcasts else ""
    else:
        recipients = f"{plural(group.recipients, 'recipient')}" if group.deliveries else ""
    if first is not None and provider == "mpaas":
        sends = send_words(first[0].request, provider, zone)
    elif group.first_send is None:
        sends = "at apply" if group.deliveries else ""
    else:
        sends = moment_text(group.first_send, zone)
        if group.last_send is not None and group.last_send != group.first_send:
            sends = f"from {sends} to {moment_text(group.last_send, zone)}"
        else:
            sends = f"at {sends}"
        if group.at_apply:
            sends += f"; {group.at_apply:,} at apply"
    expires = expiry_words(first[0].request, provider, zone) if first else ""
    if group.variants is None:
        distinct = f"each row its own text (more than {MAX_VARIANTS} distinct)"
    elif len(group.variants) > 1:
        distinct = f"{len(group.variants)} distinct texts"
    else:
        distinct = ""
    return MessageSummary(what, group.deliveries, recipients, group.calls, sends, expires, distinct)
