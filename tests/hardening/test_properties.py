"""Properties that hold for any input: validate never crashes, render is deterministic, a
finished apply leaves nothing to plan, and compiling never loses or duplicates a target.

Bounded: every property runs few enough examples, each under a deadline, that the whole file
takes well under 30 seconds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from plan.support import AKID, CONFIG, SECRET, Project, base_env

from pushops.check.rules.emas import CALL_SIZE_LIMIT
from pushops.check.validate import validate
from pushops.compile import MAX_TARGETS, MAX_TASKS, Call, Delivery, compile_calls, fingerprint
from pushops.config import load_config
from pushops.emulator import Emulator
from tests.pushrepo import EMAS_TASK, MPAAS_BROADCAST, NOW, NOW_TEXT, REPO, PushRepo

BOUNDED = settings(
    max_examples=40,
    deadline=2000,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    derandomize=True,
)


@contextmanager
def push_repo() -> Iterator[PushRepo]:
    with tempfile.TemporaryDirectory(prefix="pushops-prop-") as tmp:
        yield PushRepo.create(Path(tmp))


# --- random campaign documents ------------------------------------------------------------

TEXT = st.text(max_size=30)  # any unicode, surrogates excluded by hypothesis's default
TEMPLATES = st.sampled_from(
    [
        "{{ brand }}",
        "{{ vars.nope }}",
        "{{ 1 / 0 }}",
        "{% if %}",
        "{{ ''.__class__ }}",
        "{{ row.x }}",
        "{{ now }}",
        "{{ 'a' * 3 }}",
        "{% for i in range(3) %}{{ i }}{% endfor %}",
        "{{",
        "}}{{",
        "{{ brand | upper }}",
        "{{ brand | nosuchfilter }}",
    ]
)
FIELDS = st.sampled_from(
    [*EMAS_TASK, *MPAAS_BROADCAST, "PushTime", "ExpireTime", "AndroidExtParameters",
     "TemplateKeyValue", "fan_out", "iOSBadge", "revision", "environments", "vars", "id", "app"]
)  # fmt: skip
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    TEXT,
    TEMPLATES,
)
KEYS = st.one_of(FIELDS, TEXT)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=4)),
    max_leaves=12,
)


@st.composite
def campaign_documents(draw: st.DrawFn) -> str:
    """A campaign file's text: a valid message mutated, or any YAML value, or raw text."""
    kind = draw(st.sampled_from(["mutated-emas", "mutated-mpaas", "any-value", "raw-text"]))
    if kind == "raw-text":
        return draw(st.text(max_size=200))
    if kind == "any-value":
        value = draw(VALUES)
    else:
        emas = kind == "mutated-emas"
        message = dict(EMAS_TASK if emas else MPAAS_BROADCAST)
        for key, new in draw(st.dictionaries(KEYS, VALUES, max_size=4)).items():
            message[key] = new
        for key in draw(st.lists(st.sampled_from(sorted(message)), max_size=2)):
            message.pop(key, None)
        top: dict[Any, Any] = {"id": "c", "app": "shop" if emas else "wallet"}
        top["tasks" if emas else "broadcasts"] = [message]
        top.update(draw(st.dictionaries(KEYS, VALUES, max_size=2)))
        value = top
    if draw(st.booleans()):
        return json.dumps(value, ensure_ascii=draw(st.booleans()), default=str)
    return yaml.safe_dump(value, allow_unicode=True, default_flow_style=draw(st.booleans()))


@BOUNDED
@given(campaign_documents())
def test_any_campaign_document_gives_only_located_diagnostics(text: str) -> None:
    with push_repo() as repo:
        repo.write("campaigns/c.yaml", text.encode("utf-8", "surrogatepass"))
        result = validate([], repo.root, load_config(repo.root), NOW)
    for problem in result.report.diagnostics:
        assert problem.file.endswith("campaigns/c.yaml"), problem
        assert problem.line >= 1 and problem.column >= 1, problem
        assert problem.message and problem.rule, problem


def test_an_unknown_filter_is_a_located_error() -> None:
    with push_repo() as repo:
        repo.campaign(
            "c", {"id": "c", "app": "shop", "tasks": [{**EMAS_TASK, "Title": "{{ brand | uper }}"}]}
        )
        result = validate([], repo.root, load_config(repo.root), NOW)
    # Rendered for each environment, reported once (as the CLI prints it).
    (problem,) = [d for d in result.report.sorted() if d.severity == "error"]
    assert problem.rule.startswith("template.") and problem.line >= 1


