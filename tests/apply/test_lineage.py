"""The wrong ledger never looks like an empty one (issue 12.1), through the real CLI.

A DSN is a DSN whatever its spelling; a text that is neither a DSN nor plainly a SQLite file
is an error that creates nothing and shows no password; ``pushops.ledgers.yaml`` binds each
environment to its ledger's lineage, and plan and apply refuse any other ledger (a fresh
empty one included) unless ``--accept-lineage`` names it; a non-interactive run never creates
a ledger by itself. In every refused case the emulator received nothing.
"""

from __future__ import annotations

import os
import pty
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from plan.support import (
    CONFIG,
    PG_DSN,
    Project,
    backend_env,
    base_env,
    emas_campaign,
)

from pushops.emulator import Emulator
from pushops.ledger import open_ledger

BINDING = "pushops.ledgers.yaml"
REPO = Path(__file__).resolve().parents[2]


def files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def fresh(tmp_path: Path, env: dict[str, str], url: str) -> Project:
    root = tmp_path / "repo"
    (root / "campaigns").mkdir(parents=True, exist_ok=True)
    (root / "pushops.yaml").write_text(CONFIG)
    project = Project(root, {**base_env(url), **env})
    project.write("sale.yaml", emas_campaign())
    return project


@pytest.fixture
def sqlite_repo(tmp_path: Path, emulator: Emulator) -> Project:
    """A fresh repository: no ledger yet, no binding, the SQLite default of pushops.yaml."""
    return fresh(tmp_path, {"PUSHOPS_STATE_DSN": "", "PUSHOPS_STATE_SCHEMA": ""}, emulator.url)


@pytest.fixture
def pg_repo(tmp_path: Path, emulator: Emulator) -> Iterator[Project]:
    """A fresh repository whose ledger is a fresh PostgreSQL schema (dropped afterwards)."""
    for env in backend_env("postgres", tmp_path):
        yield fresh(tmp_path, env, emulator.url)


def schema_exists(name: str) -> bool:
    import psycopg

    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        row = conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (name,)).fetchone()
    return row is not None


# ---------------------------------------------------------------- DSN spellings


def spellings(dsn: str) -> dict[str, str]:
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    rest = dsn.split("://", 1)[1]
    return {
        "blanks": f"  {dsn} \n",
        "upper-case scheme": f"POSTGRESQL://{rest}",
        "postgres://": f"postgres://{rest}",
        "postgresql+psycopg://": f"postgresql+psycopg://{rest}",
        "libpq key=value": make_conninfo(**conninfo_to_dict(dsn)),
    }


@pytest.mark.postgres
def test_every_spelling_of_the_dsn_reaches_the_same_ledger_and_sends_nothing_again(
    pg_repo: Project, emulator: Emulator
) -> None:
    assert pg_repo.run("state", "init").exit_code == 0
    assert pg_repo.run("apply", "--auto-approve").exit_code == 0
    sent = len(emulator.deliveries())
    before = files(pg_repo.root)
    for name, dsn in spellings(PG_DSN).items():
        planned = pg_repo.run("plan", "--detailed-exitcode", env={"PUSHOPS_STATE_DSN": dsn})
        applied = pg_repo.run("apply", "--auto-approve", env={"PUSHOPS_STATE_DSN": dsn})
        assert planned.exit_code == 0, f"{name}: {planned.output}"
        assert "No changes." in applied.output, f"{name}: {applied.output}"
    assert len(emulator.deliveries()) == sent == 1
    assert files(pg_repo.root) == before  # no file named after a DSN


HOSTILE_TARGETS = [
    line
    for line in (REPO / "tests" / "hardening" / "corpus" / "ledger_targets.txt")
    .read_text()
    .splitlines()
    if line and not line.startswith("#")
]


