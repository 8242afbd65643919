"""Specifications of the parameter tables in ``schemas/tables/``.

The tables are the source of truth for every schema, so these tests tie them to what is known
independently of them: the fields of the official SDK models (introspected here, at test time)
and the parameter names the two API documents show (listed here by hand).
"""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from pushops.tables import Condition, Param, ParameterTable, load_table

# ------------------------------------------------------------------ what the documents show

# Every PushTask property in the parameter table of the MassPush API document, deprecated
# rows included (they are tagged "deprecated" there).
EMAS_DOC_ITEM_PARAMS = [
    "PushType",
    "DeviceType",
    "Target",
    "TargetValue",
    "StoreOffline",
    "SendChannels",
    "PushTime",
    "ExpireTime",
    "JobKey",
    "Title",
    "Body",
    "Trim",
    "iOSApnsEnv",
    "iOSRemind",
    "iOSSubtitle",
    "iOSRemindBody",
    "iOSMusic",
    "iOSBadge",
    "iOSBadgeAutoIncrement",
    "iOSSilentNotification",
    "iOSMutableContent",
    "iOSNotificationCategory",
    "iOSNotificationCollapseId",
    "iOSNotificationThreadId",
    "iOSInterruptionLevel",
    "iOSRelevanceScore",
    "iOSExtParameters",
    "AndroidNotifyType",
    "AndroidRemind",
    "AndroidOpenType",
    "AndroidActivity",
    "AndroidOpenUrl",
    "AndroidPopupActivity",
    "AndroidPopupTitle",
    "AndroidPopupBody",
    "AndroidRenderStyle",
    "AndroidBigTitle",
    "AndroidBigBody",
    "AndroidBigPictureUrl",
    "AndroidXiaomiBigPictureUrl",
    "AndroidImageUrl",
    "AndroidXiaomiImageUrl",
    "AndroidInboxBody",
    "AndroidNotificationBarType",
    "AndroidNotificationBarPriority",
    "AndroidNotificationNotifyId",
    "AndroidNotificationChannel",
    "AndroidNotificationHuaweiChannel",
    "AndroidNotificationHonorChannel",
    "AndroidNotificationXiaomiChannel",
    "AndroidNotificationVivoChannel",
    "AndroidNotificationGroup",
    "AndroidNotificationThreadId",
    "AndroidExtParameters",
    "AndroidMessageHuaweiUrgency",
    "AndroidMessageHuaweiCategory",
    "AndroidMessageOppoCategory",
    "AndroidMessageOppoNotifyLevel",
    "AndroidMessageVivoCategory",
    "AndroidTargetUserType",
    "AndroidHuaweiTargetUserType",
    "AndroidHonorTargetUserType",
    "AndroidVivoPushMode",
    "AndroidHuaweiReceiptId",
    "AndroidVivoReceiptId",
    "AndroidBadgeClass",
    "AndroidBadgeAddNum",
    "AndroidBadgeSetNum",
    "AndroidMusic",
    "HarmonyRemind",
    "HarmonyRemindTitle",
    "HarmonyRemindBody",
    "HarmonyCategory",
    "HarmonyNotificationSlotType",
    "HarmonyNotifyId",
    "HarmonyActionType",
    "HarmonyAction",
    "HarmonyUri",
    "HarmonyRenderStyle",
    "HarmonyImageUrl",
    "HarmonyInboxContent",
    "HarmonyExtParameters",
    "HarmonyTestMessage",
    "HarmonyReceiptId",
    "HarmonyExtensionPush",
    "HarmonyExtensionExtraData",
    "HarmonyBadgeAddNum",
    "HarmonyBadgeSetNum",
    "SendSpeed",
    "AndroidXiaoMiNotifyTitle",
    "AndroidXiaoMiNotifyBody",
    "AndroidXiaoMiActivity",
]

# The top-level request parameters of the MassPush document (besides the PushTask list).
EMAS_DOC_PARAMS = ["AppKey", "IdempotentToken"]

