"""`pushops state rm KEY` then apply does what rm's help says (issue 13.5): the key is sent
again, with a token the provider has never seen, and its history stays. Before, the next
apply stopped on "call ... is already in the ledger" and sent nothing at all."""

from __future__ import annotations

import pytest
from plan.support import Project, emas_campaign, mpaas_campaign

from pushops.emulator import Emulator

CASES = {
    "emas": ("sale.yaml", emas_campaign(), "staging/sale/r1/android", "idempotent_token"),
    "mpaas": ("notice.yaml", mpaas_campaign(), "staging/notice/r1/android", "msgkey"),
}


@pytest.mark.parametrize("provider", sorted(CASES))
def test_rm_then_apply_sends_the_key_again_with_a_new_token(
    project: Project, emulator: Emulator, provider: str
) -> None:
    name, text, key, token_field = CASES[provider]
    project.write(name, text)
    assert project.run("apply", "--auto-approve").exit_code == 0

    removed = project.run("state", "rm", key, "--yes")
    planned = project.run("plan", "--format", "json")
    applied = project.run("apply", "--auto-approve")
    again = project.run("plan", "--detailed-exitcode")

    assert removed.exit_code == 0, removed.output
    assert "forgotten by pushops state rm" in planned.output
    assert applied.exit_code == 0, applied.output
    assert "already in the ledger" not in applied.output
    got = emulator.deliveries()
    assert len(got) == 2  # sent again, once
    assert len({d[token_field] for d in got}) == 2  # with a token never used before
    assert again.exit_code == 0 and "No changes." in again.output
    shown = project.run("state", "show", key)
    assert "generation 1: cancelled" in shown.output
    assert "generation 2 (current): sent" in shown.output