# --- render is deterministic --------------------------------------------------------------

SAFE_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="{}%#,\"'\\"),
    min_size=1,
    max_size=20,
).filter(lambda s: s.strip() == s and s != "")


@st.composite
def fan_out_campaigns(draw: st.DrawFn) -> tuple[str, str]:
    """A valid fan-out campaign over a CSV with random names (some rows share a title)."""
    rows = draw(st.integers(min_value=1, max_value=60))
    names = draw(st.lists(SAFE_TEXT, min_size=1, max_size=5))
    title = draw(st.sampled_from(["{{ row.name }} offer", "{{ brand }}: {{ row.name | upper }}"]))
    csv = "device_id,name\n" + "".join(
        f'd{i:06d},"{draw(st.sampled_from(names))}"\n' for i in range(rows)
    )
    campaign = {
        "id": "offers",
        "app": "shop",
        "tasks": [
            {
                **EMAS_TASK,
                "id": "offer",
                "fan_out": {"data": "data/offers.csv", "key": "{{ row.device_id }}"},
                "TargetValue": "{{ row.device_id }}",
                "Title": title,
                "Body": draw(SAFE_TEXT),
                "AndroidExtParameters": {"n": "{{ row.name }}", "k": draw(SAFE_TEXT)},
            }
        ],
    }
    return json.dumps(campaign, ensure_ascii=False), csv


def wire(repo: PushRepo) -> list[tuple[str, dict[str, str], dict[str, str]]]:
    return [(c.call_id, c.query, c.form) for c in repo.calls()]


@settings(BOUNDED, max_examples=15)
@given(fan_out_campaigns())
def test_rendering_the_same_repo_twice_gives_identical_wire_requests(
    case: tuple[str, str],
) -> None:
    campaign, csv = case
    with push_repo() as repo:
        repo.write("campaigns/offers.yaml", campaign)
        repo.write("data/offers.csv", csv)
        first = wire(repo)
        second = wire(repo)
    assert first and first == second


