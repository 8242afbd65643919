"""The plan grouped by what goes out: per campaign, per message, the distinct texts people get.

A reviewer approves messages, not keys. :class:`Grouping` takes the plan's calls and actions
one at a time (plan feeds them as it makes them; :func:`group_plan` reads ``plan.calls``
back, then ``plan.actions`` once, as a stream from disk), and keeps, per (campaign, message),
only counts and a bounded number of requests:

- while a message renders at most :data:`MAX_VARIANTS` distinct contents (its rows merged on
  everything but their targets), one :class:`Variant` per content with its delivery and
  recipient counts;
- past that it is personalised (every row its own text): no variants, but three samples chosen
  to catch mistakes, the first row, the longest title and body, and a row picked by key hash;
- the keys of deliveries that need attention (blocked, replace, cancel, resolve, skip, and any
  action added later) up to :data:`MAX_LISTED` per message and action, with every count exact:
  the first in key order, whatever order they came in.

Memory is O(messages × (variants + samples + listed)), whatever the number of rows. The views
(text, Markdown, JSON, HTML) render from this, so they agree.
"""

from __future__ import annotations

import zlib
from bisect import insort
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone, tzinfo
from operator import attrgetter
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pushops.campaign import Campaign
from pushops.compile import Call
from pushops.compile.model import canonical_json
from pushops.config import Config
from pushops.params import is_digits
from pushops.plan.findings import Finding
from pushops.plan.model import ACTIONS, BLOCKED, NOOP, SEND, Action, Plan
from pushops.preview.notification import targets
from pushops.preview.schedule import first_send
from pushops.timeutil import MPAAS_DAY_ZONE

MAX_VARIANTS = 5  # distinct contents a message shows as cards before it counts as personalised
MAX_LISTED = 50  # keys kept per message and action needing attention (counts stay exact)
MAX_ROUTINE = 5  # keys kept per message for sends and unchanged deliveries
PER_ROW = frozenset({"TargetValue"})  # what differs between rows merged into one push

FIRST, LONGEST, PICKED = "first row", "longest title and body", "picked by key hash"


def parse_key(key: str) -> tuple[str, str]:
    """(campaign, message) of ``{env}/{campaign}/r{rev}/{message}[/{row}]``; ids hold no
    ``/``. A key of another shape is grouped under its own name."""
    parts = key.split("/", 4)
    if len(parts) >= 4 and parts[2][:1] == "r" and is_digits(parts[2][1:]):
        return parts[1], parts[3]
    return "(other)", key


@dataclass
class Sample:
    key: str
    request: dict[str, Any]
    why: list[str] = field(default_factory=list)


@dataclass
class Variant:
    """One distinct content of a message: what its deliveries share but their targets."""

    key: str  # the first delivery's key
    request: dict[str, Any]  # the first delivery's request
    deliveries: int = 0
    recipients: int = 0


