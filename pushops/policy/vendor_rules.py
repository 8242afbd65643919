"""``vendor-rules``: the China Android vendors' requirements, as data with sources and dates
(``pushops/policy/vendors.yaml``; docs/policies.md lists them).

For every Android and HarmonyOS delivery (EMAS ``DeviceType`` ANDROID, ALL or HARMONY;
mPaaS ``DeliveryType`` 1 or 7), per vendor (``vendors``, default all):

- ``categories``: the vendor's category field is set, and says what the campaign declares
  (``category: marketing`` or ``service``); a campaign that declares nothing is a finding,
  and so are fields that disagree with each other. Wrong categories can get an account
  frozen; missing ones leave the vendor to classify (as marketing, when unsure).
- ``channel``: a service message carries the channel the vendor needs for it (Xiaomi: a
  channel registered for private messages; without it the message is public).
- ``windows``: a marketing message does not land in the hours the vendor holds or refuses
  them (vivo delivers operational messages 07:00-23:00 only), read in China Standard Time.
- ``caps``: at most the vendors' daily marketing cap per device (the lowest of the vendors
  checked, for the app's ``app_type``; ``caps`` sets what a vendor granted you), counted per
  target per calendar day (UTC+8) like ``frequency-cap``, from the ledger plus the plan.
  ``action: drop`` leaves the deliveries over it out of the plan.

Example::

    - name: vendor-rules
      kind: vendor-rules
      level: hard
      app_type: other
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pushops.plan.findings import Finding
from pushops.policy.base import Check, Context, Send, Tally
from pushops.policy.counting import LEDGER, OTHER, CountRule
from pushops.policy.frequency_cap import over_cap_findings
from pushops.policy.model import MARKETING, SERVICE, Policy, Window
from pushops.policy.recipients import platform, targets
from pushops.policy.vendors import Vendor, vendor_rules
from pushops.timeutil import MPAAS_DAY_ZONE

CHECKS = ("categories", "channel", "windows", "caps")


class VendorRules(Check):
    counts = True
    by_category = True  # the caps count marketing messages only

    def __init__(self, policy: Policy, context: Context) -> None:
        super().__init__(policy, context)
        params = policy.params
        self.data = vendor_rules()
        wanted = params.get("vendors") or list(self.data.vendors)
        self.vendors: list[Vendor] = [self.data.vendors[name] for name in wanted]
        self.checks = set(params.get("checks") or CHECKS)
        self.app_type = params.get("app_type", "other")
        granted = params.get("caps") or {}
        self.caps = {
            v.key: int(granted.get(v.key, v.caps[self.app_type]))
            for v in self.vendors
            if v.key in granted or self.app_type in v.caps
        }
        self.rule: CountRule | None = None
        if "caps" in self.checks and self.caps:
            self.rule = context.counter.rule(
                policy,
                min(self.caps.values()),
                Window(None, "UTC+8"),
                params.get("action", "block") == "drop",
            )
        self.undeclared: dict[str, Tally] = {}

    def observe(self, send: Send, checked: bool) -> None:
        delivery = send.delivery
        kind = platform(delivery.provider, delivery.params)
        if kind not in ("android", "all", "harmony"):
            return
        if self.rule is not None and send.category == MARKETING:
            index = send.index if checked else OTHER
            found = [
                f"{kind}:{value}"
                for kind, value in targets(delivery.provider, delivery.app, delivery.params)
            ]
            for moment in send.moments():
                self.context.counter.add(self.rule, found, moment, index, delivery.key)
        if not checked:
            return
        declared = send.campaign.category
        if "categories" in self.checks and declared is None:
            if send.campaign.id not in self.undeclared:
                line, column = send.campaign.source.position(("id",))
                self.undeclared[send.campaign.id] = Tally(
                    send.campaign.id, (send.campaign.file, line, column), key=delivery.key
                )
            self.undeclared[send.campaign.id].add(send)
        said: dict[str, list[str]] = {}
        for vendor in self.vendors:
            if kind not in vendor.platforms:
                continue
            if "categories" in self.checks:
                self.category(send, vendor, declared, said)
            if "channel" in self.checks and send.category == SERVICE:
                field = vendor.channel.get(delivery.provider)
                if field is not None and not send.params.get(field):
                    self.tallies.of(send, "channel", vendor.key, field).add(send)
            if "windows" in self.checks and send.category == MARKETING and vendor.holds:
                if not self.context.planning and delivery.due_at is None:
                    continue  # an immediate send lands when apply runs: plan checks it
                local = send.at.astimezone(MPAAS_DAY_ZONE)
                if local.time() in vendor.holds:
                    tally = self.tallies.of(send, "window", vendor.key)
                    if tally.key is None:
                        tally.example = f"{local:%H:%M} on {local:%Y-%m-%d} (UTC+8)"
                    tally.add(send)
        if len(said) > 1:
            detail = "; ".join(f"{cat}: {', '.join(names)}" for cat, names in sorted(said.items()))
            self.tallies.of(send, "disagree", detail).add(send)

    def count_ledger(
        self,
        provider: str,
        params: dict[str, Any],
        found: list[tuple[str, str]],
        category: str,
        at: datetime,
    ) -> None:
        if self.rule is None or category != MARKETING:
            return
        if platform(provider, params) in ("android", "all", "harmony"):
            counted = [f"{kind}:{value}" for kind, value in found]
            self.context.counter.add(self.rule, counted, at, LEDGER, "")

    def category(
        self, send: Send, vendor: Vendor, declared: str | None, said: dict[str, list[str]]
    ) -> None:
        fields = vendor.category.get(send.delivery.provider)
        if not fields:
            return  # no field for this vendor on this provider that a document confirms
        for field in fields:
            value = field.read(send.params)
            if value is not None:
                break
        else:
            self.tallies.of(send, "missing", vendor.key, fields[0].field).add(send)
            return
        found = MARKETING if value in field.marketing else SERVICE
        said.setdefault(found, []).append(f"{field.field}={value}")
        if declared is not None and found != declared:
            self.tallies.of(send, "wrong", vendor.key, field.field, value, declared).add(send)

    def finish(self) -> list[Finding]:
        out = []
        names = self.data.vendors
        for tally in self.undeclared.values():
            out.append(
                self.finding(
                    tally,
                    "the campaign declares no category (category: marketing or service), so "
                    "its vendor category fields cannot be checked; vendors treat unclassified "
                    "messages as marketing",
                )
            )
        for key, tally in self.tallies.items():
            what, rest = key[1], key[2:]
            if what == "missing":
                vendor, field = names[rest[0]], rest[1]
                text = (
                    f"{vendor.name}: {field} is not set for {tally.who()}; "
                    f"{vendor.name} then classifies the message itself. Source: "
                    f"{self.data.cite(vendor.category_sources)}"
                )
            elif what == "wrong":
                vendor, field, value, declared = names[rest[0]], rest[1], rest[2], rest[3]
                other = MARKETING if declared == SERVICE else SERVICE
                text = (
                    f"{vendor.name}: {field}={value} is a {other} category, but the campaign "
                    f"declares {declared}, for {tally.who()}; a wrong "
                    "category can get the vendor account frozen. Source: "
                    f"{self.data.cite(vendor.category_sources)}"
                )
            elif what == "disagree":
                text = (
                    f"the vendor category fields disagree ({rest[0]}) for {tally.who()}; "
                    "declare the campaign's category and make them agree"
                )
            elif what == "channel":
                vendor, field = names[rest[0]], rest[1]
                text = (
                    f"{vendor.name}: a service message needs {field} (a channel registered "
                    f"with {vendor.name} for it), for {tally.who()}; "
                    f"without it the message is sent as marketing, under the daily cap of "
                    f"{vendor.caps.get(self.app_type, '?')}. Source: "
                    f"{self.data.cite(vendor.cap_sources)}"
                )
            else:  # window
                vendor = names[rest[0]]
                assert vendor.holds is not None
                hours = vendor.holds
                note = "" if hours.confirmed else " (not confirmed by a vendor document)"
                text = (
                    f"{vendor.name} holds marketing messages {hours.text()} China time"
                    f"{note}: {tally.who()} would get it at {tally.example}. Source: "
                    f"{self.data.cite(hours.sources)}"
                )
            out.append(self.finding(tally, text))
        if self.rule is not None:
            caps = ", ".join(f"{names[k].name} {n}" for k, n in self.caps.items())
            cited = sorted({s for k in self.caps for s in names[k].cap_sources})
            cap = (
                f"vendors deliver at most {self.rule.max} marketing message(s) per device per "
                f"day for an app of type {self.app_type} ({caps}; a device's vendor is not "
                f"known, so the lowest applies) and silently drop the rest; source: "
                f"{self.data.cite(tuple(cited))}"
            )
            out.extend(over_cap_findings(self, cap, self.rule))
        return out
