"""mPaaS PushBroadcast rules: the StrategyContent of scheduled and loop pushes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from pushops.check.rules.registry import Finding, RuleContext, rule
from pushops.loops import strategy_content as content_of
from pushops.tables import load_table
from pushops.timeutil import from_epoch_ms, start_of_day

LOOP_MAX_DAYS = load_table("mpaas").limits["loop_days"]  # schemas/tables/mpaas-pushbroadcast.yaml
_CONTENT = load_table("mpaas").message_params["StrategyContent"].fields
# What StrategyContent must hold, by StrategyType (the fields' required_when in the table).
NEEDS = {
    kind: tuple(f.name for f in _CONTENT if kind in f.required_when.get("StrategyType", ()))
    for kind in (1, 2)
}
# circleValue by circleType (weekly and monthly loops), from the same rows.
CIRCLE_NEEDS = {
    f.name: frozenset(f.required_when["circleType"])
    for f in _CONTENT
    if "circleType" in f.required_when
}
CIRCLE_RANGE = {2: (1, 7), 3: (1, 31)}  # weekly: days of week; monthly: days of month


def _strategy(params: dict[str, Any]) -> tuple[int | None, dict[str, Any] | None]:
    return params.get("StrategyType"), content_of(params)


def _ms(content: dict[str, Any], name: str) -> int | None:
    value = content.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _loop_times(params: dict[str, Any]) -> tuple[int | None, int | None]:
    """A loop's startTime and endTime (epoch ms) as written; (None, None) for anything else."""
    kind, content = _strategy(params)
    if kind != 2 or content is None:
        return None, None
    return _ms(content, "startTime"), _ms(content, "endTime")


@rule(
    "mpaas.strategy-content",
    "mpaas",
    "StrategyContent holds the fields its StrategyType needs",
    reads=("StrategyType",),
)
def strategy_content(params: dict[str, Any], ctx: RuleContext) -> Iterator[Finding]:
    kind, content = _strategy(params)
    if kind not in NEEDS or "StrategyContent" not in params:
        return
    if content is None:
        yield Finding(("StrategyContent",), "must hold a JSON object", "mpaas.strategy-content")
        return
    missing = [f for f in NEEDS[kind] if f not in content]
    if missing:
        label = "scheduled (1)" if kind == 1 else "loop (2)"
        yield Finding(
            ("StrategyContent",),
            f"StrategyType {label} needs {', '.join(missing)}",
            "mpaas.strategy-content",
        )
    for name, circle_types in CIRCLE_NEEDS.items():
        if content.get("circleType") in circle_types and not content.get(name):
            yield Finding(
                ("StrategyContent", name),
                f"weekly and monthly loops need {name}",
                "mpaas.strategy-content",
            )


@rule(
    "mpaas.loop-window",
    "mpaas",
    f"loop end after its start, at most {LOOP_MAX_DAYS} days after today",
    reads=("StrategyType",),
)
def loop_window(params: dict[str, Any], ctx: RuleContext) -> Iterator[Finding]:
    start, end = _loop_times(params)
    today = start_of_day(ctx.now)
    if start is not None and end is not None and end < start:
        yield Finding(
            ("StrategyContent", "endTime"), "endTime is before startTime", "mpaas.loop-window"
        )
    if end is not None and from_epoch_ms(end) > today + timedelta(days=LOOP_MAX_DAYS + 1):
        yield Finding(
            ("StrategyContent", "endTime"),
            f"endTime is more than {LOOP_MAX_DAYS} days after today",
            "mpaas.loop-window",
        )


@rule(
    "mpaas.loop-start-past",
    "mpaas",
    "a new loop may not start before today 00:00 (UTC+8); one already running may",
    reads=("StrategyType",),
)
def loop_start_past(params: dict[str, Any], ctx: RuleContext) -> Iterator[Finding]:
    # mPaaS refuses a new loop whose start is before today, but a loop applied yesterday keeps
    # its startTime: validate (no ledger) warns, plan refuses only when it would send the loop.
    start, end = _loop_times(params)
    today = start_of_day(ctx.now)
    ended = end is not None and from_epoch_ms(end) < today
    if start is not None and not ended and from_epoch_ms(start) < today:
        yield Finding(
            ("StrategyContent", "startTime"),
            "startTime is before today 00:00 (UTC+8): fine for a loop already running, but "
            "mPaaS refuses a new loop that starts in the past, so plan will not send it",
            "mpaas.loop-start-past",
            "warning",
            error_when_sent=True,
        )


@rule(
    "mpaas.loop-ended",
    "mpaas",
    "a loop whose endTime is past will be skipped",
    reads=("StrategyType",),
)
def loop_ended(params: dict[str, Any], ctx: RuleContext) -> Iterator[Finding]:
    _, end = _loop_times(params)
    if end is not None and from_epoch_ms(end) < start_of_day(ctx.now):
        yield Finding(
            ("StrategyContent", "endTime"),
            "the loop ended before today; it will be skipped, never sent late",
            "mpaas.loop-ended",
            "warning",
        )


@rule(
    "mpaas.circle-value",
    "mpaas",
    "circleValue fits circleType (weekly 1-7, monthly 1-31)",
    reads=("StrategyType",),
)
def circle_value(params: dict[str, Any], ctx: RuleContext) -> Iterator[Finding]:
    kind, content = _strategy(params)
    if kind != 2 or content is None:
        return
    circle_type, values = content.get("circleType"), content.get("circleValue")
    if circle_type not in (1, 2, 3):
        if circle_type is not None:
            yield Finding(
                ("StrategyContent", "circleType"),
                "circleType is 1 (daily), 2 (weekly) or 3 (monthly)",
                "mpaas.circle-value",
            )
        return
    if values is None:
        return
    if not isinstance(values, list) or not all(isinstance(v, int) for v in values):
        yield Finding(
            ("StrategyContent", "circleValue"),
            "must be a list of whole numbers",
            "mpaas.circle-value",
        )
        return
    if circle_type == 1 and values:
        yield Finding(
            ("StrategyContent", "circleValue"),
            "a daily loop takes no circleValue",
            "mpaas.circle-value",
            "warning",
        )
    if circle_type in CIRCLE_RANGE:
        low, high = CIRCLE_RANGE[circle_type]
        bad = [v for v in values if not low <= v <= high]
        if bad:
            unit = "days of the week" if circle_type == 2 else "days of the month"
            yield Finding(
                ("StrategyContent", "circleValue"),
                f"{bad} out of range: {unit} are {low} to {high}",
                "mpaas.circle-value",
            )


@rule(
    "mpaas.fixed-time-past",
    "mpaas",
    "a scheduled push whose fixedTime is past will be skipped",
    reads=("StrategyType",),
)
def fixed_time_past(params: dict[str, Any], ctx: RuleContext) -> Iterator[Finding]:
    kind, content = _strategy(params)
    fixed = _ms(content, "fixedTime") if kind == 1 and content is not None else None
    if fixed is not None and from_epoch_ms(fixed) <= ctx.now:
        yield Finding(
            ("StrategyContent", "fixedTime"),
            "already past; this delivery will be skipped, never sent late",
            "mpaas.fixed-time-past",
            "warning",
        )
