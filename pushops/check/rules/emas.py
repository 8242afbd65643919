"""EMAS MassPush rules: time windows of PushTime and ExpireTime, and the shape of one call."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from pushops.check.rules.registry import Finding, RuleContext, rule
from pushops.tables import load_table
from pushops.timeutil import parse_api_time

# The table's limits across fields and calls (schemas/tables/emas-masspush.yaml).
LIMITS = load_table("emas").limits
EXPIRE_GAP_S = LIMITS["expire_gap_seconds"]
OFFLINE_H = LIMITS["offline_hours"]
PUSH_AHEAD_D = LIMITS["push_ahead_days"]
CALL_SIZE_LIMIT = LIMITS["call_size"]
CONTENT_LIMIT_BYTES = LIMITS["content_bytes"]
# What counts towards one message's content bytes, by platform and type.
CONTENT_FIELDS = {
    tuple(kind.split()): tuple(fields) for kind, fields in LIMITS["content_fields"].items()
}
UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


@rule(
    "emas.expire-after-push",
    "emas",
    f"ExpireTime must be later than PushTime + {EXPIRE_GAP_S} s",
    reads=("ExpireTime",),
)
def expire_after_push(params: dict[str, Any], ctx: RuleContext) -> Iterator[Finding]:
    # Against now, a past ExpireTime is the expire-time-past warning instead.
    expire = parse_api_time(params.get("ExpireTime", ""))
    push = parse_api_time(params.get("PushTime", ""))
    if expire is not None and push is not None and expire <= push + timedelta(seconds=EXPIRE_GAP_S):
        yield Finding(
            ("ExpireTime",),
            f"must be more than {EXPIRE_GAP_S} s after PushTime ({params['PushTime']})",
            "emas.expire-after-push",
        )


@rule(
    "emas.expire-within-72h",
    "emas",
    f"ExpireTime at most {OFFLINE_H} h after the send time",
    reads=("ExpireTime",),
)
def expire_within_72h(params: dict[str, Any], ctx: RuleContext) -> Iterator[Finding]:
    # Offline messages are kept at most 72 h from when they go out: the send time is PushTime
    # for a scheduled push and now for an immediate one.
    expire = parse_api_time(params.get("ExpireTime", ""))
    push = parse_api_time(params.get("PushTime", "")) or ctx.now
    if expire is not None and expire - push > timedelta(hours=OFFLINE_H):
        hours = (expire - push) / timedelta(hours=1)
        yield Finding(
            ("ExpireTime",),
            f"{hours:.1f} h after the send time; at most {OFFLINE_H} h",
            "emas.expire-within-72h",
        )


@rule(
    "emas.expire-time-past",
    "emas",
    "ExpireTime already past: the delivery will be skipped",
    reads=("ExpireTime",),
)
def expire_time_past(params: dict[str, Any], ctx: RuleContext) -> Iterator[Finding]:
    # A warning, not an error: a campaign that went out last week stays valid in git; plan skips it.
    expire = parse_api_time(params.get("ExpireTime", ""))
    if expire is not None and expire <= ctx.now:
        yield Finding(
            ("ExpireTime",),
            "already past; this delivery will be skipped, never sent late",
            "emas.expire-time-past",
            "warning",
        )


@rule(
    "emas.push-time-past",
    "emas",
    "PushTime already past: the delivery will be skipped",
    reads=("PushTime",),
)
def push_time_past(params: dict[str, Any], ctx: RuleContext) -> Iterator[Finding]:
    push = parse_api_time(params.get("PushTime", ""))
    if push is not None and push <= ctx.now:
        yield Finding(
            ("PushTime",),
            "already past; this delivery will be skipped, never sent late",
            "emas.push-time-past",
            "warning",
        )


@rule(
    "emas.push-within-7-days",
    "emas",
    f"PushTime at most {PUSH_AHEAD_D} days ahead",
    reads=("PushTime",),
)
def push_within_7_days(params: dict[str, Any], ctx: RuleContext) -> Iterator[Finding]:
    push = parse_api_time(params.get("PushTime", ""))
    if push is not None and push - ctx.now > timedelta(days=PUSH_AHEAD_D):
        yield Finding(
            ("PushTime",),
            f"more than {PUSH_AHEAD_D} days ahead; EMAS schedules at most {PUSH_AHEAD_D} days out",
            "emas.push-within-7-days",
        )


def _content_bytes(value: Any) -> int:
    if type(value) is str and value.isascii():
        return len(value)
    if isinstance(value, (dict, list)):
        value = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return len(str(value).encode("utf-8"))


@rule(
    "emas.content-bytes",
    "emas",
    f"a message's content at most {CONTENT_LIMIT_BYTES} bytes (EMAS product limits)",
    reads=("DeviceType",),
)
def content_bytes(params: dict[str, Any], ctx: RuleContext) -> Iterator[Finding]:
    # ALL reaches both platforms, so both limits apply; HarmonyOS has no documented figure.
    device = params.get("DeviceType")
    platforms = ("ANDROID", "iOS") if device == "ALL" else (device,)
    for platform in platforms:
        fields = CONTENT_FIELDS.get((platform, params.get("PushType")))
        if fields is None:
            continue
        size = sum(_content_bytes(params[f]) for f in fields if params.get(f) is not None)
        if size > CONTENT_LIMIT_BYTES:
            yield Finding(
                ("Body",) if "Body" in params else (fields[0],),
                f"{size} bytes of {platform} {params['PushType']} content "
                f"({' + '.join(f for f in fields if f in params)}); "
                f"the limit is {CONTENT_LIMIT_BYTES} UTF-8 bytes",
                "emas.content-bytes",
            )
            return


@rule(
    "emas.tasks-per-call",
    "emas",
    f"1 to {load_table('emas').max_items} PushTasks per MassPush call",
    scope="call",
)
def tasks_per_call(request: dict[str, Any], ctx: RuleContext) -> Iterator[Finding]:
    tasks = request.get("PushTask") or []
    limit = ctx.table.max_items or 0
    if not 1 <= len(tasks) <= limit:
        yield Finding(
            ("PushTask",),
            f"{len(tasks)} PushTasks; one call carries 1 to {limit}",
            "emas.tasks-per-call",
        )


@rule(
    "emas.call-size",
    "emas",
    f"PushTasks x targets per task at most {CALL_SIZE_LIMIT}",
    scope="call",
)
def call_size(request: dict[str, Any], ctx: RuleContext) -> Iterator[Finding]:
    # The document: "the product of parent and child nodes may not exceed 10000". We read it as
    # tasks x the largest TargetValue count, the stricter of the two readings, so a call we
    # build is accepted under either.
    tasks = request.get("PushTask") or []
    if not tasks:
        return
    widest = max(len(str(t.get("TargetValue", "")).split(",")) for t in tasks)
    if len(tasks) * widest > CALL_SIZE_LIMIT:
        yield Finding(
            ("PushTask",),
            f"{len(tasks)} PushTasks x {widest} targets = {len(tasks) * widest}; "
            f"at most {CALL_SIZE_LIMIT}",
            "emas.call-size",
        )


@rule("emas.idempotent-token", "emas", "IdempotentToken is a 36-character UUID", scope="call")
def idempotent_token(request: dict[str, Any], ctx: RuleContext) -> Iterator[Finding]:
    token = request.get("IdempotentToken")
    if token is not None and not (isinstance(token, str) and UUID.match(token)):
        yield Finding(
            ("IdempotentToken",),
            f"{token!r} is not a 36-character UUID (8-4-4-4-12 hex)",
            "emas.idempotent-token",
        )