@pytest.mark.parametrize("value", HOSTILE_TARGETS)
@pytest.mark.parametrize("command", ["plan", "apply"])
def test_an_ambiguous_or_broken_dsn_is_an_error_that_creates_nothing_and_shows_no_password(
    sqlite_repo: Project, emulator: Emulator, value: str, command: str
) -> None:
    before = files(sqlite_repo.root)
    args = [command, "--auto-approve"] if command == "apply" else [command]
    result = sqlite_repo.run(*args, env={"PUSHOPS_STATE_DSN": value})
    assert result.exit_code == 1
    assert "PUSHOPS_STATE_DSN" in result.output and "nothing was opened or created" in (
        result.output
    )
    for fragment in ("S3CRET", "S3C", "CRET", "%zz"):
        assert fragment not in result.output
    assert files(sqlite_repo.root) == before
    assert emulator.deliveries() == []


# ---------------------------------------------------------------- another ledger


@pytest.mark.postgres
@pytest.mark.parametrize("command", ["plan", "apply"])
def test_a_fresh_empty_schema_where_the_bound_one_was_expected_is_refused_and_left_alone(
    pg_repo: Project, emulator: Emulator, command: str
) -> None:
    assert pg_repo.run("state", "init").exit_code == 0
    assert pg_repo.run("apply", "--auto-approve").exit_code == 0
    wrong = f"pushops_wrong_{uuid.uuid4().hex[:10]}"
    args = [command, "--auto-approve"] if command == "apply" else [command]

    result = pg_repo.run(*args, env={"PUSHOPS_STATE_SCHEMA": wrong})

    assert result.exit_code == 1
    assert "no ledger at" in result.output and f"(schema {wrong}; from" in result.output
    assert "binds environment staging to ledger" in result.output
    assert "Nothing was created" in result.output
    assert not schema_exists(wrong)
    assert len(emulator.deliveries()) == 1  # the first apply's, nothing again


@pytest.mark.postgres
def test_an_empty_ledger_of_another_lineage_in_the_bound_place_is_refused(
    pg_repo: Project, emulator: Emulator
) -> None:
    assert pg_repo.run("state", "init").exit_code == 0
    bound = (pg_repo.root / BINDING).read_text()
    schema = pg_repo.env["PUSHOPS_STATE_SCHEMA"]
    with open_ledger(PG_DSN, schema=schema) as ledger:  # someone recreated the schema
        lineage = ledger.meta().lineage
    import psycopg

    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    with open_ledger(PG_DSN, schema=schema) as ledger:
        other = ledger.meta().lineage

    result = pg_repo.run("apply", "--auto-approve")

    assert result.exit_code == 1
    assert f"is lineage {other}, but {BINDING} binds environment staging to lineage {lineage}" in (
        result.output
    )
    assert emulator.deliveries() == []
    assert (pg_repo.root / BINDING).read_text() == bound


@pytest.mark.parametrize("command", ["plan", "apply"])
def test_a_copied_sqlite_ledger_of_another_lineage_is_refused(
    sqlite_repo: Project, emulator: Emulator, tmp_path: Path, command: str
) -> None:
    assert sqlite_repo.run("state", "init").exit_code == 0
    mine = sqlite_repo.root / ".pushops" / "state.db"
    with open_ledger(mine) as ledger:
        lineage = ledger.meta().lineage
    with open_ledger(tmp_path / "elsewhere" / "state.db") as ledger:
        other = ledger.meta().lineage
    for suffix in ("", "-wal", "-shm"):
        Path(f"{mine}{suffix}").unlink(missing_ok=True)
    shutil.copy(tmp_path / "elsewhere" / "state.db", mine)
    args = [command, "--auto-approve"] if command == "apply" else [command]

    result = sqlite_repo.run(*args)

    assert result.exit_code == 1
    assert f"is lineage {other}" in result.output and f"lineage {lineage}" in result.output
    assert f"--accept-lineage {other}" in result.output
    assert emulator.deliveries() == []


