"""The China vendors' rules (``vendors.yaml`` beside this module), read into plain data."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import time
from functools import cache
from pathlib import Path
from typing import Any

import yaml

DATA = Path(__file__).with_name("vendors.yaml")


@dataclass(frozen=True)
class CategoryField:
    """Where a vendor's category travels for one provider, and which values are marketing."""

    field: str  # a request field, or "Map.key" for a key of a map field
    marketing: frozenset[str]

    def read(self, params: dict[str, Any]) -> str | None:
        """The field's value as text, or None when it is not set."""
        name, _, key = self.field.partition(".")
        value = params.get(name)
        if key:
            if isinstance(value, str):
                try:
                    value = json.loads(value)
                except ValueError:
                    return None
            value = value.get(key) if isinstance(value, dict) else None
        return None if value is None else str(value)


@dataclass(frozen=True)
class Hours:
    """Local hours (UTC+8) a vendor holds marketing messages in: [start, end), overnight when
    start > end."""

    start: time
    end: time
    confirmed: bool
    sources: tuple[str, ...]

    def __contains__(self, moment: time) -> bool:
        if self.start <= self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end

    def text(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


@dataclass(frozen=True)
class Vendor:
    key: str
    name: str
    platforms: frozenset[str]
    # By provider: the field to set first, then superseded ones still read.
    category: dict[str, tuple[CategoryField, ...]]
    category_sources: tuple[str, ...]
    channel: dict[str, str]  # by provider: the field a service message needs
    caps: dict[str, int]  # daily marketing cap per device, by app type
    cap_sources: tuple[str, ...]
    holds: Hours | None


@dataclass(frozen=True)
class Source:
    key: str
    title: str
    url: str
    retrieved: str


@dataclass(frozen=True)
class VendorRules:
    retrieved: str
    vendors: dict[str, Vendor]
    sources: dict[str, Source]

    def cite(self, keys: tuple[str, ...]) -> str:
        """The first source, for a finding's message (docs/policies.md lists them all)."""
        if not keys:
            return "docs/policies.md"
        first = self.sources[keys[0]]
        more = f", and {len(keys) - 1} more in docs/policies.md" if len(keys) > 1 else ""
        return f"{first.url} (read {first.retrieved}{more})"


def _clock(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


@cache
def vendor_rules(path: Path = DATA) -> VendorRules:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    sources = {
        key: Source(key, item["title"], item["url"], str(item["retrieved"]))
        for key, item in data["sources"].items()
    }
    vendors = {}
    for key, item in data["vendors"].items():
        category = item.get("category") or {}
        holds = item.get("holds")
        channel = item.get("channel") or {}
        vendors[key] = Vendor(
            key=key,
            name=item["name"],
            platforms=frozenset(item["platforms"]),
            category={
                provider: tuple(
                    CategoryField(spec["field"], frozenset(map(str, spec["marketing"])))
                    for spec in specs
                )
                for provider, specs in category.items()
                if provider in ("emas", "mpaas")
            },
            category_sources=tuple(category.get("sources", ())),
            channel={p: channel[p] for p in ("emas", "mpaas") if p in channel},
            caps=dict(item.get("daily_marketing_cap") or {}),
            cap_sources=tuple(item.get("cap_sources", ())),
            holds=(
                Hours(
                    *(_clock(part) for part in holds["hours"].split("-")),
                    confirmed=bool(holds["confirmed"]),
                    sources=tuple(holds["sources"]),
                )
                if holds
                else None
            ),
        )
    return VendorRules(str(data["retrieved"]), vendors, sources)


def inferred_category(provider: str, params: dict[str, Any]) -> str | None:
    """What the vendor category fields say: ``marketing`` if any says marketing,
    ``service`` if some say and none says marketing, None if none is set."""
    if category_fields().isdisjoint(params):
        return None  # most requests: no vendor category field at all
    said = None
    for vendor in vendor_rules().vendors.values():
        for field in vendor.category.get(provider, ()):
            value = field.read(params)
            if value is None:
                continue
            if value in field.marketing:
                return "marketing"
            said = "service"
    return said


@cache
def category_fields() -> frozenset[str]:
    """Every request field a vendor category is read from (top-level names)."""
    return frozenset(
        field.field.partition(".")[0]
        for vendor in vendor_rules().vendors.values()
        for fields in vendor.category.values()
        for field in fields
    )
