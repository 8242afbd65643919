"""pushops init [DIR] [--force]"""

from __future__ import annotations

from pathlib import Path

import click

from pushops import scaffold


@click.command("init")
@click.argument(
    "directory", default=".", type=click.Path(file_okay=False, path_type=Path), metavar="[DIR]"
)
@click.option("--force", is_flag=True, help="Overwrite files that already exist.")
def command(directory: Path, force: bool) -> int:
    """Scaffold a push repository in DIR (default: here): pushops.yaml with staging and
    production, an example campaign, the GitHub Actions workflows, the JSON Schemas and
    editor settings for them, and a .gitignore for the local ledger.

    Existing files are left alone (and nothing is written) unless --force; an existing
    .gitignore only gets the lines it lacks.
    """
    planned = scaffold.files()
    existing = [
        f.path
        for f in planned
        if (directory / f.path).exists() and str(f.path) != scaffold.GITIGNORE
    ]
    if existing and not force:
        for path in existing:
            click.echo(f"exists: {directory / path}", err=True)
        raise click.ClickException(
            f"{len(existing)} file(s) already exist in {directory}; nothing was written "
            "(use --force to overwrite them)"
        )
    for file in planned:
        target = directory / file.path
        text = file.text
        verb = "overwrote" if target.exists() else "created"
        if str(file.path) == scaffold.GITIGNORE and target.exists():
            merged = scaffold.merge_gitignore(target.read_text(encoding="utf-8"), text)
            if merged is None:
                continue
            text, verb = merged, "updated"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        click.echo(f"{verb} {target}")
    where = "" if directory.resolve() == Path.cwd().resolve() else f"cd {directory} && "
    click.echo(
        f"\nNext: {where}pushops validate && pushops plan --sandbox\n"
        "Then put your AppKeys in pushops.yaml and see docs/ci.md in the pushops repository "
        "for the secrets the workflows read."
    )
    return 0
