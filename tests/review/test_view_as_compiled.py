"""The plan's view (per campaign and message: counts, variants, samples, send times) is fed
the calls as plan compiles them, not read back from the plan's calls on disk: it must be the
view a pass over those calls gives, for every kind of message."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from pushops.campaign import discover, load_campaigns
from pushops.commands.plan import make_plan
from pushops.config import load_config
from pushops.diagnostics import Report
from pushops.ledger import open_ledger
from pushops.plan.grouped import Grouping, group_plan

from .support import NOW, examples


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = examples(tmp_path / "repo")  # EMAS and mPaaS, fan-outs, schedules, loops
    # A personalised fan-out too: every row its own text (samples, not variants).
    rows = "device_id,name\n" + "".join(f"p{i:04d},Name{i}\n" for i in range(700))
    (root / "data" / "people.csv").write_text(rows)
    (root / "campaigns" / "people.yaml").write_text(
        "id: people\napp: shop\ntasks:\n  - id: hello\n    fan_out:\n"
        '      data: data/people.csv\n      key: "{{ row.device_id }}"\n'
        "    DeviceType: ANDROID\n    PushType: NOTICE\n    Target: DEVICE\n"
        '    TargetValue: "{{ row.device_id }}"\n    Title: "Hello {{ row.name }}"\n'
        "    Body: A long-awaited weekly digest, just for you, with everything new.\n"
    )
    monkeypatch.chdir(root)
    return root


def test_the_view_fed_as_plan_compiles_is_the_view_of_its_calls_read_back(repo: Path) -> None:
    config = load_config(repo)
    report = Report()
    campaigns = load_campaigns(discover([repo / "campaigns"], repo), repo, report)
    clock = datetime.fromisoformat(NOW.replace("Z", "+00:00"))
    grouping = Grouping("staging", campaigns, config)
    with open_ledger(repo / ".pushops" / "state.db", root=repo) as ledger:
        plan = make_plan(
            config, "staging", ledger, campaigns, clock, report, None, margin_s=300.0,
            sandbox=True, grouping=grouping,
        )  # fmt: skip
        assert report.ok, report.sorted()

        fed = grouping.view(plan)
        read_back = group_plan(plan, campaigns, config)

    assert fed == read_back
    messages = {m.message: m for c in fed.campaigns for m in c.messages.values()}
    assert messages["hello"].personalised and messages["hello"].deliveries == 700
    assert {c.campaign for c in fed.campaigns} >= {"people", "vip-coupons", "black-friday"}
    assert any(c.provider == "mpaas" for c in fed.campaigns)
