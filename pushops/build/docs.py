"""Generate the documentation that is data: the parameter reference of each provider, the
``pushops.yaml`` reference (:mod:`pushops.build.configref`), and the
rule and provider-error tables of ``docs/errors.md``, from the parameter tables, the rule
registry, the error classification and the emulator's error list.

``pushops docs build`` writes them; ``--check`` (run by CI) fails when the committed docs
differ, the way ``pushops schema build --check`` does for the schemas. ``docs/errors.md`` is
hand-written around generated regions between ``<!-- generated:NAME -->`` and
``<!-- end generated:NAME -->``; only those regions are rewritten.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from pushops.build import configref
from pushops.check.rules import REGISTRY
from pushops.check.rules.limits import kebab
from pushops.diagnostics import PushopsError
from pushops.emulator.errors import GATEWAY_ERRORS, MPAAS_RESULTS
from pushops.providers.errors import Severity, classify
from pushops.schemas import FORMAT_HELP, MANAGED_FIELDS, PATTERNS
from pushops.tables import PROVIDERS, TABLE_FILES, Condition, Param, ParameterTable, load_table
from pushops.tables import schemas_dir as _schemas_dir

REFERENCE_DIR = "reference"
ERRORS_FILE = "errors.md"
GROUP_TITLES = {
    "app": "App",
    "target": "Target",
    "message": "Message",
    "control": "Delivery control",
    "ios": "iOS",
    "android": "Android",
    "android-vendor": "Android vendor channels",
    "harmony": "HarmonyOS",
    "template": "Template",
    "strategy": "Schedule and loop strategy",
    "vendor": "Vendor channels",
    "": "Other",
}
SOURCE_NAMES = {"doc": "API document", "tea": "Tea SDK model", "legacy": "legacy SDK"}


def docs_dir() -> Path:
    """The repository's ``docs/`` folder (beside ``schemas/``)."""
    return _schemas_dir().parent / "docs"


def reference_name(table: ParameterTable) -> str:
    return f"{table.provider}-{table.action.lower()}.md"


# ------------------------------------------------------------------------ rule ids per field


@dataclass(frozen=True)
class RuleRef:
    id: str
    what: str
    severity: str = "error"


def _schema_rules(provider: str, param: Param, *, nested: bool = False) -> Iterator[RuleRef]:
    """The rule ids the provider schema reports for ``param`` (see pushops/check/explain.py)."""
    slug = f"{provider}.{kebab(param.name)}"
    yield RuleRef(f"{slug}-type", f"{param.name} has the type {_type(param)}")
    if param.values and param.format != "csv" and param.type not in ("map",):
        yield RuleRef(f"{slug}-values", f"{param.name} is one of the allowed values")
    if param.format in PATTERNS or (param.format == "csv" and param.values):
        yield RuleRef(f"{slug}-format", f"{param.name} has the format {_format(param)}")
    if param.type == "integer" or "minimum" in param.limits or "maximum" in param.limits:
        yield RuleRef(f"{slug}-range", f"{param.name} is within {_range(param)}")
    if param.json == "object" and "max_keys" in param.limits:
        yield RuleRef(f"{slug}-size", f"{param.name} has at most {param.limits['max_keys']} keys")
    if param.required and param.type == "string" and not nested:
        yield RuleRef(f"{slug}-empty", f"{param.name} is not empty")
    for field in param.fields:
        yield from _schema_rules(provider, field, nested=True)


def _registry_rules(provider: str, param: Param) -> Iterator[RuleRef]:
    prefix = f"{provider}.{kebab(param.name)}-"
    word = re.compile(rf"(?<![A-Za-z]){re.escape(param.name)}(?![A-Za-z])")
    for rule in sorted(REGISTRY.values(), key=lambda r: r.id):
        if rule.provider != provider:
            continue
        if rule.id.startswith(prefix) or word.search(rule.summary):
            yield RuleRef(rule.id, rule.summary, _severity(rule.id))
    if param.deprecated:
        yield RuleRef(f"{provider}.deprecated", "deprecated parameter", "warning")


