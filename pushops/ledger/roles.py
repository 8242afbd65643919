"""The PostgreSQL setup a database administrator runs once: the schema and two roles.

``pushops state init --sql`` prints it and docs/state.md shows it; a test runs the
documented text on a fresh database, then plans with the read-only role and applies with the
other, so the two cannot drift apart.
"""

from __future__ import annotations

APPLY_ROLE = "pushops_apply"
PLAN_ROLE = "pushops_plan"


def setup_sql(schema: str = "pushops") -> str:
    """The statements, for the ledger's ``schema`` (identifiers quoted as needed)."""
    name = identifier(schema)
    return f"""\
-- As a superuser (or a member of {APPLY_ROLE}), in the ledger's database, once.
-- apply (the protected production environment): owns the ledger and writes it
CREATE ROLE {APPLY_ROLE} LOGIN PASSWORD 'change-me';
-- plan (every pull request): reads it, nothing more
CREATE ROLE {PLAN_ROLE} LOGIN PASSWORD 'change-me-too';

CREATE SCHEMA {name} AUTHORIZATION {APPLY_ROLE};
GRANT USAGE ON SCHEMA {name} TO {PLAN_ROLE};
-- the tables pushops_apply creates (`pushops state init`, and later migrations) are
-- readable by pushops_plan from the moment they exist
ALTER DEFAULT PRIVILEGES FOR ROLE {APPLY_ROLE} IN SCHEMA {name}
    GRANT SELECT ON TABLES TO {PLAN_ROLE};
GRANT SELECT ON ALL TABLES IN SCHEMA {name} TO {PLAN_ROLE};
"""


def identifier(name: str) -> str:
    """``name`` as a PostgreSQL identifier in SQL text: as is when plain, else quoted."""
    plain = name.isascii() and name.replace("_", "a").isalnum() and name == name.lower()
    return name if plain and not name[:1].isdigit() else '"' + name.replace('"', '""') + '"'