def render_in_a_process(root: Path, hash_seed: str) -> str:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    result = subprocess.run(
        [sys.executable, "-m", "pushops", "render", "--now", NOW_TEXT, "--format", "json"],
        cwd=root, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_rendering_does_not_depend_on_the_processes_hash_seed() -> None:
    campaign = {
        "id": "seeded",
        "app": "shop",
        "vars": {"tags": {"b": 2, "a": 1, "ü": 3}},
        "tasks": [
            {
                **EMAS_TASK,
                "fan_out": {"data": "data/rows.csv", "key": "{{ row.id }}"},
                "TargetValue": "{{ row.id }}",
                "Title": "{{ row.name }} {{ tags | dictsort | join(',') }}",
                "AndroidExtParameters": {"z": "{{ row.name }}", "a": "1", "m": "{{ row.id }}"},
            }
        ],
    }
    with push_repo() as repo:
        repo.write("campaigns/seeded.yaml", json.dumps(campaign, ensure_ascii=False))
        rows = "".join(f"d{i},{('Ana', 'Bo', 'Çé')[i % 3]}\n" for i in range(50))
        repo.write("data/rows.csv", "id,name\n" + rows)
        assert render_in_a_process(repo.root, "1") == render_in_a_process(repo.root, "4242")


# --- after a successful apply, plan shows no changes --------------------------------------


@contextmanager
def project(emulator: Emulator) -> Iterator[Project]:
    with tempfile.TemporaryDirectory(prefix="pushops-prop-") as tmp:
        root = Path(tmp)
        (root / "campaigns").mkdir()
        (root / "pushops.yaml").write_text(CONFIG + "vars:\n  brand: Acme\n")
        env = {**base_env(emulator.url), "PUSHOPS_STATE_DSN": str(root / "state.db")}
        yield Project(root, {**env, "PUSHOPS_STATE_SCHEMA": ""}).init_ledger()


@settings(BOUNDED, max_examples=6, deadline=10_000)
@given(fan_out_campaigns(), st.integers(min_value=0, max_value=3))
def test_after_a_successful_apply_plan_shows_no_changes(
    case: tuple[str, str], broadcasts: int
) -> None:
    campaign, csv = case
    with Emulator(credentials={AKID: SECRET}) as emulator, project(emulator) as repo:
        repo.write("offers.yaml", campaign)
        repo.data("data/offers.csv", csv)
        for i in range(broadcasts):
            doc = {"id": f"n{i}", "app": "wallet", "broadcasts": [{**MPAAS_BROADCAST}]}
            repo.write(f"n{i}.yaml", json.dumps(doc))
        applied = repo.run("apply", "--auto-approve")
        assert applied.exit_code == 0, applied.output
        assert len(emulator.deliveries()) >= 1 + broadcasts
        plan = repo.run("plan", "--detailed-exitcode")
        assert plan.exit_code == 0, plan.output


# --- merging and splitting keep every target exactly once ---------------------------------

CONFIG_ROOT = REPO  # the example pushops.yaml: staging/shop is an EMAS app


@st.composite
def emas_deliveries(draw: st.DrawFn) -> list[Delivery]:
    """Deliveries of a few messages, each row 1..1000 targets, many sharing their content."""
    contents = draw(st.lists(st.text(max_size=3), min_size=1, max_size=4, unique=True))
    widths = st.one_of(
        st.integers(min_value=1, max_value=5),
        st.integers(min_value=1, max_value=MAX_TARGETS),
        st.sampled_from([MAX_TARGETS, MAX_TARGETS - 1, 99, 100, 101, 500, 501]),
    )
    out: list[Delivery] = []
    count = draw(st.integers(min_value=1, max_value=150))
    for i in range(count):
        message = draw(st.sampled_from(["a", "b"]))
        content = draw(st.sampled_from(contents))
        width = draw(widths) if draw(st.integers(0, 9)) == 0 else draw(st.integers(1, 3))
        targets = ",".join(f"t{i}x{j}" for j in range(width))
        if draw(st.integers(0, 19)) == 0:
            targets = "dup"  # the same target in several rows: kept once per row
        params = {**EMAS_TASK, "Title": content, "TargetValue": targets}
        params.pop("id")
        key = f"staging/c/r0/{message}/{i}"
        out.append(
            Delivery(
                key=key, environment="staging", campaign="c", revision=0, message=message,
                fan_out_key=str(i), provider="emas", app="shop", params=params,
                fingerprint=fingerprint(params), due_at=None, expires_at=None,
                source=("campaigns/c.yaml", 1, 1),
            )
        )  # fmt: skip
    return out


def targets_in(deliveries: list[Delivery]) -> Counter[str]:
    return Counter(t for d in deliveries for t in str(d.params["TargetValue"]).split(","))


def targets_out(calls: list[Call]) -> Counter[str]:
    return Counter(
        t
        for c in calls
        for name, value in c.form.items()
        if name.endswith(".TargetValue")
        for t in value.split(",")
    )


def tasks_of(call: Call) -> list[int]:
    """The number of targets in each PushTask.N of the call's form."""
    return [len(v.split(",")) for k, v in call.form.items() if k.endswith(".TargetValue")]


@settings(BOUNDED, max_examples=30)
@given(emas_deliveries())
def test_compiling_never_loses_or_duplicates_a_target(deliveries: list[Delivery]) -> None:
    calls = list(compile_calls(deliveries, load_config(CONFIG_ROOT)))
    assert targets_out(calls) == targets_in(deliveries)
    carried = Counter(d.key for c in calls for d in c.deliveries)
    assert carried == Counter(d.key for d in deliveries)  # each delivery in exactly one call


@settings(BOUNDED, max_examples=30)
@given(emas_deliveries())
def test_every_call_respects_the_masspush_limits(deliveries: list[Delivery]) -> None:
    for call in compile_calls(deliveries, load_config(CONFIG_ROOT)):
        widths = tasks_of(call)
        assert 1 <= len(widths) <= MAX_TASKS
        assert max(widths) <= MAX_TARGETS
        assert len(widths) * max(widths) <= CALL_SIZE_LIMIT


@settings(BOUNDED, max_examples=30)
@given(emas_deliveries())
def test_merged_tasks_hold_only_deliveries_with_identical_content(
    deliveries: list[Delivery],
) -> None:
    for call in compile_calls(deliveries, load_config(CONFIG_ROOT)):
        for task in call.tasks:
            titles = {(d.message, d.params["Title"]) for d in task.deliveries}
            assert len(titles) == 1
