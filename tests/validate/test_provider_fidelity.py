"""What the real gateway refuses, validate refuses first, located (api-facts §5): int32
bounds, whole floats, NaN and Infinity, a required Body, Title on messages, BindPeriod for the
default PushStatus and the 2019-08-21 API that has none. Through the real CLI."""

from __future__ import annotations

from typing import Any

from tests.pushrepo import PushRepo

LEGACY_WALLET = """\
version: 1
default_environment: staging
state: {backend: sqlite, path: .pushops/state.db}
environments:
  staging:
    apps:
      wallet: {provider: mpaas, app_id: ONEX570DA89211721, workspace_id: test,
               api_version: "2019-08-21"}
"""


def errors_of(repo: PushRepo, text: str) -> list[dict[str, Any]]:
    repo.write("campaigns/c.yaml", text)
    return [e for e in repo.validate_errors() if e["severity"] == "error"]


def task(extra: str, *, body: bool = True) -> str:
    lines = [
        "id: c",
        "app: shop",
        "tasks:",
        "  - id: t",
        "    DeviceType: iOS",
        "    PushType: NOTICE",
        "    Target: DEVICE",
        "    TargetValue: d1",
    ]
    if body:
        lines.append("    Body: Hello")
    return "\n".join([*lines, *(f"    {line}" for line in extra.splitlines())]) + "\n"


def test_an_integer_beyond_int32_is_a_located_range_error(repo: PushRepo) -> None:
    (error,) = errors_of(repo, task("iOSBadge: 2147483648"))
    assert error["rule"] == "emas.ios-badge-range"
    assert (error["line"], error["path"]) == (10, "tasks[0].iOSBadge")
    assert "2147483647" in error["message"]
    assert errors_of(repo, task("iOSBadge: 2147483647")) == []


def test_a_long_field_takes_int64(repo: PushRepo) -> None:
    # iOSLiveActivityStaleDate is a Long in the API metadata: epoch seconds past 2038 are fine.
    assert errors_of(repo, task("iOSLiveActivityStaleDate: 4102444800")) == []


def test_a_whole_float_in_an_integer_field_is_taken_as_the_integer(repo: PushRepo) -> None:
    assert errors_of(repo, task("iOSBadge: 3.0")) == []
    (error,) = errors_of(repo, task("iOSBadge: 3.5"))
    assert error["rule"] == "emas.ios-badge-type"


def test_nan_in_a_json_field_is_a_located_error(repo: PushRepo) -> None:
    found = errors_of(repo, task("AndroidExtParameters: {x: .nan, y: [1, -.inf]}"))
    assert [(e["rule"], e["line"], e["path"]) for e in found] == [
        ("emas.json-number", 10, "tasks[0].AndroidExtParameters.x"),
        ("emas.json-number", 10, "tasks[0].AndroidExtParameters.y[1]"),
    ]


def test_nan_written_inside_a_json_string_is_not_json(repo: PushRepo) -> None:
    (error,) = errors_of(repo, task("""AndroidExtParameters: '{"x": NaN}'"""))
    assert error["rule"] == "emas.android-ext-parameters-json"
    assert "NaN is not JSON" in error["message"]


def test_nan_in_a_number_field_is_a_located_error(repo: PushRepo) -> None:
    (error,) = errors_of(repo, task("iOSRelevanceScore: .nan"))
    assert error["rule"] == "emas.json-number" and error["path"] == "tasks[0].iOSRelevanceScore"


def test_every_push_task_needs_a_body(repo: PushRepo) -> None:
    (error,) = errors_of(repo, task("", body=False))
    assert error["rule"] == "emas.required" and "'Body'" in error["message"]
    (empty,) = errors_of(repo, task('Body: ""', body=False))
    assert empty["rule"] == "emas.body-empty"


def test_an_ios_message_needs_a_title_and_an_ios_notice_does_not(repo: PushRepo) -> None:
    (error,) = errors_of(repo, task("").replace("PushType: NOTICE", "PushType: MESSAGE"))
    assert error["rule"] == "emas.title-message"
    assert errors_of(repo, task("")) == []
    with_title = task("Title: Hi").replace("PushType: NOTICE", "PushType: MESSAGE")
    assert errors_of(repo, with_title) == []


def test_device_type_all_needs_a_title_as_it_reaches_android(repo: PushRepo) -> None:
    (error,) = errors_of(repo, task("").replace("DeviceType: iOS", "DeviceType: ALL"))
    assert error["rule"] == "emas.title-android-harmony"


LEGACY_BROADCAST = """\
id: c
app: wallet
broadcasts:
  - id: b
    TaskName: Notice
    DeliveryType: 1
    TemplateName: tpl
    ExpiredSeconds: 300
"""


def test_the_2019_api_without_bind_period_is_told_what_to_do(repo: PushRepo) -> None:
    repo.write("pushops.yaml", LEGACY_WALLET)
    # PushStatus defaults to 0, which needs BindPeriod, which 2019-08-21 does not have.
    (error,) = errors_of(repo, LEGACY_BROADCAST)
    assert error["rule"] == "mpaas.bind-period"
    assert "2019-08-21 has no BindPeriod" in error["message"]
    assert "PushStatus 1 or 2 with UnBindPeriod" in error["message"]
    assert "api_version 2020-10-28" in error["message"]
    # The advice works: nothing else then contradicts it.
    advised = LEGACY_BROADCAST + "    PushStatus: 1\n    UnBindPeriod: 4\n"
    assert errors_of(repo, advised) == []


def test_an_integer_written_in_other_digits_is_a_located_type_error(repo: PushRepo) -> None:
    # Arabic-Indic three: Python's int() reads it, the gateway does not (and neither does the
    # emulator, tests/emulator/test_ascii_digits.py).
    (error,) = errors_of(repo, task('iOSBadge: "\u0663"'))
    assert (error["rule"], error["line"], error["path"]) == (
        "emas.ios-badge-type",
        10,
        "tasks[0].iOSBadge",
    )
    assert errors_of(repo, task('iOSBadge: "3"')) == []
