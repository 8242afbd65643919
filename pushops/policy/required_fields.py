"""``required-fields``: what every campaign, and every message it sends, must carry.

``campaign`` lists campaign keys (``owner``, ``category``, ``description``, ``time_zone``, or
``labels.NAME`` for one label); ``message`` lists API fields every delivery must have once
rendered (``ExpireTime``, ``JobKey`` ...). A field the campaign's provider does not have is
not asked of it (``ExpireTime`` is an EMAS field: mPaaS broadcasts are not held to it).
Scope it with ``environments`` (e.g. ``ExpireTime`` in production only).

Example::

    - name: owned-and-expiring
      kind: required-fields
      level: hard
      environments: [production]
      campaign: [owner, category]
      message: [ExpireTime]
"""

from __future__ import annotations

from typing import Any

from pushops.campaign import Campaign
from pushops.plan.findings import Finding
from pushops.policy.base import Check, Context, Send, Tally
from pushops.policy.model import Policy
from pushops.tables import load_table


def campaign_value(campaign: Campaign, name: str) -> Any:
    """A campaign key as written (``labels.team`` reads one label)."""
    data = campaign.source.data if isinstance(campaign.source.data, dict) else {}
    head, _, rest = name.partition(".")
    value = data.get(head)
    if rest:
        value = value.get(rest) if isinstance(value, dict) else None
    return value


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, (str, list, dict)) and not value)


class RequiredFields(Check):
    def __init__(self, policy: Policy, context: Context) -> None:
        super().__init__(policy, context)
        self.campaign_fields: list[str] = list(policy.params.get("campaign", []))
        self.message_fields: list[str] = list(policy.params.get("message", []))
        self.seen: set[str] = set()
        # Campaigns missing keys: what they lack, and a tally of their recipients.
        self.missing_keys: dict[str, tuple[list[str], Tally]] = {}
        self._provider_fields: dict[str, list[str]] = {}

    def fields_for(self, provider: str) -> list[str]:
        found = self._provider_fields.get(provider)
        if found is None:
            table = load_table(provider).message_params
            found = self._provider_fields[provider] = [f for f in self.message_fields if f in table]
        return found

    def observe(self, send: Send, checked: bool) -> None:
        if not checked:
            return
        campaign = send.campaign
        if campaign.id not in self.seen:
            self.seen.add(campaign.id)
            absent = [f for f in self.campaign_fields if _missing(campaign_value(campaign, f))]
            if absent:
                line, column = campaign.source.position(("id",))
                where = (campaign.file, line, column)
                self.missing_keys[campaign.id] = (absent, Tally(campaign.id, where))
        missing = self.missing_keys.get(campaign.id)
        if missing is not None:
            missing[1].add(send)
        for name in self.fields_for(send.delivery.provider):
            if _missing(send.params.get(name)):
                self.tallies.of(send, name).add(send)

    def finish(self) -> list[Finding]:
        out = []
        for absent, tally in self.missing_keys.values():
            names = ", ".join(absent)
            out.append(self.finding(tally, f"the campaign does not set {names}"))
        for (_slot, name), tally in self.tallies.items():
            out.append(self.finding(tally, f"{name} is not set, for {tally.who()}"))
        return out
