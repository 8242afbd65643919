"""A credential pasted into a campaign is masked in every plan format, even where escaping
would have changed its characters (it is masked before anything is escaped)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .support import android, new_repo, plan

SECRET = "s3cr3t_Key*With|Marks`And<More>"


@pytest.mark.parametrize("fmt", ["text", "markdown", "json", "html"])
def test_a_secret_in_a_title_is_masked_in_every_format(tmp_path: Path, fmt: str) -> None:
    root = new_repo(tmp_path, {"a.yaml": android("leak", f"Hi {SECRET} there", f"Body {SECRET}")})
    result = plan(root, "--format", fmt, env={"ALIBABA_CLOUD_ACCESS_KEY_SECRET": SECRET})
    assert result.exit_code == 0, result.output
    for piece in ("s3cr3t", "With", "Marks"):
        assert piece not in result.stdout, fmt
    assert "Hi ****** there" in (
        json.loads(result.stdout)["campaigns"][0]["messages"][0]["cards"][0]["notification"][
            "title"
        ]
        if fmt == "json"
        else result.stdout.replace("\\", "")
    )