# The deprecated rows the MassPush document and the SDK models name as such.
EMAS_DEPRECATED = {
    "SendSpeed",
    "AndroidXiaoMiActivity",
    "AndroidXiaoMiNotifyTitle",
    "AndroidXiaoMiNotifyBody",
    "AndroidXiaomiBigPictureUrl",
    "AndroidXiaomiImageUrl",
}

# Every row of the PushBroadcast document's request table, spelled as there (lower camel
# case); the wire name is the same with its first letter in upper case.
MPAAS_DOC_PARAMS = [
    "classification",
    "taskName",
    "appId",
    "workspaceId",
    "deliveryType",
    "msgkey",
    "expiredSeconds",
    "templateName",
    "templateKeyValue",
    "pushStatus",
    "bindPeriod",
    "unBindPeriod",
    "androidChannel",
    "strategyType",
    "StrategyContent",
    "thirdChannelCategory",
    "notifyLevel",
    "miChannelId",
]

MPAAS_REQUIRED = {
    "AppId",
    "WorkspaceId",
    "DeliveryType",
    "Msgkey",
    "ExpiredSeconds",
    "TemplateName",
    "TaskName",
}
EMAS_ITEM_REQUIRED = {"DeviceType", "PushType", "Target", "TargetValue", "Body"}


def wire(doc_name: str) -> str:
    return doc_name[0].upper() + doc_name[1:]


# ------------------------------------------------------------------ what the SDKs carry


def _tea_wire_names(model_cls: type, skip: tuple[str, ...] = ()) -> set[str]:
    """The wire names a Tea model emits: build it with every field set and read to_map()."""
    params = [p for p in inspect.signature(model_cls.__init__).parameters if p != "self"]
    assert params, f"{model_cls.__name__} has no fields"
    model = model_cls(**{p: "x" for p in params if p not in skip})
    return set(model.to_map()) - set(skip)


class _RecordingTask(dict):
    """Stands in for one PushTask dict and answers every lookup, so the legacy setter emits
    every property it knows."""

    def get(self, key: str, default: Any = None) -> Any:
        return "x"


def _legacy_masspush() -> tuple[set[str], set[str]]:
    """(top-level parameters, PushTask properties) of the legacy MassPushRequest."""
    from aliyunsdkpush.request.v20160801.MassPushRequest import MassPushRequest

    req = MassPushRequest()
    top: set[str] = set()
    for name, fn in vars(MassPushRequest).items():
        if not name.startswith("set_"):
            continue
        if name == "set_PushTasks":
            fn(req, [_RecordingTask()])
        else:
            fn(req, "x")
            top.add(name[len("set_") :])
    body = req.get_body_params()
    prefix = "PushTask.1."
    props = {k[len(prefix) :] for k in body if k.startswith(prefix)}
    assert len(props) == len(body), "every legacy body field should belong to PushTask 1"
    params = set(req.get_query_params()) | top
    return params, props


def _legacy_pushbroadcast() -> set[str]:
    from aliyunsdkmpaas.request.v20190821.PushBroadcastRequest import PushBroadcastRequest

    req = PushBroadcastRequest()
    for name, fn in vars(PushBroadcastRequest).items():
        if name.startswith("set_"):
            fn(req, "x")
    return set(req.get_body_params()) | set(req.get_query_params())


@pytest.fixture(scope="module")
def emas() -> ParameterTable:
    return load_table("emas")


@pytest.fixture(scope="module")
def mpaas() -> ParameterTable:
    return load_table("mpaas")


@pytest.fixture(scope="module")
def tea_pushtask() -> set[str]:
    from alibabacloud_push20160801.models import MassPushRequestPushTask

    return _tea_wire_names(MassPushRequestPushTask)


@pytest.fixture(scope="module")
def tea_masspush() -> set[str]:
    from alibabacloud_push20160801.models import MassPushRequest

    return _tea_wire_names(MassPushRequest, skip=("push_task",)) - {"PushTask"}


@pytest.fixture(scope="module")
def legacy_masspush() -> tuple[set[str], set[str]]:
    return _legacy_masspush()


