"""``blast-radius``: a plan that sends to more than ``max_recipients`` recipients in an
environment, or any broadcast to every device (unless ``broadcasts: false``), is a finding.

Its message starts with the recipient count of the whole plan and names the campaigns that
make it up, largest first; the finding sits at the largest one. Recipients are counted as
the requests name them (each ``TargetValue`` entry; an account or alias is one recipient
however many devices it has). Typically ``level: soft`` in production, so a big send needs
``--override NAME --reason "…"``, recorded in the ledger with who gave it.

Example::

    - name: big-sends-need-a-reason
      kind: blast-radius
      level: soft
      environments: [production]
      max_recipients: 10000
"""

from __future__ import annotations

from pushops.plan.findings import Finding
from pushops.policy.base import Check, Context, Send, Tally
from pushops.policy.model import Policy

SHOWN = 5  # campaigns named in the message


class BlastRadius(Check):
    def __init__(self, policy: Policy, context: Context) -> None:
        super().__init__(policy, context)
        self.limit = int(policy.params["max_recipients"])
        self.broadcasts = bool(policy.params.get("broadcasts", True))
        self.by_campaign: dict[str, Tally] = {}

    def observe(self, send: Send, checked: bool) -> None:
        if not checked:
            return
        tally = self.by_campaign.get(send.campaign.id)
        if tally is None:
            tally = self.by_campaign[send.campaign.id] = Tally(
                send.campaign.id, send.delivery.source
            )
        tally.add(send)
        if send.recipients is None and self.broadcasts:
            self.tallies.of(send, "broadcast").add(send)

    def finish(self) -> list[Finding]:
        out = []
        env = self.context.environment
        total = sum(t.recipients for t in self.by_campaign.values())
        if total > self.limit:
            ranked = sorted(self.by_campaign.values(), key=lambda t: (-t.recipients, t.campaign))
            parts = [f"{t.campaign} {t.recipients:,}" for t in ranked[:SHOWN] if t.recipients]
            if len(ranked) > SHOWN:
                parts.append(f"{len(ranked) - SHOWN} more")
            out.append(
                self.finding(
                    ranked[0],
                    f"{total:,} recipients in {env}, over the {self.limit:,} allowed without "
                    f"an override ({', '.join(parts)})",
                    total,
                )
            )
        for tally in self.tallies.values():
            out.append(
                self.finding(
                    tally,
                    f"a broadcast to every device of the app in {env}; broadcasts need an override",
                    tally.broadcasts,
                )
            )
        return out
