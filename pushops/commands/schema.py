"""pushops schema build [--check]"""

from __future__ import annotations

from pathlib import Path

import click

from pushops.build import schemas as schema_files
from pushops.commands._common import build_generated


@click.group("schema")
def command() -> None:
    """The JSON Schemas derived from the parameter tables in schemas/tables/."""


@command.command("build")
@click.option("--check", is_flag=True, help="Exit 1 if the schemas differ from the tables.")
@click.option(
    "--schemas-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The schemas folder holding tables/ (default: pushops' own).",
)
def build(check: bool, schemas_dir: Path | None) -> int:
    """Regenerate schemas/*.schema.json from the parameter tables."""
    return build_generated(
        check,
        "schemas",
        "the parameter tables",
        lambda: schema_files.drift(schemas_dir),
        lambda: schema_files.write_all(schemas_dir),
    )
