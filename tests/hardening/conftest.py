"""Hardening specifications: property tests, the fault soak's short form, the security corpus.

tests/ is not a package, so the plan tests' helpers are reached by putting tests/ on the path
(as tests/apply/conftest.py does).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
