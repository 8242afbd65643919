"""A failure to post the plan comment is exit code 3 through the real CLI, after the plan."""

from __future__ import annotations

import sys
import types

import click
from click.testing import CliRunner

from pushops import cli as cli_module
from pushops.github import CommentError


def test_a_comment_error_exits_3_after_the_plan_was_printed(monkeypatch):
    module = types.ModuleType("pushops.commands.probe_comment")

    @click.command("probe-comment")
    def command() -> None:
        click.echo("the plan")
        raise CommentError("could not post the plan comment: POST /x answered HTTP 403")

    module.command = command  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "pushops.commands.probe_comment", module)
    monkeypatch.setitem(cli_module.COMMANDS, "probe_comment", "a probe")

    result = CliRunner().invoke(cli_module.cli, ["probe_comment"])

    assert result.exit_code == 3
    assert result.output.startswith("the plan\n")
    assert "Error: could not post the plan comment: POST /x answered HTTP 403" in result.output
