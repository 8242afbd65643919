"""Team policies as plain data: a name, a kind, its parameters, where it applies, its level.

A policy is read from the ``policies`` section of ``pushops.yaml`` or from a file under
``policies/`` (:mod:`pushops.policy.loading`), checked against its JSON Schema
(:mod:`pushops.policy.schema`), and evaluated over what a plan sends
(:mod:`pushops.policy.evaluate`): each kind is one module. The level says what a finding does:

- ``advisory``: a warning in the plan;
- ``soft``: blocks apply unless overridden for that run with a reason
  (``--override NAME --reason "…"``), which is recorded in the ledger with who gave it;
- ``hard``: blocks apply, no override.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from fnmatch import fnmatchcase
from typing import Any

from pushops.diagnostics import PushopsError
from pushops.plan.findings import ADVISORY, HARD, LEVELS, SOFT
from pushops.yamlsource import SourceDocument

__all__ = [
    "ADVISORY",
    "CATEGORIES",
    "HARD",
    "KINDS",
    "LEVELS",
    "MARKETING",
    "SERVICE",
    "SOFT",
    "Policy",
    "PolicyError",
    "Window",
]

QUIET_HOURS = "quiet-hours"
FREQUENCY_CAP = "frequency-cap"
VENDOR_RULES = "vendor-rules"
BLAST_RADIUS = "blast-radius"
REQUIRED_FIELDS = "required-fields"
KINDS = (QUIET_HOURS, FREQUENCY_CAP, VENDOR_RULES, BLAST_RADIUS, REQUIRED_FIELDS)

MARKETING = "marketing"
SERVICE = "service"
CATEGORIES = (MARKETING, SERVICE)


class PolicyError(PushopsError):
    """A policy that cannot be used as written, or an override that cannot be given."""


@dataclass(frozen=True)
class Window:
    """How far back (and ahead) a frequency cap counts: a rolling duration, or the calendar
    day in a time zone (``day``)."""

    seconds: int | None  # rolling window length; None for the calendar day
    zone: str | None = None  # the calendar day's zone (``day`` windows)
    text: str | None = None  # as written (24h, 7d)

    @property
    def span(self) -> timedelta:
        """The longest time two deliveries counted together can be apart."""
        return timedelta(seconds=self.seconds) if self.seconds is not None else timedelta(days=1)

    def describe(self) -> str:
        if self.seconds is None:
            return f"a calendar day ({self.zone})"
        return self.text or describe_duration(self.seconds)


def describe_duration(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


@dataclass(frozen=True)
class Policy:
    """One policy as written, its parameters already checked for its kind."""

    name: str
    kind: str
    level: str
    params: dict[str, Any]
    description: str = ""
    environments: tuple[str, ...] | None = None
    campaigns: tuple[str, ...] | None = None  # glob patterns on campaign ids
    categories: tuple[str, ...] | None = None  # campaign categories it applies to
    source: SourceDocument | None = field(default=None, compare=False, repr=False)
    path: tuple[str | int, ...] = ()  # where it is written in ``source``

    def applies_in(self, environment: str) -> bool:
        return self.environments is None or environment in self.environments

    def applies_to(self, campaign_id: str, category: str | None) -> bool:
        """Whether this policy checks a campaign. A campaign that declares no category is
        treated as marketing (as the vendors treat unclassified messages)."""
        if self.campaigns is not None and not any(
            fnmatchcase(campaign_id, pattern) for pattern in self.campaigns
        ):
            return False
        return self.categories is None or (category or MARKETING) in self.categories

    @property
    def where(self) -> tuple[str, int, int] | None:
        """File, line and column of the policy's ``name``."""
        if self.source is None:
            return None
        line, column = self.source.position((*self.path, "name"))
        return self.source.file, line, column

    def overridable(self) -> bool:
        return self.level != HARD
