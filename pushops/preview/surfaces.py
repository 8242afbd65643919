"""A notification as each device surface shows it: cut where the device cuts.

One :class:`Surface` per place a person sees the notification (Android shade collapsed and
expanded, iOS lock screen and banner, HarmonyOS notification center), with the texts as that
surface shows them and which of them it cut. The widths come from
``data/display_profiles.yaml`` (typical devices; see the sources there).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pushops.preview.data import display_profiles
from pushops.preview.notification import Notification
from pushops.preview.text import cut_lines, width


@dataclass(frozen=True)
class Surface:
    id: str  # the profile's id, e.g. ios-banner
    platform: str
    label: str
    title: str = ""
    subtitle: str = ""
    body: str = ""
    lines: tuple[str, ...] = ()
    picture_url: str = ""
    badge: str = ""
    # Fields this surface cut: name -> (the text's width, the width the surface shows).
    cuts: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def cut(self) -> bool:
        return bool(self.cuts)


def _fit(spec: dict[str, Any], text: str, name: str, cuts: dict[str, tuple[int, int]]) -> str:
    if not text:
        return ""
    budget = spec.get("total", spec["lines"] * spec["per_line"])
    shown, was_cut = cut_lines(text, spec["lines"], spec["per_line"], spec.get("total"))
    if was_cut:
        cuts[name] = (width(text), budget)
    return shown


def _android(n: Notification, profiles: dict[str, Any], title: str, body: str) -> list[Surface]:
    collapsed, expanded = profiles["android-collapsed"], profiles["android-expanded"]
    out = []
    cuts: dict[str, tuple[int, int]] = {}
    out.append(
        Surface(
            "android-collapsed",
            "android",
            collapsed["label"],
            title=_fit(collapsed["title"], title, "title", cuts),
            body=_fit(collapsed["body"], body, "body", cuts),
            cuts=cuts,
        )
    )
    cuts = {}
    if n.style == "big-text":
        big_title = _fit(expanded["title"], n.big_title or title, "title", cuts)
        big_body = _fit(expanded["body"], n.big_body or body, "body", cuts)
        out.append(
            Surface(
                "android-expanded",
                "android",
                expanded["label"] + " (long text)",
                title=big_title,
                body=big_body,
                cuts=cuts,
            )
        )
    elif n.style == "inbox":
        lines = []
        for index, line in enumerate(n.lines[: expanded["inbox_lines"]]):
            lines.append(_fit(expanded["inbox_line"], line, f"line {index + 1}", cuts))
        if len(n.lines) > expanded["inbox_lines"]:
            cuts["lines"] = (len(n.lines), expanded["inbox_lines"])
        out.append(
            Surface(
                "android-expanded",
                "android",
                expanded["label"] + " (inbox)",
                title=_fit(expanded["title"], title, "title", cuts),
                lines=tuple(lines),
                cuts=cuts,
            )
        )
    elif n.style == "big-picture":
        out.append(
            Surface(
                "android-expanded",
                "android",
                expanded["label"] + " (big picture)",
                title=_fit(expanded["title"], title, "title", cuts),
                body=_fit(expanded["plain_body"], body, "body", cuts),
                picture_url=n.picture_url,
                cuts=cuts,
            )
        )
    return out


def _ios(n: Notification, profiles: dict[str, Any], title: str, body: str) -> list[Surface]:
    out = []
    for sid in ("ios-lock-screen", "ios-banner"):
        spec = profiles[sid]
        cuts: dict[str, tuple[int, int]] = {}
        out.append(
            Surface(
                sid,
                "ios",
                spec["label"],
                title=_fit(spec["title"], title, "title", cuts),
                subtitle=_fit(spec["subtitle"], n.subtitle, "subtitle", cuts),
                body=_fit(spec["body"], body, "body", cuts),
                badge=n.badge,
                cuts=cuts,
            )
        )
    return out


def _harmony(n: Notification, profiles: dict[str, Any], title: str, body: str) -> list[Surface]:
    spec = profiles["harmony-notification"]
    cuts: dict[str, tuple[int, int]] = {}
    lines: list[str] = []
    if n.style == "multi-line":
        for index, line in enumerate(n.lines[: spec["inbox_lines"]]):
            lines.append(_fit(spec["inbox_line"], line, f"line {index + 1}", cuts))
        if len(n.lines) > spec["inbox_lines"]:
            cuts["lines"] = (len(n.lines), spec["inbox_lines"])
    return [
        Surface(
            "harmony-notification",
            "harmony",
            spec["label"] + (" (multi-line)" if lines else ""),
            title=_fit(spec["title"], title, "title", cuts),
            body="" if lines else _fit(spec["body"], body, "body", cuts),
            lines=tuple(lines),
            badge=n.badge,
            cuts=cuts,
        )
    ]


def surfaces(n: Notification) -> list[Surface]:
    """Every surface ``n`` appears on; none for a message the app receives unseen, or an
    mPaaS broadcast (its text is the console template's)."""
    if not n.shown or n.provider != "emas":
        return []
    profiles = display_profiles()
    title, body = (n.title, n.body) if n.kind == "notice" else (n.popup_title, n.popup_body)
    out: list[Surface] = []
    builders = {"android": _android, "ios": _ios, "harmony": _harmony}
    for platform in n.platforms:
        out.extend(builders[platform](n, profiles, title, body))
    return out
