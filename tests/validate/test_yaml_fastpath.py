"""The one-pass YAML loader against the reference (compose + build) it falls back to.

The fast path must give the same data (same types), the same positions at every path, and,
by falling back, the same located error for everything it does not handle.
"""

from __future__ import annotations

import math
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pushops.diagnostics import LocatedError
from pushops.yamlsource import SourceDocument, parse_text, reference_parse, resolve_plain

# Plain scalars SafeLoader resolves to something other than str, and near misses.
TRICKY = [
    "",
    "~",
    "null",
    "Null",
    "NULL",
    "nULL",
    "true",
    "True",
    "TRUE",
    "tRUE",
    "false",
    "yes",
    "Yes",
    "YES",
    "no",
    "No",
    "on",
    "On",
    "ON",
    "off",
    "Off",
    "y",
    "n",
    "Y",
    "N",
    "0",
    "-0",
    "+0",
    "12",
    "-12",
    "+12",
    "1_000",
    "0x1F",
    "0X1F",
    "0o17",
    "017",
    "0b101",
    "0b",
    "08",
    "09",
    "1:30",
    "190:20:30",
    "-1:30",
    "1.5",
    "-1.5",
    "+1.5",
    "1.",
    ".5",
    "1e3",
    "1.0e3",
    "1.0e+3",
    "1.0E-3",
    "6.8523015e+5",
    "685.230_15e+03",
    "1_0.5",
    ".inf",
    ".Inf",
    ".INF",
    "-.inf",
    "+.inf",
    ".nan",
    ".NaN",
    ".NAN",
    ".nAn",
    "2026-11-22",
    "2026-11-22T09:00:00Z",
    "2026-11-22 09:00:00.5 +8",
    "2026-1-2",
    "<<",
    "=",
    "abc",
    "a b",
    "0.1.2",
    "1e",
    "e3",
    "0xZZ",
    "--1",
    "1__",
    "+",
    "-",
    ".",
    "ÄÖ",
    "限时优惠",
    "http://x/y?a=1",
]

PLAIN_SAFE = st.text(
    alphabet=st.sampled_from(list("0123456789+-._:eExXoObBtTfFnNyY~ abcINFAinfa<=")),
    min_size=0,
    max_size=12,
)


