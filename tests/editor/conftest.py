"""The editor as a user has it: a repository made by `pushops init`, the example campaigns in
it, and the real yaml-language-server (npm, installed into tools/yaml-language-server by
`npm ci` the first time) started in it with the settings VS Code sends from
`.vscode/settings.json`.

Without node and npm the tests fail under CI and are skipped, visibly, elsewhere.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from pushops.cli import cli
from tests.editor.lsp import ROOT, SERVER, TOOL, LanguageServer, char_column
from tests.pushrepo import NOW_TEXT

MODELINE = "# yaml-language-server: $schema={}schemas/campaign.schema.json\n"


@pytest.fixture(scope="session")
def node() -> str:
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        message = "node and npm are needed to run yaml-language-server (tools/yaml-language-server)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message + "; not found here, so the editor was NOT tested")
    if not SERVER.is_file():
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--silent"], cwd=TOOL, check=True, timeout=300
        )
    return node


@contextmanager
def cwd(path: Path) -> Iterator[None]:
    before = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


class EditorRepo:
    """A push repository made by `pushops init`, with the example campaigns, open in an
    editor (the language server) at the same time as pushops reads it."""

    def __init__(self, root: Path, server: LanguageServer) -> None:
        self.root = root
        self.server = server

    def write(self, relative: str, text: str, *, modeline: bool = True) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        depth = len(Path(relative).parts) - 1
        head = MODELINE.format("../" * depth) if modeline else ""
        path.write_text(head + text, encoding="utf-8")
        return path

    def lines(self, path: Path) -> list[str]:
        return path.read_text(encoding="utf-8").splitlines()

    def editor_diagnostics(self, path: Path) -> list[dict[str, Any]]:
        uri = self.server.open(path)
        try:
            return self.server.wait_diagnostics(uri)
        finally:
            self.server.close(uri)

    def editor_positions(self, path: Path) -> list[tuple[int, int]]:
        """(line, column) of each diagnostic the editor shows, 1-based, columns in characters
        as pushops counts them."""
        lines = self.lines(path)
        out = []
        for diagnostic in self.editor_diagnostics(path):
            start = diagnostic["range"]["start"]
            text = lines[start["line"]] if start["line"] < len(lines) else ""
            out.append((start["line"] + 1, char_column(text, start["character"])))
        return sorted(out)

    def validate(self, *paths: Path) -> list[dict[str, Any]]:
        """What `pushops validate --format json` reports (errors and warnings)."""
        with cwd(self.root):
            result = CliRunner().invoke(
                cli,
                ["validate", "--now", NOW_TEXT, "--format", "json", *map(str, paths)],
                catch_exceptions=False,
            )
        return json.loads(result.stdout)["errors"]


@pytest.fixture(scope="module")
def editor(node: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[EditorRepo]:
    root = tmp_path_factory.mktemp("repo")
    assert CliRunner().invoke(cli, ["init", str(root)]).exit_code == 0
    (root / "campaigns" / "welcome.yaml").unlink()  # its app is the scaffold's (see its test)
    shutil.copy(ROOT / "pushops.yaml", root / "pushops.yaml")
    shutil.copytree(ROOT / "data", root / "data")
    for campaign in (ROOT / "campaigns").glob("*.yaml"):
        shutil.copy(campaign, root / "campaigns" / campaign.name)
    with opened(node, root) as repo:
        yield repo


@contextmanager
def opened(node: str, root: Path) -> Iterator[EditorRepo]:
    """The repository at ``root`` open in the editor, with its .vscode/settings.json."""
    vscode = json.loads((root / ".vscode" / "settings.json").read_text(encoding="utf-8"))
    # What VS Code's YAML extension sends the server from the workspace settings.
    yaml_settings = {k.removeprefix("yaml."): v for k, v in vscode.items() if k.startswith("yaml.")}
    settings = {"yaml": {"validate": True, "hover": True, "completion": True, **yaml_settings}}
    server = LanguageServer(node, root, settings)
    try:
        yield EditorRepo(root, server)
    finally:
        server.shutdown()