def _condition_rules(table: ParameterTable, param: Param) -> Iterator[RuleRef]:
    for condition in table.conditions:
        named = {condition.when["field"], *(f for v in condition.then.values() for f in v)}
        if param.name in named:
            yield RuleRef(condition.id, condition.message)


def rules_for(table: ParameterTable, param: Param) -> list[RuleRef]:
    """Every rule that checks ``param``: schema-derived, registered, and table conditions."""
    refs: list[RuleRef] = []
    if param.required:
        refs.append(RuleRef(f"{table.provider}.required", f"{param.name} is present"))
    refs.extend(_schema_rules(table.provider, param))
    refs.extend(_registry_rules(table.provider, param))
    refs.extend(_condition_rules(table, param))
    seen: set[str] = set()
    return [r for r in refs if not (r.id in seen or seen.add(r.id))]


# Rules whose findings are warnings: the delivery is skipped or the field should be replaced,
# the campaign stays valid. (The registry does not record severity; a test keeps this in step
# with the rules' own findings.)
WARNING_RULES = frozenset(
    {
        "emas.expire-time-past",
        "emas.push-time-past",
        "mpaas.fixed-time-past",
        "mpaas.loop-ended",
        "emas.deprecated",
        "mpaas.deprecated",
    }
)


# Rules that report an error or, for a lesser case, a warning.
MIXED_RULES = frozenset({"mpaas.circle-value", "mpaas.loop-start-past"})


def _severity(rule_id: str) -> str:
    if rule_id in MIXED_RULES:
        return "error or warning"
    return "warning" if rule_id in WARNING_RULES else "error"


# ------------------------------------------------------------------------ formatting helpers


def _type(param: Param) -> str:
    if param.type == "string" and param.json:
        return f"JSON {param.json} (write a YAML {'map' if param.json == 'object' else 'list'})"
    if param.type == "map":
        how = "one JSON field" if param.wire == "json" else "`Name.key=value` fields"
        return f"map (write a YAML map; sent as {how})"
    if param.type == "array" and param.items:
        return f"array of {param.items}"
    return param.type


def _format(param: Param) -> str:
    if param.format is None:
        return ""
    return f"`{param.format}`: {FORMAT_HELP.get(param.format, param.format)}"


def _range(param: Param) -> str:
    low, high = param.limits.get("minimum"), param.limits.get("maximum")
    if param.type == "integer":
        low, high = param.integer_bounds()
    if low is not None and high is not None:
        return f"{low} to {high}"
    return f"at least {low}" if low is not None else f"at most {high}"


def _limits(param: Param) -> list[str]:
    limits = param.limits
    out = param.limit_phrases()
    if param.type == "integer" or "minimum" in limits or "maximum" in limits:
        out.append(_range(param))
    return out


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _code(value: Any) -> str:
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    return f"`{value}`"


def _example(param: Param) -> str:
    if param.example is None:
        return ""
    dumped = yaml.safe_dump({param.name: param.example}, allow_unicode=True, sort_keys=False)
    return f"```yaml\n{dumped}```"


# ------------------------------------------------------------------------ parameter reference


