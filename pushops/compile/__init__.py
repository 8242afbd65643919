"""Compile Deliveries into Calls: merge EMAS deliveries into PushTasks, group PushTasks into
MassPush calls, serialise everything for the wire, derive tokens.

Public API::

    compile_calls(deliveries: Iterable[Delivery], config: Config) -> Iterator[Call]
    Compiler(config): .add(delivery) -> Iterator[Call], then .finish() -> Iterator[Call]

Deliveries stream in and calls stream out; memory is bounded by :data:`MAX_OPEN_GROUPS`.
:class:`Compiler` is the same, pushed one delivery at a time (plan decides each delivery
while rendering and compiles the sends as they come).

- **Merging (EMAS).** Deliveries of the same message (same environment, app, campaign,
  revision and message id) whose typed params are identical except ``TargetValue`` share one
  PushTask, their targets joined in arrival order, at most :data:`MAX_TARGETS` entries per
  task. Merging is done here, not when rendering, so plan can drop the deliveries the ledger
  already has and compile only the rest: a row added to a CSV later sends only that row.
  At most :data:`MAX_OPEN_GROUPS` merge groups stay open; over that, the oldest is flushed.
- **Calls (EMAS).** PushTasks go, in the order they are flushed, into calls of at most 100
  tasks, keeping tasks x the widest TargetValue <= 10000 (rule ``emas.call-size``). A call
  carries one campaign revision only, so its grouping and token do not depend on which other
  campaigns happen to be compiled with it.
- **mPaaS.** One delivery is one broadcast is one call.
- **Tokens.** The EMAS IdempotentToken is a UUID made from the call's content (AppKey and the
  sorted delivery keys with their fingerprints), so compiling the same deliveries again (a
  retry) gives the same token. The mPaaS Msgkey is 32 lowercase hex characters of the
  sha256 of the delivery's key and fingerprint.

Everything is deterministic: the same deliveries in the same order give the same calls.
"""

from __future__ import annotations

import hashlib
import uuid
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pushops.compile.model import (
    Call,
    Delivery,
    Position,
    WireTask,
    canonical_json,
    fingerprint,
)
from pushops.compile.wire import WireError, serialise_params
from pushops.config import App, Config
from pushops.diagnostics import PushopsError
from pushops.tables import CALL_SIZE_LIMIT, MASS_PUSH_MAX_TASKS, load_table

__all__ = [
    "MAX_OPEN_GROUPS",
    "MAX_TARGETS",
    "MAX_TASKS",
    "MSGKEY_LENGTH",
    "Call",
    "CompileError",
    "Compiler",
    "Delivery",
    "WireTask",
    "compile_calls",
    "fingerprint",
    "idempotent_token",
    "msgkey",
]

MAX_TARGETS = 1000  # TargetValue entries per PushTask
MAX_TASKS = MASS_PUSH_MAX_TASKS  # PushTasks per MassPush call
MAX_OPEN_GROUPS = 10_000
MSGKEY_LENGTH = 32
LEGACY_MPAAS = "2019-08-21"


class CompileError(PushopsError):
    """Deliveries that cannot go on the wire (validate reports these earlier, located)."""


def idempotent_token(app_key: str, deliveries: Iterable[Delivery]) -> str:
    """A UUID (version 5 layout) from the call's content, stable across retries."""
    lines = sorted(f"{d.key} {d.fingerprint}" for d in deliveries)
    digest = hashlib.sha256("\n".join(["emas", app_key, *lines]).encode("utf-8")).digest()
    return str(uuid.UUID(bytes=digest[:16], version=5))


def msgkey(delivery: Delivery) -> str:
    """The mPaaS Msgkey: :data:`MSGKEY_LENGTH` hex characters of sha256(key, fingerprint)."""
    text = f"{delivery.key}\n{delivery.fingerprint}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:MSGKEY_LENGTH]


def _entries(value: Any) -> int:
    return str(value).count(",") + 1 if value not in (None, "") else 0


@dataclass
class _Group:
    base: dict[str, Any]
    targets: list[str] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    entries: int = 0

    def task(self) -> WireTask:
        params = dict(self.base)
        params["TargetValue"] = ",".join(self.targets)
        return WireTask(params, tuple(self.deliveries))


@dataclass
class _CallBuilder:
    environment: str
    app: App
    tasks: list[WireTask] = field(default_factory=list)
    widest: int = 0

    def fits(self, task: WireTask) -> bool:
        widest = max(self.widest, task.targets)
        return len(self.tasks) < MAX_TASKS and (len(self.tasks) + 1) * widest <= CALL_SIZE_LIMIT

    def add(self, task: WireTask) -> None:
        self.tasks.append(task)
        self.widest = max(self.widest, task.targets)

    def build(self) -> Call:
        app_key = str(self.app.app_key)
        deliveries = tuple(d for t in self.tasks for d in t.deliveries)
        token = idempotent_token(app_key, deliveries)
        table = load_table("emas").item_params
        form: dict[str, str] = {}
        for index, task in enumerate(self.tasks, 1):
            try:
                serialise_params(task.params, table, f"PushTask.{index}.", form)
            except WireError as exc:
                raise CompileError(f"{task.deliveries[0].key}: {exc}") from None
        positions: tuple[Position, ...] = tuple(t.deliveries[0].source for t in self.tasks)
        return Call(
            call_id=f"{self.environment}/{self.app.name}/{token}",
            environment=self.environment,
            provider="emas",
            app=self.app.name,
            action="MassPush",
            token=token,
            query={"AppKey": app_key, "IdempotentToken": token},
            form=form,
            deliveries=deliveries,
            positions=positions,
            tasks=tuple(self.tasks),
        )


