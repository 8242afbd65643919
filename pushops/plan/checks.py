"""The validation plan runs: every campaign checked as a file, every delivery it sends checked
against the provider schema and rules, and every call it sends against the call-scope rules.

``pushops validate`` renders and checks every delivery in every environment; on a fan-out of
100,000 rows that is most of a plan's time. A plan needs less: an unchanged delivery is not
sent again (and was checked when it was), so only the deliveries the plan sends or replaces
have their rendered parameters checked. Everything about the files themselves (structure,
apps, environments, duplicate ids) and every render error is still reported, located.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import datetime

from pushops.campaign import Campaign, Message
from pushops.check.rules import check_call
from pushops.check.validate import (
    MAX_ROW_PROBLEMS,
    check_params,
    rendered_for,
    templated_paths,
    with_rendered_values,
)
from pushops.compile import Call, Delivery
from pushops.diagnostics import ERROR, WARNING, Diagnostic
from pushops.wording import plural
from pushops.yamlsource import format_path


class DeliveryChecker:
    """Provider schema and rules over the deliveries a plan sends."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self._messages: dict[tuple[str, str], Message] = {}
        self._templated: dict[tuple[str, str], dict[str, str]] = {}

    def message(self, campaign: Campaign, message_id: str) -> Message:
        found = self._messages.get((campaign.id, message_id))
        if found is None:
            found = next(m for m in campaign.messages if m.id == message_id)
            self._messages[campaign.id, message_id] = found
        return found

    def __call__(self, campaign: Campaign, delivery: Delivery) -> list[Diagnostic]:
        """The problems of ``delivery``, each at a templated field saying what it rendered to
        and, for a fan-out, at which data row (as ``pushops validate`` says it): in a million
        rows, the template's line alone does not say which one to fix."""
        message = self.message(campaign, delivery.message)
        problems = check_params(campaign, message, delivery.params, self.now, sending=True)
        if not problems:
            return problems
        templated = self._templated.get((campaign.id, message.id))
        if templated is None:
            templated = self._templated[campaign.id, message.id] = templated_paths(message)
        return [
            rendered_for(problem, value, delivery.environment)
            for problem, value in with_rendered_values(message, delivery, problems, templated)
        ]

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


class RowProblems:
    """What a plan reports of the problems its delivery checks find: each distinct problem
    once, and at most ``limit`` errors and as many warnings a message (``pushops validate``
    lists as many), the rest counted into one diagnostic a message (:meth:`summaries`).

    A fan-out whose template is wrong is wrong in every row: a million rows must fail in a
    plan's time and memory, listing rows a person can look at. Every delivery is still
    checked, and an error left unlisted still fails the plan: one is left out only when
    ``limit`` errors of its message are already listed.
    """

    def __init__(self, limit: int = MAX_ROW_PROBLEMS) -> None:
        self.limit = limit
        # By message (campaign id, message id), then by severity: what was listed.
        self._listed: dict[tuple[str, str], dict[str, set[Diagnostic]]] = {}
        self._left_out: dict[tuple[str, str], Counter[str]] = {}

    def admit(self, delivery: Delivery, problems: list[Diagnostic]) -> list[Diagnostic]:
        """Of ``delivery``'s ``problems``, those to report now."""
        message = (delivery.campaign, delivery.message)
        by_severity = self._listed.setdefault(message, {})
        admitted = []
        for problem in problems:
            listed = by_severity.setdefault(problem.severity, set())
            if problem in listed:
                continue
            if len(listed) >= self.limit:
                self._left_out.setdefault(message, Counter())[problem.severity] += 1
                continue
            listed.add(problem)
            admitted.append(problem)
        return admitted

    def summaries(self, campaigns: Mapping[str, Campaign]) -> list[Diagnostic]:
        """One diagnostic for each message some of whose problems were left out, at it."""
        found = []
        for (campaign_id, message_id), left_out in self._left_out.items():
            campaign = campaigns[campaign_id]
            message = next(m for m in campaign.messages if m.id == message_id)
            counts = [
                plural(left_out[severity], f"more {severity}")
                for severity in (ERROR, WARNING)
                if left_out[severity]
            ]
            found.append(
                campaign.source.diagnostic(
                    message.path,
                    f"{' and '.join(counts)} in this message's deliveries besides the ones "
                    f"listed (plan lists the first {self.limit} of each kind)",
                    "plan.problems-not-listed",
                    severity=ERROR if left_out[ERROR] else WARNING,
                    display_path=format_path(message.path),
                )
            )
        return found