def _param_section(table: ParameterTable, param: Param, level: int = 3) -> list[str]:
    managed = MANAGED_FIELDS[table.provider].get(param.name)
    lines = [f"{'#' * level} `{param.name}`", ""]
    if param.description:
        lines += [param.description.strip(), ""]
    facts: list[tuple[str, str]] = [("type", _type(param))]
    facts.append(("required", "yes" if param.required else "no"))
    if managed:
        facts.append(("set by", f"pushops ({managed}); never written in a campaign"))
    if param.format:
        facts.append(("format", _format(param)))
    if param.values:
        shown = "; ".join(
            f"{_code(v.value)} {v.meaning}".strip() if v.meaning else _code(v.value)
            for v in param.values
        )
        facts.append(("allowed values", shown))
    limits = _limits(param)
    if limits:
        facts.append(("limits", "; ".join(limits)))
    if param.default is not None:
        facts.append(("default", _code(param.default)))
    if param.deprecated:
        reason = param.deprecated if isinstance(param.deprecated, str) else ""
        facts.append(("deprecated", f"yes. {reason}".strip()))
    if param.versions:
        facts.append(("API versions", ", ".join(param.versions)))
    facts.append(("placement", param.placement))
    if param.sources:
        facts.append(("known from", ", ".join(SOURCE_NAMES.get(s, s) for s in param.sources)))
    if not managed:
        refs = rules_for(table, param)
        facts.append(
            (
                "checked by",
                ", ".join(
                    f"[`{r.id}`](../errors.md#{rule_anchor(r.id)})"
                    + (f" ({r.severity})" if r.severity != "error" else "")
                    for r in refs
                ),
            )
        )
    lines += [f"- **{name}**: {value}" for name, value in facts]
    lines.append("")
    if param.keys:
        lines += ["| key | allowed values | meaning |", "|---|---|---|"]
        for key in param.keys:
            values = ", ".join(f"{_code(v.value)} {v.meaning}".strip() for v in key.values) or "any"
            lines.append(f"| `{key.key}` | {_cell(values)} | {_cell(key.description)} |")
        lines.append("")
    if param.fields:
        lines += ["Fields of the JSON object:", ""]
        lines += ["| field | type | required | allowed values / limits | description |"]
        lines += ["|---|---|---|---|---|"]
        for field in param.fields:
            allowed = "; ".join(
                [f"{_code(v.value)} {v.meaning}".strip() for v in field.values] + _limits(field)
            )
            if field.format:
                allowed = "; ".join(filter(None, [allowed, _format(field)]))
            lines.append(
                f"| `{field.name}` | {_type(field)} | {'yes' if field.required else 'no'} | "
                f"{_cell(allowed)} | {_cell(field.description)} |"
            )
        lines.append("")
    example = _example(param)
    if example and not managed:
        lines += ["Example:", "", example, ""]
    if param.uncertain:
        lines += [f"> Unconfirmed: {param.uncertain.strip()}", ""]
    return lines


def _grouped(params: Iterable[Param]) -> dict[str, list[Param]]:
    groups: dict[str, list[Param]] = {}
    for param in params:
        groups.setdefault(param.group, []).append(param)
    order = list(GROUP_TITLES)
    return dict(sorted(groups.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else 99))


def anchor(text: str) -> str:
    """GitHub's heading anchor for a heading made of ``text`` in backticks."""
    return re.sub(r"[^a-z0-9 _-]", "", text.lower()).replace(" ", "-")


def rule_anchor(rule_id: str) -> str:
    """The HTML id of a rule's row in errors.md: ``emas.title-bytes`` -> ``emas-title-bytes``."""
    return rule_id.replace(".", "-")


def reference(table: ParameterTable) -> str:
    """The Markdown parameter reference of one provider's table."""
    title = f"{table.product} `{table.action}` parameter reference"
    lines = [
        f"# {title}",
        "",
        f"<!-- Generated from schemas/tables/{TABLE_FILES[table.provider]} by "
        "`pushops docs build`; do not edit by hand. -->",
        "",
        f"Provider id `{table.provider}`: product {table.product}, action `{table.action}`, "
        f"API version {table.version}"
        + (
            f" (also {', '.join(v for v in table.versions if v != table.version)})"
            if len(table.versions) > 1
            else ""
        )
        + ".",
        "",
    ]
    if table.item:
        lines += [
            f"A campaign's `tasks` are {table.item}s: each task is one {table.item}, written with "
            f"the property names below. pushops groups up to {table.max_items} of them into one "
            f"`{table.action}` call and fills in the request parameters itself.",
            "",
        ]
    else:
        lines += [
            f"A campaign's `broadcasts` are `{table.action}` requests: each broadcast is one "
            "call, written with the parameter names below. pushops fills in the app's ids and "
            "the `Msgkey`.",
            "",
        ]
    lines += [
        "Every field lists the rules that check it; [errors.md](../errors.md) says what each "
        "rule means and what to do about it. Any string value may be a Jinja template: it is "
        "checked after rendering (see [campaigns.md](../campaigns.md)).",
        "",
    ]
    message = table.message_params.values()
    groups = _grouped(message)
    lines += ["## Contents", ""]
    if table.item:
        lines.append("- [Request parameters](#request-parameters)")
    for group, params in groups.items():
        heading = GROUP_TITLES.get(group, group)
        names = ", ".join(f"[`{p.name}`](#{anchor(p.name)})" for p in params)
        lines.append(f"- {heading}: {names}")
    lines.append("")
    if table.item:
        lines += ["## Request parameters", ""]
        for param in table.parameters:
            lines += _param_section(table, param)
        lines += [f"## {table.item} properties", ""]
    for group, params in groups.items():
        lines += [f"{'###' if table.item else '##'} {GROUP_TITLES.get(group, group)}", ""]
        for param in params:
            lines += _param_section(table, param, 4 if table.item else 3)
    if table.conditions:
        lines += [
            "## Cross-field conditions",
            "",
            "| rule | when | then | message |",
            "|---|---|---|---|",
        ]
        for condition in table.conditions:
            lines.append(
                f"| `{condition.id}` | {_cell(_when(condition))} | {_cell(_then(condition))} | "
                f"{_cell(condition.message)} |"
            )
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def _when(condition: Condition) -> str:
    when = condition.when
    if "equals" in when:
        return f"`{when['field']}` is {_code(when['equals'])}"
    if "in" in when:
        return f"`{when['field']}` is one of " + ", ".join(_code(v) for v in when["in"])
    return f"`{when['field']}` is present"