@pytest.fixture(scope="module")
def tea_pushbroadcast() -> set[str]:
    from alibabacloud_mpaas20201028.models import PushBroadcastRequest

    return _tea_wire_names(PushBroadcastRequest)


@pytest.fixture(scope="module")
def legacy_pushbroadcast() -> set[str]:
    return _legacy_pushbroadcast()


# ------------------------------------------------------------------ table metadata


def test_tables_load_with_their_metadata(emas: ParameterTable, mpaas: ParameterTable) -> None:
    assert (emas.provider, emas.product, emas.action) == ("emas", "Push", "MassPush")
    assert emas.version == "2016-08-01" and emas.versions == ("2016-08-01",)
    assert emas.item == "PushTask" and emas.max_items == 100
    assert (mpaas.provider, mpaas.product, mpaas.action) == ("mpaas", "mPaaS", "PushBroadcast")
    assert mpaas.version == "2020-10-28"
    assert mpaas.versions == ("2020-10-28", "2019-08-21")
    assert mpaas.item is None and mpaas.item_parameters == ()


@pytest.mark.parametrize("provider", ["emas", "mpaas"])
def test_row_names_are_unique(provider: str) -> None:
    table = load_table(provider)
    for rows in (table.parameters, table.item_parameters):
        names = [p.name for p in rows]
        assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)


# ------------------------------------------------------------------ (a) SDK fields have rows


def _check_sources(rows: dict[str, Param], source: str, sdk_fields: set[str], what: str) -> None:
    assert sdk_fields, f"introspection of {what} found no fields"
    missing = sorted(sdk_fields - set(rows))
    assert not missing, f"{what} fields without a row: {missing}"
    wrong = sorted(n for n in sdk_fields if source not in rows[n].sources)
    assert not wrong, f"rows of {what} fields that do not list {source!r}: {wrong}"
    claimed = sorted(n for n, p in rows.items() if source in p.sources and n not in sdk_fields)
    assert not claimed, f"rows claiming {source!r} that {what} does not carry: {claimed}"


def test_emas_rows_cover_tea_pushtask(emas: ParameterTable, tea_pushtask: set[str]) -> None:
    _check_sources(emas.item_params, "tea", tea_pushtask, "Tea MassPushRequestPushTask")


def test_emas_rows_cover_legacy_pushtask(emas: ParameterTable, legacy_masspush) -> None:
    _params, props = legacy_masspush
    _check_sources(emas.item_params, "legacy", props, "legacy MassPushRequest PushTask")


def test_emas_top_level_rows_cover_both_sdks(
    emas: ParameterTable, tea_masspush: set[str], legacy_masspush
) -> None:
    params, _props = legacy_masspush
    _check_sources(emas.request_params, "tea", tea_masspush, "Tea MassPushRequest")
    _check_sources(emas.request_params, "legacy", params, "legacy MassPushRequest")


def test_mpaas_rows_cover_tea(mpaas: ParameterTable, tea_pushbroadcast: set[str]) -> None:
    _check_sources(mpaas.request_params, "tea", tea_pushbroadcast, "Tea PushBroadcastRequest")


def test_mpaas_rows_cover_legacy(mpaas: ParameterTable, legacy_pushbroadcast: set[str]) -> None:
    _check_sources(
        mpaas.request_params, "legacy", legacy_pushbroadcast, "legacy PushBroadcastRequest"
    )


def test_sdk_introspection_sees_the_known_sizes(
    tea_pushtask: set[str], legacy_masspush, tea_pushbroadcast, legacy_pushbroadcast
) -> None:
    # Guards the introspection itself: the pinned SDK versions carry these many fields.
    assert len(tea_pushtask) >= 114
    assert len(legacy_masspush[1]) >= 99
    assert len(tea_pushbroadcast) >= 32
    assert len(legacy_pushbroadcast) == 14


# ------------------------------------------------------------------ (b) document rows


def test_emas_document_rows_exist_and_say_doc(emas: ParameterTable) -> None:
    items = emas.item_params
    assert not sorted(set(EMAS_DOC_ITEM_PARAMS) - set(items))
    _check_sources(items, "doc", set(EMAS_DOC_ITEM_PARAMS), "the MassPush document")
    _check_sources(emas.request_params, "doc", set(EMAS_DOC_PARAMS), "the MassPush document")


