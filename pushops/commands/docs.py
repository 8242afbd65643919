"""pushops docs build [--check]"""

from __future__ import annotations

from pathlib import Path

import click

from pushops.commands._common import build_generated


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
    from pushops.build import docs as docsgen  # imports the rules and tables: only when asked

    return build_generated(
        check,
        "docs",
        "the tables and rules",
        lambda: docsgen.drift(docs_dir),
        lambda: docsgen.write_all(docs_dir),
    )
