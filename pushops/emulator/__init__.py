"""A local stand-in for EMAS Push and mPaaS: both APIs on one loopback port.

``Emulator`` runs it in-process (tests, benchmarks, ``apply --sandbox``); ``pushops emulator``
runs it as a server. See pushops/emulator/README.md for what it checks and where it is our reading.
"""

from pushops.emulator.embedded import DEFAULT_CREDENTIALS, Emulator

__all__ = ["DEFAULT_CREDENTIALS", "Emulator"]
