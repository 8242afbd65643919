"""A ledger whose values were damaged (by hand, by a disk) is a clear error naming what, never
a traceback, from every command that reads it (issue 12.17). The cases are the corpus file
tests/hardening/corpus/ledger_damage.sql, run on both backends through the real CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from plan.conftest import emulator, project, sqlite_project
from plan.support import Project, emas_campaign

__all__ = ["emulator", "project", "sqlite_project"]  # the fixtures, on both backends

CORPUS = Path(__file__).parent / "corpus" / "ledger_damage.sql"
KEY = "staging/sale/r1/android"
COMMANDS = [
    ("plan",),
    ("apply", "--auto-approve"),
    ("state", "list"),
    ("state", "show", KEY),
    ("state", "export"),
]


def cases() -> list[tuple[bool, str]]:
    found = []
    for line in CORPUS.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("--"):
            sqlite_only = line.startswith("sqlite: ")
            found.append((sqlite_only, line.removeprefix("sqlite: ")))
    return found


def damage(project: Project, statement: str) -> None:
    import sqlite3

    if project.env.get("PUSHOPS_STATE_SCHEMA"):
        import psycopg

        with psycopg.connect(project.env["PUSHOPS_STATE_DSN"], autocommit=True) as conn:
            conn.execute(f'SET search_path TO "{project.env["PUSHOPS_STATE_SCHEMA"]}"')
            conn.execute(statement)
        return
    conn = sqlite3.connect(project.env["PUSHOPS_STATE_DSN"])
    conn.execute(statement)
    conn.commit()
    conn.close()


@pytest.mark.parametrize(("sqlite_only", "statement"), cases(), ids=[c[1] for c in cases()])
def test_a_damaged_value_is_a_clear_error_from_every_command_that_reads_it(
    project: Project, sqlite_only: bool, statement: str
) -> None:
    if sqlite_only and project.env.get("PUSHOPS_STATE_SCHEMA"):
        pytest.skip("PostgreSQL's column types refuse this value")
    project.write("sale.yaml", emas_campaign())
    assert project.run("apply", "--auto-approve").exit_code == 0
    damage(project, statement)

    reported = 0
    for command in COMMANDS:
        result = project.run(*command)
        assert "Traceback" not in result.output, (command, result.output)
        assert result.exit_code in (0, 1), (command, result.output)
        if result.exit_code == 1:
            assert "is damaged:" in result.output, (command, result.output)
            assert "nothing was written" in result.output
            reported += 1
    assert reported >= 1  # at least the commands that read that value said so


def test_a_damaged_serial_names_the_value_and_what_it_should_be(sqlite_project: Project) -> None:
    sqlite_project.write("sale.yaml", emas_campaign())
    damage(sqlite_project, "UPDATE meta SET serial = 'abc'")
    result = sqlite_project.run("plan")
    assert result.exit_code == 1
    assert "is damaged: meta.serial holds 'abc', not a whole number" in result.output
