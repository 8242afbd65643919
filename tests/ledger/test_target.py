"""What text names a ledger: a DSN is a DSN whatever its spelling, a SQLite file only when
plainly one, and anything else an error that never repeats the text (it may hold a password)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pushops.ledger.target import LedgerTargetError, parse_target, redact, scrub

DSN = "postgresql://pushops:S3CRET@db.example:5432/ledger"


@pytest.mark.parametrize(
    "text",
    [
        DSN,
        f"  {DSN}\n",
        "POSTGRESQL://pushops:S3CRET@db.example:5432/ledger",
        "PostgreSQL://pushops:S3CRET@db.example:5432/ledger",
        "postgres://pushops:S3CRET@db.example:5432/ledger",
        "postgresql+psycopg://pushops:S3CRET@db.example:5432/ledger",
        "postgresql+psycopg2://pushops:S3CRET@db.example:5432/ledger",
    ],
    ids=["plain", "blanks", "upper", "mixed", "postgres", "sqlalchemy", "sqlalchemy2"],
)
def test_every_spelling_of_a_postgresql_uri_is_the_same_dsn(text: str) -> None:
    target = parse_target(text, "PUSHOPS_STATE_DSN", "/repo")
    assert target.backend == "postgresql"
    assert target.location == DSN


def test_libpq_keyword_form_is_a_postgresql_dsn() -> None:
    text = " host=db.example port=5432 dbname=ledger user=pushops password=S3CRET "
    target = parse_target(text, "PUSHOPS_STATE_DSN", "/repo")
    assert target.backend == "postgresql"
    assert "S3CRET" not in target.shown and "db.example" in target.shown


@pytest.mark.parametrize("name", ["state.db", "ledgers/team.sqlite", "x.SQLITE3", " state.db "])
def test_a_path_that_plainly_is_a_sqlite_file_is_one_relative_to_the_repo(name: str) -> None:
    target = parse_target(name, "--state", "/repo")
    assert target.backend == "sqlite"
    assert target.path == Path("/repo") / name.strip()


@pytest.mark.parametrize(
    "text",
    [
        "pushops:S3CRET@db.example:5432/ledger",  # no scheme
        "db.example:5432/ledger",
        "postgresql:/pushops:S3CRET@db.example/ledger",  # one slash
        "postgresq://pushops:S3CRET@db.example/ledger",  # a typo in the scheme
        "mysql://pushops:S3CRET@db.example/ledger",
        "sqlite:///state.db",
        "ledger",  # a file name that does not say it is a database
        "S3CRET",
        "state.db\nS3CRET",
    ],
)
def test_anything_ambiguous_is_an_error_that_does_not_repeat_it(text: str) -> None:
    with pytest.raises(LedgerTargetError) as caught:
        parse_target(text, "PUSHOPS_STATE_DSN", "/repo")
    message = str(caught.value)
    assert message.startswith("PUSHOPS_STATE_DSN ")
    assert "S3CRET" not in message and "db.example" not in message
    assert "nothing was opened or created" in message or "control character" in message


def test_a_declared_sqlite_path_may_have_any_name_but_not_a_dsn() -> None:
    assert parse_target("ledger", "pushops.yaml state.path", "/r", sqlite_path=True).backend == (
        "sqlite"
    )
    with pytest.raises(LedgerTargetError, match="looks like a PostgreSQL DSN"):
        parse_target(DSN, "pushops.yaml state.path", "/r", sqlite_path=True)


@pytest.mark.parametrize(
    ("dsn", "fragments"),
    [
        ("postgresql://u:S3CRET@[::1/test", ["S3CRET", "S3C", "CRET"]),
        ("postgresql://u:S3%zzCRET@h/db", ["S3%zz", "zzCRET", "S3CRET"]),
        ("postgresql://u@h/db?password=S3CRET&bad=1", ["S3CRET"]),
    ],
    ids=["open-bracket", "bad-escape", "query-password"],
)
def test_an_unparsable_dsn_is_refused_without_any_part_of_its_password(
    dsn: str, fragments: list[str]
) -> None:
    with pytest.raises(LedgerTargetError) as caught:
        parse_target(dsn, "PUSHOPS_STATE_DSN", "/repo")
    message = str(caught.value)
    assert "is not a valid PostgreSQL DSN" in message
    for fragment in fragments:
        assert fragment not in message


def test_scrub_keeps_hosts_users_and_databases_but_not_the_password() -> None:
    text = (
        'connection to server at "db.example", port 5432 failed: FATAL: password '
        'authentication failed for user "pushops" (tried "S3CRET")'
    )
    cleaned = scrub(text, DSN)
    assert '"db.example"' in cleaned and '"pushops"' in cleaned
    assert "S3CRET" not in cleaned


def test_redact_drops_the_password_and_survives_an_unparsable_dsn() -> None:
    assert "S3CRET" not in redact(DSN) and "db.example" in redact(DSN)
    assert redact("postgresql://u:S3CRET@[::1/test") == "<unparsable DSN>"