@dataclass
class MessageGroup:
    campaign: str
    message: str
    provider: str | None = None
    app: str | None = None
    counts: Counter[str] = field(default_factory=Counter)
    deliveries: int = 0  # deliveries the plan's calls send (sends and replaces)
    recipients: int = 0  # targets those deliveries name (EMAS; an mPaaS broadcast has none)
    broadcasts: int = 0  # mPaaS broadcasts among them
    calls: int = 0
    variants: dict[str, Variant] | None = field(default_factory=dict)
    first: Sample | None = None
    longest: Sample | None = None
    longest_size: int = -1
    picked: Sample | None = None
    picked_hash: int = 1 << 33
    first_send: datetime | None = None
    last_send: datetime | None = None
    at_apply: int = 0  # deliveries that go out when apply sends them (no send time)
    listed: dict[str, list[Action]] = field(default_factory=dict)
    position: tuple[str, int, int] | None = None  # where the message is written

    @property
    def personalised(self) -> bool:
        return self.variants is None

    def samples(self) -> list[Sample]:
        """The samples of a personalised message, one per distinct key, reasons merged."""
        out: dict[str, Sample] = {}
        for reason, sample in ((FIRST, self.first), (LONGEST, self.longest), (PICKED, self.picked)):
            if sample is None:
                continue
            chosen = out.setdefault(sample.key, Sample(sample.key, sample.request))
            chosen.why.append(reason)
        return list(out.values())

    def shown(self) -> list[tuple[Variant | Sample, str]]:
        """What a view shows as cards: the variants, or the samples of a personalised one."""
        if self.variants is not None:
            return [(v, "") for v in self.variants.values()]
        return [(s, ", ".join(s.why)) for s in self.samples()]

    @property
    def attention(self) -> int:
        """Deliveries a reviewer must look at (every action but send and no-op)."""
        return sum(n for action, n in self.counts.items() if action not in (SEND, NOOP))

    # -------------------------------------------------------------- accumulation

    def add_sent(
        self, key: str, request: dict[str, Any], content: str | None, due: datetime | None
    ) -> None:
        self.deliveries += 1
        if self.provider == "mpaas":
            self.broadcasts += 1
        else:
            self.recipients += targets(request.get("TargetValue"))
        if self.provider == "mpaas":  # its due time is the loop's start, not a send
            moment = first_send(request, "mpaas")
        else:
            moment = due if due is not None else first_send(request, "emas")
        if moment is None:
            self.at_apply += 1
        else:
            if self.first_send is None or moment < self.first_send:
                self.first_send = moment
            if self.last_send is None or moment > self.last_send:
                self.last_send = moment
        if self.variants is not None and content is not None:
            variant = self.variants.get(content)
            if variant is None:
                if len(self.variants) >= MAX_VARIANTS:
                    self.variants = None  # personalised: samples from here on
                else:
                    variant = self.variants[content] = Variant(key, request)
            if variant is not None:
                variant.deliveries += 1
                if self.provider != "mpaas":
                    variant.recipients += targets(request.get("TargetValue"))
        if self.first is None:
            self.first = Sample(key, request)
        size = len(str(request.get("Title") or "")) + len(str(request.get("Body") or ""))
        if size > self.longest_size:
            self.longest, self.longest_size = Sample(key, request), size
        picked = zlib.crc32(key.encode("utf-8", "surrogatepass"))
        if picked < self.picked_hash:
            self.picked, self.picked_hash = Sample(key, request), picked

    def add_action(self, action: Action) -> None:
        self._keep(action.action, action.key, action)

    def add_action_row(self, row: tuple[Any, ...]) -> None:
        """:meth:`add_action` of an action's row (its fields in order, as plan makes them),
        building the Action only when it is kept."""
        self._keep(row[1], row[0], row)

    def _keep(self, name: str, key: str, action: Action | tuple[Any, ...]) -> None:
        # Counted always; listed while among the first `cap` keys in key order, in whatever
        # order the actions come (plan adds them as it decides, not sorted).
        self.counts[name] += 1
        cap = MAX_ROUTINE if name in (SEND, NOOP) else MAX_LISTED
        kept = self.listed.setdefault(name, [])
        if len(kept) < cap or key < kept[-1].key:
            insort(kept, action if type(action) is Action else Action(*action), key=_BY_KEY)
            if len(kept) > cap:
                kept.pop()


_BY_KEY = attrgetter("key")