def _then(condition: Condition) -> str:
    words = {"require": "requires", "require_any": "requires one of", "forbid": "forbids"}
    return "; ".join(
        f"{words.get(k, k)} " + ", ".join(f"`{f}`" for f in v) for k, v in condition.then.items()
    )


# ------------------------------------------------------------------------ errors.md regions

ADVICE_FILE = Path(__file__).resolve().parent / "docs_advice.yaml"


@cache
def advice() -> dict[str, dict[str, str]]:
    """The advice column: ``rules`` (named rules), ``limits`` (by generated rule kind),
    ``schema`` (by schema rule kind), ``fixed``, ``gateway``, ``emas_families``, ``mpaas``."""
    with ADVICE_FILE.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def _fix(condition: Condition) -> str:
    """What to do when a condition fails: add or remove fields, or change the trigger."""
    names = {k: ", ".join(f"`{f}`" for f in v) for k, v in condition.then.items()}
    steps = []
    if "require" in names:
        steps.append(f"add {names['require']}")
    if "require_any" in names:
        steps.append(f"add one of {names['require_any']}")
    if "forbid" in names:
        steps.append(f"remove {names['forbid']}")
    text = "; ".join(steps)
    return f"{text[:1].upper()}{text[1:]}, or change `{condition.when['field']}`."


def _all_rule_refs() -> dict[str, tuple[RuleRef, str]]:
    """Every rule id a campaign can meet from the tables and registry, with its advice."""
    out: dict[str, tuple[RuleRef, str]] = {}
    for provider in PROVIDERS:
        table = load_table(provider)
        managed = MANAGED_FIELDS[provider]
        out[f"{provider}.required"] = (
            RuleRef(f"{provider}.required", "a required field is missing"),
            advice()["fixed"]["required"],
        )
        out[f"{provider}.unknown-field"] = (
            RuleRef(f"{provider}.unknown-field", "a field the API does not have"),
            advice()["fixed"]["unknown-field"],
        )
        for param in table.message_params.values():
            if param.name in managed:
                continue
            for ref in _schema_rules(provider, param):
                kind = ref.id.rsplit("-", 1)[1]
                text = advice()["schema"][kind]
                out.setdefault(ref.id, (ref, text))
        for condition in table.conditions:
            out[condition.id] = (RuleRef(condition.id, condition.message), _fix(condition))
    for rule in REGISTRY.values():
        kind = rule.id.rsplit("-", 1)[-1]
        text = advice()["rules"].get(rule.id) or advice()["limits"].get(kind, "")
        if rule.id.endswith(".deprecated"):
            text = advice()["fixed"]["deprecated"]
        out[rule.id] = (RuleRef(rule.id, rule.summary, _severity(rule.id)), text)
    return out


