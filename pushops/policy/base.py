"""What every policy kind shares: the view of one delivery a plan sends (:class:`Send`), the
per-message tally its findings are made from, and the interface a kind implements.

A kind sees the deliveries one by one (:meth:`Check.observe`), in the plan's order, and keeps
only tallies per campaign message (bounded by the number of messages, not of recipients);
:meth:`Check.finish` turns them into findings, each located at the message in its campaign
file and counted per recipient.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pushops.campaign import Campaign
from pushops.compile.model import Delivery
from pushops.config import Config
from pushops.plan.findings import Finding
from pushops.policy.counting import Counter
from pushops.policy.model import Policy
from pushops.policy.recipients import category_of, occurrences, recipient_count

LOOP_HORIZON = timedelta(days=366)  # how far ahead a loop's occurrences are counted


@dataclass
class Context:
    """What a plan's policy checks share."""

    config: Config
    environment: str
    now: datetime
    counter: Counter
    # Whether what the plan sends is known for sure (plan), or only what the campaigns
    # would send (validate: immediate sends have no time yet, the ledger is not read).
    planning: bool = True
    # Each campaign message seen, by slot number: its campaign id and where it is written.
    slots: list[tuple[str, tuple[str, int, int]]] = field(default_factory=list)

    def app_zone(self, app: str) -> str | None:
        """The app's ``time_zone``, else pushops.yaml's."""
        found = self.config.environments[self.environment].apps.get(app)
        if found is not None and found.time_zone:
            return found.time_zone
        return self.config.time_zone


class Send:
    """One delivery the plan sends (or validate renders), as the policies read it."""

    __slots__ = ("_category", "action", "at", "campaign", "delivery", "index", "slot")

    def __init__(
        self,
        index: int,
        slot: int,
        campaign: Campaign,
        delivery: Delivery,
        action: str,
        at: datetime,
        category: str | None = None,
    ) -> None:
        self.index = index  # its place in the plan's sends
        self.slot = slot  # its campaign message's number (see Evaluator)
        self.campaign = campaign
        self.delivery = delivery
        self.action = action
        self.at = at  # when it lands (its first occurrence)
        self._category: str | None = campaign.category or category

    @property
    def category(self) -> str:
        """marketing or service: declared, else the vendor fields', else marketing."""
        if self._category is None:
            delivery = self.delivery
            self._category = category_of(None, delivery.provider, delivery.params)
        return self._category

    def moments(self) -> Iterator[datetime]:
        """Every time it lands: once, or for an mPaaS loop each occurrence in a year."""
        delivery = self.delivery
        if delivery.provider == "mpaas" and delivery.params.get("StrategyType") == 2:
            yield from occurrences(
                delivery.provider, delivery.params, self.at, self.at, self.at + LOOP_HORIZON
            )
        else:
            yield self.at

    @property
    def params(self) -> dict[str, Any]:
        return self.delivery.params

    @property
    def recipients(self) -> int | None:
        """How many recipients it names; None for a broadcast to every device."""
        return recipient_count(self.delivery.provider, self.delivery.params)

    def zone_name(self, context: Context, default: str) -> str:
        """The recipient's zone: the data's, the campaign's, the app's, pushops.yaml's, or
        ``default``."""
        return (
            self.delivery.zone
            or self.campaign.time_zone
            or context.app_zone(self.delivery.app)
            or default
        )


@dataclass
class Tally:
    """One campaign message's count for one finding: recipients (and broadcasts), an
    example delivery and what to say about it."""

    campaign: str
    location: tuple[str, int, int]
    recipients: int = 0
    broadcasts: int = 0
    key: str | None = None
    example: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def add(self, send: Send, example: str = "") -> None:
        count = send.recipients
        if count is None:
            self.broadcasts += 1
        else:
            self.recipients += count
        if self.key is None:
            self.key = send.delivery.key
            self.example = example or self.example

    def who(self) -> str:
        """``12 recipients``, ``a broadcast to every device``, or both."""
        parts = []
        if self.recipients:
            parts.append(f"{self.recipients:,} recipient{'s' if self.recipients != 1 else ''}")
        if self.broadcasts:
            parts.append(
                "a broadcast to every device"
                if self.broadcasts == 1
                else f"{self.broadcasts} broadcasts to every device"
            )
        return " and ".join(parts) or "no recipient"

    @property
    def count(self) -> int:
        return self.recipients + self.broadcasts


class Tallies(dict[tuple[Any, ...], Tally]):
    """Tallies by (campaign message slot, what), made on first use."""

    def of(self, send: Send, *what: Any) -> Tally:
        key = (send.slot, *what)
        found = self.get(key)
        if found is None:
            found = self[key] = Tally(send.campaign.id, send.delivery.source)
        return found


class Check:
    """One policy of one kind over one plan. Subclasses observe sends and make findings."""

    counts = False  # whether it counts every send of the plan, not only its campaigns'
    by_category = False  # whether what it counts depends on the category (marketing, service)

    def __init__(self, policy: Policy, context: Context) -> None:
        self.policy = policy
        self.context = context
        self.tallies = Tallies()

    def observe(self, send: Send, checked: bool) -> None:
        """One delivery the plan sends; ``checked``: the policy applies to its campaign (a
        counting kind also sees the others, to count them)."""
        raise NotImplementedError

    def finish(self) -> list[Finding]:
        raise NotImplementedError

    def count_ledger(
        self,
        provider: str,
        params: dict[str, Any],
        found: list[tuple[str, str]],
        category: str,
        at: datetime,
    ) -> None:
        """One delivery the ledger holds, landing at ``at`` (counting kinds count it)."""

    def slot_finding(self, slot: int, message: str, count: int, key: str | None) -> Finding:
        """A finding located at the campaign message of ``slot``."""
        campaign, location = self.context.slots[slot]
        return self.finding(Tally(campaign, location, key=key), message, count)

    def finding(self, tally: Tally, message: str, count: int | None = None) -> Finding:
        file, line, column = tally.location
        return Finding(
            source=self.policy.name,
            level=self.policy.level,
            message=message,
            campaign=tally.campaign,
            key=tally.key,
            count=tally.count if count is None else count,
            file=file,
            line=line,
            column=column,
            kind=self.policy.kind,
        )
