"""The quick "surely valid" field check never accepts what jsonschema would refuse."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pushops.check.schema import checker, surely_valid
from pushops.check.structure import _skeleton_validator

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
    assert surely_valid({"type": "object", "patternProperties": {"a": {}}}) is None
    assert surely_valid({"properties": {"a": {"$ref": "#/$defs/a"}}}) is None
    assert surely_valid({"additionalProperties": {"$ref": "#/$defs/a"}}) is None
    assert surely_valid({"oneOf": [{"type": "string"}, {"required": ["a"]}]}) is None
    assert surely_valid({"enum": [1, 2]}) is None
    assert surely_valid({"anyOf": [{"type": "string"}, {"not": {}}]}) is None
    quick = surely_valid({"type": "number", "minimum": 0, "maximum": 1})
    assert quick is not None and quick(0.5) and not quick(2)


def test_additional_properties_with_a_schema_are_checked_beside_the_named_ones() -> None:
    quick = surely_valid(
        {"properties": {"n": {"type": "integer"}}, "additionalProperties": {"type": "string"}}
    )
    assert quick is not None
    assert quick({"n": 1, "team": "growth"}) and quick("not an object")
    assert not quick({"n": 1, "team": 2}) and not quick({"n": "1"})


KEYS = st.sampled_from(["a", "b", "c"])
LEAF_SCHEMAS = st.one_of(
    st.fixed_dictionaries({"type": st.sampled_from(["string", "integer", "object", "array"])}),
    st.fixed_dictionaries({"maxLength": st.integers(0, 3)}),
    st.fixed_dictionaries({"required": st.lists(KEYS, max_size=2, unique=True)}),
    st.fixed_dictionaries({"minItems": st.integers(0, 2), "maxItems": st.integers(0, 3)}),
    st.builds(
        lambda branches: {"oneOf": [{"required": b} for b in branches]},
        st.lists(st.lists(KEYS, min_size=1, max_size=2, unique=True), min_size=1, max_size=3),
    ),
)
SCHEMAS = st.recursive(
    LEAF_SCHEMAS,
    lambda inner: st.one_of(
        st.builds(
            lambda props, closed: (
                {"properties": props, "additionalProperties": False}
                if closed
                else {"properties": props}
            ),
            st.dictionaries(KEYS, inner, max_size=3),
            st.booleans(),
        ),
        st.builds(lambda sub: {"type": "array", "items": sub}, inner),
        st.builds(lambda a, b: {**a, **b}, inner, inner),
    ),
    max_leaves=6,
)
INSTANCES = st.recursive(
    st.one_of(st.none(), st.integers(-2, 2), st.text(max_size=4)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(KEYS, inner, max_size=3)),
    max_leaves=8,
)


@given(schema=SCHEMAS, instance=INSTANCES)
@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow], deadline=None)
def test_structural_keywords_never_accept_what_jsonschema_refuses(
    schema: dict[str, Any], instance: Any
) -> None:
    quick = surely_valid(schema)
    assert quick is not None, schema
    if quick(instance):
        assert jsonschema.Draft202012Validator(schema).is_valid(instance), (schema, instance)


def test_the_campaign_skeleton_is_decided_quickly_for_well_formed_files() -> None:
    skeleton = _skeleton_validator().schema
    quick = surely_valid(skeleton)
    assert quick is not None
    assert quick({"id": "sale", "app": "shop", "tasks": [{"id": "a"}]})
    assert not quick({"id": "sale", "app": "shop"})  # neither tasks nor broadcasts
    assert not quick({"id": "sale", "app": "shop", "tasks": [{}], "broadcasts": [{}]})
    assert not quick({"id": "sale", "app": "shop", "tasks": [{}], "Tasks": [{}]})
    assert not quick({"id": "sale", "app": "shop", "revision": 0, "tasks": [{}]})
