"""`pushops state import` of a hostile or broken export (issue 12.16): a clear error naming the
line, nothing imported, and no ledger created when there was none; on both backends, through
the real CLI. Each case is a small edit of a real export."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from pushops.cli import cli
from pushops.ledger import open_ledger
from tests.ledger.conftest import _pg_target
from tests.ledger.support import Target, sent

Lines = list[bytes]


def header(edit: Callable[[dict[str, object]], None]) -> Callable[[Lines], Lines]:
    def apply(lines: Lines) -> Lines:
        head = json.loads(lines[0])
        edit(head)
        return [json.dumps(head).encode() + b"\n", *lines[1:]]

    return apply


def record(line: int, field: str, value: object) -> Callable[[Lines], Lines]:
    def apply(lines: Lines) -> Lines:
        obj = json.loads(lines[line])
        obj[field] = value
        return [*lines[:line], json.dumps(obj).encode() + b"\n", *lines[line + 1 :]]

    return apply


def raw(line: int, text: bytes) -> Callable[[Lines], Lines]:
    return lambda lines: [*lines[:line], text, *lines[line + 1 :]]


def nested(depth: int) -> object:
    value: object = "x"
    for _ in range(depth):
        value = [value]
    return value


CASES: dict[str, tuple[Callable[[Lines], Lines], str]] = {
    "invalid UTF-8": (
        raw(1, b'{"kind": "call", "call_id": "\xff\xfe"}\n'),
        "line 2: not UTF-8 text",
    ),
    "5,000-digit serial": (
        raw(
            0, b'{"kind": "pushops-ledger", "format_version": 1, "serial": ' + b"9" * 5000 + b"}\n"
        ),
        "line 1: not JSON: a number with too many digits",
    ),
    "header without lineage": (header(lambda h: h.pop("lineage")), "the header has no lineage"),
    "header with a list for a lineage": (
        header(lambda h: h.update(lineage=["x"])),
        "a lineage that is not an id",
    ),
    "serial past 64 bits": (header(lambda h: h.update(serial=2**64)), "a serial that is not"),
    "deep JSON line": (
        raw(1, b"[" * 100_000 + b"]" * 100_000 + b"\n"),
        "line 2: JSON nested too deeply",
    ),
    "deep request": (record(1, "request", nested(200)), "nested deeper than 64 levels"),
    "attempts past 32 bits": (record(1, "attempts", 2**40), "field 'attempts' is out of range"),
    "NUL in a text field": (record(1, "app", "sh\u0000op"), "field 'app' holds a NUL"),
    "key too long for the ledger": (record(2, "key", "k" * 5000), "field 'key' is 5,000 bytes"),
    "status nobody knows": (record(2, "status", "gone"), "field 'status' is not one of"),
    "a time that is not one": (record(1, "created_at", "yesterday"), "not an ISO 8601 time"),
    "not an export": (raw(0, b"hello\n"), "line 1: not JSON"),
    "empty": (lambda lines: [], "the export is empty"),
}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def fresh_target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    """Where the import goes: nothing there yet."""
    if request.param == "sqlite":
        yield Target("sqlite", str(tmp_path / "imported" / "state.db"))
    else:
        yield from _pg_target()


@pytest.fixture
def export(tmp_path: Path) -> Lines:
    with open_ledger(tmp_path / "source.db") as ledger:
        sent(ledger, "c1", "a", "b")
        return [line.encode() for line in ledger.export()]


def ledger_exists(target: Target) -> bool:
    if target.kind == "sqlite":
        return Path(target.location).exists()
    import psycopg

    with psycopg.connect(target.location) as conn:
        row = conn.execute(
            "SELECT 1 FROM pg_namespace WHERE nspname = %s", (target.schema,)
        ).fetchone()
    return row is not None


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_hostile_export_is_a_clear_error_and_nothing_is_imported(
    tmp_path: Path, export: Lines, fresh_target: Target, case: str
) -> None:
    mutate, expected = CASES[case]
    path = tmp_path / "export.jsonl"
    path.write_bytes(b"".join(mutate(export)))
    args = ["state", "import", str(path), "--state", fresh_target.location]
    args += ["--schema", fresh_target.schema] if fresh_target.schema else []

    result = CliRunner().invoke(cli, args)

    assert result.exit_code == 1, result.output
    assert ("Traceback" not in result.output and result.exception is None) or isinstance(
        result.exception, SystemExit
    )
    assert expected in result.output
    if ledger_exists(fresh_target):  # a bad line after a good header: the ledger stays empty
        with fresh_target.open() as ledger:
            assert ledger.meta().serial == 0
            assert list(ledger.current_deliveries()) == []


def test_a_header_that_is_refused_creates_no_ledger(tmp_path: Path, export: Lines) -> None:
    path = tmp_path / "export.jsonl"
    path.write_bytes(b"".join(header(lambda h: h.pop("lineage"))(export)))
    target = tmp_path / "new" / "state.db"
    result = CliRunner().invoke(cli, ["state", "import", str(path), "--state", str(target)])
    assert result.exit_code == 1
    assert not target.parent.exists()


def test_the_real_export_imports(tmp_path: Path, export: Lines, fresh_target: Target) -> None:
    path = tmp_path / "export.jsonl"
    path.write_bytes(b"".join(export))
    args = ["state", "import", str(path), "--state", fresh_target.location]
    args += ["--schema", fresh_target.schema] if fresh_target.schema else []
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    with fresh_target.open() as ledger:
        assert len(list(ledger.current_deliveries())) == 2


def test_every_field_an_export_carries_is_checked_on_import() -> None:
    from pushops.ledger import exchange

    for kind, columns in exchange._COLUMNS.items():
        # Exported under their own names: a delivery's is_current as current, an event's
        # kind as event (the line's own kind is the record type).
        renamed = {"delivery": exchange._DELIVERY_FIELDS, "event": exchange._EVENT_FIELDS}
        exported = renamed.get(kind, columns)
        assert set(exchange._CHECKS[kind]) == set(exported), kind
