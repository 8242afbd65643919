"""The quick "surely valid" field check never accepts what jsonschema would refuse."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pushops.message_check import checker, surely_valid

PROVIDERS = ("emas", "mpaas")
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.text(alphabet="0123456789-:TZ", max_size=25),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=8,
)


def fields(provider: str) -> list[str]:
    return sorted(checker(provider).fields)


def candidates(provider: str, name: str) -> st.SearchStrategy[Any]:
    schema = checker(provider).fields[name].schema
    enums = [e for b in [schema, *schema.get("anyOf", [])] for e in b.get("enum", [])]
    examples = schema.get("examples", [])
    known = [*enums, *examples]
    return st.one_of(VALUES, st.sampled_from(known)) if known else VALUES


@pytest.mark.parametrize("provider", PROVIDERS)
@given(data=st.data())
@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
def test_surely_valid_values_have_no_jsonschema_errors(provider: str, data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(fields(provider)))
    value = data.draw(candidates(provider, name))
    check = checker(provider)
    quick = check.quick.get(name)
    if quick is not None and quick(value):
        assert list(check.fields[name].iter_errors(value)) == [], (name, value)


def test_common_fields_are_decided_quickly_and_invalid_values_still_explained() -> None:
    check = checker("emas")
    for name in ("Title", "Body", "TargetValue", "DeviceType", "AndroidExtParameters"):
        assert name in check.quick
    assert check.quick["DeviceType"]("ANDROID")
    assert not check.quick["DeviceType"]("android")
    assert not check.quick["TargetValue"]("")
    assert list(check.errors({"DeviceType": "android"}))  # jsonschema explains it
    assert not check.quick["iOSBadge"](True)  # a bool is not an integer


def test_unknown_keywords_are_never_decided_quickly() -> None:
    assert surely_valid({"type": "object", "properties": {"a": {"type": "string"}}}) is None
    assert surely_valid({"enum": [1, 2]}) is None
    assert surely_valid({"anyOf": [{"type": "string"}, {"not": {}}]}) is None
    quick = surely_valid({"type": "number", "minimum": 0, "maximum": 1})
    assert quick is not None and quick(0.5) and not quick(2)
