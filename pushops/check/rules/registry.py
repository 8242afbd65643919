"""The rule registry and the data a rule sees."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from pushops.tables import ParameterTable, load_table


@dataclass(frozen=True)
class Finding:
    """What a rule found. ``field`` names the parameter (a path within the message or call)."""

    field: tuple[str | int, ...]
    message: str
    rule: str
    severity: str = "error"
    # A rule that reads the clock can find a problem in a campaign that was valid when it
    # was applied (a loop that started yesterday). Such a finding is a warning for what is
    # already out there, and an error only for a delivery plan is about to send.
    error_when_sent: bool = False


@dataclass(frozen=True)
class RuleContext:
    now: datetime  # the one clock every time rule reads (``--now``)
    table: ParameterTable


RuleFn = Callable[[dict[str, Any], RuleContext], Iterable[Finding]]


@dataclass(frozen=True)
class Rule:
    id: str
    provider: str
    scope: str  # "message" or "call"
    summary: str
    fn: RuleFn = field(compare=False)
    # The fields the rule looks at: it runs only when one of them is present (None: always).
    # A rule that reads a field only alongside one of these need not name it.
    reads: tuple[str, ...] | None = None


REGISTRY: dict[str, Rule] = {}


def rule(
    rule_id: str,
    provider: str,
    summary: str,
    scope: str = "message",
    reads: tuple[str, ...] | None = None,
) -> Callable[[RuleFn], RuleFn]:
    def register(fn: RuleFn) -> RuleFn:
        if rule_id in REGISTRY:
            raise ValueError(f"rule {rule_id} registered twice")
        REGISTRY[rule_id] = Rule(rule_id, provider, scope, summary, fn, reads)
        return fn

    return register


@dataclass(frozen=True)
class _Dispatch:
    """Which rules a request's fields call for: most messages set a dozen of the hundred
    fields, and most rules look at one field."""

    always: tuple[tuple[int, Rule], ...]
    by_field: dict[str, tuple[tuple[int, Rule], ...]]
    chosen: dict[tuple[str, ...], list[Rule]] = field(default_factory=dict, compare=False)

    def select(self, data: dict[str, Any]) -> list[Rule]:
        # The rows of a fan-out set the same fields: the choice is made once per field set.
        names = tuple(data)
        rules = self.chosen.get(names)
        if rules is None:
            by_field = self.by_field
            chosen = {*self.always}
            for name in names:
                found = by_field.get(name)
                if found is not None:
                    chosen.update(found)
            # Registry order, so findings come out in the same order as before dispatch.
            rules = [r for _, r in sorted(chosen, key=lambda entry: entry[0])]
            if len(self.chosen) >= 1024:
                self.chosen.clear()
            self.chosen[names] = rules
        return rules


@cache
def _dispatch(provider: str, scope: str) -> _Dispatch:
    ranked = [
        (i, r)
        for i, r in enumerate(REGISTRY.values())
        if r.provider == provider and r.scope == scope
    ]
    by_field: dict[str, list[tuple[int, Rule]]] = {}
    for entry in ranked:
        for name in entry[1].reads or ():
            by_field.setdefault(name, []).append(entry)
    return _Dispatch(
        always=tuple(e for e in ranked if e[1].reads is None),
        by_field={name: tuple(entries) for name, entries in by_field.items()},
    )


def _run(provider: str, scope: str, data: dict[str, Any], now: datetime) -> Iterator[Finding]:
    ctx = _context(provider, now)
    for registered in _dispatch(provider, scope).select(data):
        yield from registered.fn(data, ctx)


_contexts: dict[tuple[str, datetime], RuleContext] = {}


def _context(provider: str, now: datetime) -> RuleContext:
    found = _contexts.get((provider, now))
    if found is None:
        if len(_contexts) >= 64:
            _contexts.clear()
        found = _contexts[provider, now] = RuleContext(now=now, table=load_table(provider))
    return found


def check_message(provider: str, params: dict[str, Any], now: datetime) -> list[Finding]:
    """Every message rule of ``provider`` over one message's typed parameters."""
    ctx = _context(provider, now)
    findings: list[Finding] = []
    for registered in _dispatch(provider, "message").select(params):
        findings.extend(registered.fn(params, ctx))
    return findings


def check_call(provider: str, request: dict[str, Any], now: datetime) -> list[Finding]:
    """Every call rule of ``provider`` over one whole request (EMAS: with its PushTask list)."""
    return list(_run(provider, "call", request, now))
