"""pushops state export/import between backends, the ledger lock, and where the ledger is."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from pushops.ledger import open_ledger
from tests.ledger.support import FUTURE, Holder, Target, call, delivery, key, pending, sent

from .conftest import State


def populate(state: State) -> None:
    with state.open() as ledger:
        sent(ledger, "c1", "a", "b")
        ledger.record_pending(
            call("c2", request={"z": 1.5, "a": ["ü", None, True]}),
            [delivery("later", due_at=FUTURE, expires_at=FUTURE)],
        )
        ledger.record_sent("c2", {0: "m-later"}, {"MessageIds": ["m-later"]}, "r")
        ledger.mark_cancelled(key("later"), actor="alice", cancel_call_id="c1")
        pending(ledger, "c3", "later")
        pending(ledger, "c4", "lost")
        ledger.record_unknown("c4")


def test_export_from_sqlite_import_into_postgresql_and_back_is_lossless(
    sqlite_state: State, pg_state: State, tmp_path: Path
) -> None:
    populate(sqlite_state)
    original = sqlite_state.run("export")
    assert original.exit_code == 0, original.output
    (tmp_path / "one.jsonl").write_text(original.stdout, encoding="utf-8")

    into_pg = pg_state.run("import", str(tmp_path / "one.jsonl"))
    assert into_pg.exit_code == 0, into_pg.output
    assert pg_state.run("export", str(tmp_path / "two.jsonl")).exit_code == 0
    assert (tmp_path / "two.jsonl").read_text(encoding="utf-8") == original.stdout

    back = State(Target("sqlite", str(tmp_path / "back.db")), tmp_path)
    assert back.run("import", "-", input=original.stdout).exit_code == 0
    assert back.run("export").stdout == original.stdout
    listed = [s.run("list", "--format", "json").stdout for s in (sqlite_state, pg_state, back)]
    shapes = [{k: v for k, v in json.loads(t).items() if k != "ledger"} for t in listed]
    assert shapes[0] == shapes[1] == shapes[2]


def test_import_refuses_a_ledger_that_is_not_empty(state: State, tmp_path: Path) -> None:
    populate(state)
    dump = tmp_path / "dump.jsonl"
    assert state.run("export", str(dump)).exit_code == 0
    result = state.run("import", str(dump))
    assert result.exit_code == 1 and "import only into an empty ledger" in result.stderr


def test_import_of_a_truncated_export_imports_nothing(state: State, tmp_path: Path) -> None:
    with open_ledger(tmp_path / "source.db") as source:
        sent(source, "c1", "a")
        lines = list(source.export())
    cut = tmp_path / "cut.jsonl"
    cut.write_text("".join(lines[:-1]), encoding="utf-8")
    result = state.run("import", str(cut))
    assert result.exit_code == 1 and "truncated" in result.stderr
    assert "no deliveries" in state.run("list").stdout


def test_missing_files_are_clear_errors(state: State, tmp_path: Path) -> None:
    result = state.run("import", str(tmp_path / "absent.jsonl"))
    assert result.exit_code == 1 and "absent.jsonl" in result.stderr
    result = state.run("export", str(tmp_path / "no-such-dir" / "out.jsonl"))
    assert result.exit_code == 1 and "Traceback" not in result.output


def test_a_held_lock_is_reported_with_its_details(state: State) -> None:
    holder = Holder(state.target, operation="apply")
    try:
        text = state.run("lock")
        assert text.exit_code == 0, text.output
        for detail in (holder.lock_id, "holder-process", "apply", "held"):
            assert detail in text.stdout
        (shown,) = json.loads(state.run("list", "--locks", "--format", "json").stdout)["locks"]
        assert (shown["lock_id"], shown["holder"], shown["operation"], shown["stale"]) == (
            holder.lock_id,
            "holder-process",
            "apply",
            False,
        )
        assert shown["started_at"].endswith("Z") and shown["pid"] == holder.proc.pid
    finally:
        holder.kill()


def test_a_writing_subcommand_fails_at_once_naming_the_holder(state: State) -> None:
    with state.open() as ledger:
        sent(ledger, "c1", "a")
    holder = Holder(state.target, operation="apply")
    try:
        started = time.monotonic()
        result = state.run("rm", key("a"), "--yes")
        assert time.monotonic() - started < 5
        assert result.exit_code == 1
        assert holder.lock_id in result.stderr and "holder-process" in result.stderr
        assert "--lock-timeout" in result.stderr
    finally:
        holder.kill()
    with state.open() as ledger:
        assert ledger.get(key("a")) is not None


def test_a_writing_subcommand_waits_up_to_the_lock_timeout(state: State) -> None:
    with state.open() as ledger:
        pending(ledger, "c1", "a")
    holder = Holder(state.target, hold_s=0.5)
    try:
        result = state.run("resolve", key("a"), "--sent", "--lock-timeout", "20")
        assert result.exit_code == 0, result.output
    finally:
        holder.kill()


def test_unlock_releases_a_dead_holders_lock_and_says_what_it_was(state: State) -> None:
    holder = Holder(state.target, operation="apply")
    holder.kill()
    result = state.run("unlock", holder.lock_id)
    assert result.exit_code == 0, result.output
    assert f"released a stale lock of a holder that is gone: lock {holder.lock_id}" in (
        result.stdout
    )
    assert "no ledger lock is held" in state.run("lock").stdout


def test_unlock_refuses_a_live_holders_lock_without_force_and_says_who_holds_it(
    state: State,
) -> None:
    with state.open() as ledger:
        sent(ledger, "c1", "a")
    holder = Holder(state.target, operation="apply")
    try:
        result = state.run("unlock", holder.lock_id)
        assert result.exit_code == 1
        assert f"lock {holder.lock_id} held by" in result.stderr
        assert "'apply'" in result.stderr and "is live" in result.stderr
        assert "--force" in result.stderr
        assert [i.lock_id for i in state.open().lock_info()] == [holder.lock_id]
        assert holder.proc.poll() is None  # the holder runs on, untouched
    finally:
        holder.kill()


@pytest.mark.postgres
def test_unlock_force_frees_a_live_holders_lock_on_postgresql(pg_state: State) -> None:
    with pg_state.open() as ledger:
        sent(ledger, "c1", "a")
    holder = Holder(pg_state.target, operation="apply")
    try:
        result = pg_state.run("unlock", holder.lock_id, "--force")
        assert result.exit_code == 0 and "released a live lock" in result.stdout
        assert pg_state.run("rm", key("a"), "--yes", "--lock-timeout", "5").exit_code == 0
    finally:
        holder.kill()


def test_unlock_of_an_unknown_lock_is_a_clear_error(state: State) -> None:
    result = state.run("unlock", "no-such-lock")
    assert result.exit_code == 1 and "no ledger lock no-such-lock" in result.stderr


# ---------------------------------------------------------------- which ledger


def _config(root: Path, state_block: str = "") -> None:
    (root / "pushops.yaml").write_text(
        "environments:\n  production:\n    apps:\n      shop: {provider: emas, app_key: 1}\n"
        + state_block,
        encoding="utf-8",
    )


def _run(*args: str) -> str:
    from click.testing import CliRunner

    from pushops.cli import cli

    result = CliRunner().invoke(cli, ["state", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_the_default_ledger_is_under_the_repo_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PUSHOPS_STATE_DSN", raising=False)
    _config(tmp_path)
    with open_ledger(tmp_path / ".pushops" / "state.db") as ledger:
        sent(ledger, "c1", "a")
    (tmp_path / "campaigns").mkdir()
    monkeypatch.chdir(tmp_path / "campaigns")  # found from a subfolder too
    assert key("a") in _run("list")


def test_the_config_names_the_ledger_and_state_overrides_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PUSHOPS_STATE_DSN", raising=False)
    monkeypatch.chdir(tmp_path)
    _config(tmp_path, "state:\n  path: ledgers/team.db\n")
    with open_ledger(tmp_path / "ledgers" / "team.db") as ledger:
        sent(ledger, "c1", "configured")
    with open_ledger(tmp_path / "other.db") as ledger:
        sent(ledger, "c1", "overridden")
    assert key("configured") in _run("list")
    assert key("overridden") in _run("list", "--state", str(tmp_path / "other.db"))


def test_the_environment_dsn_wins_over_the_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    _config(tmp_path, "state:\n  path: ledgers/team.db\n")
    # A path in PUSHOPS_STATE_DSN is a SQLite file: it still wins over the config.
    monkeypatch.setenv("PUSHOPS_STATE_DSN", str(tmp_path / "from-env.db"))
    with open_ledger(tmp_path / "from-env.db") as ledger:
        sent(ledger, "c1", "env")
    assert key("env") in _run("list")


def test_a_damaged_ledger_file_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"this is not a database" * 100)
    from click.testing import CliRunner

    from pushops.cli import cli

    result = CliRunner().invoke(cli, ["state", "list", "--state", str(bad)])
    assert result.exit_code == 1
    assert "Error:" in result.stderr and "Traceback" not in result.output
