"""Findings: what a check of the plan as a whole (a team policy, a vendor limit) says about it.

Plain data, produced by the checks that look at a plan and shown by every plan format (text,
Markdown, JSON, HTML). ``count`` is how many recipients (or deliveries) the finding concerns,
so a reviewer sees its weight; ``key`` names one example delivery when there is one.
"""

from __future__ import annotations

from dataclasses import dataclass

ADVISORY = "advisory"  # a warning in plan
SOFT = "soft"  # blocks apply unless overridden for the run, with a reason (recorded)
HARD = "hard"  # blocks apply, no override
LEVELS = (HARD, SOFT, ADVISORY)


@dataclass(frozen=True, slots=True)
class Finding:
    source: str  # the policy's name, or the built-in check that found it (e.g. "vendor-limits")
    level: str  # one of LEVELS
    message: str
    campaign: str | None = None
    key: str | None = None  # an example delivery key
    count: int = 1
    file: str | None = None
    line: int | None = None
    column: int | None = None
    # Set when a soft finding was overridden for this run: the reason and who gave it.
    override_reason: str | None = None
    override_actor: str | None = None

    @property
    def blocks(self) -> bool:
        """Whether this finding stops apply as things stand."""
        return self.level == HARD or (self.level == SOFT and self.override_reason is None)
