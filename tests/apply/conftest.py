"""The plan tests' fixtures: a push repo on each ledger backend, an emulator on loopback.

tests/ is not a package, so the sibling folder's helpers are reached by putting tests/ on
the path (as pytest does for a folder's own conftest).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from plan.conftest import emulator, project, sqlite_project

__all__ = ["emulator", "project", "sqlite_project"]