# YAML 1.2.2, 10.3.2: the core schema's tag resolution, as the spec writes it.
CORE_SCHEMA = [
    ("tag:yaml.org,2002:null", r"null|Null|NULL|~|"),
    ("tag:yaml.org,2002:bool", r"true|True|TRUE|false|False|FALSE"),
    ("tag:yaml.org,2002:int", r"[-+]?[0-9]+"),
    ("tag:yaml.org,2002:int", r"0o[0-7]+"),
    ("tag:yaml.org,2002:int", r"0x[0-9a-fA-F]+"),
    ("tag:yaml.org,2002:float", r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?"),
    ("tag:yaml.org,2002:float", r"[-+]?(\.inf|\.Inf|\.INF)"),
    ("tag:yaml.org,2002:float", r"\.nan|\.NaN|\.NAN"),
    ("tag:yaml.org,2002:merge", r"<<"),  # not 1.2: resolved so that pushops refuses merges
]


def reference_tag(text: str) -> str:
    return next(
        (tag for tag, pattern in CORE_SCHEMA if re.fullmatch(pattern, text)),
        "tag:yaml.org,2002:str",
    )


def same(a: Any, b: Any) -> bool:
    """Equal values of equal types all the way down (1, 1.0 and True differ; NaN is NaN)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)


def paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(value, dict):
        for k, v in value.items():
            out += paths(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += paths(v, (*path, i))
    return out


def outcome(parse: Any, text: str) -> Any:
    try:
        return parse(text, "f.yaml")
    except LocatedError as exc:
        return exc.diagnostic


def assert_equivalent(text: str) -> SourceDocument | None:
    fast, ref = outcome(parse_text, text), outcome(reference_parse, text)
    if not isinstance(ref, SourceDocument):
        assert fast == ref
        return None
    assert isinstance(fast, SourceDocument)
    assert same(fast.data, ref.data), (fast.data, ref.data)
    assert fast.warnings == ref.warnings
    probes = [*paths(ref.data), ("nope",), ("tasks", 99), ("tasks", 0, "nope", 1)]
    for path in probes:
        for key in (False, True):
            assert fast.position(path, key=key) == ref.position(path, key=key), (path, key)
    return fast


@given(PLAIN_SAFE)
@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
def test_plain_scalars_resolve_as_the_core_schema_says(text: str) -> None:
    assert resolve_plain(text) == reference_tag(text)


@pytest.mark.parametrize("text", TRICKY)
def test_each_tricky_scalar_loads_as_the_reference_does(text: str) -> None:
    assert resolve_plain(text) == reference_tag(text)
    for doc in (f"v: {text}\n", f"- {text}\n", f"{{k: [{text}]}}\n", f"{text}: 1\n"):
        if "<<" in doc or ": :" in doc:
            continue
        assert_equivalent(doc)


def test_values_are_read_by_the_yaml_1_2_core_schema_and_timestamps_stay_text() -> None:
    doc = parse_text(
        "a: 2026-11-22\nb: 0x1F\nc: 017\nd: .inf\ne: yes\nf: off\ng: ~\nh: '12'\ni: 1_000\n"
        "j: 10:30:00\nk: 0o17\nl: 1e3\nm: True\n",
        "f",
    )
    assert doc.data == {
        "a": "2026-11-22",
        "b": 31,
        "c": 17,
        "d": math.inf,
        "e": "yes",
        "f": "off",
        "g": None,
        "h": "12",
        "i": "1_000",
        "j": "10:30:00",
        "k": 15,
        "l": 1000.0,
        "m": True,
    }
    assert type(doc.data["m"]) is bool and type(doc.data["l"]) is float


def test_the_fast_path_reads_documents_both_versions_read_alike() -> None:
    doc = parse_text("a: 2026-11-22\nb: 0x1F\nd: .inf\ng: ~\nh: '12'\nm: true\n", "f")

    assert doc.data == {"a": "2026-11-22", "b": 31, "d": math.inf, "g": None, "h": "12", "m": True}
    assert doc.warnings == []
    assert doc._text is not None  # the fast path read it


CAMPAIGN = """\
id: c
app: shop
vars: {brand: Shop, n: 3}
tasks:
  - id: a
    Title: "限时优惠 — {{ brand }}"
    Body: >-
      folded
      text
    TargetValue: 12345
    AndroidExtParameters:
      k: v
      list: [1, 2.5, true, null, 2026-01-01]
    flags: {on: true, off: false}
  - {id: b, Title: t, 1: x, true: y, null: z}
  - id: c
    Body: |
      literal
"""


def test_a_campaign_loads_the_same_on_both_paths_with_the_same_positions() -> None:
    assert assert_equivalent(CAMPAIGN) is not None
    doc = parse_text(CAMPAIGN, "f.yaml")
    assert doc._text is not None and doc.root is None
    assert doc.position(("tasks", 1)) == (15, 5)
    assert doc.root is None  # the first two levels never compose the tree
    assert doc.position(("tasks", 0, "AndroidExtParameters", "list", 4)) == (13, 34)
    assert doc.root is not None  # deeper ones do, once


FALLBACKS = [
    "a: &x [1]\nb: *x\n",  # anchors and aliases
    "a: *x\n",  # undefined alias
    "a: &x 1\nb: &x 2\n",  # duplicate anchor
    "a: &a [*a]\n",  # recursive alias
    "base: &b {x: 1}\nm:\n  <<: *b\n",  # merge key
    "m:\n  <<: {x: 1}\n",
    "a: !!str 1\nb: !!int '2'\n",  # explicit tags
    "a: !!binary aGVsbG8=\n",
    "a: !foo x\n",
    "a: ! 1\n",
    "!!map {a: 1}\n",
    "a: 1\na: 2\n",  # duplicate keys, also after conversion
    "true: 1\nTrue: 2\n",
    "1: a\n'1': b\n",
    "[1]: a\n",  # a non-scalar key
    "{a: 1}: b\n",
    "a: 1\n---\nb: 2\n",  # two documents
    "",  # empty
    "# only a comment\n",
    "a: [1\n",  # syntax errors
    "a:\n\t- b\n",
    "a: b: c\n",
    "a: =\n",
    "x: " + "[" * 70 + "]" * 70 + "\n",  # depth
    "x: " + "[" * 63 + "1" + "]" * 63 + "\n",
    "x: " + "[" * 64 + "]" * 64 + "\n",
    "lol: &a [x, x, x, x, x, x, x, x, x]\n"
    + "".join(f"l{i}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)),
]


@pytest.mark.parametrize("text", FALLBACKS)
def test_what_the_fast_path_does_not_handle_is_the_references(text: str) -> None:
    assert_equivalent(text)


def test_the_fast_path_gives_up_on_anchors_and_the_reference_builds_them() -> None:
    doc = parse_text("a: &x [1]\nb: *x\n", "f")
    assert doc.data == {"a": [1], "b": [1]}
    assert doc._text is None and doc.root is not None  # the reference's tree


def test_the_collector_is_restored_after_loading_even_on_errors() -> None:
    import gc

    assert gc.isenabled()
    with pytest.raises(LocatedError):
        parse_text("a: [1\n", "f")
    assert gc.isenabled()
    gc.disable()
    try:
        parse_text("a: 1\n", "f")
        assert not gc.isenabled()
    finally:
        gc.enable()


# Random documents: nested block and flow collections of tricky scalars and strings.
KEYS = st.sampled_from(["id", "Title", "a", "b", "1", "true", "yes", "null", "k k", "限时"])
SCALAR_TEXT = st.one_of(
    st.sampled_from(TRICKY).filter(lambda t: t not in ("<<", "=") and ":" not in t),
    st.text(alphabet="ab 1.-_", min_size=1, max_size=6).map(str.strip).filter(bool),
)


def _emit(value: Any, indent: int, flow: bool) -> str:
    pad = " " * indent
    if isinstance(value, dict):
        if flow or not value:
            return "{" + ", ".join(f"{k}: {_emit(v, 0, True)}" for k, v in value.items()) + "}"
        lines = []
        for k, v in value.items():
            if isinstance(v, (dict, list)) and v:
                lines.append(f"{pad}{k}:\n{_emit(v, indent + 2, False)}")
            else:
                lines.append(f"{pad}{k}: {_emit(v, 0, True)}")
        return "\n".join(lines)
    if isinstance(value, list):
        if flow or not value:
            return "[" + ", ".join(_emit(v, 0, True) for v in value) + "]"
        return "\n".join(f"{pad}- {_emit(v, indent + 2, True)}" for v in value)
    text, quoted = value
    if quoted:
        return "'" + text.replace("'", "''") + "'"
    return text if text else "''"


def _value(depth: int) -> st.SearchStrategy[Any]:
    leaf = st.tuples(SCALAR_TEXT, st.booleans())
    if depth == 0:
        return leaf
    return st.one_of(
        leaf,
        st.dictionaries(KEYS, _value(depth - 1), max_size=4),
        st.lists(_value(depth - 1), max_size=4),
    )


@given(st.dictionaries(KEYS, _value(3), min_size=1, max_size=5), st.booleans())
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
def test_random_documents_load_the_same_on_both_paths(data: dict, flow: bool) -> None:
    assert_equivalent(_emit(data, 0, flow) + "\n")
