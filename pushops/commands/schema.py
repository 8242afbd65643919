"""pushops schema build [--check]"""

from __future__ import annotations

from pathlib import Path

import click

from pushops import schemabuild


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
    if check:
        changed = schemabuild.drift(schemas_dir)
        for name in changed:
            click.echo(f"schemas/{name} is out of date with the parameter tables", err=True)
        if changed:
            click.echo("run `pushops schema build` and commit the result", err=True)
            return 1
        click.echo("schemas are up to date")
        return 0
    written = schemabuild.write_all(schemas_dir)
    for name in written:
        click.echo(f"wrote schemas/{name}")
    if not written:
        click.echo("schemas are up to date")
    return 0
