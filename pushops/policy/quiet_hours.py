"""``quiet-hours``: no send lands between two local times in the recipient's time zone.

The recipient's zone comes from the data (``fan_out.time_zone``), else the campaign's
``time_zone``, else the app's or the project's in ``pushops.yaml``, else the policy's
``time_zone`` (default Asia/Shanghai). A send lands at its ``PushTime`` (or the mPaaS fixed
time), or, sent immediately, at the plan's ``now``; the local time is that instant on the
recipient's clock,
so the same UTC time is inside the quiet hours in one zone and outside in another, and on
either side of a daylight saving change. ``validate`` checks scheduled sends only: an
immediate one lands whenever apply runs.

Example::

    - name: no-night-pushes
      kind: quiet-hours
      level: soft
      categories: [marketing]
      start: "21:00"
      end: "08:00"
"""

from __future__ import annotations

from datetime import datetime, time

from pushops.plan.findings import Finding
from pushops.policy.base import Check, Context, Send
from pushops.policy.loading import DEFAULT_ZONE
from pushops.policy.model import Policy
from pushops.timeutil import parse_zone


def _clock(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


class QuietHours(Check):
    def __init__(self, policy: Policy, context: Context) -> None:
        super().__init__(policy, context)
        self.start = _clock(policy.params["start"])
        self.end = _clock(policy.params["end"])
        self.default = policy.params.get("time_zone") or DEFAULT_ZONE
        # Most sends share a few (time, zone) pairs: decide each pair once.
        self._local: dict[tuple[datetime, str], datetime | None] = {}

    def inside(self, moment: time) -> bool:
        if self.start < self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end

    def local(self, at: datetime, zone: str) -> datetime | None:
        """``at`` on the recipient's clock if it is inside the quiet hours, else None."""
        key = (at, zone)
        found = self._local.get(key, False)
        if found is False:
            moment = at.astimezone(parse_zone(zone))
            found = moment if self.inside(moment.time()) else None
            if len(self._local) > 100_000:
                self._local.clear()
            self._local[key] = found
        return found

    def observe(self, send: Send, checked: bool) -> None:
        if not checked:
            return
        if not self.context.planning and send.delivery.due_at is None:
            return  # an immediate send lands when apply runs: plan checks it
        zone = send.zone_name(self.context, self.default)
        local = self.local(send.at, zone)
        if local is not None:
            tally = self.tallies.of(send)
            if tally.key is None:
                tally.example = f"{local:%H:%M} on {local:%Y-%m-%d} in {zone}"
            tally.add(send)

    def finish(self) -> list[Finding]:
        window = f"{self.start:%H:%M} and {self.end:%H:%M}"
        return [
            self.finding(
                tally,
                f"{tally.who()} would get it between {window} their time (e.g. at {tally.example})",
            )
            for tally in self.tallies.values()
        ]
