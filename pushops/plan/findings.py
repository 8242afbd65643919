"""Findings: what a check of the plan as a whole (a team policy, a vendor limit) says about it.

Plain data, produced by the checks that look at a plan and shown by every plan format (text,
Markdown, JSON, HTML). ``count`` is how many recipients (or deliveries) the finding concerns,
so a reviewer sees its weight; ``key`` names one example delivery when there is one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
    kind: str | None = None  # the policy's kind (quiet-hours, frequency-cap ...), if a policy

    @property
    def blocks(self) -> bool:
        """Whether this finding stops apply as things stand."""
        return self.level == HARD or (self.level == SOFT and self.override_reason is None)

    def to_json(self) -> dict[str, Any]:
        """The versioned JSON shape (plan ``--format json``'s ``findings``, the plan file)."""
        return {
            "source": self.source,
            "kind": self.kind,
            "level": self.level,
            "blocks": self.blocks,
            "message": self.message,
            "campaign": self.campaign,
            "key": self.key,
            "count": self.count,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "override_reason": self.override_reason,
            "override_actor": self.override_actor,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Finding:
        return cls(
            source=str(data["source"]),
            level=str(data["level"]),
            message=str(data["message"]),
            campaign=data.get("campaign"),
            key=data.get("key"),
            count=int(data.get("count", 1)),
            file=data.get("file"),
            line=data.get("line"),
            column=data.get("column"),
            override_reason=data.get("override_reason"),
            override_actor=data.get("override_actor"),
            kind=data.get("kind"),
        )


def unblock_hint(findings: list[Finding]) -> str | None:
    """What stops apply, and how to go on: None when no finding blocks."""
    hard = sorted({f.source for f in findings if f.blocks and f.level == HARD})
    soft = sorted({f.source for f in findings if f.blocks and f.level == SOFT})
    if not hard and not soft:
        return None
    parts = []
    if hard:
        parts.append(
            f"hard {_policies(hard)} {', '.join(hard)} block{'s' if len(hard) == 1 else ''} "
            f"apply: fix what {'it' if len(hard) == 1 else 'they'} found (no override)"
        )
    if soft:
        flags = " ".join(f"--override {name}" for name in soft)
        parts.append(
            f"soft {_policies(soft)} {', '.join(soft)} block{'s' if len(soft) == 1 else ''} "
            f'apply until overridden for the run: {flags} --reason "why"'
        )
    return "; ".join(parts)


def _policies(names: list[str]) -> str:
    return "policy" if len(names) == 1 else "policies"


def level_exit_code(findings: list[Finding]) -> int | None:
    """The exit code of a plan or apply that a policy stops: 5 hard, 4 soft; else None."""
    if any(f.blocks and f.level == HARD for f in findings):
        return HARD_EXIT
    if any(f.blocks for f in findings):
        return SOFT_EXIT
    return None


SOFT_EXIT = 4  # a soft policy blocks: apply with --override NAME --reason to go on
HARD_EXIT = 5  # a hard policy blocks: fix what it found
