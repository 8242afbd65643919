"""The validation plan runs: every campaign checked as a file, every delivery it sends checked
against the provider schema and rules, and every call it sends against the call-scope rules.

``pushops validate`` renders and checks every delivery in every environment; on a fan-out of
100,000 rows that is most of a plan's time. A plan needs less: an unchanged delivery is not
sent again (and was checked when it was), so only the deliveries the plan sends or replaces
have their rendered parameters checked. Everything about the files themselves (structure,
apps, environments, duplicate ids) and every render error is still reported, located.
"""

from __future__ import annotations

from datetime import datetime

from pushops.campaign import Campaign, Message
from pushops.check.rules import check_call
from pushops.check.validate import check_params
from pushops.compile import Call, Delivery
from pushops.diagnostics import Diagnostic
from pushops.yamlsource import format_path


class DeliveryChecker:
    """Provider schema and rules over the deliveries a plan sends."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self._messages: dict[tuple[str, str], Message] = {}

    def message(self, campaign: Campaign, message_id: str) -> Message:
        found = self._messages.get((campaign.id, message_id))
        if found is None:
            found = next(m for m in campaign.messages if m.id == message_id)
            self._messages[campaign.id, message_id] = found
        return found

    def __call__(self, campaign: Campaign, delivery: Delivery) -> list[Diagnostic]:
        message = self.message(campaign, delivery.message)
        return check_params(campaign, message, delivery.params, self.now, sending=True)

    def call(self, campaign: Campaign, call: Call) -> list[Diagnostic]:
        """The call-scope rules (tasks per call, call size, token) over one compiled call,
        located at the message of its first delivery, as ``pushops validate`` does."""
        message = self.message(campaign, call.deliveries[0].message)
        return [
            campaign.source.diagnostic(
                message.path,
                f"{'.'.join(map(str, finding.field))}: {finding.message}",
                finding.rule,
                severity=finding.severity,
                display_path=format_path(message.path),
            )
            for finding in check_call(call.provider, call.request(), self.now)
        ]
