"""Write the generated JSON Schemas into ``schemas/`` (``pushops schema build``), or say
which of them drifted from the parameter tables (``--check``, run in CI).

A build-time tool: runtime stages build the schemas they need in memory (pushops.schemas).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pushops.config import CONFIG_SCHEMA
from pushops.schemas import campaign_schema, policies_schema, provider_schema
from pushops.tables import PROVIDERS, TABLE_FILES, parse_table, schemas_dir


def build_all(folder: Path | None = None) -> dict[str, dict[str, Any]]:
    """File name -> schema, for every schema generated from ``folder``/tables."""
    folder = folder or schemas_dir()
    tables = {p: parse_table(folder / "tables" / TABLE_FILES[p]) for p in PROVIDERS}
    out = {
        f"{t.provider}-{t.action.lower()}.schema.json": provider_schema(t) for t in tables.values()
    }
    out["campaign.schema.json"] = campaign_schema(tables)
    out["pushops.schema.json"] = CONFIG_SCHEMA
    out["policies.schema.json"] = policies_schema()
    return out


def render_json(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def drift(target: Path | None = None) -> list[str]:
    """Names of generated files that differ from what the tables give."""
    folder = target or schemas_dir()
    changed = []
    for name, schema in build_all(folder).items():
        path = folder / name
        if not path.is_file() or path.read_text(encoding="utf-8") != render_json(schema):
            changed.append(name)
    return changed


def write_all(target: Path | None = None) -> list[str]:
    folder = target or schemas_dir()
    written = []
    for name, schema in build_all(folder).items():
        path = folder / name
        text = render_json(schema)
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            written.append(name)
    return written
