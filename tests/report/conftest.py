"""The report and history specs' fixtures: a push repo on each ledger backend, an emulator on
loopback (the plan specs' own, reached by putting tests/ on the path as pytest does for a folder)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from plan.conftest import emulator, project, sqlite_project

__all__ = ["emulator", "project", "sqlite_project"]
