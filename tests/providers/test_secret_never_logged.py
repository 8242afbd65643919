"""The AccessKey secret and STS token appear in no log record, at any level, nor in errors."""

from __future__ import annotations

import asyncio
import logging

import pytest
from provider_helpers import AKID, APP_KEY, SECRET, broadcast, providers, task, token

from pushops.providers.credentials import Credentials
from pushops.providers.errors import ProviderError
from pushops.providers.rpc import ACS3, V1

STS_TOKEN = "sts-token-CAIS-very-secret-0042"


@pytest.mark.parametrize("scheme", [V1, ACS3])
def test_secret_and_token_never_appear_in_debug_logs(emulator, caplog, scheme: str) -> None:
    caplog.set_level(logging.DEBUG)  # root: httpx, httpcore and ours
    emulator.enqueue_fault(code="Throttling.User")
    emulator.enqueue_fault(drop=True)
    errors: list[ProviderError] = []

    async def go():
        async with providers(signature=scheme) as p:
            await p.emas(APP_KEY, endpoint=emulator.url).mass_push([task()], token())
            await p.mpaas(endpoint=emulator.url).push_broadcast(broadcast())
        for creds in (
            Credentials.of(AKID, "wrong-" + SECRET),
            Credentials.of(AKID, SECRET, STS_TOKEN),
            # A wrong secret with a token: SignatureDoesNotMatch echoes the string to sign.
            Credentials.of(AKID, "wrong-" + SECRET, STS_TOKEN),
        ):
            async with providers(credentials=creds, signature=scheme) as p:
                try:
                    await p.emas(APP_KEY, endpoint=emulator.url).mass_push([task()], token())
                except ProviderError as exc:
                    errors.append(exc)

    asyncio.run(go())
    assert caplog.records, "expected some DEBUG records to inspect"
    text = "\n".join(r.getMessage() for r in caplog.records) + "\n" + caplog.text
    text += "\n".join(f"{e} {e!r} {e.to_json()}" for e in errors)
    assert any(e.code == "SignatureDoesNotMatch" for e in errors)
    for secret in (SECRET, "wrong-" + SECRET, STS_TOKEN):
        assert secret not in text
    assert "sts-token" not in text.lower()  # nor any encoding of it
