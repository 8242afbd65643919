"""The MassPush fast path (tasks grouped by a memoised layout, each distinct value checked once
for the whole call) never accepts what the task-by-task checks reject, and agrees with them."""

from __future__ import annotations

import time

import pytest
from emulator_helpers import tasks_form
from hypothesis import given, settings
from hypothesis import strategies as st

from pushops.emulator import emas, mpaas
from pushops.emulator.errors import ApiError
from pushops.emulator.tasks import layout
from pushops.emulator.validation import Validator, unflatten

NOW = time.time()
_ISO = "%Y-%m-%dT%H:%M:%SZ"

# Values around the table's rules: allowed and not, empty (an SDK's "unset"), too long,
# conditions met and not, scheduled times in range and beyond 7 days.
FIELDS = {
    "DeviceType": ["ANDROID", "iOS", "HARMONY", "ALL", "PHONE", ""],
    "PushType": ["NOTICE", "MESSAGE", "notice"],
    "Target": ["DEVICE", "ALIAS", "TAG", "ALL"],
    "TargetValue": ["d1", "d1,d2", ",".join(["d"] * 1001), ""],
    "Title": ["Hello", "", "x" * 201, "世" * 67],
    "Body": ["World", "", "a b,c"],
    "AndroidOpenType": ["ACTIVITY", "URL", "APPLICATION", "NONE", ""],
    "AndroidActivity": ["com.example.Main", ""],
    "AndroidPopupActivity": ["com.example.Popup", ""],
    "AndroidPopupTitle": ["t", ""],
    "iOSBadgeAutoIncrement": ["true", "false", "True", "maybe"],
    "iOSBadge": ["3", "", "x"],
    "StoreOffline": ["true", "false", "yes"],
    "PushTime": [
        time.strftime(_ISO, time.gmtime(NOW + 3600)),
        time.strftime(_ISO, time.gmtime(NOW + 8 * 86400)),
        "tomorrow",
        "",
    ],
    "ExpireTime": [time.strftime(_ISO, time.gmtime(NOW + 7200))],
    "AndroidExtParameters.k": ["v"],
}
BASE = {"DeviceType": "ANDROID", "PushType": "NOTICE", "Target": "DEVICE", "TargetValue": "d"}
# Mostly valid tasks (the base plus a few fields), so that both paths are taken often.
task_strategy = st.dictionaries(st.sampled_from(sorted(FIELDS)), st.just(None), max_size=5).flatmap(
    lambda keys: st.fixed_dictionaries({k: st.sampled_from(FIELDS[k]) for k in keys})
)
tasks_strategy = st.lists(
    st.one_of(task_strategy, task_strategy.map(lambda t: {**BASE, **t})), min_size=1, max_size=5
).filter(lambda tasks: all(tasks))


def task_by_task(params: dict[str, str]) -> list[float | None] | ApiError:
    validator, max_items = emas._table()
    tasks = [
        unflatten(t, validator.params)
        for t in layout(list(params), max_items).split(list(params.values()))
    ]
    try:
        return [emas._check_task(n, t, validator, NOW) for n, t in enumerate(tasks, 1)]
    except ApiError as error:
        return error


@settings(max_examples=400)
@given(tasks_strategy)
def test_batch_check_passes_only_calls_the_task_checks_pass(tasks: list[dict[str, str]]) -> None:
    params = {"AppKey": "1", **tasks_form(tasks)}
    validator, max_items = emas._table()
    plan = layout(list(params), max_items)
    values = list(params.values())
    fast = emas._batch_check(plan, values, len(tasks), validator, NOW)
    slow = task_by_task(params)
    if fast is not None:
        assert fast == slow


@pytest.mark.parametrize(
    "bad",
    [{"Title": ""}, {"Target": "TAG"}, {"PushType": "notice"}, {"AndroidOpenType": "URL"}],
)
def test_a_problem_in_any_task_leaves_the_call_to_the_task_checks(bad: dict[str, str]) -> None:
    tasks = [dict(BASE, Title="Hi") for _ in range(5)]
    tasks[3].update(bad)
    params = tasks_form(tasks)
    validator, max_items = emas._table()
    plan = layout(list(params), max_items)
    assert emas._batch_check(plan, list(params.values()), 5, validator, NOW) is None
    assert isinstance(task_by_task(params), ApiError)


def test_a_clean_hundred_task_call_takes_the_fast_path() -> None:
    tasks = [{"DeviceType": "ANDROID", "PushType": "NOTICE", "Target": "DEVICE",
              "TargetValue": f"d{i}", "Title": "Hi", "Body": f"b{i}"} for i in range(100)]  # fmt: skip
    params = tasks_form(tasks)
    validator, max_items = emas._table()
    plan = layout(list(params), max_items)
    assert plan is layout(list(params), max_items)  # memoised per layout
    fast = emas._batch_check(plan, list(params.values()), 100, validator, NOW)
    assert fast == [None] * 100
    assert plan.split(list(params.values())) == tasks


@pytest.mark.parametrize(
    ("keys", "code"),
    [
        (["PushTask.1.Title", "PushTask.3.Title"], "InvalidPushTask.Format"),
        (["PushTask.01.Title"], "InvalidPushTask.Format"),
        (["PushTask.1"], "InvalidPushTask.Format"),
        (["AppKey"], "MissingPushTask"),
        ([f"PushTask.{i}.Title" for i in range(1, 102)], "InvalidPushTask.LengthExceed"),
    ],
)
def test_bad_layouts_raise_every_time(keys: list[str], code: str) -> None:
    for _ in range(2):  # errors are never memoised
        with pytest.raises(ApiError) as raised:
            layout(keys, 100)
        assert raised.value.code == code


# --- a column cleared in one pass (the bulk form of a row's check) ----------------------------


def _edge_values(validator: Validator, name: str) -> list[str]:
    """Values at and around the row's limits and choices, in ASCII and in 3-byte characters."""
    param = validator.params[name]
    values = ["", "x", "a,b", "TRUE", "true", "False", "maybe", *map(str, param.allowed)]
    for most in param.limits.values():
        if isinstance(most, int) and most < 100_000:
            for n in {most // 4, most // 3, most // 3 + 1, most // 2, most - 1, most, most + 1}:
                values += ["x" * n, "世" * n, "," * n]
    return values


def _bulk_rows() -> list[tuple[Validator, str]]:
    validators = [emas._table()[0], *map(mpaas._validator, mpaas.VERSIONS)]
    return [(v, name) for v in validators for name in sorted(v.bulk_checks)]


@pytest.mark.parametrize(("validator", "name"), _bulk_rows())
@settings(max_examples=60)
@given(data=st.data())
def test_a_column_is_cleared_in_one_pass_only_when_every_value_passes(
    validator: Validator, name: str, data: st.DataObject
) -> None:
    values = data.draw(st.lists(st.sampled_from(_edge_values(validator, name)), max_size=6))
    if validator.bulk_checks[name](tuple(values)):
        assert all(validator.checks[name](v) is None for v in values if v != "")


def test_the_columns_of_a_clean_hundred_task_call_are_each_cleared_in_one_pass() -> None:
    tasks = [{"DeviceType": "ANDROID", "PushType": "NOTICE", "Target": "DEVICE",
              "TargetValue": f"d{i},e{i}", "Title": "Hi", "Body": f"b{i}"} for i in range(100)]  # fmt: skip
    validator, _ = emas._table()
    for name in validator.checked.intersection(tasks[0]):
        column = tuple(t[name] for t in tasks)
        assert validator.bulk_checks[name](column), name