@dataclass
class CampaignGroup:
    campaign: str
    messages: dict[str, MessageGroup] = field(default_factory=dict)
    file: str | None = None
    description: str = ""
    app: str | None = None
    provider: str | None = None
    zone: tzinfo | None = None
    removed: bool = False  # no campaign file defines it any more
    findings: list[Finding] = field(default_factory=list)

    def counts(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for m in self.messages.values():
            total.update(m.counts)
        return total

    @property
    def recipients(self) -> int:
        return sum(m.recipients for m in self.messages.values())

    @property
    def broadcasts(self) -> int:
        return sum(m.broadcasts for m in self.messages.values())

    @property
    def calls(self) -> int:
        return sum(m.calls for m in self.messages.values())

    @property
    def first_send(self) -> datetime | None:
        times = [m.first_send for m in self.messages.values() if m.first_send is not None]
        return min(times) if times else None

    @property
    def at_apply(self) -> bool:
        return any(m.at_apply for m in self.messages.values())

    @property
    def attention(self) -> int:
        return sum(m.attention for m in self.messages.values())

    @property
    def blocked(self) -> int:
        return sum(m.counts[BLOCKED] for m in self.messages.values())

    @property
    def unchanged(self) -> bool:
        """Nothing to do and nothing found: the views give it a line, not a section."""
        counts = self.counts()
        return not self.findings and all(a == NOOP for a, n in counts.items() if n)


@dataclass
class PlanView:
    """The grouped plan the views render."""

    campaigns: list[CampaignGroup]  # by campaign id
    findings: list[Finding]  # findings of no campaign (the plan as a whole)

    def by_attention(self) -> list[CampaignGroup]:
        """Campaigns in the order a reviewer should read them: blocked first, then those with
        anything else to look at, then the rest; by id within each."""
        return sorted(
            self.campaigns, key=lambda c: (-min(c.blocked, 1), -min(c.attention, 1), c.campaign)
        )


def _content(request: dict[str, Any]) -> str:
    return canonical_json({k: v for k, v in request.items() if k not in PER_ROW})


def default_zone(provider: str | None) -> tzinfo | None:
    """mPaaS schedules in Beijing time; EMAS times are UTC."""
    return MPAAS_DAY_ZONE if provider == "mpaas" else None


class Grouping:
    """:func:`group_plan` in two steps: the calls as they come (plan feeds them as it compiles
    them, :meth:`add_compiled`, so a million deliveries are not read back from disk for
    this), then :meth:`view` adds the actions and findings of the finished plan.
    ``campaigns`` (all the plan was made from) and ``config`` add what the plan does not
    carry: files, descriptions, apps, time zones, and which campaigns were removed."""

    def __init__(
        self,
        environment: str | None,
        campaigns: Iterable[Campaign] | None = None,
        config: Config | None = None,
    ) -> None:
        self.environment = environment
        self.complete = campaigns is not None
        self.known = {c.id: c for c in campaigns or ()}
        self.config = config
        self.groups: dict[str, CampaignGroup] = {}
        self._actions_fed = False

    def campaign(self, campaign_id: str) -> CampaignGroup:
        camp = self.groups.get(campaign_id)
        if camp is None:
            camp = self.groups[campaign_id] = _campaign_group(
                campaign_id, self.known.get(campaign_id), self.config, self.complete,
                self.environment,
            )  # fmt: skip
        return camp

    def message(self, campaign_id: str, message_id: str) -> MessageGroup:
        camp = self.campaign(campaign_id)
        group = camp.messages.get(message_id)
        if group is None:
            group = camp.messages[message_id] = MessageGroup(
                campaign_id, message_id, camp.provider, camp.app
            )
            source = self.known.get(campaign_id)
            if source is not None:
                for m in source.messages:
                    if m.id == message_id:
                        line, column = source.source.position(m.path)
                        group.position = (source.file, line, column)
        return group

    def add_call(
        self,
        provider: str,
        app: str,
        deliveries: Iterable[tuple[str, str, str, dict[str, Any], int, datetime | None]],
    ) -> None:
        """One call the plan sends: its deliveries, each (campaign, message, key, typed
        request, index of its wire task, due time), in the call's order."""
        touched: set[int] = set()
        contents: dict[tuple[int, int], str] = {}  # one wire task: one content
        for campaign, message, key, request, position, due_at in deliveries:
            group = self.message(campaign, message)
            if id(group) not in touched:
                touched.add(id(group))
                group.calls += 1
                group.provider, group.app = provider, app
            content = None
            if group.variants is not None:
                slot = (id(group), position) if provider == "emas" else None
                content = contents.get(slot) if slot is not None else None
                if content is None:
                    content = _content(request)
                    if slot is not None:
                        contents[slot] = content
            group.add_sent(key, request, content, due_at)

    def add_compiled(self, call: Call) -> None:
        """A call as plan compiles it (its hook): the same as :meth:`add_call` of it."""
        if call.provider != "emas":
            items = ((d.campaign, d.message, d.key, d.params, 0, d.due_at) for d in call.deliveries)
        else:
            items = (
                (d.campaign, d.message, d.key, d.params, index, d.due_at)
                for index, task in enumerate(call.tasks)
                for d in task.deliveries
            )
        self.add_call(call.provider, call.app, items)

    def action_listener(self) -> Callable[[tuple[Any, ...]], None]:
        """What plan tells each action as it adds it (``Actions(listener=...)``), from the
        first: :meth:`view` then reads none back."""
        self._actions_fed = True
        return self._add_action_row

    def _add_action_row(self, row: tuple[Any, ...]) -> None:
        self.message(*parse_key(row[0])).add_action_row(row)

    def view(self, plan: Plan) -> PlanView:
        """The view, once every call is in: the plan's actions (unless they were fed) and
        findings added."""
        groups = self.groups
        if not self._actions_fed:
            for action in plan.actions:
                self.message(*parse_key(action.key)).add_action(action)
        for finding in plan.findings:
            if finding.campaign is not None:
                self.campaign(finding.campaign).findings.append(finding)
        for camp in groups.values():
            source = self.known.get(camp.campaign)
            order = {m.id: i for i, m in enumerate(source.messages)} if source else {}
            camp.messages = dict(
                sorted(camp.messages.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0]))
            )
            if camp.provider is None:
                camp.provider = next(
                    (m.provider for m in camp.messages.values() if m.provider), None
                )
                camp.zone = camp.zone or default_zone(camp.provider)
        return PlanView(
            sorted(groups.values(), key=lambda c: c.campaign),
            [f for f in plan.findings if f.campaign is None],
        )


