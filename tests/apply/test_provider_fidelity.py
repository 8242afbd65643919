"""What the real gateway would accept, proven along the user's journey: campaigns whose
values reach the wire in shapes the official SDKs and documents use (api-facts §5)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from plan.support import SECRET, Project

from pushops.emulator import Emulator
from pushops.emulator.wire import Request

TRICKY = {"a/b": "slash", "a-b": "dash", "名": "cjk"}

EMAS_WITH_TRICKY_KEYS = """\
id: oppo
app: shop
tasks:
  - id: android
    DeviceType: ANDROID
    PushType: NOTICE
    Target: DEVICE
    TargetValue: dev1
    Title: Parcel
    Body: It is on its way.
    AndroidOppoPrivateContentParameters:
      "a/b": slash
      "a-b": dash
      "名": cjk
"""

MPAAS_WITH_TRICKY_KEYS = """\
id: payload
app: wallet
broadcasts:
  - id: android
    TaskName: Refresh
    DeliveryType: 1
    TemplateName: announcement
    ExpiredSeconds: 3600
    PushStatus: 0
    BindPeriod: 4
    TransparentMessagePayload:
      hms:
        "a/b": slash
        "a-b": dash
        "名": cjk
"""


@contextmanager
def received(emulator: Emulator) -> Iterator[list[Request]]:
    """The requests the emulator receives, as it parsed them."""
    seen: list[Request] = []
    handle = emulator.app.handle

    def recording(request: Request) -> Any:
        seen.append(request)
        return handle(request)

    emulator.app.handle = recording  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        emulator.app.handle = handle  # type: ignore[method-assign]


def official_v1_signature(request: Request) -> str:
    """The signature the Tea SDK's own signer computes for what was received."""
    from alibabacloud_tea_openapi.utils import Utils

    params = {k: v for k, v in request.query.items() if k != "Signature"}
    return Utils.get_rpcsignature({**params, **request.form}, "POST", SECRET)


def test_flattened_map_keys_with_slash_and_cjk_apply_against_the_emulator(
    sqlite_project: Project, emulator: Emulator
) -> None:
    # v1 signs such keys in raw order; sorted encoded, the gateway answers
    # SignatureDoesNotMatch (and so did our emulator to the official SDK).
    sqlite_project.write("oppo.yaml", EMAS_WITH_TRICKY_KEYS)
    sqlite_project.write("payload.yaml", MPAAS_WITH_TRICKY_KEYS)
    with received(emulator) as requests:
        result = sqlite_project.run("apply", "--auto-approve")
    assert result.exit_code == 0, result.output
    by_product = {d["product"]: d["params"] for d in emulator.deliveries()}
    assert json.loads(by_product["emas"]["AndroidOppoPrivateContentParameters"]) == TRICKY
    assert json.loads(by_product["mpaas"]["TransparentMessagePayload"]) == {"hms": TRICKY}
    sends = [r for r in requests if r.query.get("Action") in ("MassPush", "PushBroadcast")]
    assert len(sends) == 2
    for request in sends:  # signed exactly as the official signer signs the same request
        assert request.query["Signature"] == official_v1_signature(request)
    assert sqlite_project.run("plan", "--detailed-exitcode").exit_code == 0


WIRE_SHAPES = """\
id: shapes
app: shop
tasks:
  - id: ios
    DeviceType: iOS
    PushType: NOTICE
    Target: DEVICE
    TargetValue: dev1
    Body: Three new offers.
    iOSBadge: 3.0
    iOSRelevanceScore: 0.5
"""

VENDOR_MAPS = """\
id: vendor
app: wallet
broadcasts:
  - id: android
    TaskName: Statement
    DeliveryType: 1
    TemplateName: statement
    ExpiredSeconds: 3600
    BindPeriod: 4
    ThirdChannelCategory: {hms: 9, vivo: 1}
    NotifyLevel: {hms: "2"}
"""


def test_values_reach_the_wire_in_the_shapes_the_sdks_send(
    sqlite_project: Project, emulator: Emulator
) -> None:
    sqlite_project.write("shapes.yaml", WIRE_SHAPES)
    sqlite_project.write("vendor.yaml", VENDOR_MAPS)
    result = sqlite_project.run("apply", "--auto-approve")
    assert result.exit_code == 0, result.output
    by_product = {d["product"]: d["params"] for d in emulator.deliveries()}
    # An integer field never carries "3.0"; a vendor map's values are strings ({"hms":"9"}).
    assert by_product["emas"]["iOSBadge"] == "3"
    assert by_product["emas"]["iOSRelevanceScore"] == "0.5"
    assert by_product["mpaas"]["ThirdChannelCategory"] == '{"hms":"9","vivo":"1"}'
    assert by_product["mpaas"]["NotifyLevel"] == '{"hms":"2"}'
    assert "PushStatus" not in by_product["mpaas"]  # the default 0, with its BindPeriod


def test_nan_in_a_json_field_is_refused_before_anything_is_sent(
    sqlite_project: Project, emulator: Emulator
) -> None:
    # It used to pass validate and crash apply with a traceback recorded in the ledger.
    sqlite_project.write(
        "nan.yaml", WIRE_SHAPES.replace("iOSBadge: 3.0", "AndroidExtParameters: {x: .nan}")
    )
    result = sqlite_project.run("apply", "--auto-approve")
    assert result.exit_code == 1
    assert "tasks[0].AndroidExtParameters.x" in result.output
    assert "[emas.json-number]" in result.output and "Traceback" not in result.output
    assert emulator.deliveries() == []
