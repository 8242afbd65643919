"""pushops docs build [--check]"""

from __future__ import annotations

from pathlib import Path

import click


@click.group("docs")
def command() -> None:
    """The documentation generated from the parameter tables, rules and error lists."""


@command.command("build")
@click.option("--check", is_flag=True, help="Exit 1 if the docs differ from what they are made of.")
@click.option(
    "--docs-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The docs folder (default: the one beside pushops' schemas/).",
)
def build(check: bool, docs_dir: Path | None) -> int:
    """Regenerate docs/reference/*.md and the generated tables of docs/errors.md."""
    from pushops import docsgen  # imports the rules and tables: only when asked

    if check:
        changed = docsgen.drift(docs_dir)
        for name in changed:
            click.echo(f"docs/{name} is out of date with the tables and rules", err=True)
        if changed:
            click.echo("run `pushops docs build` and commit the result", err=True)
            return 1
        click.echo("docs are up to date")
        return 0
    written = docsgen.write_all(docs_dir)
    for name in written:
        click.echo(f"wrote docs/{name}")
    if not written:
        click.echo("docs are up to date")
    return 0
