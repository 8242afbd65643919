"""Collect a report: the ledger's sent messages, their cached statistics, and the provider's
answers for those that can still change.

Read-only towards the provider (only statistics queries) and towards the ledger's content:
what the provider answered goes into the ledger's statistics cache (``provider_stats``),
which leaves the serial alone. A message whose statistics were read at least
:data:`~pushops.report.model.WINDOW` after it went out is final and never asked again.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from pushops.apply.gateway import Gateway
from pushops.ledger import Ledger, LedgerPermissionError, ProviderStats
from pushops.loops import loop_end
from pushops.providers.errors import ProviderError
from pushops.report.model import Message, Report, end_of_second

# The push-analysis window asked of mPaaS around a task: from a little before it went out
# (the clocks of pushops and the provider differ) to now.
_BEFORE = timedelta(hours=1)


def messages(ledger: Ledger, environment: str, campaign: str | None) -> list[Message]:
    """The environment's sent messages, one per provider id, with their cached statistics."""
    found: dict[tuple[str, str, str], Message] = {}
    for sent in ledger.sent_messages(environment):
        if campaign is not None and sent.campaign != campaign:
            continue
        ident = (sent.provider, sent.app, sent.message_id)
        message = found.get(ident)
        if message is None:
            until = loop_end(sent.request) if isinstance(sent.request, dict) else None
            message = found[ident] = Message(
                sent.campaign, sent.provider, sent.app, sent.message_id, sent.status, sent.at,
                until=until,
            )  # fmt: skip
        message.keys.append(sent.key)
    for cached in ledger.provider_stats(environment):
        message = found.get((cached.provider, cached.app, cached.message_id))
        if message is not None:
            message.counts = dict(cached.counts)
            message.fetched_at = cached.fetched_at
            message.final = cached.final
    return list(found.values())


async def _read(gateway: Gateway, message: Message, now: datetime) -> dict[str, int]:
    if message.provider == "emas":
        return await gateway.push_stat(message.app, message.message_id)
    assert message.at is not None
    start_ms = int((message.at - _BEFORE).timestamp() * 1000)
    end_ms = int(end_of_second(now).timestamp() * 1000)
    return await gateway.task_stats(message.app, message.message_id, start_ms, end_ms)


async def refresh(found: list[Message], gateway: Gateway, now: datetime) -> list[Message]:
    """Ask the provider about every message that went out and is not final; returns those
    it answered for (each marked read now, final once read a window after it went out).
    A query the provider refuses marks its message with the error and stops nothing else."""
    wanted = [m for m in found if m.due(now) and not m.final]
    answers = await asyncio.gather(
        *(_read(gateway, m, now) for m in wanted), return_exceptions=True
    )
    answered = []
    for message, answer in zip(wanted, answers, strict=True):
        if isinstance(answer, ProviderError):
            message.error = f"{answer.code}: {answer.message}"
            continue
        if isinstance(answer, BaseException):
            raise answer
        assert message.at is not None
        message.counts = answer
        message.fetched_at = now
        message.final = message.final_at(now)
        message.read_now = True
        answered.append(message)
    return answered


def cache(ledger: Ledger, environment: str, answered: list[Message], now: datetime) -> None:
    ledger.save_provider_stats(
        [
            ProviderStats(
                environment=environment,
                provider=m.provider,
                app=m.app,
                message_id=m.message_id,
                counts=m.counts or {},
                fetched_at=m.fetched_at or now,
                final=m.final,
            )
            for m in answered
        ]
    )


async def collect(
    ledger: Ledger, gateway: Gateway, environment: str, now: datetime, campaign: str | None
) -> Report:
    found = messages(ledger, environment, campaign)
    answered = await refresh(found, gateway, now)
    report = Report(environment, now, campaign, found)
    try:
        cache(ledger, environment, answered, now)
    except LedgerPermissionError as error:
        # A role that can only read (a scheduled job's): the counts are shown all the same,
        # and the next report asks for them again.
        report.not_cached = str(error)
    return report