def test_accept_lineage_naming_the_other_ledger_lets_it_be_used_and_init_rebinds(
    sqlite_repo: Project, emulator: Emulator, tmp_path: Path
) -> None:
    assert sqlite_repo.run("state", "init").exit_code == 0
    other_path = tmp_path / "other.db"
    with open_ledger(other_path) as ledger:
        other = ledger.meta().lineage
    env = {"PUSHOPS_STATE_DSN": str(other_path)}

    wrong = sqlite_repo.run("apply", "--auto-approve", "--accept-lineage", "not-it", env=env)
    applied = sqlite_repo.run("apply", "--auto-approve", "--accept-lineage", other, env=env)
    refused_init = sqlite_repo.run("state", "init", env=env)
    rebound = sqlite_repo.run("state", "init", "--accept-lineage", other, env=env)
    planned = sqlite_repo.run("plan", "--detailed-exitcode", env=env)

    assert wrong.exit_code == 1 and "names neither" in wrong.output
    assert applied.exit_code == 0, applied.output
    assert f"Using ledger {other} for staging, not the bound" in applied.output
    assert refused_init.exit_code == 1 and "Nothing was changed" in refused_init.output
    assert rebound.exit_code == 0 and f"Bound staging to ledger {other}" in rebound.output
    assert planned.exit_code == 0 and "not the bound" not in planned.output
    assert len(emulator.deliveries()) == 1


# ---------------------------------------------------------------- no ledger at all


@pytest.mark.parametrize(
    "ci", [{"CI": "true"}, {"GITHUB_ACTIONS": "true", "CI": ""}, {"CI": ""}], ids=str
)
def test_a_non_interactive_apply_never_creates_a_ledger(
    sqlite_repo: Project, emulator: Emulator, ci: dict[str, str]
) -> None:
    result = sqlite_repo.run("apply", "--auto-approve", env=ci)
    assert result.exit_code == 1
    assert "never creates a ledger" in result.output
    assert "pushops state init --env staging" in result.output
    assert not (sqlite_repo.root / ".pushops").exists()
    assert emulator.deliveries() == []


@pytest.mark.postgres
def test_ci_apply_with_a_dsn_naming_a_fresh_database_creates_nothing(
    pg_repo: Project, emulator: Emulator
) -> None:
    schema = pg_repo.env["PUSHOPS_STATE_SCHEMA"]
    result = pg_repo.run("apply", "--auto-approve", env={"CI": "true"})
    assert result.exit_code == 1 and "never creates a ledger" in result.output
    assert not schema_exists(schema)
    assert emulator.deliveries() == []


def test_ci_apply_refuses_an_empty_ledger_no_environment_is_bound_to(
    sqlite_repo: Project, emulator: Emulator
) -> None:
    with open_ledger(sqlite_repo.root / ".pushops" / "state.db") as ledger:
        lineage = ledger.meta().lineage  # made by hand, or by an older pushops's plan
    result = sqlite_repo.run("apply", "--auto-approve", env={"CI": "true"})
    assert result.exit_code == 1
    assert f"(lineage {lineage}) is empty" in result.output
    assert emulator.deliveries() == []


def test_accept_lineage_new_lets_a_non_interactive_apply_start_a_ledger(
    sqlite_repo: Project, emulator: Emulator
) -> None:
    result = sqlite_repo.run("apply", "--auto-approve", "--accept-lineage", "new")
    assert result.exit_code == 0, result.output
    assert "Created a new, empty ledger" in result.output
    assert "not bound to a ledger" in result.output  # and says how to bind it
    assert len(emulator.deliveries()) == 1


def test_an_unbound_ledger_with_records_is_used_with_a_warning(
    sqlite_repo: Project, emulator: Emulator
) -> None:
    assert sqlite_repo.run("apply", "--auto-approve", "--accept-lineage", "new").exit_code == 0
    result = sqlite_repo.run("plan", env={"CI": "true"})
    assert result.exit_code == 0
    assert "Warning: environment staging is not bound to a ledger" in result.output


def run_on_a_terminal(root: Path, env: dict[str, str], *args: str) -> tuple[int, str]:
    """``pushops ARGS`` with a pseudo-terminal as stdin, as a person at a shell runs it."""
    leader, follower = pty.openpty()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "pushops", *args],
            cwd=root, env=env, stdin=follower, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    finally:
        os.close(follower)
        os.close(leader)
    return done.returncode, done.stdout + done.stderr


