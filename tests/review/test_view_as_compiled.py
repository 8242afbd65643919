"""The plan's view (per campaign and message: counts, variants, samples, send times, the
keys it lists) is fed the calls and actions as plan makes them, not read back from the plan
on disk: it must be the view a pass over those gives, for every kind of message, whatever
order the rows come in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from pushops.campaign import Campaign, discover, load_campaigns
from pushops.commands.plan import make_plan
from pushops.config import Config, load_config
from pushops.diagnostics import Report
from pushops.ledger import open_ledger
from pushops.plan.grouped import Grouping, group_plan
from pushops.plan.model import Plan

from .support import NOW, examples, plan_json, run

SHUFFLED = [i * 337 % 700 for i in range(700)]  # 337 is prime to 700: each of 0..699 once
FIRST_KEYS = [f"p{i:04d}" for i in range(5)]


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = examples(tmp_path / "repo")  # EMAS and mPaaS, fan-outs, schedules, loops
    # A personalised fan-out too: every row its own text (samples, not variants), its rows
    # out of key order, so plan decides them in an order unlike the view's (key order).
    rows = "device_id,name\n" + "".join(f"p{i:04d},Name{i}\n" for i in SHUFFLED)
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


@dataclass
class Planned:
    plan: Plan
    grouping: Grouping
    campaigns: list[Campaign]
    config: Config
    report: Report


def planned(repo: Path, *, fed: bool = True, keep_actions: bool = True) -> Planned:
    """``make_plan`` of the repo's campaigns as plan makes it; ``fed``: its view is fed the
    calls and actions as plan makes them."""
    config = load_config(repo)
    report = Report()
    campaigns = load_campaigns(discover([repo / "campaigns"], repo), repo, report)
    clock = datetime.fromisoformat(NOW.replace("Z", "+00:00"))
    grouping = Grouping("staging", campaigns, config)
    with open_ledger(repo / ".pushops" / "state.db", root=repo) as ledger:
        plan = make_plan(
            config, "staging", ledger, campaigns, clock, report, None, margin_s=300.0,
            sandbox=True, grouping=grouping if fed else None, keep_actions=keep_actions,
        )  # fmt: skip
    return Planned(plan, grouping, campaigns, config, report)


def test_the_view_fed_as_plan_compiles_is_the_view_of_its_calls_read_back(repo: Path) -> None:
    made = planned(repo)
    assert made.report.ok, made.report.sorted()

    fed = made.grouping.view(made.plan)
    read_back = group_plan(made.plan, made.campaigns, made.config)

    assert fed == read_back
    messages = {m.message: m for c in fed.campaigns for m in c.messages.values()}
    assert messages["hello"].personalised and messages["hello"].deliveries == 700
    assert {c.campaign for c in fed.campaigns} >= {"people", "vip-coupons", "black-friday"}
    assert any(c.provider == "mpaas" for c in fed.campaigns)


def test_a_view_lists_the_first_keys_in_key_order_whatever_order_plan_decided_them(
    repo: Path,
) -> None:
    made = planned(repo, keep_actions=False)
    hello = made.grouping.view(made.plan).campaigns
    message = next(m for c in hello for m in c.messages.values() if m.message == "hello")
    assert [a.key.rsplit("/", 1)[1] for a in message.listed["send"]] == FIRST_KEYS
    assert message.counts["send"] == 700


def test_a_plan_that_counted_its_actions_refuses_to_list_them(repo: Path) -> None:
    plan = planned(repo, fed=False, keep_actions=False).plan
    assert plan.counts()["send"] >= 700
    with pytest.raises(RuntimeError, match="counted its actions without keeping them"):
        list(plan.actions)


def test_the_pr_comment_lists_the_first_keys_of_a_shuffled_fan_out(repo: Path) -> None:
    result = run(repo, "plan", "--sandbox", "--now", NOW, "--format", "markdown")
    assert result.exit_code in (0, 2), result.output
    listed = [
        line.split("/")[-1].rstrip("`")
        for line in result.stdout.splitlines()
        if line.startswith("- send `staging/people/")
    ]
    assert listed == FIRST_KEYS
    assert "- … and 695 more send" in result.stdout


def test_plan_json_still_lists_every_action(repo: Path) -> None:
    data = plan_json(repo)
    keys = [a["key"] for a in data["actions"] if a["key"].startswith("staging/people/")]
    assert len(keys) == 700 and keys == sorted(keys)
