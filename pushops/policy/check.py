"""What ``pushops validate`` can tell about the policies without the ledger.

For every environment a policy applies in, every campaign is rendered and every delivery it
would send is shown to the policies, as in a plan whose ledger is empty: frequency caps
count what the campaigns send together, quiet hours and vendor windows look at scheduled
sends only (an immediate send lands whenever apply runs). A hard finding is an error, a
soft or advisory one a warning, each located at the campaign message, with the rule id
``policy.<kind>``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from pushops.campaign import Campaign
from pushops.config import Config
from pushops.diagnostics import ERROR, WARNING, Diagnostic, Report
from pushops.plan.findings import HARD, Finding
from pushops.policy.evaluate import Evaluator
from pushops.policy.loading import load_policies
from pushops.policy.model import Policy
from pushops.render import render_deliveries


def finding_diagnostic(finding: Finding, environment: str) -> Diagnostic:
    return Diagnostic(
        finding.file or "pushops.yaml",
        finding.line or 1,
        finding.column or 1,
        "",
        f"policy {finding.source} ({finding.level}) in {environment}: {finding.message}",
        f"policy.{finding.kind}",
        ERROR if finding.level == HARD else WARNING,
    )


def validate_policies(
    config: Config, campaigns: Iterable[Campaign], now: datetime
) -> list[Diagnostic]:
    """The policies' problems and findings, as located diagnostics."""
    policies, problems = load_policies(config)
    if not policies:
        return problems
    chosen = list(campaigns)
    for environment in config.environments:
        applying = [p for p in policies if p.applies_in(environment)]
        if applying:
            problems.extend(_environment(config, applying, chosen, environment, now))
    return problems


def _environment(
    config: Config,
    policies: list[Policy],
    campaigns: list[Campaign],
    environment: str,
    now: datetime,
) -> list[Diagnostic]:
    evaluator = Evaluator(policies, config, environment, now, planning=False)
    by_id = {c.id: c for c in campaigns}
    quiet = Report()  # rendering problems are validate's own report's, found there already
    try:
        for delivery in render_deliveries(campaigns, config, environment, now, quiet):
            evaluator.observe(by_id[delivery.campaign], delivery, "send")
        evaluator.conclude(None, by_id)
        return [finding_diagnostic(f, environment) for f in evaluator.findings()]
    finally:
        evaluator.close()