class _Compiler:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.groups: OrderedDict[tuple[Any, ...], _Group] = OrderedDict()
        self.calls: dict[tuple[Any, ...], _CallBuilder] = {}

    def app(self, delivery: Delivery) -> App:
        try:
            return self.config.environment(delivery.environment).apps[delivery.app]
        except (KeyError, PushopsError):
            raise CompileError(
                f"{delivery.key}: no app {delivery.app!r} in environment "
                f"{delivery.environment!r} of pushops.yaml"
            ) from None

    def add_emas(self, delivery: Delivery) -> Iterator[Call]:
        params = delivery.params
        scope = (delivery.environment, delivery.app, delivery.campaign, delivery.revision)
        content = delivery.merge_key
        if content is None:
            content = canonical_json({k: v for k, v in params.items() if k != "TargetValue"})
        merge_key = (*scope, delivery.message, content)
        target = params.get("TargetValue")
        entries = _entries(target)
        group = self.groups.get(merge_key)
        if group is not None and group.entries + entries > MAX_TARGETS:
            yield from self.flush(merge_key)
            group = None
        if group is None:
            rest = {k: v for k, v in params.items() if k != "TargetValue"}
            group = self.groups[merge_key] = _Group(rest)
            if len(self.groups) > MAX_OPEN_GROUPS:
                yield from self.flush(next(iter(self.groups)))
        if target not in (None, ""):
            group.targets.append(str(target))
        group.deliveries.append(delivery)
        group.entries += entries
        if group.entries >= MAX_TARGETS:
            yield from self.flush(merge_key)

    def flush(self, merge_key: tuple[Any, ...]) -> Iterator[Call]:
        group = self.groups.pop(merge_key)
        task = group.task()
        delivery = group.deliveries[0]
        slot = (delivery.environment, delivery.app, delivery.campaign, delivery.revision)
        builder = self.calls.get(slot)
        if builder is not None and not builder.fits(task):
            yield builder.build()
            builder = None
        if builder is None:
            builder = self.calls[slot] = _CallBuilder(delivery.environment, self.app(delivery))
        builder.add(task)
        if len(builder.tasks) >= MAX_TASKS:
            yield self.calls.pop(slot).build()

    def finish(self) -> Iterator[Call]:
        while self.groups:
            yield from self.flush(next(iter(self.groups)))
        for slot in list(self.calls):
            yield self.calls.pop(slot).build()

    def mpaas(self, delivery: Delivery) -> Call:
        app = self.app(delivery)
        table = load_table("mpaas").request_params
        if app.api_version == LEGACY_MPAAS:
            extra = sorted(k for k in delivery.params if LEGACY_MPAAS not in table[k].versions)
            if extra:
                raise CompileError(
                    f"{delivery.key}: app {app.name!r} uses PushBroadcast {LEGACY_MPAAS}, "
                    f"which has no {', '.join(extra)}"
                )
        key = msgkey(delivery)
        form = {"AppId": str(app.app_id), "WorkspaceId": str(app.workspace_id), "Msgkey": key}
        try:
            serialise_params(delivery.params, table, "", form)
        except WireError as exc:
            raise CompileError(f"{delivery.key}: {exc}") from None
        return Call(
            call_id=f"{delivery.environment}/{app.name}/{key}",
            environment=delivery.environment,
            provider="mpaas",
            app=app.name,
            action="PushBroadcast",
            token=key,
            query={},
            form=dict(sorted(form.items())),
            deliveries=(delivery,),
            positions=(delivery.source,),
        )


class Compiler:
    """Deliveries pushed in one at a time; each :meth:`add` yields the calls it completed,
    :meth:`finish` the rest. The same calls, in the same order, as :func:`compile_calls`."""

    def __init__(self, config: Config) -> None:
        self._compiler = _Compiler(config)

    def add(self, delivery: Delivery) -> Iterator[Call]:
        if delivery.provider == "emas":
            yield from self._compiler.add_emas(delivery)
        elif delivery.provider == "mpaas":
            yield self._compiler.mpaas(delivery)
        else:
            raise CompileError(f"{delivery.key}: unknown provider {delivery.provider!r}")

    def finish(self) -> Iterator[Call]:
        yield from self._compiler.finish()


def compile_calls(deliveries: Iterable[Delivery], config: Config) -> Iterator[Call]:
    """The calls that send ``deliveries``, streamed (see the module docstring)."""
    compiler = Compiler(config)
    for delivery in deliveries:
        yield from compiler.add(delivery)
    yield from compiler.finish()
