"""Hostile and damaged plan files (issue 12, items 6 and 15): apply refuses every one with a
clear error naming the file, never a traceback, and sends nothing.

Each case takes the plan file ``pushops plan --out`` wrote and breaks it one way. Cases
marked "signed" re-sign the broken file with the real key (as pushops itself or someone
holding the credentials could), so what is tested is the structure check behind the MAC,
not the MAC.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson
import pytest
import zstandard
from plan.support import (
    AKID,
    CONFIG,
    SECRET,
    Project,
    base_env,
    emas_campaign,
    fanout_campaign,
    plan_records,
    write_plan_records,
)

from pushops.emulator import Emulator
from pushops.plan.planfile import plan_key

KEY = plan_key(AKID, SECRET, "staging")
Records = list[object]


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator(credentials={AKID: SECRET}) as emu:
        yield emu


@pytest.fixture
def project(tmp_path: Path, emulator: Emulator) -> Project:
    root = tmp_path / "repo"
    (root / "campaigns").mkdir(parents=True)
    (root / "pushops.yaml").write_text(CONFIG)
    env = {**base_env(emulator.url), "PUSHOPS_STATE_DSN": str(root / ".pushops" / "state.db")}
    project = Project(root, env).init_ledger()
    project.write("sale.yaml", emas_campaign())
    text, csv = fanout_campaign("offers", 250, "data/offers.csv")
    project.data("data/offers.csv", csv)
    project.write("offers.yaml", text)
    assert project.run("plan", "--out", "p.plan").exit_code == 0
    return project


def _header(edit: Callable[[dict[str, object]], None]) -> Callable[[Records], Records]:
    def change(records: Records) -> Records:
        edit(records[0])  # type: ignore[arg-type]
        return records

    return change


def _set(name: str, value: object) -> Callable[[dict[str, object]], None]:
    return lambda header: header.__setitem__(name, value)


DEEP = 100_000


def _deep(prefix: bytes = b"", depth: int = DEEP) -> bytes:
    """A JSON line nested ``depth`` deep (a raw line: no JSON library writes one)."""
    return prefix + b"[" * depth + b"]" * depth + (b"]" if prefix else b"")


def _first_call(edit: Callable[[list[object]], None]) -> Callable[[Records], Records]:
    def change(records: Records) -> Records:
        call = next(r for r in records if isinstance(r, list) and r[0] == "call")
        edit(call)
        return records

    return change


def _is(record: object, kind: str) -> bool:
    return isinstance(record, list) and bool(record) and record[0] == kind


def _sends(edit: Callable[[list[dict[str, object]]], None]) -> Callable[[Records], Records]:
    def change(records: Records) -> Records:
        edit(next(r for r in records if _is(r, "sends"))[1])  # type: ignore[index]
        return records

    return change


# (case, how the records change, signed with the real key?, what the error says)
RECORD_CASES = [
    ("created_at null", _header(_set("created_at", None)), True, "created_at is null, not a time"),
    (
        "created_at a number",
        _header(_set("created_at", 1767225600)),
        True,
        "created_at is a number, not a time",
    ),
    (
        "created_at not a time",
        _header(_set("created_at", "yesterday")),
        True,
        "created_at 'yesterday' is not a time",
    ),
    (
        "created_at without a zone",
        _header(_set("created_at", "2026-01-01T00:00:00")),
        True,
        "has no time zone",
    ),
    ("serial as text", _header(_set("serial", "7")), True, "serial is text, not an integer"),
    ("lineage a list", _header(_set("lineage", ["x"])), True, "lineage is a list, not text"),
    ("counts wrong", _header(_set("counts", {"send": -1})), True, "counts is not a count"),
    ("margin a string", _header(_set("margin_s", "5m")), True, "margin_s is text out of range"),
    ("sandbox a string", _header(_set("sandbox", "no")), True, "sandbox is text, not a boolean"),
    ("format version 99", _header(_set("format_version", 99)), True, "format version 99"),
    ("not a plan", lambda r: [{"hello": "world"}, *r[1:]], True, "is not a pushops plan file"),
    ("header deep", lambda r: [_deep(), *r[1:]], True, "the header is not JSON"),
    ("record deep", lambda r: [r[0], _deep(b'["held",'), *r[1:]], True, "is not JSON"),
    ("unknown record", lambda r: [r[0], ["surprise", 1], *r[1:]], True, "not a plan record"),
    (
        "call with a bad position",
        _first_call(lambda c: c[8][0].__setitem__(5, "1")),
        True,  # type: ignore[index]
        "a position is text, not an integer",
    ),
    (
        "call without deliveries",
        _first_call(lambda c: c.__setitem__(8, [])),
        True,
        "carries no deliveries",
    ),
    (
        "call with a number as body",
        _first_call(lambda c: c.__setitem__(7, 12)),
        True,
        "its body is a number, not text",
    ),
    ("call deep", lambda r: [r[0], _deep(b'["call",'), *r[1:]], True, "is not JSON"),
    (
        "end counts wrong",
        lambda r: [*r[:-2], ["end", {"calls": "x"}], r[-1]],
        True,
        "end record is missing",
    ),
    (
        "sends count as text",
        _sends(lambda items: items[0].__setitem__("deliveries", "250")),
        True,
        "a campaign's sends: deliveries is text, not an integer",
    ),
    (
        "sends not a list",
        lambda r: [["sends", "all"] if _is(x, "sends") else x for x in r],
        True,
        "its sends record has the wrong shape",
    ),
    ("unsigned", lambda r: [*r[:-1], ["mac", None]], False, "is not signed"),
    ("MAC of another key", lambda r: r, "other", "refusing"),
    ("MAC not text", lambda r: [*r[:-1], ["mac", 7]], False, "changed after"),
]


@pytest.mark.parametrize(
    ("change", "signed", "says"),
    [pytest.param(c, s, m, id=name) for name, c, s, m in RECORD_CASES],
)
def test_broken_plan_file_is_refused_before_anything_is_sent(
    project: Project,
    emulator: Emulator,
    change: Callable[[Records], Records],
    signed: object,
    says: str,
) -> None:
    path = project.root / "p.plan"
    records = change(plan_records(path))
    key = KEY if signed is True else hashlib.sha256(b"guess").digest() if signed else None
    write_plan_records(path, records, key=key)
    result = project.run("apply", "p.plan")
    assert result.exit_code == 1, result.output
    assert says in result.output, result.output
    assert "p.plan" in result.output and "Traceback" not in result.output
    assert emulator.deliveries() == []
    with project.open_ledger() as ledger:
        assert list(ledger.current_deliveries(with_request=False)) == []


def _truncate(data: bytes) -> bytes:
    return data[: len(data) // 2]


def _plain(data: bytes) -> bytes:
    return zstandard.ZstdDecompressor().stream_reader(data).read()


def _cut_lines(data: bytes) -> bytes:
    text = _plain(data)
    return zstandard.ZstdCompressor().compress(text[: text.rindex(b'["end"')])


def _no_newline(data: bytes) -> bytes:
    return zstandard.ZstdCompressor().compress(_plain(data).rstrip(b"\n"))


def _after_mac(data: bytes) -> bytes:
    return zstandard.ZstdCompressor().compress(_plain(data) + b'["call"]\n')


def _bomb(data: bytes) -> bytes:
    # A tiny file that would decompress to a 100 MiB first line.
    return zstandard.ZstdCompressor(level=19).compress(b" " * (100 * 2**20))


def _version_1(data: bytes) -> bytes:
    return orjson.dumps({"format": "pushops-plan", "format_version": 1, "plan": {}})


BYTE_CASES = [
    ("truncated", _truncate, "is truncated"),
    ("cut at a line", _cut_lines, "is truncated (its MAC line is missing)"),
    ("ends inside a record", _no_newline, "is truncated (it ends inside a record)"),
    ("more after the MAC", _after_mac, "there is more after its MAC"),
    ("empty", lambda data: b"", "is not a pushops plan file"),
    ("random bytes", lambda data: bytes(range(256)) * 4, "is not a pushops plan file"),
    ("a version 1 plan", _version_1, "a version 1 plan? make a new plan"),
    ("zstd bomb", _bomb, "a record is longer than 64 MiB"),
]


@pytest.mark.parametrize(
    ("change", "says"), [pytest.param(c, m, id=name) for name, c, m in BYTE_CASES]
)
def test_damaged_plan_file_is_refused_before_anything_is_sent(
    project: Project, emulator: Emulator, change: Callable[[bytes], bytes], says: str
) -> None:
    path = project.root / "p.plan"
    path.write_bytes(change(path.read_bytes()))
    result = project.run("apply", "p.plan")
    assert result.exit_code == 1, result.output
    assert says in result.output, result.output
    assert "p.plan" in result.output and "Traceback" not in result.output
    assert emulator.deliveries() == []


def test_intact_plan_file_is_applied(project: Project, emulator: Emulator) -> None:
    """The control for the cases above: the untouched file sends its 251 deliveries."""
    result = project.run("apply", "p.plan")
    assert result.exit_code == 0, result.output
    assert len(emulator.deliveries()) == 251


def test_a_version_2_plan_file_without_its_sends_is_listed_and_applied(
    project: Project, emulator: Emulator
) -> None:
    """Made by the pushops before the sends record: apply counts its sends from its calls."""
    path = project.root / "p.plan"
    records = plan_records(path)
    records[0]["format_version"] = 2  # type: ignore[index]
    write_plan_records(path, [r for r in records if not _is(r, "sends")], key=KEY)
    result = project.run("apply", "p.plan")
    assert result.exit_code == 0, result.output
    listed = [line.split() for line in result.output.splitlines()]
    assert ["offers", "250", "3", "at", "apply"] in listed
    assert ["sale", "1", "1", "at", "apply"] in listed
    assert ["total", "251", "4"] in listed
    assert len(emulator.deliveries()) == 251