def test_mpaas_document_rows_exist_and_say_doc(mpaas: ParameterTable) -> None:
    documented = {wire(n) for n in MPAAS_DOC_PARAMS}
    _check_sources(mpaas.request_params, "doc", documented, "the PushBroadcast document")


def test_every_row_has_a_source(emas: ParameterTable, mpaas: ParameterTable) -> None:
    for row in (*emas.parameters, *emas.item_parameters, *mpaas.parameters):
        assert row.sources, row.name
        assert set(row.sources) <= {"doc", "tea", "legacy"}, row.name
        assert len(set(row.sources)) == len(row.sources), row.name


# ------------------------------------------------------------------ (c) row contents

TYPES = {"string", "integer", "number", "boolean", "map"}
FIELD_TYPES = TYPES | {"array"}
FORMATS = {"utc-datetime", "uuid", "csv", "time", "epoch-ms", "int64"}
LIMITS = {
    "max_bytes",
    "max_chars",
    "minimum",
    "maximum",
    "max_items",
    "max_entries",
    "max_keys",
}
GROUPS = {
    "target",
    "message",
    "control",
    "ios",
    "android",
    "android-vendor",
    "harmony",
    "app",
    "template",
    "strategy",
    "vendor",
}


def is_of_type(value: Any, type_: str) -> bool:
    if type_ == "string":
        return isinstance(value, str)
    if type_ == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if type_ == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if type_ == "boolean":
        return isinstance(value, bool)
    if type_ == "map":
        return isinstance(value, dict)
    if type_ == "array":
        return isinstance(value, list)
    raise AssertionError(f"unknown type {type_!r}")


def _all_rows(table: ParameterTable) -> list[Param]:
    return [*table.parameters, *table.item_parameters]


def _check_row(row: Param, *, nested: bool = False) -> None:
    where = row.name
    assert row.description.strip(), f"{where}: empty description"
    assert row.type in (FIELD_TYPES if nested else TYPES), f"{where}: bad type {row.type!r}"
    for v in row.values:
        assert is_of_type(v.value, row.type), f"{where}: value {v.value!r} is not {row.type}"
        assert v.meaning.strip(), f"{where}: value {v.value!r} has no meaning"
    allowed = [v.value for v in row.values]
    assert len(allowed) == len(set(allowed)), f"{where}: duplicate values"
    if row.json is not None:
        assert row.type == "string" and row.json in ("object", "array"), where
    if row.wire is not None:
        assert row.type == "map" and row.wire in ("json", "flatten"), where
    if row.type == "map":
        assert row.wire is not None, f"{where}: a map needs a wire form"
    if row.format is not None:
        assert row.format in FORMATS, f"{where}: bad format {row.format!r}"
        expected = "integer" if row.format in ("epoch-ms", "int64") else "string"
        assert row.type == expected, f"{where}: format {row.format} on {row.type}"
    if row.type == "array":
        assert row.items in TYPES - {"map"}, f"{where}: array without an element type"
    else:
        assert row.items is None, where
    assert set(row.limits) <= LIMITS, f"{where}: unknown limits {set(row.limits) - LIMITS}"
    for key, bound in row.limits.items():
        assert is_of_type(bound, "number"), f"{where}: limit {key} is not a number"
    if "minimum" in row.limits or "maximum" in row.limits:
        assert row.type in ("integer", "number"), where
    if "max_items" in row.limits:
        assert row.json == "array", where
    if "max_keys" in row.limits:
        assert row.json == "object" or row.type == "map", where
    if "max_entries" in row.limits:
        assert row.format == "csv", where
    if row.default is not None:
        assert is_of_type(row.default, row.type), f"{where}: default of the wrong type"
        if allowed:
            assert row.default in allowed, f"{where}: default not an allowed value"
    assert row.deprecated is False or (
        isinstance(row.deprecated, str) and row.deprecated.strip()
    ), f"{where}: deprecated must be false or a sentence"
    assert row.example is not None, f"{where}: no example"
    if row.json == "object":
        assert isinstance(row.example, dict), where
    elif row.json == "array":
        assert isinstance(row.example, list), where
    else:
        assert is_of_type(row.example, row.type), f"{where}: example is not {row.type}"
    if allowed and row.format != "csv":
        assert row.example in allowed, f"{where}: example not an allowed value"
    if row.format == "csv" and allowed:
        assert set(row.example.split(",")) <= set(allowed), where
    if "minimum" in row.limits:
        assert row.example >= row.limits["minimum"], where
    if "maximum" in row.limits:
        assert row.example <= row.limits["maximum"], where
    for key in row.keys:
        assert key.key and key.description.strip(), f"{where}: vendor key without description"
        for v in key.values:
            assert isinstance(v.value, str) and v.meaning.strip(), f"{where}.{key.key}"
    if row.keys:
        assert row.type == "map", where
        assert set(row.example) <= {k.key for k in row.keys}, where
    if row.fields:
        assert row.json == "object", f"{where}: fields only describe a JSON object"
        names = [f.name for f in row.fields]
        assert len(names) == len(set(names)), where
        for f in row.fields:
            _check_row(f, nested=True)
    if row.uncertain:
        assert row.uncertain.strip()


