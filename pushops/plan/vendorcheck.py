"""Vendor channel limits as plan findings: which messages a vendor would refuse, for how many.

Android pushes reach many devices through the phone makers' push channels, whose title and
body limits are hard: a text over them is refused, not cut (``pushops/preview/vendors.py`` and
its data file, with sources and dates). One pass over what the plan sends gives, per message,
the vendors that refuse some of its deliveries, how many, and the longest text each saw: one
:class:`Finding` per message (source ``vendor-limits``, a warning), located at the field.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pushops.campaign import Campaign
from pushops.compile import Call
from pushops.plan.findings import ADVISORY, Finding
from pushops.plan.model import Plan
from pushops.preview.vendors import Refusal, refusals

SOURCE = "vendor-limits"


@dataclass
class _Vendor:
    name: str
    deliveries: int = 0
    # field -> (longest length seen, limit, count method)
    longest: dict[str, tuple[int, int, str]] = field(default_factory=dict)


@dataclass
class _Message:
    deliveries: int = 0  # deliveries some vendor refuses
    key: str | None = None
    vendors: dict[str, _Vendor] = field(default_factory=dict)
    fields: list[str] = field(default_factory=list)

    def add(self, key: str, found: list[Refusal]) -> None:
        self.deliveries += 1
        self.key = self.key or key
        seen: set[str] = set()
        for r in found:
            vendor = self.vendors.setdefault(r.vendor, _Vendor(r.name))
            if r.vendor not in seen:
                vendor.deliveries += 1
                seen.add(r.vendor)
            longest = vendor.longest.get(r.field)
            if longest is None or r.length > longest[0]:
                vendor.longest[r.field] = (r.length, r.limit, r.count)
            if r.field not in self.fields:
                self.fields.append(r.field)


def _unit(count: str) -> str:
    return "characters" if count == "chars" else "width units"


def _describe(m: _Message, total: int) -> str:
    parts = []
    for vendor in m.vendors.values():
        over = ", ".join(
            f"{name} up to {length} of {limit} {_unit(count)}"
            for name, (length, limit, count) in vendor.longest.items()
        )
        parts.append(f"{vendor.name} ({over}; {vendor.deliveries:,} of {total:,})")
    units = any(c == "width" for v in m.vendors.values() for _, _, c in v.longest.values())
    return (
        "too long for some vendor channels, which refuse it rather than cut it (their "
        f"devices get nothing): {'; '.join(parts)}."
        + (" A CJK character is 2 width units." if units else "")
    )


class VendorScan:
    """The pass, fed one call at a time: plan feeds it the calls as it compiles them, so a
    million deliveries are not read back from disk for it."""

    def __init__(self) -> None:
        self.totals: dict[tuple[str, str], int] = {}
        self.found: dict[tuple[str, str], _Message] = {}

    def add(self, provider: str, deliveries: Iterable[tuple[str, str, str, Any]]) -> None:
        """One call's deliveries, each (campaign, message, key, typed request)."""
        if provider != "emas":
            return  # an mPaaS text is its console template's, not in the plan
        totals, found = self.totals, self.found
        for campaign, message, key, request in deliveries:
            slot = (campaign, message)
            totals[slot] = totals.get(slot, 0) + 1
            refused = refusals(request)
            if refused:
                found.setdefault(slot, _Message()).add(key, refused)

    def add_call(self, call: Call) -> None:
        """A compiled call (plan's hook)."""
        self.add(call.provider, ((d.campaign, d.message, d.key, d.params) for d in call.deliveries))

    def findings(self, campaigns: Iterable[Campaign] = ()) -> list[Finding]:
        known = {c.id: c for c in campaigns}
        out = []
        for (campaign_id, message_id), m in self.found.items():
            file = line = column = None
            campaign = known.get(campaign_id)
            if campaign is not None:
                msg = next((x for x in campaign.messages if x.id == message_id), None)
                if msg is not None:
                    line, column = campaign.source.position((*msg.path, m.fields[0]))
                    file = campaign.file
            out.append(
                Finding(
                    source=SOURCE,
                    level=ADVISORY,
                    message=f"{message_id}: {_describe(m, self.totals[(campaign_id, message_id)])}",
                    campaign=campaign_id,
                    key=m.key,
                    count=m.deliveries,
                    file=file,
                    line=line,
                    column=column,
                )
            )
        return out


def vendor_findings(plan: Plan, campaigns: Iterable[Campaign] = ()) -> list[Finding]:
    """One warning per message the plan sends that some vendor channel would refuse."""
    scan = VendorScan()
    for call in plan.calls:
        scan.add(
            call.provider, ((d.campaign, d.message, d.key, d.request) for d in call.deliveries)
        )
    return scan.findings(campaigns)
