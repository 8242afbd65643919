"""GitHub Actions workflow commands (``::error file=…,line=…::message``), escaped.

The Actions runner reads every line a step prints; a line starting with ``::`` is a command.
Anything user-controlled that goes into one (a campaign file name, a message quoting a YAML
key) is escaped the way the Actions toolkit does it, so it can neither end the command early
nor start a new one: in the message ``%``, CR and LF; in a property also ``:`` and ``,``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str, properties: Mapping[str, object] | None = None) -> str:
    """One workflow command line, e.g. ``command("error", "bad", {"file": "a.yaml"})``.

    Properties whose value is None or "" are left out."""
    props = ",".join(
        f"{key}={escape_property(str(value))}"
        for key, value in (properties or {}).items()
        if value is not None and value != ""
    )
    return f"::{name}{' ' + props if props else ''}::{escape_data(message)}"


def in_actions(environ: Mapping[str, str] | None = None) -> bool:
    """Running as a GitHub Actions step, where workflow commands are understood."""
    return (os.environ if environ is None else environ).get("GITHUB_ACTIONS") == "true"
