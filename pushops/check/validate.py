"""``pushops validate``'s engine: every problem of every campaign, located, in one pass.

Stages: read the YAML, check the campaign's structure, render it, then check each rendered
delivery's parameters against the provider schema (derived from the tables) and the rule
registry, and each compiled call against the call-scope rules.

Which environments: every environment of ``pushops.yaml`` the campaign applies to (its app is
there with the campaign's provider, and its ``environments`` list, if any, names it), so a
value that is only wrong in production is still caught. A problem found in a rendered value
is reported at the template string that produced it, with the rendered value and the
environments it was rendered for. Without a usable config (or when the campaign applies
nowhere) nothing can be rendered: values that are templates are then skipped, the rest are
checked against the provider schema, and a message holding templates is not put through the
rules (see :func:`check_params`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from pushops.campaign import Campaign, Message, duplicate_ids, load_campaigns
from pushops.check.rules import check_call, check_message
from pushops.check.schema import checker
from pushops.compile import Delivery, compile_calls
from pushops.config import Config
from pushops.diagnostics import Diagnostic, PushopsError, Report
from pushops.ledger.records import MAX_KEY_BYTES
from pushops.params import coerce_all
from pushops.progress import counted
from pushops.render import Renderer
from pushops.render.engine import LEGACY_MPAAS, RESERVED
from pushops.tables import load_table
from pushops.yamlsource import format_path


@dataclass
class ValidationResult:
    report: Report
    campaigns: list[Campaign] = field(default_factory=list)


def check_params(
    campaign: Campaign,
    message: Message,
    params: dict[str, Any],
    now: datetime,
    unchecked: Iterable[str] = (),
    *,
    sending: bool = False,
) -> list[Diagnostic]:
    """Provider schema and rules over one message's concrete parameters, typed as the tables
    say (rendered deliveries are; :func:`validate` types a campaign it cannot render).

    ``unchecked`` names fields whose values are not concrete yet (still templates): problems
    located at them are not reported, and the message rules do not run at all, since a rule
    reads fields together (ExpireTime against PushTime, or now when PushTime is absent) and
    would take a template's field for an absent one. That is the case when there is no usable
    config (an invalid ``pushops.yaml`` must not make valid campaigns look wrong); rendering
    with a valid one checks everything.
    ``sending``: plan is about to send these parameters, so a clock-dependent finding that a
    delivery applied earlier may have (a loop that started yesterday) is an error here rather
    than a warning.
    """
    skip = set(unchecked)
    doc = campaign.source
    problems: list[Diagnostic] = []
    scope = campaign.provider
    for path, text, rule, key in checker(scope).errors(params):
        if path and path[0] in skip:
            continue
        full = (*message.path, *path)
        problems.append(doc.diagnostic(full, text, rule, key=key, display_path=format_path(full)))
    if skip and not skip.isdisjoint(params):
        return problems
    for finding in check_message(scope, params, now):
        full = (*message.path, *finding.field)
        problems.append(
            doc.diagnostic(
                full,
                finding.message,
                finding.rule,
                severity="error" if sending and finding.error_when_sent else finding.severity,
                display_path=format_path(full),
            )
        )
    return problems


def check_app(campaign: Campaign, config: Config | None) -> list[Diagnostic]:
    if config is None:
        return []
    providers = {
        app.provider
        for env in config.environments.values()
        for name, app in env.apps.items()
        if name == campaign.app
    }
    if not providers:
        known = sorted({a for env in config.environments.values() for a in env.apps})
        return [
            campaign.source.diagnostic(
                ("app",),
                f"no app {campaign.app!r} in pushops.yaml (apps: {', '.join(known)})",
                "campaign.unknown-app",
            )
        ]
    if campaign.provider not in providers:
        (wanted,) = sorted(providers)[:1]
        key = "tasks" if campaign.provider == "emas" else "broadcasts"
        return [
            campaign.source.diagnostic(
                (key,),
                f"app {campaign.app!r} is a {wanted} app; this campaign is written for "
                f"{campaign.provider}",
                "campaign.provider-mismatch",
                key=True,
            )
        ]
    return []


# A fan-out template that is wrong is wrong for every row: report the first few rows only.
MAX_ROW_PROBLEMS = 20
# Deliveries whose findings check_rendered keeps, to check one rendered alike in another
# environment once: enough for any campaign's messages, not for every row of a large fan-out.
_MEMO_LIMIT = 65_536
_SHOWN_VALUE = 120


def check_environments(campaign: Campaign, config: Config | None) -> list[Diagnostic]:
    if config is None or not isinstance(campaign.environments, list):
        return []
    return [
        campaign.source.diagnostic(
            ("environments", index),
            f"no environment {name!r} in pushops.yaml ({', '.join(config.environments)})",
            "campaign.unknown-environment",
        )
        for index, name in enumerate(campaign.environments)
        if name not in config.environments
    ]


# The longest token a call id carries: an EMAS IdempotentToken (a UUID); a Msgkey is 32.
_TOKEN_CHARS = 36


def check_key_room(campaign: Campaign, config: Config | None) -> list[Diagnostic]:
    """Delivery keys and call ids this campaign makes must fit the ledger's limit
    (:data:`~pushops.ledger.records.MAX_KEY_BYTES`), which is the same on both backends.

    Keys are ``ENV/CAMPAIGN/rREVISION/MESSAGE`` (plus ``/ROW-KEY`` with fan-out, whose own
    length the renderer checks row by row) and call ids ``ENV/APP/TOKEN``: this checks what
    is known from the files alone, in each environment the campaign applies to.
    """
    names = rendering_environments(campaign, config) or [""]
    worst = max(names, key=lambda name: len(name.encode()))
    problems = []
    for message in campaign.messages:
        key = f"{worst}/{campaign.id}/r{campaign.revision}/{message.id}"
        size = len(key.encode()) + (2 if message.fan_out else 0)  # "/" and a 1-byte row key
        if size > MAX_KEY_BYTES:
            problems.append(
                campaign.source.diagnostic(
                    ("id",),
                    f"delivery keys of this campaign are {size:,} bytes or more (environment, "
                    f"campaign id, revision, message id {message.id[:40]!r}"
                    f"{' and fan-out key' if message.fan_out else ''}); the ledger stores keys "
                    f"of at most {MAX_KEY_BYTES:,} bytes: shorten the campaign or message id",
                    "campaign.key-too-long",
                )
            )
            break
    call_id = len(f"{worst}/{campaign.app}/".encode()) + _TOKEN_CHARS
    if not problems and call_id > MAX_KEY_BYTES:
        problems.append(
            campaign.source.diagnostic(
                ("app",),
                f"call ids of this campaign are {call_id:,} bytes (environment, app name, "
                f"token); the ledger stores at most {MAX_KEY_BYTES:,}: shorten the names",
                "campaign.key-too-long",
            )
        )
    return problems


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN_VALUE else text[: _SHOWN_VALUE - 1] + "…"


class _Rendered:
    """Diagnostics of one campaign over its environments, merged: the same problem with the
    same rendered value is one diagnostic naming every environment it was found in."""

    def __init__(self) -> None:
        self.found: dict[tuple[Diagnostic, str], list[str]] = {}

    def add(self, diagnostic: Diagnostic, value: str, environment: str) -> None:
        envs = self.found.setdefault((diagnostic, value), [])
        if environment not in envs:
            envs.append(environment)

    def diagnostics(self) -> Iterator[Diagnostic]:
        for (diagnostic, value), envs in self.found.items():
            yield rendered_for(diagnostic, value, ", ".join(envs))


_MISSING = object()


def renders_alike(renderer: Renderer, campaign: Campaign, first: str, other: str) -> bool:
    """Whether ``campaign`` renders to the same parameters in environment ``other`` as in
    ``first``, so checking it there finds exactly what it found in ``first``.

    True when every name its templates read has the same value in both contexts (names a
    message's own vars set are equal in both), no variable uses a reserved name (that
    problem is located in each environment's config), no templates folder problem, and no
    app is on the legacy mPaaS API (its problems name the environment). What else differs
    between environments, the environment in delivery keys and the app's key in the calls'
    tokens, no check reads: the call rules look at task counts, targets and the token's form.
    """
    if renderer.templates_problem:
        return False
    apps = [renderer.applies(campaign, env) for env in (first, other)]
    if any(app is None or app.api_version == LEGACY_MPAAS for app in apps):
        return False
    config = renderer.config
    layers = [config.vars, campaign.vars, *(m.vars for m in campaign.messages)]
    layers += [config.environments[env].vars for env in (first, other)]
    if any(name in RESERVED for layer in layers for name in layer):
        return False
    bare = replace(campaign.messages[0], vars={}) if campaign.messages else None
    if bare is None:
        return True
    contexts = [
        renderer.context(campaign, bare, env, app)[0]  # type: ignore[arg-type]
        for env, app in zip((first, other), apps, strict=True)
    ]
    differ = {
        name
        for name in contexts[0].keys() | contexts[1].keys()
        if contexts[0].get(name, _MISSING) != contexts[1].get(name, _MISSING)
    }
    for message in campaign.messages:
        reads = renderer.reads(message)
        if reads is None or not reads.isdisjoint(differ - message.vars.keys()):
            return False
    return True


def check_rendered(
    renderer: Renderer,
    campaign: Campaign,
    environments: list[str],
    now: datetime,
    progress: Callable[[int], None] | None = None,
) -> list[Diagnostic]:
    """Render ``campaign`` in each environment and check what comes out. An environment the
    campaign renders alike in as in the first (:func:`renders_alike`) is not rendered again:
    the first one's findings are recorded for it too. ``progress`` is told how many more
    deliveries were checked."""
    report = Report()
    merged = _Rendered()
    messages = {m.id: m for m in campaign.messages}
    # A delivery rendered identically in several environments is checked once.
    memo: dict[tuple[str, str], list[tuple[Diagnostic, str]]] = {}
    first = environments[0] if environments else None
    found_first: list[tuple[Diagnostic, str]] = []
    reported_first: list[Diagnostic] = []
    failed_first = False

    def add(diagnostic: Diagnostic, value: str, environment: str) -> None:
        if environment == first:
            found_first.append((diagnostic, value))
        merged.add(diagnostic, value, environment)

    for environment in environments:
        if (
            environment != first
            and not failed_first
            and renders_alike(renderer, campaign, first, environment)  # type: ignore[arg-type]
        ):
            report.extend(reported_first)
            for diagnostic, value in found_first:
                merged.add(diagnostic, value, environment)
            continue
        reported = len(report.diagnostics)
        deliveries = _checked(
            counted(renderer.render_campaign(campaign, environment, report), progress),
            campaign,
            messages,
            now,
            lambda diagnostic, value, env=environment: add(diagnostic, value, env),
            memo,
        )
        try:
            for call in compile_calls(deliveries, renderer.config):
                message = messages[call.deliveries[0].message]
                for finding in check_call(campaign.provider, call.request(), now):
                    full = message.path
                    add(
                        campaign.source.diagnostic(
                            full,
                            f"{'.'.join(map(str, finding.field))}: {finding.message}",
                            finding.rule,
                            severity=finding.severity,
                            display_path=format_path(full),
                        ),
                        "",
                        environment,
                    )
        except PushopsError as exc:  # the renderer has located the cause already
            report.extend(exc.diagnostics)
            failed_first = failed_first or environment == first
        if environment == first:
            reported_first = report.diagnostics[reported:]
    return [*report.diagnostics, *merged.diagnostics()]


def _checked(
    deliveries: Iterable[Delivery],
    campaign: Campaign,
    messages: dict[str, Message],
    now: datetime,
    found: Callable[[Diagnostic, str], None],
    memo: dict[tuple[str, str], list[tuple[Diagnostic, str]]],
) -> Iterator[Delivery]:
    """Pass deliveries through, checking each (up to :data:`MAX_ROW_PROBLEMS` errors per
    message)."""
    counts: Counter[str] = Counter()
    for delivery in deliveries:
        message = messages[delivery.message]
        if counts[message.id] < MAX_ROW_PROBLEMS:
            memo_key = (message.id, delivery.fingerprint)
            if memo_key not in memo:
                if len(memo) >= _MEMO_LIMIT:
                    memo.clear()  # a cache: a million rows must not all stay in it
                memo[memo_key] = list(_annotated(campaign, message, delivery, now))
            for diagnostic, value in memo[memo_key]:
                counts[message.id] += diagnostic.severity == "error"
                found(diagnostic, value)
        yield delivery


def _annotated(
    campaign: Campaign, message: Message, delivery: Delivery, now: datetime
) -> Iterator[tuple[Diagnostic, str]]:
    """Problems of one rendered delivery, each with the rendered value when a template made
    it (and the data row, for a fan-out)."""
    return with_rendered_values(
        message, delivery, check_params(campaign, message, delivery.params, now)
    )


def rendered_for(diagnostic: Diagnostic, value: str, environments: str) -> Diagnostic:
    """``diagnostic`` saying what its template rendered to, in which environments and, for
    a fan-out, at which row (``value`` from :func:`with_rendered_values`; empty: as it is)."""
    if not value:
        return diagnostic
    d = diagnostic  # built, not dataclasses.replace'd: a wrong fan-out template does it a row
    message = f"{d.message} (rendered for {environments}: {value})"
    return Diagnostic(d.file, d.line, d.column, d.path, message, d.rule, d.severity)


def templated_paths(message: Message) -> dict[str, str]:
    """The displayed path of each field of ``message`` a template makes, to its name."""
    return {
        format_path((*message.path, name)): name
        for name in message.params
        if name in message.templated_fields
    }


def with_rendered_values(
    message: Message,
    delivery: Delivery,
    problems: Iterable[Diagnostic],
    templated: dict[str, str] | None = None,
) -> Iterator[tuple[Diagnostic, str]]:
    """``problems`` of one rendered delivery, each with the value a template rendered at the
    field it is located at ("" where no template made it), and the data row of a fan-out;
    ``templated``: :func:`templated_paths` of ``message``, if the caller keeps it."""
    if templated is None:
        templated = templated_paths(message)
    for diagnostic in problems:
        name = next(
            (
                field_name
                for prefix, field_name in templated.items()
                if diagnostic.path == prefix
                or diagnostic.path.startswith((prefix + ".", prefix + "["))
            ),
            None,
        )
        if name is None:
            yield diagnostic, ""
            continue
        value = _shown(delivery.params.get(name))
        if delivery.row is not None:
            value += f" in {delivery.row[0]}:{delivery.row[1]}"
        yield diagnostic, value


def rendering_environments(campaign: Campaign, config: Config | None) -> list[str]:
    """The environments ``campaign`` is rendered and checked in (see the module docstring)."""
    if config is None:
        return []
    chosen = []
    for name, env in config.environments.items():
        if isinstance(campaign.environments, list) and name not in campaign.environments:
            continue
        app = env.apps.get(campaign.app)
        if app is not None and app.provider == campaign.provider:
            chosen.append(name)
    return chosen


def load_checked(
    paths: Iterable[Path], root: Path, config: Config | None, report: Report
) -> list[Campaign]:
    """The campaigns under ``paths`` (default ``campaigns/``); their file-level problems (YAML,
    structure, unknown app or environment, an id used twice) go to ``report``."""
    if config is not None and config.source is not None:
        report.extend(config.source.warnings)  # values YAML 1.1 would read differently
    campaigns = load_campaigns(paths, root, report)
    for campaign in campaigns:
        report.extend(check_app(campaign, config))
        report.extend(check_environments(campaign, config))
        report.extend(check_key_room(campaign, config))
    report.extend(duplicate_ids(campaigns))
    return campaigns


def validate(
    paths: Iterable[Path],
    root: Path,
    config: Config | None,
    now: datetime,
    progress: Callable[[int], None] | None = None,
) -> ValidationResult:
    """``progress``: told how many more deliveries were rendered and checked (a fan-out of
    200,000 rows takes half a minute)."""
    report = Report()
    campaigns = load_checked(paths, root, config, report)
    renderer = Renderer(config, now) if config is not None else None
    for campaign in campaigns:
        environments = rendering_environments(campaign, config)
        if renderer is not None and environments:
            report.extend(check_rendered(renderer, campaign, environments, now, progress))
            continue
        table = load_table(campaign.provider).message_params
        for message in campaign.messages:
            typed = coerce_all(message.params, table)
            report.extend(check_params(campaign, message, typed, now, message.templated_fields))
    return ValidationResult(report, campaigns)
