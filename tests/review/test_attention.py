"""What needs a reviewer's attention is shown first and open: blocked and replaced deliveries
with their reasons and field diffs, in text and in the pull-request comment, which keeps every
blocked delivery's count and reason however long the plan is."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

from .support import NOW, android, new_repo, plan, run

LATER = datetime.fromisoformat(NOW.replace("Z", "+00:00")) + timedelta(hours=3)


def utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def apply(root: Path) -> None:
    result = run(root, "apply", "--sandbox", "--auto-approve", "--now", NOW)
    assert result.exit_code == 0, result.output


def test_a_changed_sent_push_is_blocked_open_and_first_in_the_comment(tmp_path: Path) -> None:
    root = new_repo(tmp_path, {"z.yaml": android("zzz", "Sale starts")})
    apply(root)
    (root / "campaigns" / "z.yaml").write_text(android("zzz", "Sale starts now"))
    (root / "campaigns" / "a.yaml").write_text(android("aaa", "Quiet news"))

    markdown = plan(root, "--format", "markdown").stdout

    assert "> [!CAUTION]\n> 1 delivery is blocked" in markdown
    assert "| `zzz` | 0 | 0 | 0 | **1** |" in markdown
    section = markdown.index("<details open><summary><b>zzz</b> · 1 blocked")
    assert section < markdown.index("<summary><b>aaa</b>")  # blocked campaigns come first
    assert "**blocked** (1):" in markdown
    assert "- `staging/zzz/r1/android`: already delivered and its definition changed" in markdown
    assert '```diff\n  ~ Title: "Sale starts" -> "Sale starts now"\n  ```' in markdown


def test_text_lists_a_blocked_delivery_with_its_reason_and_diff(tmp_path: Path) -> None:
    root = new_repo(tmp_path, {"z.yaml": android("zzz", "Sale starts")})
    apply(root)
    (root / "campaigns" / "z.yaml").write_text(android("zzz", "Sale starts now"))

    result = plan(root)

    assert result.exit_code == 1
    assert "    x blocked  staging/zzz/r1/android\n" in result.stdout
    assert "        already delivered and its definition changed" in result.stdout
    assert '          ~ Title: "Sale starts" -> "Sale starts now"\n' in result.stdout


def test_a_replaced_scheduled_push_shows_the_new_text_and_its_diff(tmp_path: Path) -> None:
    push = f'    PushTime: "{utc(LATER)}"\n'
    root = new_repo(tmp_path, {"s.yaml": android("sched", "Old title", extra=push)})
    apply(root)
    (root / "campaigns" / "s.yaml").write_text(android("sched", "New title", extra=push))

    markdown = plan(root, "--format", "markdown").stdout
    text = plan(root).stdout

    assert "<details open><summary><b>sched</b> · 1 to replace" in markdown
    assert "| **Title** | **New title** |" in markdown  # the card shows what goes out now
    assert "**replace** (1):" in markdown
    assert '~ Title: "Old title" -> "New title"' in markdown
    assert "sends at 2026-11-22 12:00 UTC" in text
    assert "    ~ replace  staging/sched/r1/android\n" in text


def test_the_comment_keeps_every_blocked_campaign_when_it_must_shorten(tmp_path: Path) -> None:
    long = "a long title that goes on " * 6
    campaigns = {f"c{n:03d}.yaml": android(f"c{n:03d}", f"Offer {n}: {long}") for n in range(150)}
    root = new_repo(tmp_path, campaigns)
    apply(root)
    for n in range(0, 150, 10):  # every tenth campaign edited after it was sent
        (root / "campaigns" / f"c{n:03d}.yaml").write_text(
            android(f"c{n:03d}", f"Offer {n} (edited): {long}")
        )
    for n in range(150, 300):  # and many new ones
        (root / "campaigns" / f"c{n:03d}.yaml").write_text(android(f"c{n:03d}", f"New {n}: {long}"))

    markdown = plan(root, "--format", "markdown").stdout

    assert len(markdown.encode("utf-16-le")) // 2 < 65_536
    assert "Shortened to stay under GitHub's 65,536-character comment limit" in markdown
    for n in range(0, 150, 10):
        assert f"<details open><summary><b>c{n:03d}</b> · 1 blocked" in markdown
        assert f"- `staging/c{n:03d}/r1/android`: already delivered" in markdown
    assert "| **total** | 150 | 0 | 0 | 15 |" in markdown
    assert markdown.count("<details") == markdown.count("</details>")


def test_json_lists_blocked_deliveries_per_message(tmp_path: Path) -> None:
    root = new_repo(tmp_path, {"z.yaml": android("zzz", "Sale starts")})
    apply(root)
    (root / "campaigns" / "z.yaml").write_text(android("zzz", "Sale starts now"))

    data = json.loads(plan(root, "--format", "json").stdout)

    (message,) = data["campaigns"][0]["messages"]
    assert message["summary"] == {"blocked": 1}
    assert message["listed"] == {"blocked": ["staging/zzz/r1/android"]}
    assert message["cards"] == []  # nothing goes out


def test_unchanged_campaigns_are_one_line_not_sections(tmp_path: Path) -> None:
    root = new_repo(tmp_path, {f"{n}.yaml": android(f"same{n}", "Hello") for n in range(3)})
    apply(root)
    (root / "campaigns" / "new.yaml").write_text(android("fresh", "New one"))

    text = plan(root).stdout
    markdown = plan(root, "--format", "markdown").stdout

    assert "Unchanged: 3 campaign(s): same0 (1), same1 (1), same2 (1).\n" in text
    assert "same0: " not in text  # no section
    assert "| `same0` | 0 | 0 | 0 | 0 | – | – | 1 unchanged |" in markdown
    assert "<summary><b>same0</b>" not in markdown and "<summary><b>fresh</b>" in markdown
