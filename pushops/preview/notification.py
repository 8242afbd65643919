"""One delivery's request read as what its recipients get: a :class:`Notification`.

EMAS PushTask fields and mPaaS broadcast fields differ; a Notification names what a person
sees and what happens when they tap it, in the same words for both, so every plan view shows
them alike. The request is read as typed (maps are maps); fields a view does not know stay in
the request the views can also show.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

# EMAS DeviceType -> the platforms whose devices get it.
PLATFORMS = {
    "ANDROID": ("android",),
    "iOS": ("ios",),
    "HARMONY": ("harmony",),
    "ALL": ("android", "ios"),
}
PLATFORM_NAMES = {"android": "Android", "ios": "iOS", "harmony": "HarmonyOS"}
# mPaaS DeviceType -> platform (api-facts §1.1).
MPAAS_PLATFORMS = {1: "android", 2: "ios", 7: "harmony"}
ANDROID_STYLES = {"1": "big-text", "2": "big-picture", "3": "inbox"}
TARGETS = {"DEVICE": "device", "ACCOUNT": "account", "ALIAS": "alias"}
# mPaaS audience: PushStatus (login state) and the bind/unbind period codes.
PUSH_STATUS = {0: "bound", 1: "bound or unbound", 2: "unbound"}
PERIODS = {1: "within 7 days", 2: "within 15 days", 3: "within 60 days", 4: "at any time"}


@dataclass(frozen=True)
class Notification:
    """What one request puts in front of people (every text as sent, not cut)."""

    provider: str  # emas | mpaas
    platforms: tuple[str, ...]  # android, ios, harmony
    kind: str  # notice (shown), message (to the app, not shown), broadcast (mPaaS template)
    title: str = ""
    body: str = ""
    subtitle: str = ""  # iOS
    style: str | None = None  # big-text, big-picture, inbox (Android); multi-line (HarmonyOS)
    big_title: str = ""
    big_body: str = ""
    lines: tuple[str, ...] = ()  # inbox / multi-line
    picture_url: str = ""
    icon_url: str = ""
    badge: str = ""  # iOS/HarmonyOS: "3", "+1"
    opens: str = ""  # what a tap does, in words
    extras: dict[str, str] = field(default_factory=dict)
    channel: str = ""  # Android notification channel / HarmonyOS category, in words
    # Text a vendor channel shows instead (EMAS auxiliary popup; a message's offline notice).
    popup_title: str = ""
    popup_body: str = ""
    template: str = ""  # mPaaS: the console template
    template_values: dict[str, str] = field(default_factory=dict)
    audience: str = ""  # who it goes to, in words
    recipients: int | None = None  # how many targets it names (None: a broadcast)

    @property
    def shown(self) -> bool:
        """Whether anything appears on a screen (a notice, or a message's offline fallback)."""
        return self.kind == "notice" or bool(self.popup_title or self.popup_body)

    @property
    def platform_words(self) -> str:
        return " and ".join(PLATFORM_NAMES[p] for p in self.platforms) or "no platform"


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _map(value: Any) -> dict[str, str]:
    """A map field (typed, or a JSON string as some fields travel) as text pairs."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {"": value} if value else {}
    if isinstance(value, dict):
        return {str(k): _text(v) for k, v in value.items()}
    return {}


def _lines(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return tuple(line for line in value.split("\n") if line)
    if isinstance(value, list):
        return tuple(_text(v) for v in value)
    return ()


def targets(value: Any) -> int:
    """How many recipients a TargetValue names (a comma-separated list)."""
    text = _text(value)
    return text.count(",") + 1 if text else 0


def notification(provider: str, request: dict[str, Any]) -> Notification:
    """What ``request`` (a delivery's typed params) shows, for ``provider``."""
    if provider == "mpaas":
        return _mpaas(request)
    return _emas(request)


def _emas_opens(r: dict[str, Any], platforms: tuple[str, ...]) -> str:
    parts = []
    if "android" in platforms:
        kind = r.get("AndroidOpenType") or "APPLICATION"
        parts.append(
            {
                "APPLICATION": "opens the app",
                "ACTIVITY": f"opens activity {_text(r.get('AndroidActivity'))}",
                "URL": f"opens {_text(r.get('AndroidOpenUrl'))}",
                "NONE": "does nothing",
            }.get(str(kind), f"AndroidOpenType {kind}")
        )
    if "ios" in platforms:
        parts.append("opens the app" + (" (iOS)" if len(platforms) > 1 else ""))
    if "harmony" in platforms:
        kind = r.get("HarmonyActionType") or "APP_HOME_PAGE"
        target = _text(r.get("HarmonyAction") or r.get("HarmonyUri"))
        parts.append(
            "opens the app's home page"
            if kind == "APP_HOME_PAGE"
            else f"opens page {target}"
            if target
            else f"HarmonyActionType {kind}"
        )
    unique = list(dict.fromkeys(parts))
    if len(unique) == 2 and "android" in platforms and "ios" in platforms:
        return f"{unique[0]} (Android); {unique[1]}"
    return "; ".join(unique)


def _emas(r: dict[str, Any]) -> Notification:
    platforms = PLATFORMS.get(str(r.get("DeviceType")), ())
    notice = r.get("PushType") == "NOTICE"
    style = None
    big_title = big_body = picture = icon = ""
    lines: tuple[str, ...] = ()
    extras: dict[str, str] = {}
    channel = ""
    badge = ""
    if "android" in platforms:
        style = ANDROID_STYLES.get(_text(r.get("AndroidRenderStyle")))
        big_title = _text(r.get("AndroidBigTitle"))
        big_body = _text(r.get("AndroidBigBody"))
        picture = _text(r.get("AndroidBigPictureUrl"))
        icon = _text(r.get("AndroidImageUrl"))
        lines = _lines(r.get("AndroidInboxBody")) if style == "inbox" else ()
        extras.update(_map(r.get("AndroidExtParameters")))
        channel = _text(r.get("AndroidNotificationChannel"))
    if "ios" in platforms:
        extras.update(_map(r.get("iOSExtParameters")))
        if r.get("iOSBadgeAutoIncrement") is True:
            badge = "+1"
        elif r.get("iOSBadge") is not None:
            badge = _text(r.get("iOSBadge"))
    if "harmony" in platforms:
        if r.get("HarmonyRenderStyle") == "MULTI_LINE":
            style = "multi-line"
            lines = _lines(r.get("HarmonyInboxContent"))
        icon = icon or _text(r.get("HarmonyImageUrl"))
        extras.update(_map(r.get("HarmonyExtParameters")))
        channel = channel or _text(r.get("HarmonyCategory"))
        if r.get("HarmonyBadgeSetNum") is not None:
            badge = _text(r.get("HarmonyBadgeSetNum"))
        elif r.get("HarmonyBadgeAddNum") is not None:
            badge = f"+{_text(r.get('HarmonyBadgeAddNum'))}"
    popup_title = _text(r.get("AndroidPopupTitle"))
    popup_body = _text(r.get("AndroidPopupBody"))
    if not notice:
        # A message goes to the running app; some platforms show a notice when it is offline.
        if r.get("iOSRemind") is True and "ios" in platforms:
            popup_body = popup_body or _text(r.get("iOSRemindBody"))
        if r.get("HarmonyRemind") is True and "harmony" in platforms:
            popup_title = popup_title or _text(r.get("HarmonyRemindTitle"))
            popup_body = popup_body or _text(r.get("HarmonyRemindBody"))
        if r.get("AndroidRemind") is not True and not (
            r.get("iOSRemind") is True or r.get("HarmonyRemind") is True
        ):
            popup_title = popup_body = ""
    count = targets(r.get("TargetValue"))
    target = TARGETS.get(str(r.get("Target")), str(r.get("Target") or "target").lower())
    return Notification(
        provider="emas",
        platforms=platforms,
        kind="notice" if notice else "message",
        title=_text(r.get("Title")),
        body=_text(r.get("Body")),
        subtitle=_text(r.get("iOSSubtitle")) if "ios" in platforms else "",
        style=style,
        big_title=big_title,
        big_body=big_body,
        lines=lines,
        picture_url=picture,
        icon_url=icon,
        badge=badge,
        opens=_emas_opens(r, platforms),
        extras=extras,
        channel=channel,
        popup_title=popup_title,
        popup_body=popup_body,
        audience=f"{count:,} {target}{'' if count == 1 else 's'}",
        recipients=count,
    )


def _mpaas(r: dict[str, Any]) -> Notification:
    platform = MPAAS_PLATFORMS.get(r.get("DeliveryType"))  # type: ignore[arg-type]
    platforms = (platform,) if platform else ()
    status = r.get("PushStatus", 0)
    period = r.get("BindPeriod") if status == 0 else r.get("UnBindPeriod")
    who = PUSH_STATUS.get(status, f"PushStatus {status}")  # type: ignore[arg-type]
    when = PERIODS.get(period, "") if isinstance(period, int) else ""
    device = PLATFORM_NAMES.get(platform or "", "")
    audience = f"every {who} {device} user".replace("  ", " ")
    if when:
        audience += f" ({'bound' if status == 0 else 'unbound'} {when})"
    action = r.get("PushAction")
    opens = {0: "opens the template's web URL", 1: "opens the template's activity"}.get(
        action,  # type: ignore[arg-type]
        "as the template says",
    )
    values = _map(r.get("TemplateKeyValue"))
    return Notification(
        provider="mpaas",
        platforms=platforms,
        kind="message" if r.get("Silent") == 1 else "broadcast",
        opens=opens,
        extras=_map(r.get("ExtendedParams")),
        channel=_text(r.get("ChannelId")),
        template=_text(r.get("TemplateName")),
        template_values=values,
        audience=audience,
        recipients=None,
    )
