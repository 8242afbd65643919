"""pushops init [DIR] [--source SOURCE] [--force | --upgrade]"""

from __future__ import annotations

from pathlib import Path

import click

from pushops import scaffold
from pushops.repofile import RepoFileError, inside, read_text_in, write_in
from pushops.scaffold import source as sources


def _source(given: str | None) -> str | None:
    if given is None:
        return sources.detect()
    try:
        return sources.check(given)
    except sources.SourceError as exc:
        raise click.BadParameter(str(exc), param_hint="--source") from None


def _check_inside(directory: Path, files: list[scaffold.File]) -> None:
    """Refuse, before writing anything, a scaffold path that a symlink leads out of the
    repository (``.github/workflows`` or ``pushops.yaml`` linked elsewhere): init never writes
    outside it, and never writes half a scaffold."""
    for file in files:
        try:
            inside(directory, file.path)
        except RepoFileError as exc:
            raise click.ClickException(
                f"{directory / file.path}: {exc}; nothing was written"
            ) from None


def _write(directory: Path, file: scaffold.File, upgrading: bool) -> str | None:
    """Write one scaffold file; the verb to report, or None when nothing changed."""
    target = directory / file.path
    text = file.text
    try:
        if str(file.path) == scaffold.GITIGNORE and target.exists():
            merged = scaffold.merge_gitignore(read_text_in(directory, file.path), text)
            if merged is None:
                return None
            text, verb = merged, "updated"
        elif target.exists():
            if upgrading and read_text_in(directory, file.path) == text:
                return None
            verb = "updated" if upgrading else "overwrote"
        else:
            verb = "created"
        write_in(directory, file.path, text)
    except (RepoFileError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"{target}: {exc}") from None
    return verb


def _warn_no_source() -> None:
    click.echo(
        "warning: the workflows do not know where to install pushops from (this pushops was "
        "not installed from a pinned source), so their install step fails until you run "
        f"`pushops init --upgrade --source {sources.EXAMPLE}`",
        err=True,
    )


@click.command("init")
@click.argument(
    "directory", default=".", type=click.Path(file_okay=False, path_type=Path), metavar="[DIR]"
)
@click.option(
    "--source",
    metavar="SOURCE",
    help="Where the workflows install pushops from, pinned: a git commit "
    "(git+https://github.com/OWNER/pushops@<40-hex commit>), an archive URL with "
    "#sha256=<hash>, or a path in the repository. Default: where this pushops was installed "
    "from, when that is pinned.",
)
@click.option("--force", is_flag=True, help="Overwrite files that already exist.")
@click.option(
    "--upgrade",
    is_flag=True,
    help="Refresh only the generated files (workflows, dependency lock, schemas, editor "
    "settings) for this pushops; never pushops.yaml or campaigns.",
)
def command(directory: Path, source: str | None, force: bool, upgrade: bool) -> int:
    """Scaffold a push repository in DIR (default: here): pushops.yaml with staging and
    production, an example campaign, the GitHub Actions workflows with the hashed lock of
    what they install, the JSON Schemas and editor settings for them, and a .gitignore for
    the local ledger.

    Existing files are left alone (and nothing is written) unless --force; an existing
    .gitignore only gets the lines it lacks. After upgrading pushops, --upgrade rewrites the
    generated files and keeps the team's own: pushops.yaml and campaigns/.
    """
    if force and upgrade:
        raise click.UsageError("--force overwrites every file, --upgrade only generated ones")
    if upgrade:
        return _upgrade(directory, source)
    pinned = _source(source)
    planned = scaffold.files(pinned)
    existing = [
        f.path
        for f in planned
        if (directory / f.path).exists() and str(f.path) != scaffold.GITIGNORE
    ]
    _check_inside(directory, planned)
    if existing and not force:
        for path in existing:
            click.echo(f"exists: {directory / path}", err=True)
        raise click.ClickException(
            f"{len(existing)} file(s) already exist in {directory}; nothing was written "
            "(use --upgrade to refresh only the generated ones, --force to overwrite them all)"
        )
    for file in planned:
        verb = _write(directory, file, upgrading=False)
        if verb is not None:
            click.echo(f"{verb} {directory / file.path}")
    if pinned is None:
        _warn_no_source()
    where = "" if directory.resolve() == Path.cwd().resolve() else f"cd {directory} && "
    click.echo(
        f"\nNext: {where}pushops validate && pushops plan --sandbox   (try it: no account, "
        "no server)\n"
        "Then: put your apps' AppKeys in pushops.yaml. Before CI's first run, create the "
        "shared ledger once: its PostgreSQL roles (`pushops state init --sql` prints them), "
        "then `pushops state init --env production` with the read-write DSN in "
        "PUSHOPS_STATE_DSN, and commit the pushops.ledgers.yaml it writes (CI never creates a "
        "ledger). Add the secrets and `production` environment the workflows read (pushops' "
        "docs/ci.md), commit, and open a pull request to see its plan."
    )
    return 0


def _upgrade(directory: Path, given: str | None) -> int:
    if not (directory / "pushops.yaml").is_file():
        raise click.ClickException(
            f"{directory} has no pushops.yaml: --upgrade refreshes a push repository that "
            "`pushops init` made; run it without --upgrade first"
        )
    current_source, environment = scaffold.workflow_settings(directory)
    pinned = _source(given)
    if pinned is None and current_source is not None:
        pinned = current_source
        click.echo(
            f"warning: kept the workflows' pushops source {current_source}: this pushops was "
            "not installed from a pinned source, so CI may run another version than the "
            "schemas were written by; pass --source to change it",
            err=True,
        )
    files = [
        f
        for f in scaffold.files(pinned, environment or scaffold.DEFAULT_ENVIRONMENT)
        if f.generated
    ]
    _check_inside(directory, files)
    changed = 0
    for file in files:
        verb = _write(directory, file, upgrading=True)
        if verb is not None:
            changed += 1
            click.echo(f"{verb} {directory / file.path}")
    if pinned is None:
        _warn_no_source()
    click.echo(
        f"\n{changed} generated file(s) changed; pushops.yaml and campaigns/ were not touched."
        + (" Review them with `git diff` and commit." if changed else "")
    )
    return 0
