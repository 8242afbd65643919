"""Hostile input and secret hygiene: every case is a located error or a refusal, within bounded
time, never a traceback, and no output, log, plan file, ledger row or error holds a secret.

The corpus lives in tests/hardening/corpus/: hostile templates, paths that lead out, YAML bombs.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from emulator.emulator_helpers import EMAS, Caller, error_code, iso, task, tasks_form
from plan.support import AKID, SECRET, TOKEN, Project, base_env

from pushops.emulator import Emulator
from tests.pushrepo import EMAS_TASK

CORPUS = Path(__file__).parent / "corpus"
GITHUB_TOKEN = "ghp_GitHubToken0Distinctive1a2b3c"
SECRETS = (SECRET, TOKEN, GITHUB_TOKEN)
OUTSIDE = "OUTSIDE-THE-REPO-7d6c"  # the content of files a campaign must not reach
BOUND_S = 5.0
CONFIG = """\
version: 1
default_environment: staging
templates: templates
state:
  backend: sqlite
  path: .pushops/state.db
vars:
  brand: Acme
environments:
  staging:
    apps:
      shop: {provider: emas, app_key: 23267207}
      wallet: {provider: mpaas, app_id: ONEX570DA89211721, workspace_id: test}
"""
BASE_TASK = EMAS_TASK


def lines(name: str) -> list[str]:
    text = (CORPUS / name).read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator(credentials={AKID: SECRET}) as emu:
        yield emu


def make_project(base: Path, url: str) -> Project:
    root = base / "repo"
    (root / "campaigns").mkdir(parents=True)
    (root / "templates").mkdir()
    (root / "templates" / "footer.txt").write_text("See you soon")
    (root / "pushops.yaml").write_text(CONFIG)
    (base / "secret.csv").write_text(f"device_id,name\n{OUTSIDE},{OUTSIDE}\n")
    (base / "secret.txt").write_text(OUTSIDE)
    (root / "link-out").symlink_to(base, target_is_directory=True)
    (root / "link-out.csv").symlink_to(base / "secret.csv")
    (root / "templates" / "link-out.txt").symlink_to(base / "secret.txt")
    env = {
        **base_env(url),
        "ALIBABA_CLOUD_SECURITY_TOKEN": TOKEN,
        "GITHUB_TOKEN": GITHUB_TOKEN,
        "PUSHOPS_STATE_DSN": str(root / ".pushops" / "state.db"),
        "PUSHOPS_STATE_SCHEMA": "",
    }
    return Project(root, env).init_ledger()


@pytest.fixture
def project(tmp_path: Path, emulator: Emulator) -> Project:
    return make_project(tmp_path, emulator.url)


def campaign(project: Project, **fields: object) -> None:
    doc = {"id": "c", "app": "shop", "tasks": [{**BASE_TASK, **fields}]}
    project.write("c.yaml", json.dumps(doc, ensure_ascii=False))


def validate(project: Project) -> tuple[int, str, list[dict[str, object]]]:
    started = time.monotonic()
    result = project.run("validate", "--format", "json")
    assert time.monotonic() - started < BOUND_S
    assert "Traceback" not in result.output
    for secret in (*SECRETS, OUTSIDE):
        assert secret not in result.output
    errors = json.loads(result.stdout)["errors"] if result.stdout.startswith("{") else []
    for error in errors:
        assert int(error["line"]) >= 1 and int(error["column"]) >= 1, error  # type: ignore[call-overload]
    return result.exit_code, result.output, errors


# --- template sandbox escapes --------------------------------------------------------------

INTERNALS = ("<class", "<module", "<function", "<built-in", "<bound method", "__globals__")


@pytest.mark.parametrize("template", lines("template_escapes.txt"))
def test_a_hostile_template_is_refused_or_renders_nothing_of_python(
    project: Project, template: str
) -> None:
    campaign(project, Title=template)
    code, output, errors = validate(project)
    if code == 0:
        rendered = project.run("render", "--format", "json").output
        assert not [word for word in INTERNALS if word in rendered], rendered[:500]
        assert not [s for s in SECRETS if s in rendered]
    else:
        assert errors and all(str(e["file"]).endswith("c.yaml") for e in errors), output


# --- paths that lead out -------------------------------------------------------------------


def outside(project: Project, path: str) -> str:
    return path.replace("{outside}", str(project.root.parent / "secret.csv"))


@pytest.mark.parametrize("path", lines("paths.txt"))
def test_a_data_file_outside_the_repo_is_refused(project: Project, path: str) -> None:
    campaign(
        project,
        fan_out={"data": outside(project, path), "key": "{{ row.device_id }}"},
        TargetValue="{{ row.device_id }}",
    )
    code, output, errors = validate(project)
    assert code == 1 and errors, output
    assert all(str(e["file"]).endswith("c.yaml") for e in errors), errors


@pytest.mark.parametrize("path", lines("paths.txt"))
def test_an_include_outside_the_templates_folder_is_refused(project: Project, path: str) -> None:
    name = outside(project, path).replace(".csv", ".txt")
    campaign(project, Title=f"{{% include '{name}' %}}")
    code, output, errors = validate(project)
    assert code == 1 and errors, output
    assert all(str(e["file"]).endswith("c.yaml") for e in errors), errors


def test_an_include_inside_the_templates_folder_renders(project: Project) -> None:
    campaign(project, Title="{% include 'footer.txt' %}")
    assert validate(project)[0] == 0


# --- YAML bombs, deep nesting, oversized files and fields ----------------------------------


@pytest.mark.parametrize("name", sorted(p.name for p in (CORPUS / "yaml").glob("*.yaml")))
def test_a_hostile_yaml_file_is_a_located_error(project: Project, name: str) -> None:
    project.write("bomb.yaml", (CORPUS / "yaml" / name).read_text())
    code, output, errors = validate(project)
    assert code == 1 and errors, output
    assert all(str(e["file"]).endswith("bomb.yaml") for e in errors), errors


def test_an_oversized_campaign_file_is_refused_without_being_parsed(project: Project) -> None:
    with (project.root / "campaigns" / "huge.yaml").open("w") as out:
        out.write("id: huge\napp: shop\n")
        chunk = "#" + "x" * (1024 * 1024 - 2) + "\n"
        for _ in range(65):
            out.write(chunk)
    code, output, errors = validate(project)
    assert code == 1 and [e for e in errors if str(e["file"]).endswith("huge.yaml")], output


NO_SIZE_LIMIT = pytest.mark.xfail(
    strict=True,
    reason="known gap: no documented size for one DEVICE id in TargetValue (api-facts 2.4 gives "
    "accounts 64 B and aliases 128 B only), so one 200,000-character device id validates clean",
)


@pytest.mark.parametrize(
    "field",
    [
        "Title",
        "Body",
        pytest.param("TargetValue", marks=NO_SIZE_LIMIT),
    ],
)
def test_an_oversized_field_is_a_located_error(project: Project, field: str) -> None:
    campaign(project, **{field: "x" * 200_000})
    code, output, errors = validate(project)
    assert code == 1 and errors, output


def test_an_oversized_data_row_is_a_located_error(project: Project) -> None:
    project.data("data/big.csv", "device_id,name\n" + "d1," + "y" * 2_000_000 + "\n")
    campaign(
        project,
        fan_out={"data": "data/big.csv", "key": "{{ row.device_id }}"},
        TargetValue="{{ row.device_id }}",
    )
    code, output, errors = validate(project)
    assert code == 1 and errors, output


# --- secrets in every output ---------------------------------------------------------------


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Every output of a full session: commands, plan file, ledger bytes, DEBUG logs."""
    root_logger = logging.getLogger()
    capture, level = Capture(), root_logger.level
    root_logger.addHandler(capture)
    root_logger.setLevel(logging.DEBUG)
    try:
        with Emulator(credentials={AKID: SECRET}) as emu:
            project = make_project(tmp_path_factory.mktemp("secrets"), emu.url)
            yield collect(project, capture)
    finally:
        root_logger.removeHandler(capture)
        root_logger.setLevel(level)