@pytest.mark.parametrize("provider", ["emas", "mpaas"])
def test_every_row_is_well_formed(provider: str) -> None:
    table = load_table(provider)
    rows = _all_rows(table)
    assert rows
    for row in rows:
        _check_row(row)
        assert row.group in GROUPS, f"{row.name}: bad group {row.group!r}"


def test_emas_placement_and_requirement(emas: ParameterTable) -> None:
    assert {p.name: p.placement for p in emas.parameters} == {
        "AppKey": "query",
        "IdempotentToken": "query",
    }
    assert emas.request_params["AppKey"].required
    assert emas.request_params["AppKey"].type == "integer"
    assert emas.request_params["IdempotentToken"].format == "uuid"
    assert all(p.placement == "body" for p in emas.item_parameters)
    assert {p.name for p in emas.item_parameters if p.required} == EMAS_ITEM_REQUIRED


def test_emas_specific_rows(emas: ParameterTable) -> None:
    rows = emas.item_params
    assert {n for n, p in rows.items() if p.deprecated} >= EMAS_DEPRECATED
    assert rows["Title"].limits == {"max_bytes": 200}
    assert rows["AndroidBigTitle"].limits == {"max_bytes": 200}
    assert rows["AndroidBigBody"].limits == {"max_bytes": 1000}
    # The Tea SDK model's figures (api-facts §5.4), not the older document's 30 and 128.
    assert rows["AndroidPopupTitle"].limits == {"max_chars": 50}
    assert rows["AndroidPopupBody"].limits == {"max_chars": 200}
    assert rows["AndroidPopupTitle"].uncertain and rows["AndroidPopupBody"].uncertain
    assert rows["TargetValue"].limits == {"max_entries": 1000}
    assert rows["AndroidInboxBody"].json == "array"
    assert rows["AndroidInboxBody"].limits == {"max_items": 5}
    assert rows["HarmonyInboxContent"].limits == {"max_items": 3}
    assert rows["AndroidNotificationBarType"].limits == {"minimum": 1, "maximum": 100}
    assert rows["AndroidBadgeAddNum"].limits == {"minimum": 1, "maximum": 99}
    assert rows["AndroidBadgeSetNum"].limits == {"minimum": 0, "maximum": 99}
    assert rows["iOSRelevanceScore"].limits == {"minimum": 0, "maximum": 1}
    assert rows["AndroidRenderStyle"].allowed == ("0", "1", "2", "3")
    assert set(rows["DeviceType"].allowed) == {"ANDROID", "iOS", "HARMONY", "ALL"}
    assert set(rows["AndroidMessageOppoNotifyLevel"].allowed) == {1, 2, 16}
    assert rows["SendChannels"].format == "csv" and "apns" in rows["SendChannels"].allowed
    assert rows["PushTime"].format == rows["ExpireTime"].format == "utc-datetime"
    for name, row in rows.items():
        if name.endswith("ExtParameters"):
            assert (row.type, row.json) == ("string", "object"), name
    for name in ("AndroidOppoPrivateTitleParameters", "AndroidOppoPrivateContentParameters"):
        assert (rows[name].type, rows[name].wire) == ("map", "flatten"), name


