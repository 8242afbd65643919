"""Secrets out of anything a plan shows or stores.

Requests never carry credentials (the client adds AccessKeyId, Signature and SecurityToken
when it signs), but a campaign could still hold a secret value by mistake, e.g. a template
that printed an environment variable. Field names that only credentials use, and any value
equal to a credential the environment holds, are masked.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from pushops.config import Config
from pushops.diagnostics import Diagnostic

MASK = "******"
SECRET_FIELDS = frozenset(
    {"AccessKeyId", "AccessKeySecret", "Signature", "SecurityToken", "SignatureNonce"}
)


def secret_values(config: Config | None, environment: str | None = None) -> list[str]:
    """The credential values set in the environment (long enough to be worth masking)."""
    names = (
        config.credential_vars(environment)
        if config is not None
        else {
            "a": "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
            "b": "ALIBABA_CLOUD_SECURITY_TOKEN",
        }
    )
    values = []
    for var_key, var in names.items():
        if var_key.startswith("access_key_id"):
            continue  # the key id is not a secret (it is in every request)
        value = os.environ.get(var, "")
        if len(value) >= 4:
            values.append(value)
    plan_key = os.environ.get("PUSHOPS_PLAN_KEY", "").strip()  # signs plan files
    if len(plan_key) >= 4:
        values.append(plan_key)
    return values


def every_secret_value(config: Config | None) -> list[str]:
    """The credential values of every environment (validate checks them all at once)."""
    if config is None:
        return secret_values(None)
    found = dict.fromkeys(secret_values(config))
    for name in config.environments:
        found.update(dict.fromkeys(secret_values(config, name)))
    return list(found)


def mask_diagnostics(diagnostics: Iterable[Diagnostic], secrets: Iterable[str]) -> list[Diagnostic]:
    """``diagnostics`` with secret values masked in their messages (a message can quote a
    rendered value)."""
    secrets = tuple(secrets)
    if not secrets:
        return list(diagnostics)
    return [replace(d, message=mask(d.message, secrets)) for d in diagnostics]


def mask(value: Any, secrets: Iterable[str] = ()) -> Any:
    """``value`` with secret fields and secret values replaced by :data:`MASK`."""
    secrets = tuple(secrets)

    def walk(item: Any) -> Any:
        if isinstance(item, dict):
            return {k: MASK if k in SECRET_FIELDS else walk(v) for k, v in item.items()}
        if isinstance(item, list):
            return [walk(v) for v in item]
        if isinstance(item, str) and secrets:
            for secret in secrets:
                if secret in item:
                    item = item.replace(secret, MASK)
        return item

    return walk(value)
