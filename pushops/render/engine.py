"""Render campaigns into Deliveries: every string leaf of a message is a template, rendered in
the sandbox with the context below, then given the parameter table's type.

Context, lowest to highest precedence (a later layer overrides an earlier one's name):

1. project ``vars`` (``pushops.yaml``)
2. the environment's ``vars``
3. the campaign's ``vars``
4. the message's ``vars``
5. the fan-out row, only ever under ``row.`` (``{{ row.device_id }}``), so a data column can
   never shadow a variable.

Beside them, always: ``campaign`` (``id``, ``revision``, ``app``), ``environment``
(``name``), ``app`` (``name``, ``provider``, ``region``, ``app_key`` or ``app_id`` and
``workspace_id``) and ``now`` (an aware UTC datetime from the one clock, ``--now``). These
names and ``row`` are reserved: a variable called so is an error.

Variables are values, not templates: a var holding ``{{ x }}`` is inserted as that text.
Templates render value by value, never the YAML text, so a value cannot change the structure
of a request. Leaves that do not use ``row`` are rendered once per message; only the others
are rendered per row.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from jinja2 import Template, TemplateNotFound, TemplateSyntaxError, UndefinedError, meta, nodes
from jinja2.exceptions import SecurityError

from pushops.campaign import Campaign, LeafPath, Message
from pushops.compile.model import (
    Delivery,
    PartialFingerprint,
    Position,
    fingerprint,
    make_delivery,
)
from pushops.config import App, Config
from pushops.diagnostics import Diagnostic, LocatedError, Report
from pushops.ledger.records import MAX_KEY_BYTES, key_problem
from pushops.loops import LOOP, loop_of
from pushops.params import coerce
from pushops.render.fanout import MissingColumns, Row, data_format, read_rows, resolve_data_path
from pushops.render.fastpath import shortcut
from pushops.render.filters import FilterError
from pushops.render.keyindex import KeyCheck, KeyCheckError
from pushops.render.sandbox import (
    MAX_OUTPUT_BYTES,
    BudgetError,
    FanOutClock,
    MissingKey,
    NotText,
    Sandbox,
)
from pushops.repofile import RepoFileError, inside
from pushops.tables import Param, load_table
from pushops.timeutil import from_epoch_ms, parse_api_time, parse_zone
from pushops.yamlsource import format_path

RESERVED = ("campaign", "environment", "app", "now", "row")
MAX_ROW_ERRORS = 20  # per message: a broken template fails every row the same way
MAX_KEY_LENGTH = 200
LEGACY_MPAAS = "2019-08-21"


class RenderError(Exception):
    """One value failed to render; ``rule`` and ``message`` describe it. ``missing`` is the
    object and key of an undefined ``obj.key`` (fan-out tells missing columns by it)."""

    def __init__(self, rule: str, message: str, missing: tuple[Any, str] | None = None) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message
        self.missing = missing


@dataclass(frozen=True)
class Compiled:
    """One template source, compiled once: the Jinja template, whether it reads ``row``, and
    the direct evaluator when it is simple enough (:mod:`pushops.render.fastpath`)."""

    template: Template
    uses_row: bool
    fast: Callable[[dict[str, Any]], str | None] | None


@dataclass(frozen=True)
class Leaf:
    path: LeafPath  # inside the message's params
    compiled: Compiled


def _uses_row(tree: nodes.Template) -> bool:
    # A partial sees the whole context, so a template that loads one may read the row.
    if any(True for _ in tree.find_all((nodes.Include, nodes.Import, nodes.FromImport))):
        return True
    return "row" in meta.find_undeclared_variables(tree)


def explain(exc: BaseException) -> RenderError:
    """Any failure while compiling or running a template, as a rule and a sentence."""
    if isinstance(exc, RenderError):
        return exc
    if isinstance(exc, TemplateSyntaxError):
        where = f" (template line {exc.lineno})" if exc.lineno and exc.lineno > 1 else ""
        return RenderError("template.syntax", f"template syntax error: {exc.message}{where}")
    if isinstance(exc, MissingKey):
        return RenderError("template.undefined", f"undefined: {exc.message}", (exc.owner, exc.key))
    if isinstance(exc, UndefinedError):
        return RenderError("template.undefined", f"undefined: {exc.message}")
    if isinstance(exc, BudgetError):
        return RenderError("template.too-large", f"refused: {exc}")
    if isinstance(exc, NotText):
        return RenderError("template.not-text", str(exc))
    if isinstance(exc, SecurityError):
        return RenderError("template.sandbox", f"refused by the sandbox: {exc}")
    if isinstance(exc, TemplateNotFound):
        return RenderError("template.include", f"no partial {exc.message}")
    if isinstance(exc, FilterError):
        return RenderError("template.filter", str(exc))
    if isinstance(exc, RecursionError):
        return RenderError("template.recursion", "the template recurses too deeply")
    return RenderError("template.error", f"{type(exc).__name__}: {exc}")


def _coerce_nested(param: Param | None, path: LeafPath, value: Any) -> Any:
    """Type a rendered leaf: by the field's row at the top, by the JSON object's declared
    ``fields`` inside it (``StrategyContent.startTime`` is an integer)."""
    if param is None:
        return value
    if len(path) == 1:
        return coerce(param, value)
    sub = next((f for f in param.fields if f.name == path[1]), None)
    if sub is None:
        return value
    if len(path) == 2:
        return coerce(sub, value)
    if sub.type == "array" and sub.items and len(path) == 3:
        return coerce(Param(name=sub.name, type=sub.items), value)
    return value


def _set(tree: dict[str, Any], path: LeafPath, value: Any) -> None:
    """Set ``path`` in ``tree``, copying the containers on the way (the skeleton is shared)."""
    node: Any = tree
    for part in path[:-1]:
        child = node[part]
        child = dict(child) if isinstance(child, dict) else list(child)
        node[part] = child
        node = child
    node[path[-1]] = value


# Fan-out rows mostly share their times: parse each distinct text once.
_api_time = lru_cache(maxsize=1024)(parse_api_time)


def due_times(provider: str, params: dict[str, Any]) -> tuple[datetime | None, datetime | None]:
    """When a delivery goes out and when it expires (None: now / never said). A loop goes
    out first at its first occurrence and "expires" at its endTime: nothing after that."""
    if provider == "emas":
        push, expire = params.get("PushTime"), params.get("ExpireTime")
        return (
            _api_time(push) if isinstance(push, str) else None,
            _api_time(expire) if isinstance(expire, str) else None,
        )
    kind = params.get("StrategyType")
    if kind == LOOP:
        loop = loop_of(params)
        if loop is None:
            return None, None
        return loop.next_after(loop.start - timedelta(microseconds=1)), loop.end
    content = params.get("StrategyContent")
    if isinstance(content, str):
        try:
            content = json.loads(content)
        except ValueError:
            return None, None
    if kind == 1 and isinstance(content, dict) and isinstance(content.get("fixedTime"), int):
        try:
            return from_epoch_ms(content["fixedTime"]), None
        except (ValueError, OverflowError, OSError):
            return None, None
    return None, None


def app_context(app: App) -> dict[str, Any]:
    """What templates see of an app: identifiers only, never credentials."""
    out: dict[str, Any] = {"name": app.name, "provider": app.provider, "region": app.region}
    if app.provider == "emas":
        out["app_key"] = app.app_key
    else:
        out.update(
            app_id=app.app_id,
            workspace_id=app.workspace_id,
            api_version=app.api_version or "2020-10-28",
        )
    return out


class Renderer:
    """Renders campaigns for environments. Not thread-safe: one per thread."""

    def __init__(self, config: Config, now: datetime, *, check_keys: bool = True) -> None:
        self.config = config
        self.root = config.root
        self.now = now
        self.check_keys = check_keys
        folder = (self.root / config.templates) if config.templates else None
        self.templates_problem: str | None = None
        if folder is not None:
            try:
                inside(self.root, config.templates)
            except RepoFileError as exc:
                self.templates_problem = f"the templates folder {config.templates} {exc}"
                folder = None
        self.sandbox = Sandbox(folder)
        self._parsed: dict[str, tuple[Template, bool]] = {}
        self._reads: dict[str, frozenset[str] | None] = {}

    # -- templates --------------------------------------------------------------------------

    def compile(self, source: str) -> Compiled:
        """``source`` compiled; each distinct source is compiled once."""
        found = self._parsed.get(source)
        if found is None:
            try:
                tree = self.sandbox.parse(source)
                template = self.sandbox.compile_template(source)
            except Exception as exc:
                raise explain(exc) from None
            found = Compiled(template, _uses_row(tree), shortcut(tree, self.sandbox.filters))
            if len(self._parsed) >= 4096:
                self._parsed.clear()
            self._parsed[source] = found
        return found

    def reads(self, message: Message) -> frozenset[str] | None:
        """The context names ``message``'s templates read (its parameters' and its fan-out
        key's), or None when that cannot be told: a partial (it sees the whole context) or a
        template that does not parse."""
        sources = [source for _, source in message.templates]
        spec = message.fan_out
        if isinstance(spec, dict):
            sources.extend(
                spec[name] for name in ("key", "time_zone") if isinstance(spec.get(name), str)
            )
        names: set[str] = set()
        for source in sources:
            if source not in self._reads:
                try:
                    tree = self.sandbox.parse(source)
                    partial = any(
                        True for _ in tree.find_all((nodes.Include, nodes.Import, nodes.FromImport))
                    )
                    # Jinja checks filter and test names while finding the variables: an unknown
                    # filter raises here, not at parse time.
                    found = None if partial else frozenset(meta.find_undeclared_variables(tree))
                except Exception:  # reported by rendering; here it only means "cannot tell"
                    found = None
                if len(self._reads) >= 4096:
                    self._reads.clear()
                self._reads[source] = found
            read = self._reads[source]
            if read is None:
                return None
            names |= read
        return frozenset(names)

    def run(self, compiled: Compiled, context: dict[str, Any]) -> str:
        """Render with ``context`` as the whole namespace (shared, not copied: it is built
        once per message and only ``row`` changes), bounded in size, steps and time."""
        if compiled.fast is not None:
            text = compiled.fast(context)
            if text is not None:
                return _sendable(text)
        try:
            text = self.sandbox.evaluate(compiled.template, context)
        except Exception as exc:  # every template failure becomes a located diagnostic
            raise explain(exc) from None
        _sendable(text)
        if len(text) > MAX_OUTPUT_BYTES // 4 and len(text.encode("utf-8")) > MAX_OUTPUT_BYTES:
            raise RenderError("template.too-large", f"the output is over {MAX_OUTPUT_BYTES} bytes")
        return text

    # -- context ----------------------------------------------------------------------------

    def context(
        self, campaign: Campaign, message: Message, environment: str, app: App
    ) -> tuple[dict[str, Any], list[Diagnostic]]:
        env = self.config.environments[environment]
        problems: list[Diagnostic] = []
        layers: list[tuple[dict[str, Any], Any, tuple[str | int, ...]]] = [
            (self.config.vars, self.config.source, ("vars",)),
            (env.vars, self.config.source, ("environments", environment, "vars")),
            (campaign.vars, campaign.source, ("vars",)),
            (message.vars, campaign.source, (*message.path, "vars")),
        ]
        merged: dict[str, Any] = dict(self.sandbox.globals)
        for values, doc, where in layers:
            for name, value in values.items():
                if name in RESERVED and doc is not None:
                    problems.append(
                        doc.diagnostic(
                            (*where, name),
                            f"{name!r} is reserved ({', '.join(RESERVED)}); rename the variable",
                            "template.reserved-var",
                            key=True,
                        )
                    )
                    continue
                merged[name] = value
        merged.update(
            campaign={"id": campaign.id, "revision": campaign.revision, "app": campaign.app},
            environment={"name": environment},
            app=app_context(app),
            now=self.now,
        )
        return merged, problems

    # -- campaigns --------------------------------------------------------------------------

    def applies(self, campaign: Campaign, environment: str) -> App | None:
        """The campaign's app in ``environment``, or None when it does not apply there."""
        if campaign.environments is not None and environment not in campaign.environments:
            return None
        app = self.config.environments[environment].apps.get(campaign.app)
        if app is None or app.provider != campaign.provider:
            return None
        return app

    def render_campaign(
        self, campaign: Campaign, environment: str, report: Report
    ) -> Iterator[Delivery]:
        app = self.applies(campaign, environment)
        if app is None:
            return
        for message in campaign.messages:
            yield from self.render_message(campaign, message, environment, app, report)

    def render_message(
        self, campaign: Campaign, message: Message, environment: str, app: App, report: Report
    ) -> Iterator[Delivery]:
        doc = campaign.source
        table = load_table(campaign.provider).message_params

        def located(path: LeafPath, rule: str, text: str) -> Diagnostic:
            full = (*message.path, *path)
            return doc.diagnostic(full, text, rule, display_path=format_path(full))

        context, problems = self.context(campaign, message, environment, app)
        if self.templates_problem:
            problems.append(doc.diagnostic((), self.templates_problem, "template.include"))
        if app.provider == "mpaas" and app.api_version == LEGACY_MPAAS:
            for name in message.params:
                param = table.get(name)
                if param is not None and LEGACY_MPAAS not in param.versions:
                    problems.append(
                        located(
                            (name,),
                            "mpaas.api-version",
                            f"app {app.name!r} in {environment} uses PushBroadcast "
                            f"{LEGACY_MPAAS}, which has no {name}",
                        )
                    )
        # Compile every template, then render the ones that do not read the row once.
        skeleton = dict(message.params)
        row_leaves: list[Leaf] = []
        for path, source in message.templates:
            try:
                compiled = self.compile(source)
                if compiled.uses_row and message.fan_out:
                    row_leaves.append(Leaf(path, compiled))
                    continue
                value = self.run(compiled, context)
            except RenderError as exc:
                problems.append(located(path, exc.rule, exc.message))
                continue
            _set(skeleton, path, _coerce_nested(table.get(str(path[0])), path, value))
        # Literal values too: YAML's ``TargetValue: 12345`` is a string field's text.
        skeleton = {name: coerce(table.get(name), value) for name, value in skeleton.items()}
        if problems:
            report.extend(problems)
            return
        prefix = f"{environment}/{campaign.id}/r{campaign.revision}/{message.id}"
        source: Position = (doc.file, *doc.position(message.path))

        def delivery(
            params: dict[str, Any],
            key: str | None,
            row: tuple[str, int] | None,
            group: str | None = None,
            printed: str | None = None,
            zone: str | None = None,
        ) -> Delivery:
            due_at, expires_at = due_times(campaign.provider, params)
            return make_delivery(
                f"{prefix}/{key}" if key is not None else prefix,
                environment,
                campaign.id,
                campaign.revision,
                message.id,
                key,
                campaign.provider,
                app.name,
                params,
                printed if printed is not None else fingerprint(params),
                due_at,
                expires_at,
                source,
                row,
                group,
                zone,
            )

        if not message.fan_out:
            yield delivery(skeleton, None, None)
            return
        yield from self.fan_out(
            campaign, message, context, skeleton, row_leaves, table, report, located, delivery
        )

    def fan_out(
        self,
        campaign: Campaign,
        message: Message,
        context: dict[str, Any],
        skeleton: dict[str, Any],
        row_leaves: list[Leaf],
        table: dict[str, Param],
        report: Report,
        located: Any,
        delivery: Any,
    ) -> Iterator[Delivery]:
        spec = message.fan_out
        if not isinstance(spec, dict) or not isinstance(spec.get("data"), str):
            return  # the authoring schema already reported it
        if campaign.provider != "emas":
            report.add(
                located(
                    ("fan_out",),
                    "fan-out.provider",
                    "fan_out is for EMAS MassPush tasks; an mPaaS broadcast already reaches "
                    "every device",
                )
            )
            return
        relative = spec["data"]
        try:
            path = resolve_data_path(self.root, relative)
            fmt = data_format(relative, spec.get("format"))
        except ValueError as exc:
            report.add(located(("fan_out", "data"), "fan-out.path", str(exc)))
            return
        key_template: Compiled | None = None
        if isinstance(spec.get("key"), str):
            try:
                key_template = self.compile(spec["key"])
            except RenderError as exc:
                report.add(located(("fan_out", "key"), exc.rule, exc.message))
                return
        zone_template: Compiled | None = None
        if isinstance(spec.get("time_zone"), str):
            try:
                zone_template = self.compile(spec["time_zone"])
            except RenderError as exc:
                report.add(located(("fan_out", "time_zone"), exc.rule, exc.message))
                return
        zones: dict[str, str] = {}  # rendered text -> its checked name, shared by the rows
        errors = 0
        # What a row's key may add to the delivery key within the ledger's limit.
        name = context["environment"]["name"]
        prefix = f"{name}/{campaign.id}/r{campaign.revision}/{message.id}/"
        room = MAX_KEY_BYTES - len(prefix.encode())
        rows = read_rows(self.root, path, relative, fmt)
        context = dict(context)
        # Row leaves other than TargetValue decide which rows merge (compile's hint).
        grouping = [i for i, leaf in enumerate(row_leaves) if leaf.path != ("TargetValue",)]
        typed = [(leaf, table.get(str(leaf.path[0])), len(leaf.path) == 1) for leaf in row_leaves]
        # Rows change only the fields their leaves are in: the rest is encoded once.
        partial = PartialFingerprint(skeleton, {str(leaf.path[0]) for leaf in row_leaves})
        printing = partial if partial.usable else fingerprint
        run = self.run
        # Closed however the stream ends: read to the end, stopped, or dropped by the consumer.
        keys = KeyCheck() if self.check_keys else None
        # A template reading a column a row lacks fails every such row alike: one error per
        # template and column, with the count, not one per row (nor a stop after 20).
        missing = MissingColumns()

        def report_missing() -> None:
            for path, message in missing.problems(relative):
                report.add(located(path, "fan-out.missing-column", message))

        clock = FanOutClock()
        try:
            while True:
                if errors >= MAX_ROW_ERRORS:
                    report.add(
                        located(
                            ("fan_out",),
                            "fan-out.too-many-errors",
                            f"stopped after {MAX_ROW_ERRORS} bad rows of {relative}",
                        )
                    )
                    report_missing()
                    return
                try:
                    row: Row | None = next(rows, None)
                except LocatedError as exc:
                    report.add(exc.diagnostic)
                    break
                if row is None:
                    break
                if row.number & 0xFF == 0:
                    too_slow = clock.over(row.number)
                    if too_slow:
                        report.add(located(("fan_out",), "template.too-large", too_slow))
                        report_missing()
                        return
                context["row"] = row.values
                params = dict(skeleton)
                values = []
                lacking = False  # a column this row lacks: every template is still tried
                try:
                    for leaf, param, top in typed:
                        at = leaf.path
                        try:
                            value = run(leaf.compiled, context)
                        except RenderError as exc:
                            if exc.missing is None or exc.missing[0] is not row.values:
                                raise
                            missing.add(at, exc.missing[1], row)
                            lacking = True
                            continue
                        if top:
                            value = params[at[0]] = coerce(param, value)  # type: ignore[index]
                        else:
                            value = _coerce_nested(param, at, value)
                            _set(params, at, value)
                        values.append(value)
                    at = ("fan_out", "key")
                    key = str(row.number)
                    if key_template is not None:
                        key = run(key_template, context).strip()
                        problem = _bad_key(key, room)
                        if problem:
                            raise RenderError("fan-out.key", problem)
                    if lacking:
                        continue
                    if keys is not None and not keys.add(key, row.number, row.line):
                        raise RenderError(
                            "fan-out.duplicate-key",
                            f"key {key!r} is also the key of an earlier row; "
                            "each row needs its own key",
                        )
                    zone = None
                    if zone_template is not None:
                        at = ("fan_out", "time_zone")
                        zone = _recipient_zone(run(zone_template, context), zones)
                except RenderError as exc:
                    if exc.missing is not None and exc.missing[0] is row.values:
                        missing.add(at, exc.missing[1], row)
                        continue
                    where = f"row {row.number} ({relative}:{row.line})"
                    report.add(located(at, exc.rule, f"{exc.message} in {where}"))
                    errors += 1
                    continue
                group = repr([values[i] for i in grouping])
                handed = time.monotonic()
                yield delivery(params, key, (relative, row.line), group, printing(params), zone)
                clock.paused += time.monotonic() - handed
            report_missing()
            # Every row read has been checked against the keys in memory; the rest is on disk.
            if keys is not None:
                found, total = keys.repeats(MAX_ROW_ERRORS - errors)
                for repeat in found:
                    report.add(
                        located(
                            ("fan_out", "key"),
                            "fan-out.duplicate-key",
                            f"key {repeat.key!r} of row {repeat.row} ({relative}:{repeat.line}) "
                            f"is also the key of row {repeat.first_row} "
                            f"({relative}:{repeat.first_line}); each row needs its own key",
                        )
                    )
                if total > len(found):
                    report.add(
                        located(
                            ("fan_out", "key"),
                            "fan-out.duplicate-key",
                            f"{total - len(found):,} more rows of {relative} repeat an earlier "
                            "row's key",
                        )
                    )
        except KeyCheckError as exc:  # its temporary file failed: the keys are unchecked
            report.add(located(("fan_out", "key"), "fan-out.duplicate-key", str(exc)))
        finally:
            if keys is not None:
                keys.close()


