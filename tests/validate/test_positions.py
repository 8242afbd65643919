"""Exact line and column, in nested block YAML, flow YAML, and Chinese text."""

from __future__ import annotations

import json

from tests.validate.conftest import PushRepo


def errors(repo: PushRepo) -> list[dict]:
    return json.loads(repo.validate("--format", "json").output)["errors"]


def test_nested_block_mapping_value(repo: PushRepo) -> None:
    repo.write(
        "campaigns/x.yaml",
        """
        id: x
        app: wallet
        broadcasts:
          - id: b
            TaskName: t
            DeliveryType: 1
            TemplateName: n
            ExpiredSeconds: 60
            BindPeriod: 1
            ThirdChannelCategory:
              hms: "99"
    """,
    )
    (error,) = errors(repo)
    assert (error["line"], error["column"]) == (11, 12)
    assert error["path"] == "broadcasts[0].ThirdChannelCategory.hms"


def test_flow_mapping_inside_a_flow_sequence(repo: PushRepo) -> None:
    line = "tasks: [{id: a, DeviceType: iOS, PushType: NOTICE, Target: DEVICE, TargetValue: d, Body: b, iOSBadge: lots}]"
    repo.write("campaigns/x.yaml", f"id: x\napp: shop\n{line}\n")
    (error,) = errors(repo)
    assert (error["line"], error["column"]) == (3, line.index("lots") + 1)


def test_columns_after_chinese_text_count_characters(repo: PushRepo) -> None:
    # 标题 is two characters (six bytes): the column of iOSBadge's value counts characters.
    repo.write(
        "campaigns/x.yaml",
        "id: x\napp: shop\ntasks:\n  - {id: a, Title: 标题, DeviceType: iOS, PushType: NOTICE, Target: DEVICE, TargetValue: d, Body: b, iOSBadge: x}\n",
    )
    (error,) = errors(repo)
    line = "  - {id: a, Title: 标题, DeviceType: iOS, PushType: NOTICE, Target: DEVICE, TargetValue: d, Body: b, iOSBadge: x}"
    assert error["column"] == line.index("iOSBadge: x") + len("iOSBadge: ") + 1


def test_chinese_title_limit_counts_bytes_not_characters(repo: PushRepo) -> None:
    # 67 characters of CJK text are 201 UTF-8 bytes: over the 200-byte limit though far under
    # 200 characters.
    title = "推" * 67
    repo.write(
        "campaigns/x.yaml",
        f"id: x\napp: shop\ntasks:\n  - id: a\n    DeviceType: ANDROID\n    PushType: NOTICE\n    Target: DEVICE\n    TargetValue: d\n    Body: b\n    Title: {title}\n",
    )
    (error,) = errors(repo)
    assert error["message"] == "201 bytes, the limit is 200 UTF-8 bytes"
    assert (error["line"], error["column"], error["rule"]) == (10, 12, "emas.title-bytes")


def test_chinese_title_at_the_limit_passes(repo: PushRepo) -> None:
    title = "推" * 66 + "ab"  # 198 + 2 = 200 bytes
    repo.write(
        "campaigns/x.yaml",
        f"id: x\napp: shop\ntasks:\n  - {{id: a, DeviceType: ANDROID, PushType: NOTICE, Target: DEVICE, TargetValue: d, Body: b, Title: {title}}}\n",
    )
    assert errors(repo) == []


def test_a_condition_points_at_the_value_that_switched_it_on(repo: PushRepo) -> None:
    # Where an editor shows it too (tests/editor): on `URL`, the value that needs a URL.
    repo.write(
        "campaigns/x.yaml",
        """
        id: x
        app: shop
        tasks:
          - id: a
            DeviceType: ANDROID
            PushType: NOTICE
            Target: DEVICE
            TargetValue: d
            Title: t
            Body: b
            AndroidOpenType: URL
    """,
    )
    (error,) = errors(repo)
    assert (error["line"], error["column"], error["rule"]) == (11, 22, "emas.android-open-url")
