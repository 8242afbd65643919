"""Numbers on the wire are ASCII digits: Arabic-Indic, fullwidth or superscript digits are text
that no API reads as a number, though Python's ``\\d``, ``str.isdigit`` and ``int()`` take them.
validate and the emulator refuse them alike, and accept the same value in ASCII digits."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from emulator_helpers import Caller, broadcast, error_code, task

from pushops.check.schema import checker
from pushops.params import coerce_all
from pushops.tables import load_table

ARABIC_INDIC_3 = "\u0663"  # ٣
FULLWIDTH_3 = "\uff13"  # ３
SUPERSCRIPT_3 = "\u00b3"  # ³: isdigit() is true, int() raises
IOS = {"DeviceType": "iOS", "PushType": "NOTICE", "Target": "DEVICE", "TargetValue": "d1"}


def _client_errors(provider: str, params: dict[str, str]) -> list[str]:
    table = load_table(provider)
    typed: dict[str, Any] = coerce_all(params, table.message_params)
    return [rule for _path, _text, rule, _key in checker(provider).errors(typed)]


@pytest.mark.parametrize("badge", [ARABIC_INDIC_3, FULLWIDTH_3, SUPERSCRIPT_3, "1" + FULLWIDTH_3])
def test_an_integer_in_other_digits_is_refused_by_validate_and_the_emulator(
    call: Caller, badge: str
) -> None:
    assert "emas.ios-badge-type" in _client_errors("emas", {**IOS, "Body": "b", "iOSBadge": badge})
    answer = call.mass_push([task(**IOS, iOSBadge=badge)])
    assert answer.status_code == 400, answer.text
    assert error_code(answer).startswith("InvalidiOSBadge"), answer.text


def test_the_same_integer_in_ascii_digits_is_accepted_by_both(call: Caller) -> None:
    assert _client_errors("emas", {**IOS, "Body": "b", "iOSBadge": "3"}) == []
    assert call.mass_push([task(**IOS, iOSBadge="3")]).status_code == 200


@pytest.mark.parametrize("digit", [ARABIC_INDIC_3, FULLWIDTH_3])
def test_a_date_in_other_digits_is_refused_by_validate_and_the_emulator(
    call: Caller, digit: str
) -> None:
    when = f"20{digit}0-01-01T00:00:00Z"
    assert "emas.push-time-format" in _client_errors("emas", {**IOS, "Body": "b", "PushTime": when})
    answer = call.mass_push([task(**IOS, PushTime=when)])
    assert answer.status_code == 400 and error_code(answer) == "InvalidPushTime.Format"


def test_an_mpaas_integer_in_other_digits_is_refused_by_the_emulator(call: Caller) -> None:
    answer = call.mpaas("PushBroadcast", broadcast(ExpiredSeconds="３００")).json()
    assert answer["ResultCode"] != "100", answer


def test_no_pattern_in_pushops_reads_digits_of_any_script() -> None:
    """The class, closed: ``\\d`` without re.ASCII and ``str.isdigit`` alone take any script's
    digits; pushops uses ``[0-9]`` and :func:`pushops.params.is_digits`."""
    package = Path(__file__).resolve().parents[2] / "pushops"
    found = [
        f"{path.relative_to(package)}:{number}: {line.strip()}"
        for path in sorted(package.rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if (re.search(r"\\d", line) and not line.lstrip().startswith(("#", '"""')))
        or (".isdigit()" in line and "isascii()" not in line and "plain and" not in line)
    ]
    assert found == [], found
