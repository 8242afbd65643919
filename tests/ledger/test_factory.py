"""Choosing and locating the ledger from a target, the environment, or the default."""

from __future__ import annotations

from pathlib import Path

import pytest

from pushops.ledger import DSN_ENV, LedgerUnavailableError, open_ledger, resolve_target

from .support import Target


def test_the_default_ledger_is_dot_pushops_state_db_under_the_repo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(DSN_ENV, raising=False)
    with open_ledger(root=tmp_path) as ledger:
        assert ledger.meta().backend == "sqlite"
    assert (tmp_path / ".pushops" / "state.db").exists()


def test_the_state_dsn_environment_variable_is_used_when_no_target_is_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DSN_ENV, "postgresql://ci@db.example/pushops")
    assert resolve_target(None, tmp_path).location == "postgresql://ci@db.example/pushops"


def test_an_explicit_target_wins_over_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DSN_ENV, "postgresql://ci@db.example/pushops")
    assert resolve_target("state/ledger.db", tmp_path).path == tmp_path / "state" / "ledger.db"


def test_a_relative_sqlite_path_is_relative_to_the_repo_root(tmp_path: Path) -> None:
    assert resolve_target("x.db", tmp_path).path == tmp_path / "x.db"
    assert resolve_target("/abs/x.db", tmp_path).path == Path("/abs/x.db")


@pytest.mark.postgres
def test_a_postgresql_dsn_opens_the_postgresql_backend(pg_target: Target) -> None:
    with open_ledger(pg_target.location, schema=pg_target.schema) as ledger:
        meta = ledger.meta()
    assert meta.backend == "postgresql" and pg_target.schema in meta.location


def test_an_unreachable_postgresql_server_is_a_clear_error_without_the_password() -> None:
    with pytest.raises(LedgerUnavailableError) as caught:
        open_ledger("postgresql://pushops:s3cret@127.0.0.1:9/ledger")
    assert "127.0.0.1" in str(caught.value) and "s3cret" not in str(caught.value)
