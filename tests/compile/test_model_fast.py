"""The fast constructors of the compile model give exactly what the plain ones give."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from pushops.compile.model import Delivery, PartialFingerprint, fingerprint, make_delivery

LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=12),
)
VALUES = st.recursive(
    LEAVES,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)
NAMES = st.sampled_from(
    ["Title", "Body", "TargetValue", "AndroidExtParameters", "限时", 'a"b', "AppKey", "Msgkey"]
)


@given(st.dictionaries(NAMES, VALUES, max_size=8), st.data())
@settings(max_examples=300, deadline=None)
def test_a_partial_fingerprint_is_the_fingerprint(base: dict[str, Any], data: Any) -> None:
    changing = data.draw(st.sets(st.sampled_from(sorted(base)))) if base else set()
    partial = PartialFingerprint(base, changing)
    assert partial.usable
    assert partial(base) == fingerprint(base)
    params = dict(base)
    for name in changing:
        params[name] = data.draw(VALUES)
    assert partial(params) == fingerprint(params)


def test_a_partial_fingerprint_refuses_fields_it_does_not_know() -> None:
    assert not PartialFingerprint({"Title": "t"}, {"Body"}).usable


def test_make_delivery_is_the_dataclass() -> None:
    values = dict(
        key="staging/c/r1/m/k",
        environment="staging",
        campaign="c",
        revision=1,
        message="m",
        fan_out_key="k",
        provider="emas",
        app="shop",
        params={"Title": "t"},
        fingerprint="sha256:00",
        due_at=None,
        expires_at=None,
        source=("f.yaml", 1, 2),
        row=("data.csv", 3),
        merge_key="g",
    )
    fast, plain = make_delivery(**values), Delivery(**values)
    assert fast == plain and hash(repr(fast)) == hash(repr(plain))
    assert [f.name for f in fields(Delivery)] == list(fast.__dict__)
    short = {k: v for k, v in values.items() if k not in ("row", "merge_key")}
    assert make_delivery(**short) == Delivery(**short)