def rules_region() -> str:
    refs = _all_rule_refs()
    lines = []
    for provider in PROVIDERS:
        table = load_table(provider)
        lines += [
            f"### {table.product} `{table.action}` (`{provider}.*`)",
            "",
            "| rule | severity | checks | what to do |",
            "|---|---|---|---|",
        ]
        for rule_id in sorted(r for r in refs if r.startswith(provider + ".")):
            ref, advice = refs[rule_id]
            lines.append(
                f'| <a id="{rule_anchor(rule_id)}"></a>`{rule_id}` | {ref.severity} | '
                f"{_cell(ref.what)} | {_cell(advice)} |"
            )
        lines.append("")
    return "\n".join(lines).rstrip("\n")


SEVERITY_WORDS = {
    Severity.RETRYABLE: "retryable",
    Severity.FATAL_REQUEST: "fatal for the request",
    Severity.FATAL_RUN: "fatal for the run",
}


def provider_errors_region() -> str:
    lines = [
        "### Gateway and EMAS errors (HTTP status and `Code`)",
        "",
        "| code | HTTP | class | what to do |",
        "|---|---|---|---|",
    ]
    for code, (status, _message) in sorted(GATEWAY_ERRORS.items()):
        severity = SEVERITY_WORDS[classify(code, status)]
        text = advice()["gateway"].get(code, "")
        lines.append(f"| `{code}` | {status} | {severity} | {_cell(text)} |")
    for code, text in advice()["emas_families"].items():
        severity = SEVERITY_WORDS[classify(code.replace("{Name}", "X"), 400)]
        lines.append(f"| `{code}` | 400 | {severity} | {_cell(text)} |")
    lines += [
        "",
        "### mPaaS `ResultCode` (HTTP 200)",
        "",
        "| ResultCode | name | class | what to do |",
        "|---|---|---|---|",
    ]
    for code, name in sorted(MPAAS_RESULTS.items(), key=lambda kv: int(kv[0])):
        if code == "100":
            continue
        severity = SEVERITY_WORDS[classify(code, 200)]
        lines.append(
            f"| `{code}` | {name} | {severity} | {_cell(advice()['mpaas'].get(code, ''))} |"
        )
    return "\n".join(lines)


REGIONS = {"rules": rules_region, "provider-errors": provider_errors_region}


def fill_regions(text: str) -> str:
    """``text`` with every generated region replaced by what the generators give now."""
    for name, make in REGIONS.items():
        pattern = re.compile(
            rf"(<!-- generated:{name} -->\n)(?:.*?\n)?(<!-- end generated:{name} -->)", re.DOTALL
        )
        if not pattern.search(text):
            raise PushopsError(
                f"docs/{ERRORS_FILE} lost its generated region: put back the lines "
                f"<!-- generated:{name} --> and <!-- end generated:{name} -->"
            )
        body = make()
        text = pattern.sub(lambda m, body=body: m.group(1) + body + "\n" + m.group(2), text)
    return text


# ------------------------------------------------------------------------ build and check


def build_all(folder: Path | None = None) -> dict[str, str]:
    """Relative path -> the text it should have, for every generated docs file."""
    folder = folder or docs_dir()
    out = {}
    for provider in PROVIDERS:
        table = load_table(provider)
        out[f"{REFERENCE_DIR}/{reference_name(table)}"] = reference(table)
    out[configref.PAGE] = configref.page()
    errors = folder / ERRORS_FILE
    if errors.is_file():
        out[ERRORS_FILE] = fill_regions(errors.read_text(encoding="utf-8"))
    return out


def drift(folder: Path | None = None) -> list[str]:
    folder = folder or docs_dir()
    return [
        name
        for name, text in build_all(folder).items()
        if not (folder / name).is_file() or (folder / name).read_text(encoding="utf-8") != text
    ]


def write_all(folder: Path | None = None) -> list[str]:
    folder = folder or docs_dir()
    written = []
    for name, text in build_all(folder).items():
        path = folder / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            written.append(name)
    return written
