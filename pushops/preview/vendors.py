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
    # Texts this short are within every limit however they are counted (a character is at
    # most 2 units): most messages are decided by two len() calls.
    safe_title = min(v.title for v in android) // 2
    safe_body = min(v.body for v in android) // 2
    return android, limit("harmony", data["harmony"]), safe_title, safe_body


def _measure(text: str, count: str) -> int:
    return len(text) if count == "chars" else width(text)


def _check(limits: tuple[_Limit, ...], fields: tuple[tuple[str, str], ...]) -> list[Refusal]:
    out = []
    for v in limits:
        for name, text in fields:
            is_title = name.endswith("Title")
            limit, count = (v.title, v.title_count) if is_title else (v.body, v.body_count)
            length = _measure(text, count)
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
    android_limits, harmony, safe_title, safe_body = _limits()
    channels = _channels(request)
    out: list[Refusal] = []
    if device in ("ANDROID", "ALL"):
        popup = bool(request.get("AndroidPopupActivity")) or (
            not notice and request.get("AndroidRemind") is True
        )
        if popup:
            fields = (
                ("AndroidPopupTitle", request.get("AndroidPopupTitle")),
                ("AndroidPopupBody", request.get("AndroidPopupBody")),
            )
        elif notice:
            fields = (("Title", request.get("Title")), ("Body", request.get("Body")))
        else:
            fields = ()
        texts = tuple((k, v) for k, v in fields if isinstance(v, str) and v)
        long = any(len(v) > (safe_title if k.endswith("Title") else safe_body) for k, v in texts)
        if long:
            chosen = tuple(v for v in android_limits if channels is None or v.channel in channels)
            out.extend(_check(chosen, texts))
    if device == "HARMONY" and (channels is None or harmony.channel in channels):
        if notice:
            fields = (("Title", request.get("Title")), ("Body", request.get("Body")))
        elif request.get("HarmonyRemind") is True:
            fields = (
                ("HarmonyRemindTitle", request.get("HarmonyRemindTitle")),
                ("HarmonyRemindBody", request.get("HarmonyRemindBody")),
            )
        else:
            fields = ()
        texts = tuple((k, v) for k, v in fields if isinstance(v, str) and v)
        out.extend(_check((harmony,), texts))
    return out
