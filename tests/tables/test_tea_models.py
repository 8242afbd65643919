"""The official Tea SDK models as an oracle for the parameter tables.

The models (``alibabacloud_push20160801``, ``alibabacloud_mpaas20201028``; dev dependencies,
never the runtime client) carry each field's wire name, Python type, whether it is required
and, in the comments generated from the API metadata, its documented limits. A table row that
disagrees with them fails here, so a limit cannot drift from the SDK unnoticed (api-facts §5:
the SDKs win over the fact sheet).
"""

from __future__ import annotations

import ast
import inspect
import re
from dataclasses import dataclass
from typing import Any

import pytest

from pushops.tables import Param, load_table


@dataclass(frozen=True)
class TeaField:
    wire: str
    annotation: str
    comment: str

    @property
    def required(self) -> bool:
        return "This parameter is required." in self.comment


def tea_fields(model: type) -> dict[str, TeaField]:
    """Wire name -> field, read from the model's source: ``__init__``'s annotations and the
    comment lines above each assignment, ``to_map``'s wire names."""
    source = inspect.getsource(model)
    cls = ast.parse(source).body[0]
    assert isinstance(cls, ast.ClassDef)
    init = next(n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "__init__")
    annotations = {a.arg: ast.unparse(a.annotation) for a in init.args.args[1:] if a.annotation}
    comments: dict[str, str] = {}
    pending: list[str] = []
    for line in inspect.getsource(model.__init__).splitlines():
        text = line.strip()
        if text.startswith("#"):
            pending.append(text.lstrip("#").strip())
        elif (found := re.fullmatch(r"self\.(\w+) = (\w+)", text)) is not None:
            comments[found.group(1)] = " ".join(pending)
            pending = []
    to_map = inspect.getsource(model.to_map)
    by_attribute = dict(re.findall(r"if self\.(\w+) is not None:\s+result\['(\w+)'\]", to_map))
    lists = re.findall(r"result\['(\w+)'\] = \[\]\s+if self\.(\w+) is not None", to_map)
    by_attribute.update({attribute: name for name, attribute in lists})
    return {
        by_attribute[attr]: TeaField(by_attribute[attr], annotations[attr], comments.get(attr, ""))
        for attr in annotations
    }


def _number(text: str) -> int:
    return int(text.replace(",", ""))


def stated_limits(comment: str) -> dict[str, Any]:
    """The limits a model comment states, in the tables' vocabulary."""
    limits: dict[str, Any] = {}
    for size, unit in re.findall(r"Length limit: ([\d,]+) (bytes|characters)", comment):
        limits["max_bytes" if unit == "bytes" else "max_chars"] = _number(size)
    for low, high in re.findall(r"Value range: \[?(-?\d+)\s*-\s*(-?\d+)\]?", comment):
        limits["minimum"], limits["maximum"] = int(low), int(high)
    for low, high in re.findall(r"floating-point number in \[(\d+),\s*(\d+)", comment):
        limits["minimum"], limits["maximum"] = int(low), int(high)
    entries = {_number(n) for n in re.findall(r"up to ([\d,]+) supported", comment)}
    if entries:
        (limits["max_entries"],) = entries  # one figure, however often it is repeated
    for most in re.findall(r"no more than (\d+) elements|Up to (\d+) content items", comment):
        limits["max_items"] = _number(next(n for n in most if n))
    return limits


TYPES = {
    "str": ("string",),
    "int": ("integer",),
    "bool": ("boolean",),
    "float": ("number",),
    "Dict[str, str]": ("map",),
    "Dict[str, Any]": ("map",),
    "Any": ("map",),
}


def _models() -> dict[str, tuple[type, dict[str, Param]]]:
    from alibabacloud_mpaas20201028 import models as mpaas
    from alibabacloud_push20160801 import models as push

    return {
        "MassPush": (push.MassPushRequest, load_table("emas").request_params),
        "MassPush.PushTask": (push.MassPushRequestPushTask, load_table("emas").item_params),
        "PushBroadcast": (mpaas.PushBroadcastRequest, load_table("mpaas").request_params),
    }


MODELS = ["MassPush.PushTask", "PushBroadcast"]
# Required by the documents though the SDK models do not say so (each row says why).
REQUIRED_BEYOND_THE_MODEL = {"MassPush.PushTask": {"Body"}, "PushBroadcast": {"TaskName"}}


@pytest.mark.parametrize("model", MODELS)
def test_every_tea_field_is_a_table_row_and_every_row_a_tea_field(model: str) -> None:
    cls, rows = _models()[model]
    assert set(tea_fields(cls)) == set(rows)


@pytest.mark.parametrize("model", [*MODELS, "MassPush"])
def test_every_row_has_the_type_of_its_tea_field(model: str) -> None:
    cls, rows = _models()[model]
    for name, field in tea_fields(cls).items():
        if name not in rows:
            assert field.annotation.startswith("List["), name  # PushTask: the items
            continue
        assert rows[name].type in TYPES[field.annotation], f"{model}.{name}: {field.annotation}"


@pytest.mark.parametrize("model", MODELS)
def test_fields_the_tea_model_requires_are_required_and_only_documented_extras(model: str) -> None:
    cls, rows = _models()[model]
    tea_required = {n for n, f in tea_fields(cls).items() if f.required}
    table_required = {n for n, p in rows.items() if p.required}
    assert tea_required <= table_required
    extras = table_required - tea_required
    assert extras == REQUIRED_BEYOND_THE_MODEL[model]
    assert all("Required" in rows[n].uncertain or "required" in rows[n].uncertain for n in extras)


def _table_limits(param: Param, wanted: dict[str, Any]) -> dict[str, Any]:
    found = {key: param.limits.get(key) for key in wanted}
    if param.type == "integer" and ("minimum" in wanted or "maximum" in wanted):
        found["minimum"], found["maximum"] = param.integer_bounds()
    return found


def test_every_limit_the_tea_model_states_is_the_tables_limit() -> None:
    cls, rows = _models()["MassPush.PushTask"]
    stated = {n: lim for n, f in tea_fields(cls).items() if (lim := stated_limits(f.comment))}
    # The comments state these (a model update that adds or drops one shows here first).
    assert set(stated) == {
        "AndroidBadgeAddNum", "AndroidBadgeSetNum", "AndroidBigBody", "AndroidBigTitle",
        "AndroidInboxBody", "AndroidNotificationBarType", "AndroidPopupBody",
        "AndroidPopupTitle", "HarmonyInboxContent", "TargetValue", "Title", "iOSRelevanceScore",
    }  # fmt: skip
    disagreements = {
        name: (limits, _table_limits(rows[name], limits))
        for name, limits in stated.items()
        if _table_limits(rows[name], limits) != limits
    }
    assert disagreements == {}


def test_the_popup_limits_follow_the_sdk_model_not_the_older_document() -> None:
    cls, _ = _models()["MassPush.PushTask"]
    fields = tea_fields(cls)
    assert stated_limits(fields["AndroidPopupTitle"].comment) == {"max_chars": 50}
    assert stated_limits(fields["AndroidPopupBody"].comment) == {"max_chars": 200}


def test_a_changed_table_limit_is_caught() -> None:
    # The comparison itself can fail: a row with the older document's 30 characters.
    cls, rows = _models()["MassPush.PushTask"]
    stated = stated_limits(tea_fields(cls)["AndroidPopupTitle"].comment)
    older = Param("AndroidPopupTitle", "string", limits={"max_chars": 30})
    assert _table_limits(older, stated) != stated
    assert _table_limits(rows["AndroidPopupTitle"], stated) == stated
