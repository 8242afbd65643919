"""The policy specifications' fixtures: a push repo on each ledger backend, an emulator on
loopback (the plan tests' own, reached as tests/apply reaches them)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from plan.conftest import emulator, project, sqlite_project

__all__ = ["emulator", "project", "sqlite_project"]