def test_the_first_local_run_at_a_terminal_creates_the_local_ledger_by_itself(
    sqlite_repo: Project, emulator: Emulator
) -> None:
    env = {**os.environ, **sqlite_repo.env, "CI": "", "GITHUB_ACTIONS": ""}
    code, output = run_on_a_terminal(sqlite_repo.root, env, "apply", "--auto-approve")
    assert code == 0, output
    assert "Created a new, empty ledger at" in output
    assert (sqlite_repo.root / ".pushops" / "state.db").is_file()
    assert len(emulator.deliveries()) == 1


def test_at_a_terminal_a_bound_but_missing_ledger_is_still_refused(
    sqlite_repo: Project, emulator: Emulator
) -> None:
    assert sqlite_repo.run("state", "init").exit_code == 0
    shutil.rmtree(sqlite_repo.root / ".pushops")
    env = {**os.environ, **sqlite_repo.env, "CI": "", "GITHUB_ACTIONS": ""}
    code, output = run_on_a_terminal(sqlite_repo.root, env, "apply", "--auto-approve")
    assert code == 1
    assert "binds environment staging to ledger" in output
    assert "--accept-lineage new" in output
    assert not (sqlite_repo.root / ".pushops").exists()
    assert emulator.deliveries() == []


def test_the_readme_sandbox_line_works_on_a_fresh_clone_in_ci(tmp_path: Path) -> None:
    for name in ("pushops.yaml", "campaigns", "data"):
        source = REPO / name
        target = tmp_path / name
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copy(source, target)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PUSHOPS_")}
    env["CI"] = "true"
    line = "pushops plan --sandbox && pushops apply --sandbox --auto-approve"
    pushops = f"{sys.executable} -m pushops"
    first = subprocess.run(
        ["bash", "-c", line.replace("pushops ", f"{pushops} ")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    again = subprocess.run(
        [*pushops.split(), "apply", "--sandbox", "--auto-approve"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert first.returncode == 0, first.stdout + first.stderr
    assert "No changes. Nothing to apply." in again.stdout
    assert not (tmp_path / BINDING).exists()


# ---------------------------------------------------------------- state init


def test_state_init_creates_binds_and_a_second_run_only_confirms(sqlite_repo: Project) -> None:
    first = sqlite_repo.run("state", "init", "--env", "staging", "--env", "production")
    second = sqlite_repo.run("state", "init", "--env", "production")
    with open_ledger(sqlite_repo.root / ".pushops" / "state.db") as ledger:
        lineage = ledger.meta().lineage
    assert first.exit_code == 0 and "Created a new ledger at" in first.output
    assert f"Bound staging, production to ledger {lineage}" in first.output
    assert second.exit_code == 0 and "already bound" in second.output
    text = (sqlite_repo.root / BINDING).read_text()
    assert f'"staging": "{lineage}"' in text and f'"production": "{lineage}"' in text


def test_state_init_refuses_to_replace_a_bound_ledger_that_went_missing(
    sqlite_repo: Project,
) -> None:
    assert sqlite_repo.run("state", "init").exit_code == 0
    shutil.rmtree(sqlite_repo.root / ".pushops")
    refused = sqlite_repo.run("state", "init")
    assert refused.exit_code == 1 and "Nothing was created" in refused.output
    assert not (sqlite_repo.root / ".pushops").exists()
    replaced = sqlite_repo.run("state", "init", "--accept-lineage", "new")
    assert replaced.exit_code == 0 and "Created a new ledger" in replaced.output


def test_a_broken_binding_file_is_a_located_error(sqlite_repo: Project) -> None:
    (sqlite_repo.root / BINDING).write_text("version: 1\nenvironments:\n  staging: [1, 2]\n")
    result = sqlite_repo.run("plan")
    assert result.exit_code == 1
    assert f"{BINDING}:3:" in result.output and "[state.binding]" in result.output


def test_without_a_server_the_first_failure_reads_cannot_reach_the_ledger(
    sqlite_repo: Project,
) -> None:
    dsn = "postgresql://pushops:S3CRET@127.0.0.1:9/ledger?connect_timeout=2"
    result = sqlite_repo.run("plan", env={"PUSHOPS_STATE_DSN": dsn})
    assert result.exit_code == 1
    assert "cannot reach the ledger at" in result.output and "went away" not in result.output
    assert "S3CRET" not in result.output
