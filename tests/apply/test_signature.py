"""``signature: acs3`` on an app in pushops.yaml: apply signs that app's calls with
ACS3-HMAC-SHA256 (an ``Authorization`` header), the other apps' with signature v1."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from plan.support import Project, emas_campaign, mpaas_campaign

from pushops.emulator import Emulator
from pushops.providers.signing import ACS3_ALGORITHM

CONFIG = """\
version: 1
default_environment: staging
environments:
  staging:
    apps:
      shop: {provider: emas, app_key: 23267207}
      wallet: {provider: mpaas, app_id: ONEX570DA89211721, workspace_id: test, signature: acs3}
"""


@pytest.fixture
def schemes(emulator: Emulator) -> Iterator[list[tuple[str, str]]]:
    """(action, scheme) of every request the emulator authenticates: a spy on its verifier
    (the emulator itself already tells the schemes apart by the Authorization header)."""
    seen: list[tuple[str, str]] = []
    verify = emulator.app.auth.verify

    def spy(request: Any) -> str:
        auth = request.headers.get("authorization")
        action = request.headers.get("x-acs-action") or request.query.get("Action", "")
        seen.append((action, "acs3" if auth and auth.startswith(ACS3_ALGORITHM) else "v1"))
        return verify(request)

    emulator.app.auth.verify = spy  # type: ignore[method-assign]
    yield seen


def test_apply_signs_an_acs3_apps_calls_with_acs3_and_the_others_with_v1(
    sqlite_project: Project, emulator: Emulator, schemes: list[tuple[str, str]]
) -> None:
    (sqlite_project.root / "pushops.yaml").write_text(CONFIG)
    sqlite_project.write("sale.yaml", emas_campaign())
    sqlite_project.write("notice.yaml", mpaas_campaign())

    result = sqlite_project.run("apply", "--auto-approve")

    assert result.exit_code == 0, result.output
    assert sorted(schemes) == [("MassPush", "v1"), ("PushBroadcast", "acs3")]
    assert len(emulator.deliveries()) == 2  # and the emulator accepted both signatures
