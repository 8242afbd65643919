"""Named validation rules for what JSON Schema cannot say (bytes, clocks, JSON in strings...).

A rule is a function registered with :func:`rule`; it receives one message's typed parameters
(or, for ``scope="call"``, one whole provider request) and yields :class:`Finding` s. Limits
come from the parameter tables, so a table edit changes the rule too. Importing this package
registers every rule.
"""

from pushops.check.rules import emas as _emas  # noqa: F401  (registers)
from pushops.check.rules import limits as _limits  # noqa: F401  (registers)
from pushops.check.rules import mpaas as _mpaas  # noqa: F401  (registers)
from pushops.check.rules.registry import (
    REGISTRY,
    Finding,
    Rule,
    RuleContext,
    check_call,
    check_message,
    rule,
)

__all__ = ["REGISTRY", "Finding", "Rule", "RuleContext", "check_call", "check_message", "rule"]
