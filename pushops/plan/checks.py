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
from pathlib import Path

from pushops.campaign import Campaign, discover, duplicate_ids, load_campaign
from pushops.compile import Call, Delivery
from pushops.config import Config
from pushops.diagnostics import Diagnostic, Report
from pushops.rules import check_call
from pushops.validate import check_app, check_environments, check_params
from pushops.yamlsource import format_path


def load_checked(root: Path, config: Config, report: Report) -> list[Campaign]:
    """The campaigns under ``campaigns/``; file-level problems go to ``report``."""
    campaigns: list[Campaign] = []
    for path in discover((), root):
        campaign, problems = load_campaign(path)
        report.extend(problems)
        if campaign is None:
            continue
        campaigns.append(campaign)
        report.extend(check_app(campaign, config))
        report.extend(check_environments(campaign, config))
    report.extend(duplicate_ids(campaigns))
    return campaigns


class DeliveryChecker:
    """Provider schema and rules over the deliveries a plan sends."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self, campaign: Campaign, delivery: Delivery) -> list[Diagnostic]:
        message = next(m for m in campaign.messages if m.id == delivery.message)
        return check_params(campaign, message, delivery.params, self.now)

    def call(self, campaign: Campaign, call: Call) -> list[Diagnostic]:
        """The call-scope rules (tasks per call, call size, token) over one compiled call,
        located at the message of its first delivery, as ``pushops validate`` does."""
        message = next(m for m in campaign.messages if m.id == call.deliveries[0].message)
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
