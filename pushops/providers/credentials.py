"""Access keys for signing, read from the environment and never shown.

Secrets live only in environment variables (DESIGN: "secrets never live in files"); the
variable *names* may come from ``pushops.yaml``. A :class:`Secret` hides its value from
``repr``/``str``/format so that a stray log line or traceback cannot leak it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from pushops.diagnostics import PushopsError

ACCESS_KEY_ID_VAR = "ALIBABA_CLOUD_ACCESS_KEY_ID"
ACCESS_KEY_SECRET_VAR = "ALIBABA_CLOUD_ACCESS_KEY_SECRET"
SECURITY_TOKEN_VAR = "ALIBABA_CLOUD_SECURITY_TOKEN"

REDACTED = "******"


class CredentialsError(PushopsError):
    """The credentials a run needs are missing or unusable."""


class Secret:
    """A string that only :meth:`reveal` gives back; every other view is redacted."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({REDACTED!r})"

    def __str__(self) -> str:
        return REDACTED

    def __format__(self, spec: str) -> str:
        return REDACTED

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> object:
        # Pickling (e.g. into a plan file) must not carry the secret anywhere.
        raise TypeError("a Secret cannot be pickled")


@dataclass(frozen=True)
class Credentials:
    """An AccessKey pair, optionally with an STS security token (itself a secret)."""

    access_key_id: str
    access_key_secret: Secret
    security_token: Secret | None = None

    @classmethod
    def of(cls, access_key_id: str, secret: str, token: str | None = None) -> Credentials:
        return cls(access_key_id, Secret(secret), Secret(token) if token else None)


def credentials_from_env(
    env: Mapping[str, str] | None = None,
    *,
    id_var: str = ACCESS_KEY_ID_VAR,
    secret_var: str = ACCESS_KEY_SECRET_VAR,
    token_var: str = SECURITY_TOKEN_VAR,
) -> Credentials:
    """Read credentials from ``env`` (default ``os.environ``) under the given variable names."""
    source = os.environ if env is None else env
    key_id = source.get(id_var, "").strip()
    secret = source.get(secret_var, "")
    token = source.get(token_var, "") or None
    missing = [name for name, value in ((id_var, key_id), (secret_var, secret)) if not value]
    if missing:
        raise CredentialsError(
            "missing credentials: set " + " and ".join(missing) + " in the environment"
        )
    return Credentials.of(key_id, secret, token)