def collect(project: Project, capture: Capture) -> dict[str, str]:
    campaign(project, Title="{{ brand }} sale")
    project.write(
        "w.yaml",
        json.dumps({"id": "w", "app": "wallet", "broadcasts": [
            {"id": "b", "TaskName": "T", "DeliveryType": 1, "TemplateName": "tpl",
             "ExpiredSeconds": 300, "BindPeriod": 4}]}),
    )  # fmt: skip
    out: dict[str, str] = {}

    def run(name: str, *args: str, env: dict[str, str] | None = None) -> None:
        result = project.run(*args, env=env)
        out[name] = result.output + (f"\n{result.exception!r}" if result.exception else "")

    run("validate", "validate")
    run("validate json", "validate", "--format", "json")
    run("render", "render")
    for form in ("text", "json", "markdown"):
        run(f"plan {form}", "plan", "--format", form)
    run("plan --out", "plan", "--out", "plan.bin")
    out["plan file"] = (project.root / "plan.bin").read_bytes().decode("utf-8", "replace")
    run("apply wrong secret", "apply", "--auto-approve",
        env={"ALIBABA_CLOUD_ACCESS_KEY_SECRET": "wrong-" + SECRET[::-1]})  # fmt: skip
    run("apply", "apply", "--auto-approve")
    run("state list", "state", "list")
    run("state list json", "state", "list", "--format", "json")
    run("state show", "state", "show", "staging/c/r1/t")
    run("state export", "state", "export")
    ledger = b"".join(p.read_bytes() for p in (project.root / ".pushops").glob("state.db*"))
    out["ledger rows"] = ledger.decode("utf-8", "replace")
    out["logs"] = "\n".join(capture.lines)
    return out