def group_plan(
    plan: Plan, campaigns: Iterable[Campaign] | None = None, config: Config | None = None
) -> PlanView:
    """Group ``plan`` by campaign and message (see the module docstring), reading its calls
    back. ``campaigns`` and ``config``: as :class:`Grouping` takes them."""
    grouping = Grouping(plan.environment, campaigns, config)
    for call in plan.calls:
        grouping.add_call(
            call.provider, call.app,
            ((d.campaign, d.message, d.key, d.request, d.position, d.due_at)
             for d in call.deliveries),
        )  # fmt: skip
    return grouping.view(plan)


def _campaign_group(
    campaign_id: str,
    campaign: Campaign | None,
    config: Config | None,
    complete: bool,
    environment: str | None = None,
) -> CampaignGroup:
    if campaign is None:
        return CampaignGroup(campaign_id, removed=complete)
    return CampaignGroup(
        campaign_id,
        file=campaign.file,
        description=campaign.description,
        app=campaign.app,
        provider=campaign.provider,
        zone=campaign_zone(campaign, config, environment),
    )


def campaign_zone(
    campaign: Campaign, config: Config | None, environment: str | None = None
) -> tzinfo | None:
    """The zone a campaign's times are shown in besides UTC: the campaign's ``time_zone``,
    else its app's in ``pushops.yaml``, else the project's, else the provider's (mPaaS
    schedules in Beijing time; EMAS times are UTC)."""
    name = campaign.time_zone
    if name is None and config is not None:
        env = config.environments.get(environment or config.default_environment)
        app = env.apps.get(campaign.app) if env is not None else None
        name = (app.time_zone if app is not None else None) or config.time_zone
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass  # validate reports it; the plan shows UTC
    return default_zone(campaign.provider)


def action_order(name: str) -> int:
    """Where an action sorts in the views (ACTIONS order; any later addition after them)."""
    return ACTIONS.index(name) if name in ACTIONS else len(ACTIONS)


def utc(moment: datetime | None) -> datetime | None:
    return moment.astimezone(timezone.utc) if moment is not None else None
