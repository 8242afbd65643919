"""EMAS ``PushTask.N.Prop`` parameters grouped into tasks, by a plan memoised per key layout.

A client sends the same keys in the same order call after call (a 100-task campaign: the same
~700 keys every time), so how the keys group into tasks is worked out once per layout and then
applied with C-level item getters: no per-field Python work on the hot path. The plan also
gives each property's column across tasks, which the batch validation works on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import itemgetter

from pushops.emulator.errors import invalid, missing
from pushops.params import is_digits

PREFIX = "PushTask."
Getter = Callable[[Sequence[str]], tuple[str, ...]]
_MAX_LAYOUTS = 256


def _getter(positions: list[int]) -> Getter:
    """A C-level getter of ``positions`` that always returns a tuple (itemgetter alone
    returns a bare item for one position)."""
    if len(positions) == 1:
        only = positions[0]
        return lambda values: (values[only],)
    return itemgetter(*positions)


@dataclass(frozen=True)
class Layout:
    """How one sequence of parameter keys groups into tasks (indexes 1..N, in order)."""

    tasks: tuple[tuple[tuple[str, ...], Getter], ...]  # per task: its names and values getter
    columns: dict[str, Getter]  # per name: the getter of its values across tasks
    counts: dict[str, int]  # per name: how many tasks have it

    def split(self, values: Sequence[str]) -> list[dict[str, str]]:
        # Not strict: each task's names and getter come from one list of (name, position)
        # pairs (_plan), and strict's check was a fifth of this per-call work.
        return [dict(zip(names, get(values), strict=False)) for names, get in self.tasks]

    def column(self, name: str, values: Sequence[str]) -> tuple[str, ...]:
        return self.columns[name](values)


def _split_key(key: str) -> tuple[str, str] | None:
    """``PushTask.12.Title`` -> ("12", "Title"); None when it is not ``PushTask.N.Name``."""
    index, _, name = key[len(PREFIX) :].partition(".")
    return (index, name) if is_digits(index) and index[0] != "0" and name else None


def _plan(keys: Sequence[str], max_items: int) -> Layout:
    """Group the keys; raise the API's error for keys that do not form tasks 1..N."""
    by_index: dict[str, tuple[list[str], list[int]]] = {}
    for position, key in enumerate(keys):
        if not key.startswith(PREFIX):
            continue
        split = _split_key(key)
        if split is None:
            raise invalid("PushTask", where=key)  # not PushTask.N.Name
        index, name = split
        names, positions = by_index.setdefault(index, ([], []))
        names.append(name)
        positions.append(position)
    if not by_index:
        raise missing("PushTask")
    indexes = sorted(int(i) for i in by_index)
    if len(indexes) > max_items or indexes[-1] > max_items:
        raise invalid("PushTask", "LengthExceed", str(max_items))
    if indexes != list(range(1, len(indexes) + 1)) or len(indexes) != len(by_index):
        raise invalid("PushTask")  # indexes must run 1, 2, 3 ... without gaps
    tasks = []
    by_name: dict[str, list[int]] = {}
    for i in indexes:
        names, positions = by_index[str(i)]
        tasks.append((tuple(names), _getter(positions)))
        for name, position in zip(names, positions, strict=True):
            by_name.setdefault(name, []).append(position)
    columns = {name: _getter(pos) for name, pos in by_name.items()}
    return Layout(tuple(tasks), columns, {name: len(pos) for name, pos in by_name.items()})


_layouts: dict[tuple[int | str, ...], Layout] = {}


def layout(keys: Sequence[str], max_items: int) -> Layout:
    """The plan for these keys (in this order), from the memo when seen before."""
    key = (max_items, *keys)
    found = _layouts.get(key)
    if found is None:
        found = _plan(keys, max_items)  # raises for bad layouts: those are never memoised
        if len(_layouts) >= _MAX_LAYOUTS:
            _layouts.clear()
        _layouts[key] = found
    return found
