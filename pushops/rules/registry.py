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


REGISTRY: dict[str, Rule] = {}


def rule(
    rule_id: str, provider: str, summary: str, scope: str = "message"
) -> Callable[[RuleFn], RuleFn]:
    def register(fn: RuleFn) -> RuleFn:
        if rule_id in REGISTRY:
            raise ValueError(f"rule {rule_id} registered twice")
        REGISTRY[rule_id] = Rule(rule_id, provider, scope, summary, fn)
        return fn

    return register


@cache
def _rules_for(provider: str, scope: str) -> tuple[Rule, ...]:
    return tuple(r for r in REGISTRY.values() if r.provider == provider and r.scope == scope)


def _run(provider: str, scope: str, data: dict[str, Any], now: datetime) -> Iterator[Finding]:
    ctx = RuleContext(now=now, table=load_table(provider))
    for registered in _rules_for(provider, scope):
        yield from registered.fn(data, ctx)


def check_message(provider: str, params: dict[str, Any], now: datetime) -> list[Finding]:
    """Every message rule of ``provider`` over one message's typed parameters."""
    return list(_run(provider, "message", params, now))


def check_call(provider: str, request: dict[str, Any], now: datetime) -> list[Finding]:
    """Every call rule of ``provider`` over one whole request (EMAS: with its PushTask list)."""
    return list(_run(provider, "call", request, now))