CHANNELS = [
    "validate", "validate json", "render", "plan text", "plan json", "plan markdown",
    "plan --out", "plan file", "apply wrong secret", "apply", "state list", "state list json",
    "state show", "state export", "ledger rows", "logs",
]  # fmt: skip


@pytest.mark.parametrize("channel", CHANNELS)
def test_no_output_holds_a_secret(outputs: dict[str, str], channel: str) -> None:
    text = outputs[channel]
    assert text.strip(), f"{channel} produced nothing to scan"
    assert [s for s in SECRETS if s in text] == []
    assert "Traceback" not in text


def test_a_wrong_secret_is_a_clear_signature_error(outputs: dict[str, str]) -> None:
    assert "SignatureDoesNotMatch" in outputs["apply wrong secret"]


def test_the_session_really_sent_and_recorded(outputs: dict[str, str]) -> None:
    assert "staging/c/r1/t" in outputs["state list"] and "sent" in outputs["state list"]


# --- emulator requests with bad or replayed signatures ----------------------------------------

EMU_SECRET = "emu-Secret-Distinctive-0a1b2c"


@pytest.fixture
def call() -> Iterator[Caller]:
    with (
        Emulator(credentials={"test-ak": EMU_SECRET}) as emu,
        httpx.Client(timeout=BOUND_S) as client,
    ):
        yield Caller(emu.url, client)


def refused(response: httpx.Response, code: str) -> None:
    assert 400 <= response.status_code < 500, response.text
    assert error_code(response) == code, response.text
    assert EMU_SECRET not in response.text and "Traceback" not in response.text


def push(call: Caller, **kw: object) -> httpx.Response:
    return call.v1(*EMAS, {"AppKey": "23267207"}, tasks_form([task()]), secret=EMU_SECRET, **kw)  # type: ignore[arg-type]


def test_a_replayed_nonce_is_refused(call: Caller) -> None:
    assert push(call, nonce="n-1").status_code == 200
    refused(push(call, nonce="n-1"), "SignatureNonceUsed")


def test_a_timestamp_16_minutes_off_is_refused(call: Caller) -> None:
    refused(push(call, timestamp=iso(time.time() - 16 * 60)), "InvalidTimeStamp.Expired")
    refused(push(call, timestamp=iso(time.time() + 16 * 60)), "InvalidTimeStamp.Expired")


def test_a_body_tampered_after_signing_is_refused(call: Caller) -> None:
    refused(push(call, tamper={"PushTask.1.Title": "Changed"}), "SignatureDoesNotMatch")


def test_a_wrong_secret_is_refused_without_echoing_the_right_one(call: Caller) -> None:
    response = call.v1(*EMAS, {"AppKey": "23267207"}, tasks_form([task()]), secret="guess")
    refused(response, "SignatureDoesNotMatch")


def test_an_acs3_replayed_nonce_is_refused(call: Caller) -> None:
    form = tasks_form([task()])
    first = call.acs3(*EMAS, {"AppKey": "23267207"}, form, secret=EMU_SECRET, nonce="n-2")
    assert first.status_code == 200, first.text
    again = call.acs3(*EMAS, {"AppKey": "23267207"}, form, secret=EMU_SECRET, nonce="n-2")
    refused(again, "SignatureNonceUsed")


def test_an_acs3_body_tampered_after_signing_is_refused(call: Caller) -> None:
    response = call.acs3(
        *EMAS, {"AppKey": "23267207"}, tasks_form([task()]), secret=EMU_SECRET,
        tamper_body=b"PushTask.1.Title=Changed",
    )  # fmt: skip
    assert 400 <= response.status_code < 500 and EMU_SECRET not in response.text