def test_mpaas_specific_rows(mpaas: ParameterTable) -> None:
    rows = mpaas.request_params
    assert {n for n, p in rows.items() if p.required} == MPAAS_REQUIRED
    assert rows["TaskName"].uncertain
    assert all(p.placement == "body" for p in rows.values())
    assert set(rows["DeliveryType"].allowed) == {1, 2, 7}
    assert set(rows["PushStatus"].allowed) == {0, 1, 2}
    assert set(rows["BindPeriod"].allowed) == set(rows["UnBindPeriod"].allowed) == {1, 2, 3, 4}
    assert set(rows["StrategyType"].allowed) == {0, 1, 2}
    assert set(rows["Classification"].allowed) == {"0", "1"}
    for name in ("TemplateKeyValue", "ExtendedParams", "StrategyContent"):
        assert (rows[name].type, rows[name].json) == ("string", "object"), name
    assert rows["ExtendedParams"].limits == {"max_keys": 20}
    for name in ("ThirdChannelCategory", "NotifyLevel"):
        assert (rows[name].type, rows[name].wire) == ("map", "json"), name
    assert (rows["TransparentMessagePayload"].type, rows["TransparentMessagePayload"].wire) == (
        "map",
        "flatten",
    )
    hms = {k.key: k for k in rows["ThirdChannelCategory"].keys}["hms"]
    assert [v.value for v in hms.values] == [str(i) for i in range(1, 15)]
    fields = {f.name: f for f in rows["StrategyContent"].fields}
    assert set(fields) == {"fixedTime", "startTime", "endTime", "circleType", "circleValue", "time"}
    assert fields["circleValue"].type == "array" and fields["circleValue"].items == "integer"
    assert fields["time"].format == "time"
    assert all(fields[n].format == "epoch-ms" for n in ("fixedTime", "startTime", "endTime"))


def test_undocumented_mpaas_rows_say_so(mpaas: ParameterTable) -> None:
    for row in mpaas.parameters:
        if "doc" not in row.sources:
            assert row.uncertain.strip(), f"{row.name} is not in the document but claims certainty"


# ------------------------------------------------------------------ (d) conditions


def _check_condition(cond: Condition, table: ParameterTable) -> None:
    rows = table.message_params
    assert cond.message.strip(), cond.id
    assert set(cond.when) in ({"field", "equals"}, {"field", "in"}, {"field", "present"}), cond.id
    field = cond.when["field"]
    assert field in rows, f"{cond.id}: unknown field {field!r}"
    row = rows[field]
    tested = [cond.when["equals"]] if "equals" in cond.when else list(cond.when.get("in", []))
    if "present" in cond.when:
        assert cond.when["present"] is True, cond.id
    for value in tested:
        assert is_of_type(value, row.type), f"{cond.id}: {value!r} is not {row.type}"
        if row.values:
            assert value in row.allowed, f"{cond.id}: {value!r} not allowed for {field}"
    assert cond.then and set(cond.then) <= {"require", "require_any", "forbid"}, cond.id
    for kind, names in cond.then.items():
        assert names, f"{cond.id}: empty {kind}"
        for name in names:
            assert name in rows, f"{cond.id}: unknown field {name!r}"
            assert name != field, f"{cond.id}: refers to itself"
    if "require_any" in cond.then:
        assert len(cond.then["require_any"]) >= 2, cond.id


@pytest.mark.parametrize("provider", ["emas", "mpaas"])
def test_conditions_name_existing_fields(provider: str) -> None:
    table = load_table(provider)
    assert table.conditions
    ids = [c.id for c in table.conditions]
    assert len(ids) == len(set(ids))
    for cond in table.conditions:
        assert cond.id.startswith(f"{provider}."), cond.id
        _check_condition(cond, table)


