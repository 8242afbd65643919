"""A throwaway push repo, a ledger on each backend, an emulator, and the real CLI."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from pushops.cli import cli

PG_DSN = os.environ.get("PUSHOPS_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")
AKID = "LTAItestplanapply"
SECRET = "s3cr3t-Distinctive-Value-9f8e7d"  # scanned for in every output
TOKEN = "sts-Token-Distinctive-4c3b2a"

CONFIG = """\
version: 1
default_environment: staging
state:
  backend: sqlite
  path: .pushops/state.db
environments:
  staging:
    apps:
      shop: {provider: emas, app_key: 23267207}
      wallet: {provider: mpaas, app_id: ONEX570DA89211721, workspace_id: test}
  production:
    apps:
      shop: {provider: emas, app_key: 24780031}
"""


def utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def emas_campaign(
    cid: str = "sale",
    title: str = "Sale starts",
    *,
    push_in: timedelta | None = None,
    expire_at: datetime | None = None,
    targets: str = "dev1,dev2",
) -> str:
    lines = [
        f"id: {cid}",
        "app: shop",
        "tasks:",
        "  - id: android",
        "    DeviceType: ANDROID",
        "    PushType: NOTICE",
        "    Target: DEVICE",
        f'    TargetValue: "{targets}"',
        f'    Title: "{title}"',
        "    Body: Tap to see the deals.",
    ]
    if push_in is not None:
        lines.append(f'    PushTime: "{utc(now() + push_in)}"')
    if expire_at is not None:
        lines.append(f'    ExpireTime: "{utc(expire_at)}"')
    return "\n".join(lines) + "\n"


def fanout_campaign(cid: str, rows: int, data: str) -> tuple[str, str]:
    """A campaign with one unmerged PushTask per row (each row has its own title)."""
    csv = "device_id,name\n" + "".join(f"d{i:08d},Name{i}\n" for i in range(rows))
    text = f"""\
id: {cid}
app: shop
tasks:
  - id: offer
    fan_out:
      data: {data}
      key: "{{{{ row.device_id }}}}"
    DeviceType: ANDROID
    PushType: NOTICE
    Target: DEVICE
    TargetValue: "{{{{ row.device_id }}}}"
    Title: "{{{{ row.name }}}}, an offer"
    Body: Open the app to see it.
"""
    return text, csv


def mpaas_campaign(cid: str = "notice", name: str = "Maintenance") -> str:
    return f"""\
id: {cid}
app: wallet
broadcasts:
  - id: android
    TaskName: {name}
    DeliveryType: 1
    TemplateName: announcement
    TemplateKeyValue:
      title: Wallet
    ExpiredSeconds: 3600
    PushStatus: 0
    BindPeriod: 4
"""


@dataclass
class Project:
    root: Path
    env: dict[str, str]

    def write(self, name: str, text: str) -> None:
        path = self.root / "campaigns" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    def remove(self, name: str) -> None:
        (self.root / "campaigns" / name).unlink()

    def data(self, name: str, text: str) -> None:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    def run(
        self, *args: str, env: Mapping[str, str] | None = None, input: str | None = None
    ) -> Result:
        merged = {**self.env, **(env or {})}
        old = Path.cwd()
        os.chdir(self.root)
        try:
            return CliRunner().invoke(
                cli, list(args), env=merged, input=input, catch_exceptions=False
            )
        finally:
            os.chdir(old)

    def init_ledger(self) -> Project:
        """Create the ledger and bind both environments to it, as a team does once with
        `pushops state init` (plan and apply never create a ledger in a non-interactive run)."""
        from pushops.config import load_config

        names = load_config(self.root).environments
        result = self.run("state", "init", *(arg for name in names for arg in ("--env", name)))
        assert result.exit_code == 0, result.output
        return self

    def open_ledger(self):  # type: ignore[no-untyped-def]
        from pushops.ledger import open_ledger

        target = self.env.get("PUSHOPS_STATE_DSN") or str(self.root / ".pushops/state.db")
        return open_ledger(
            target, root=self.root, schema=self.env.get("PUSHOPS_STATE_SCHEMA") or None
        )


def pg_available() -> str | None:
    try:
        import psycopg

        with psycopg.connect(PG_DSN, connect_timeout=3):
            return None
    except Exception as exc:  # any failure to connect is a reason to skip
        return f"{type(exc).__name__}: {exc}".splitlines()[0]


def skip_without_pg() -> None:
    problem = pg_available()
    if problem is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI is set and PostgreSQL does not answer: {problem}")
    pytest.skip(f"no PostgreSQL server answers ({problem}); set PUSHOPS_TEST_PG_DSN to test it")


def backend_env(backend: str, root: Path) -> Iterator[dict[str, str]]:
    if backend == "sqlite":
        yield {"PUSHOPS_STATE_DSN": str(root / ".pushops" / "state.db"), "PUSHOPS_STATE_SCHEMA": ""}
        return
    skip_without_pg()
    import psycopg

    schema = f"pushops_plan_{uuid.uuid4().hex[:12]}"
    try:
        yield {"PUSHOPS_STATE_DSN": PG_DSN, "PUSHOPS_STATE_SCHEMA": schema}
    finally:
        with psycopg.connect(PG_DSN, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def base_env(emulator_url: str | None) -> dict[str, str]:
    env = {
        "ALIBABA_CLOUD_ACCESS_KEY_ID": AKID,
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": SECRET,
        "ALIBABA_CLOUD_SECURITY_TOKEN": "",
        "PUSHOPS_NOW": "",
        "PUSHOPS_MAX_PLAN_AGE": "",
        "PUSHOPS_SCHEDULE_MARGIN": "",
        "GITHUB_ACTOR": "",
    }
    if emulator_url:
        env["PUSHOPS_EMAS_ENDPOINT"] = emulator_url
        env["PUSHOPS_MPAAS_ENDPOINT"] = emulator_url
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- plan files (zstd-compressed JSON Lines, see pushops/plan/planfile.py) ------------------


def plan_records(path: Path) -> list[object]:
    """Every line of a plan file, decoded: header, records, ["end", ...], ["mac", ...]."""
    import orjson
    import zstandard

    text = zstandard.ZstdDecompressor().stream_reader(path.read_bytes()).read()
    return [orjson.loads(line) for line in text.splitlines()]


def plan_text(path: Path) -> str:
    """A plan file decompressed, as text (what a reader of the file could see)."""
    import zstandard

    return zstandard.ZstdDecompressor().stream_reader(path.read_bytes()).read().decode()


def write_plan_records(path: Path, records: list[object], key: bytes | None = None) -> None:
    """Write ``records`` back as a plan file, the way someone editing one would: with a MAC
    recomputed with ``key``, or (no key) the MAC line kept as it was."""
    import hmac
    import json

    import zstandard

    def line(record: object) -> bytes:  # bytes: a line as it is (e.g. JSON nested too deep)
        if isinstance(record, bytes):
            return record + b"\n"
        return json.dumps(record, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"

    *lines, mac_line = [line(r) for r in records]
    if key is not None:
        tag = "hmac-sha256:" + hmac.new(key, b"".join(lines), "sha256").hexdigest()
        mac_line = line(["mac", tag])
    data = b"".join([*lines, mac_line])
    path.write_bytes(zstandard.ZstdCompressor().compress(data))


def plan_calls(path: Path) -> list[list[object]]:
    return [r for r in plan_records(path) if isinstance(r, list) and r[0] == "call"]
