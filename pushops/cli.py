"""The ``pushops`` command line: a thin shell over the pipeline modules.

Each subcommand lives in ``pushops/commands/<name>.py`` as a click command named ``command``
and is imported only when invoked, so ``pushops validate`` does not pay for httpx or psycopg.
"""

from __future__ import annotations

import gc
import importlib
import sys

import click

from pushops import __version__
from pushops.diagnostics import PushopsError, printable

COMMANDS = {
    "init": "Scaffold a push repository: config, an example campaign, workflows.",
    "validate": "Check campaigns: authoring schema, provider schema and rules, after rendering.",
    "render": "Show the concrete requests as they would go on the wire.",
    "plan": "Compare the desired deliveries with the ledger and say what apply would do.",
    "apply": "Send what the plan says, recording every call in the ledger first.",
    "refresh": "Compare the ledger with the provider: pushes made or cancelled elsewhere.",
    "report": "Delivery statistics: the provider's counts per campaign and message.",
    "state": "Inspect and repair the ledger.",
    "schema": "Build or check the JSON Schemas derived from the parameter tables.",
    "docs": "Build or check the docs generated from the parameter tables and rules.",
    "emulator": "Serve both provider APIs on loopback for dry-runs and tests.",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module = importlib.import_module(f"pushops.commands.{cmd_name}")
        command: click.Command = module.command
        return command

    def main(self, *args: object, **kwargs: object) -> None:  # type: ignore[override]
        # One place maps every failure to DESIGN's exit codes (usage errors are 1, not click's
        # 2, because 2 means "plan has changes"), for the console script and CliRunner alike.
        kwargs["standalone_mode"] = False
        try:
            rv = super().main(*args, **kwargs)  # type: ignore[arg-type]
        except click.exceptions.Abort:
            click.echo("Aborted.", err=True)
            sys.exit(1)
        except click.UsageError as exc:
            exc.show()
            sys.exit(1)
        except click.ClickException as exc:
            # One line whatever the message quotes (file names, answers from servers): a
            # newline in it could start a line the Actions runner reads as a workflow command.
            click.echo(f"Error: {printable(exc.format_message())}", err=True)
            sys.exit(exc.exit_code)
        except PushopsError as exc:
            # Located problems first, exactly as validate prints them (a bad pushops.yaml
            # says where in plan, apply and render too), then the one-line summary.
            located = sorted(set(exc.diagnostics))
            for diagnostic in located:
                click.echo(diagnostic.format(), err=True)
            if [d.format() for d in located] != [printable(str(exc))]:
                click.echo(f"Error: {printable(str(exc))}", err=True)
            sys.exit(getattr(exc, "exit_code", 1))  # a policy that blocks says which kind
        sys.exit(rv if isinstance(rv, int) else 0)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl(sorted(COMMANDS.items()))


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="pushops")
def cli() -> None:
    """Push notifications as code: validate, render, plan and apply campaigns."""


# The cyclic garbage collector's thresholds for a pushops process (see main).
GC_THRESHOLDS = (50_000, 20, 100)


def main() -> None:
    # A run is one process that allocates millions of small objects (planning, applying or
    # emulating a million deliveries), nearly all of them freed by reference counting. At
    # Python's default thresholds (700, 10, 10) the cyclic collector ran ~1,100 times in a
    # 100,000-row plan, each older pass walking everything still alive: 1.05 s of its 7.3 s
    # of CPU. Every 50,000 net allocations it ran 4 times, 0.12 s; the cyclic garbage it
    # leaves waiting is a few MB at most. The console script only: tests (CliRunner) and
    # library users keep their own settings.
    gc.set_threshold(*GC_THRESHOLDS)
    cli.main(prog_name="pushops")