def _key(when: dict, then: dict) -> tuple:
    """A comparable form of one condition."""
    w = tuple(sorted((k, tuple(v) if isinstance(v, (list, tuple)) else v) for k, v in when.items()))
    return w, tuple(sorted((k, frozenset(v)) for k, v in then.items()))


def _assert_conditions(table: ParameterTable, expected: list[tuple[dict, dict]]) -> None:
    have = {_key(c.when, c.then) for c in table.conditions}
    for when, then in expected:
        assert _key(when, then) in have, f"missing condition: when {when} then {then}"


def test_emas_required_conditions(emas: ParameterTable) -> None:
    _assert_conditions(
        emas,
        [
            ({"field": "AndroidOpenType", "equals": "ACTIVITY"}, {"require": ["AndroidActivity"]}),
            ({"field": "AndroidOpenType", "equals": "URL"}, {"require": ["AndroidOpenUrl"]}),
            (
                {"field": "AndroidPopupActivity", "present": True},
                {"require": ["AndroidPopupTitle", "AndroidPopupBody"]},
            ),
            ({"field": "iOSBadgeAutoIncrement", "equals": True}, {"forbid": ["iOSBadge"]}),
            (
                {"field": "AndroidMessageOppoNotifyLevel", "present": True},
                {"require": ["AndroidMessageOppoCategory"]},
            ),
            (
                {"field": "HarmonyActionType", "equals": "APP_CUSTOM_PAGE"},
                {"require_any": ["HarmonyUri", "HarmonyAction"]},
            ),
            (
                {"field": "HarmonyRenderStyle", "equals": "MULTI_LINE"},
                {"require": ["HarmonyInboxContent"]},
            ),
            (
                {"field": "iOSLiveActivityEvent", "equals": "start"},
                {"require": ["iOSLiveActivityAttributes", "iOSLiveActivityAttributesType"]},
            ),
            ({"field": "DeviceType", "in": ["ANDROID", "HARMONY", "ALL"]}, {"require": ["Title"]}),
            ({"field": "PushType", "equals": "MESSAGE"}, {"require": ["Title"]}),
        ],
    )


def test_a_condition_met_by_the_fields_default_applies_when_the_field_is_left_out(
    mpaas: ParameterTable, emas: ParameterTable
) -> None:
    # PushStatus defaults to 0 (api-facts §5.9): no PushStatus needs BindPeriod too.
    on_default = {c.id for t in (mpaas, emas) for c in t.conditions if c.fires_when_absent}
    assert on_default == {"mpaas.bind-period"}


def test_mpaas_required_conditions(mpaas: ParameterTable) -> None:
    _assert_conditions(
        mpaas,
        [
            ({"field": "PushStatus", "equals": 0}, {"require": ["BindPeriod"]}),
            ({"field": "PushStatus", "in": [1, 2]}, {"require": ["UnBindPeriod"]}),
            ({"field": "StrategyType", "in": [1, 2]}, {"require": ["StrategyContent"]}),
            (
                {"field": "TransparentMessageUrgency", "present": True},
                {"require": ["TransparentMessagePayload"]},
            ),
        ],
    )


# ------------------------------------------------------------------ (e) mPaaS versions


def test_mpaas_2019_rows_are_exactly_the_legacy_fields(
    mpaas: ParameterTable, legacy_pushbroadcast: set[str]
) -> None:
    old = {p.name for p in mpaas.parameters if "2019-08-21" in p.versions}
    assert old == legacy_pushbroadcast


def test_mpaas_rows_name_their_versions(mpaas: ParameterTable) -> None:
    for row in mpaas.parameters:
        assert "2020-10-28" in row.versions, row.name
        assert set(row.versions) <= set(mpaas.versions), row.name
        assert ("legacy" in row.sources) == ("2019-08-21" in row.versions), row.name


def test_emas_rows_do_not_carry_mpaas_versions(emas: ParameterTable) -> None:
    assert all(not p.versions for p in _all_rows(emas))