def _sendable(text: str) -> str:
    """``text``, if it is text at all: a JSON Lines row (``"\\ud800"``) or a Jinja string
    literal can hold half of a UTF-16 surrogate pair, which no UTF-8 request, hash or ledger
    row can carry."""
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise RenderError(
                "template.invalid-text",
                f"the output holds {text[exc.start]!r}, half of a UTF-16 surrogate pair: "
                "not text, so it cannot be sent",
            ) from None
    return text


def _recipient_zone(text: str, seen: dict[str, str]) -> str | None:
    """A row's rendered ``fan_out.time_zone``: a zone name pushops knows, or None when the row
    gives none (the campaign's or the app's zone applies)."""
    name = seen.get(text)
    if name is None:
        name = text.strip()
        if name:
            try:
                parse_zone(name)
            except ValueError as exc:
                raise RenderError("fan-out.time-zone", str(exc)) from None
        if len(seen) < 4096:
            seen[text] = name
    return name or None


def _bad_key(key: str, room: int) -> str | None:
    if not key:
        return "the fan-out key is empty"
    if len(key) > MAX_KEY_LENGTH:
        return f"the fan-out key is longer than {MAX_KEY_LENGTH} characters"
    if any(c in key for c in "\r\n\t"):
        return "the fan-out key contains a line break or tab"
    problem = key_problem(key)
    if problem is not None:
        return f"the fan-out key {problem}"
    size = len(key.encode())
    if size > room:
        return (
            f"the delivery key would be {MAX_KEY_BYTES - room + size:,} bytes with this "
            f"fan-out key; the ledger stores keys of at most {MAX_KEY_BYTES:,} bytes"
        )
    return None


def render_deliveries(
    campaigns: Iterable[Campaign],
    config: Config,
    environment: str,
    now: datetime,
    report: Report,
    *,
    check_keys: bool = True,
) -> Iterator[Delivery]:
    """Every delivery of ``campaigns`` in ``environment``, streamed in campaign, message and
    row order. Problems go to ``report`` (located); a message with a problem yields no
    deliveries (a fan-out message stops after :data:`MAX_ROW_ERRORS` bad rows), so check
    ``report.ok`` after consuming the stream before acting on it. That is not only a matter
    of order: some duplicate fan-out keys (a row past the first
    :data:`~pushops.render.keyindex.IN_MEMORY_KEYS` keys repeating another such row, see
    :mod:`pushops.render.keyindex`) are found only once the data file has been read, after
    both rows' deliveries have been yielded."""
    config.environment(environment)  # an unknown environment is a PushopsError
    renderer = Renderer(config, now, check_keys=check_keys)
    for campaign in campaigns:
        yield from renderer.render_campaign(campaign, environment, report)
