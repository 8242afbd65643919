"""The two backends accept exactly the same keys, and validate refuses what neither stores
(issue 12.23): a 4,000-character campaign id validated, then failed on PostgreSQL's index.
The limit is one constant (pushops.ledger.records.MAX_KEY_BYTES) the check stage uses too."""

from __future__ import annotations

import json
import random
import string

import pytest
from plan.support import Project

from pushops.emulator import Emulator
from pushops.ledger.records import MAX_KEY_BYTES

TASK = {
    "DeviceType": "ANDROID",
    "PushType": "NOTICE",
    "Target": "DEVICE",
    "TargetValue": "dev1",
    "Title": "Hi",
    "Body": "There",
}


def campaign(project: Project, cid: str, **message: object) -> None:
    doc = {"id": cid, "app": "shop", "tasks": [{"id": "t", **TASK, **message}]}
    project.write("c.yaml", json.dumps(doc))


def noise(n: int) -> str:
    """Characters a campaign id may hold, in an order nothing can compress."""
    rng = random.Random(n)
    return "c" + "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(n - 1))


@pytest.mark.parametrize("command", [("validate",), ("plan",), ("apply", "--auto-approve")])
def test_a_campaign_id_too_long_for_the_ledger_is_refused_at_the_id(
    project: Project, emulator: Emulator, command: tuple[str, ...]
) -> None:
    campaign(project, noise(4000))
    result = project.run(*command)
    assert result.exit_code == 1
    assert "[campaign.key-too-long]" in result.output
    assert "c.yaml:1:" in result.output  # located at the campaign's id
    assert emulator.deliveries() == []


def test_the_longest_key_validate_allows_is_stored_and_sent_on_both_backends(
    project: Project, emulator: Emulator
) -> None:
    overhead = len("production/") + len("/r1/t")  # the longest environment name
    campaign(project, noise(MAX_KEY_BYTES - overhead))
    assert project.run("validate").exit_code == 0
    applied = project.run("apply", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert len(emulator.deliveries()) == 1
    campaign(project, noise(MAX_KEY_BYTES - overhead + 1))
    assert project.run("validate").exit_code == 1  # one byte more is refused


def fan_out(project: Project, cid: str, rows: list[dict[str, str]]) -> None:
    project.data("data/rows.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    doc = {
        "id": cid,
        "app": "shop",
        "tasks": [
            {
                "id": "t",
                **TASK,
                "TargetValue": "{{ row.device }}",
                "fan_out": {"data": "data/rows.jsonl", "key": "{{ row.key }}"},
            }
        ],
    }
    project.write("c.yaml", json.dumps(doc))


def test_a_fan_out_key_that_would_overflow_the_ledger_is_refused_at_its_row(
    project: Project,
) -> None:
    wide = "\U0001f600" * 200  # 200 characters (the fan-out limit), 800 bytes
    fan_out(project, noise(300), [{"device": "d1", "key": "ok"}, {"device": "d2", "key": wide}])
    result = project.run("validate")
    assert result.exit_code == 1
    assert "[fan-out.key]" in result.output and "row 2" in result.output
    assert "the ledger stores keys of at most 1,024 bytes" in result.output


def test_a_fan_out_key_holding_nul_is_refused_as_neither_backend_stores_it(
    project: Project,
) -> None:
    fan_out(project, "c", [{"device": "d1", "key": "a\u0000b"}])
    result = project.run("validate")
    assert result.exit_code == 1
    assert "[fan-out.key]" in result.output and "control character" in result.output
