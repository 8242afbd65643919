"""The PostgreSQL roles of docs/state.md work as written (issues 13.4 and 19.5).

The SQL block of docs/state.md is run as it stands on a fresh database (only the role names
are made unique, since roles are shared by the whole server); then, as a team does, the
apply role creates the ledger with `pushops state init`, the read-only role plans and the
apply role applies. Before the ledger exists, a read-only plan says so, rather than failing
on a CREATE SCHEMA in a read-only transaction.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from plan.support import CONFIG, PG_DSN, Project, base_env, emas_campaign, skip_without_pg

from pushops.cli import cli
from pushops.emulator import Emulator
from pushops.ledger.roles import setup_sql

DOCS = Path(__file__).resolve().parents[2] / "docs" / "state.md"


def documented_sql() -> str:
    text = DOCS.read_text(encoding="utf-8")
    section = text[text.index("## Roles for PostgreSQL") :]
    match = re.search(r"```sql\n(.*?)```", section, re.S)
    assert match, "docs/state.md has no sql block under Roles for PostgreSQL"
    return match.group(1)


def test_the_documented_sql_is_what_state_init_sql_prints() -> None:
    printed = CliRunner().invoke(cli, ["state", "init", "--sql"])
    assert printed.exit_code == 0
    assert documented_sql() == printed.stdout == setup_sql()


def test_state_init_sql_quotes_an_unusual_schema_name() -> None:
    printed = CliRunner().invoke(cli, ["state", "init", "--sql", "--schema", "Push Ops"])
    assert 'CREATE SCHEMA "Push Ops" AUTHORIZATION pushops_apply;' in printed.stdout


@pytest.fixture
def database() -> Iterator[dict[str, str]]:
    """A fresh database and the documented roles, uniquely named; all dropped afterwards."""
    skip_without_pg()
    import psycopg
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    tag = uuid.uuid4().hex[:10]
    name, apply_role, plan_role = f"pushops_roles_{tag}", f"apply_{tag}", f"plan_{tag}"
    sql = documented_sql().replace("pushops_apply", apply_role).replace("pushops_plan", plan_role)
    parts = conninfo_to_dict(PG_DSN)
    with psycopg.connect(PG_DSN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        with psycopg.connect(make_conninfo(**{**parts, "dbname": name}), autocommit=True) as db:
            db.execute(sql)  # the documented statements, verbatim but for the role names

        def dsn(role: str, password: str) -> str:
            return make_conninfo(**{**parts, "dbname": name, "user": role, "password": password})

        yield {"apply": dsn(apply_role, "change-me"), "plan": dsn(plan_role, "change-me-too")}
    finally:
        with psycopg.connect(PG_DSN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'DROP ROLE IF EXISTS "{apply_role}"')
            admin.execute(f'DROP ROLE IF EXISTS "{plan_role}"')


def _repo(tmp_path: Path, emulator: Emulator) -> Project:
    """A fresh push repository with one campaign, run as CI runs it."""
    root = tmp_path / "repo"
    (root / "campaigns").mkdir(parents=True)
    (root / "pushops.yaml").write_text(CONFIG)
    project = Project(root, {**base_env(emulator.url), "PUSHOPS_STATE_SCHEMA": "", "CI": "true"})
    project.write("sale.yaml", emas_campaign())
    return project


@pytest.mark.postgres
def test_plan_with_the_read_only_role_and_apply_with_the_other_as_documented(
    tmp_path: Path, emulator: Emulator, database: dict[str, str]
) -> None:
    project = _repo(tmp_path, emulator)
    as_plan = {"PUSHOPS_STATE_DSN": database["plan"]}
    as_apply = {"PUSHOPS_STATE_DSN": database["apply"]}

    before_init = project.run("plan", env=as_plan)
    init = project.run("state", "init", env=as_apply)
    planned = project.run("plan", "--detailed-exitcode", env=as_plan)
    binds_read_only = project.run("state", "init", "--env", "production", env=as_plan)
    applied = project.run("apply", "--auto-approve", env=as_apply)
    again = project.run("plan", "--detailed-exitcode", env=as_plan)

    assert before_init.exit_code == 1
    assert "no ledger at" in before_init.output and "pushops state init" in before_init.output
    assert "CREATE SCHEMA" not in before_init.output
    assert init.exit_code == 0, init.output
    assert planned.exit_code == 2, planned.output  # changes: one send
    assert "+ send" in planned.output
    assert applied.exit_code == 0, applied.output
    assert len(emulator.deliveries()) == 1
    assert again.exit_code == 0 and "No changes." in again.output
    assert binds_read_only.exit_code == 0  # the binding is a file; the ledger is only read
    rm = project.run("state", "rm", "staging/sale/r1/android", "--yes", env=as_plan)
    assert rm.exit_code == 1 and "this role may not do that" in rm.output


def _schema_versions(dsn: str) -> list[int]:
    import psycopg

    with psycopg.connect(dsn) as conn:
        rows = conn.execute("SELECT version FROM pushops.schema_version ORDER BY 1").fetchall()
    return [r[0] for r in rows]


@pytest.mark.postgres
def test_a_read_only_role_plans_on_an_older_ledger_and_only_a_writer_migrates_it(
    tmp_path: Path,
    emulator: Emulator,
    database: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pushops.ledger import migrations

    project = _repo(tmp_path, emulator)
    as_plan = {"PUSHOPS_STATE_DSN": database["plan"]}
    as_apply = {"PUSHOPS_STATE_DSN": database["apply"]}
    latest = migrations.latest_version()
    with monkeypatch.context() as older_pushops:  # the team's ledger, made by the first pushops
        older_pushops.setattr(migrations, "MIGRATIONS", [migrations.INITIAL])
        assert project.run("state", "init", env=as_apply).exit_code == 0
        assert project.run("apply", "--auto-approve", env=as_apply).exit_code == 0

    planned = project.run("plan", "--detailed-exitcode", env=as_plan)
    listed = project.run("state", "list", env=as_plan)
    refused = project.run("state", "migrate", env=as_plan)
    printed = project.run("state", "migrate", "--sql", env=as_plan)
    versions_after_readers = _schema_versions(database["apply"])
    migrated = project.run("state", "migrate", env=as_apply)
    again = project.run("plan", "--detailed-exitcode", env=as_plan)

    notice = f"ledger schema 1, this pushops knows {latest}: the next apply (or `pushops state"
    assert planned.exit_code == 0, planned.output
    assert "No changes." in planned.output and planned.output.count(notice) == 1
    assert listed.exit_code == 0 and "staging/sale/r1/android" in listed.output
    assert listed.output.count(notice) == 1
    assert refused.exit_code == 1 and "Traceback" not in refused.output
    assert "this role may not do that" in refused.output
    assert printed.exit_code == 0
    assert "CREATE TABLE policy_overrides" in printed.stdout
    assert "SET LOCAL search_path TO pushops;" in printed.stdout
    assert versions_after_readers == [1]  # the readers wrote nothing
    assert migrated.exit_code == 0, migrated.output
    assert f"from schema version 1 to {latest}" in migrated.output
    assert _schema_versions(database["apply"]) == list(range(1, latest + 1))
    assert again.exit_code == 0 and "No changes." in again.output
    assert notice not in again.output
    assert len(emulator.deliveries()) == 1


@pytest.mark.postgres
def test_a_ledger_newer_than_this_pushops_is_refused_and_left_untouched(
    tmp_path: Path, emulator: Emulator, database: dict[str, str]
) -> None:
    import psycopg

    project = _repo(tmp_path, emulator)
    assert project.run("state", "init", env={"PUSHOPS_STATE_DSN": database["apply"]}).exit_code == 0
    with psycopg.connect(database["apply"], autocommit=True) as conn:
        conn.execute("INSERT INTO pushops.schema_version VALUES (99, '2030-01-01')")
    before = _schema_versions(database["apply"])

    results = [
        project.run(*args, env={"PUSHOPS_STATE_DSN": database[role]})
        for args, role in [
            (("plan",), "plan"),
            (("apply", "--auto-approve"), "apply"),
            (("state", "migrate"), "apply"),
        ]
    ]

    for result in results:
        assert result.exit_code == 1, result.output
        assert "schema version 99, newer than version" in result.output
        assert "upgrade pushops (nothing was changed)" in result.output
    assert _schema_versions(database["apply"]) == before
    assert emulator.deliveries() == []
