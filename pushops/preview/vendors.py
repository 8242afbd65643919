"""Which vendor channels would refuse a notification's text as too long.

Android pushes reach many devices through the phone makers' own push channels (Xiaomi,
Huawei, Honor, OPPO, vivo, Meizu), and HarmonyOS devices through HarmonyOS push. Each has hard
limits on the title and the body; a text over them is refused by that vendor, not cut, so its
devices get nothing (``data/vendor_limits.yaml`` has the figures, their sources and dates).

Only EMAS requests are checked: an mPaaS broadcast's text is its console template's, which a
plan cannot see.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from pushops.preview.data import vendor_limits
from pushops.preview.text import width

CHANNELS_FIELD = "SendChannels"


@dataclass(frozen=True, slots=True)
class Refusal:
    vendor: str  # the vendor's key in the data file (xiaomi, vivo, harmony, ...)
    name: str  # as people write it (Xiaomi, vivo, HarmonyOS push)
    field: str  # the request field over the limit (Title, Body, AndroidPopupTitle, ...)
    length: int  # its length, counted the vendor's way
    limit: int
    count: str  # chars | width

    def describe(self) -> str:
        unit = "characters" if self.count == "chars" else "width units (a CJK character is 2)"
        return f"{self.name}: {self.field} is {self.length}, the limit is {self.limit} {unit}"


@dataclass(frozen=True, slots=True)
class _Limit:
    vendor: str
    name: str
    channel: str
    title: int
    title_count: str
    body: int
    body_count: str


@cache
def _limits() -> tuple[tuple[_Limit, ...], _Limit, int, int]:
    data = vendor_limits()

    def limit(key: str, spec: dict[str, Any]) -> _Limit:
        return _Limit(
            key,
            spec["name"],
            spec["channel"],
            spec["title"]["limit"],
            spec["title"]["count"],
            spec["body"]["limit"],
            spec["body"]["count"],
        )

    android = tuple(limit(k, v) for k, v in data["vendors"].items())
    return (
        android,
        limit("harmony", data["harmony"]),
        min(v.title for v in android),
        min(v.body for v in android),
    )


def _within(text: str, smallest: int) -> bool:
    """Whether ``text`` is within a limit of ``smallest`` however it is counted (a character
    is 1 or 2 units): most texts are decided here, without measuring their width."""
    n = len(text)
    return n * 2 <= smallest or (n <= smallest and text.isascii())


def _check(limits: tuple[_Limit, ...], fields: tuple[tuple[str, str], ...]) -> list[Refusal]:
    out = []
    for name, text in fields:
        is_title = name.endswith("Title")
        chars, units = len(text), width(text)
        for v in limits:
            limit, count = (v.title, v.title_count) if is_title else (v.body, v.body_count)
            length = chars if count == "chars" else units
            if length > limit:
                out.append(Refusal(v.vendor, v.name, name, length, limit, count))
    return out


def _channels(request: dict[str, Any]) -> set[str] | None:
    value = request.get(CHANNELS_FIELD)
    if not isinstance(value, str) or not value.strip():
        return None  # any channel
    return {part.strip() for part in value.split(",")}


def refusals(request: dict[str, Any]) -> list[Refusal]:
    """The vendor channels that would refuse ``request`` (an EMAS PushTask's typed params),
    with the field over each one's limit. Empty for a request no vendor channel carries."""
    device = request.get("DeviceType")
    notice = request.get("PushType") == "NOTICE"
    android_limits, harmony, smallest_title, smallest_body = _limits()
    if device in ("ANDROID", "ALL"):
        if request.get("AndroidPopupActivity") or (
            not notice and request.get("AndroidRemind") is True
        ):
            fields = (
                ("AndroidPopupTitle", request.get("AndroidPopupTitle")),
                ("AndroidPopupBody", request.get("AndroidPopupBody")),
            )
        elif notice:
            fields = (("Title", request.get("Title")), ("Body", request.get("Body")))
        else:
            return []
        # Only texts some vendor could refuse are measured (a plan checks every row).
        texts = tuple(
            (k, v)
            for k, v in fields
            if isinstance(v, str)
            and not _within(v, smallest_title if k.endswith("Title") else smallest_body)
        )
        if not texts:
            return []
        channels = _channels(request)
        chosen = tuple(v for v in android_limits if channels is None or v.channel in channels)
        return _check(chosen, texts)
    if device == "HARMONY":
        channels = _channels(request)
        if channels is not None and harmony.channel not in channels:
            return []
        if notice:
            fields = (("Title", request.get("Title")), ("Body", request.get("Body")))
        elif request.get("HarmonyRemind") is True:
            fields = (
                ("HarmonyRemindTitle", request.get("HarmonyRemindTitle")),
                ("HarmonyRemindBody", request.get("HarmonyRemindBody")),
            )
        else:
            return []
        return _check((harmony,), tuple((k, v) for k, v in fields if isinstance(v, str) and v))
    return []
