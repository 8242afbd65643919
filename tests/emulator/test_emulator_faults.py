"""Injected faults, quota, latency, drops, the HTTP controls, --db and the CLI process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest
from emulator_helpers import AK, SECRET, Caller, broadcast, error_code, iso, task

from pushops.emulator import Emulator


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("Throttling.User", 400),
        ("InternalError", 500),
        ("ServiceUnavailable", 503),
        ("SignatureDoesNotMatch", 400),
        ("PermissionDenied", 400),
        ("AccountDisabled", 400),
    ],
)
def test_queued_fault_answers_the_next_call_with_that_error(
    emu: Emulator, call: Caller, code: str, status: int
) -> None:
    emu.enqueue_fault(code=code, action="MassPush")
    r = call.mass_push([task()])
    assert r.status_code == status and error_code(r) == code
    assert set(r.json()) == {"RequestId", "HostId", "Code", "Message", "Recommend"}
    assert emu.deliveries() == []
    assert call.mass_push([task()]).status_code == 200


def test_queued_status_alone_is_service_unavailable(emu: Emulator, call: Caller) -> None:
    emu.enqueue_fault(status=503)
    r = call.mass_push([task()])
    assert r.status_code == 503 and error_code(r) == "ServiceUnavailable"


def test_queued_fault_waits_for_its_action(emu: Emulator, call: Caller) -> None:
    emu.enqueue_fault(result_code="8011", action="PushBroadcast")
    assert call.mass_push([task()]).status_code == 200
    r = call.mpaas("PushBroadcast", broadcast())
    assert r.status_code == 200 and r.json()["ResultCode"] == "8011"
    assert r.json()["ResultMessage"] == "FLOW_CONTROL_ERROR"


def test_drop_records_the_delivery_and_closes_without_answering(
    emu: Emulator, call: Caller
) -> None:
    token = str(uuid.uuid4())
    emu.enqueue_fault(drop=True)
    with pytest.raises(httpx.TransportError):
        call.mass_push([task()], token=token)
    assert len(emu.deliveries()) == 1
    # The retry with the same token is answered from the first result: still one delivery.
    retry = call.mass_push([task()], token=token)
    assert retry.status_code == 200
    assert retry.json()["MessageIds"]["MessageId"] == [emu.deliveries()[0]["message_id"]]
    assert len(emu.deliveries()) == 1


def test_drop_rate_one_drops_every_call(emu: Emulator, call: Caller) -> None:
    emu.configure(drop_rate=1.0)
    with pytest.raises(httpx.TransportError):
        call.mass_push([task()])
    assert len(emu.deliveries()) == 1


def test_error_rate_one_is_internal_error_on_every_call(emu: Emulator, call: Caller) -> None:
    emu.configure(error_rate=1.0)
    r = call.mass_push([task()])
    assert r.status_code == 500 and error_code(r) == "InternalError"
    assert emu.deliveries() == []


def test_calls_above_the_quota_are_throttled(emu: Emulator, call: Caller) -> None:
    emu.configure(quota=5)
    # Start right after a second boundary so all calls fall into one window.
    time.sleep(1 - time.monotonic() % 1)
    codes = [call.mass_push([task()]).status_code for _ in range(8)]
    assert codes.count(200) == 5
    assert codes.count(400) == 3
    r = call.mass_push([task()])
    if r.status_code == 400:
        assert error_code(r) == "Throttling.User"


def test_latency_delays_an_answer_without_blocking_others(emu: Emulator, call: Caller) -> None:
    emu.configure(latency_ms=300)
    done: list[float] = []

    def send() -> None:
        call.mass_push([task()])  # one pooled httpx client, many connections
        done.append(time.perf_counter())

    start = time.perf_counter()
    threads = [threading.Thread(target=send) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(done) == 20
    # One after another they would take 20 x 0.3 s = 6 s.
    assert 0.3 <= max(done) - start < 3.0


def test_http_controls_mirror_the_python_api(emu: Emulator, call: Caller) -> None:
    http = call.client
    call.mass_push([task()])
    listing = http.get(f"{emu.url}/_emulator/deliveries").json()
    assert listing["count"] == 1 and listing["deliveries"][0]["action"] == "MassPush"
    faults = {"latency_ms": 0, "enqueue": [{"code": "InternalError", "action": "MassPush"}]}
    assert http.post(f"{emu.url}/_emulator/faults", json=faults).json()["queued"] == 1
    assert call.mass_push([task()]).status_code == 500
    assert http.post(f"{emu.url}/_emulator/reset").json() == {"ok": True}
    assert http.get(f"{emu.url}/_emulator/deliveries").json() == {"count": 0, "deliveries": []}
    clock = http.post(f"{emu.url}/_emulator/clock", json={"now": "2030-01-01T00:00:00Z"}).json()
    assert clock["now"].startswith("2030-01-01T00:00:0")
    moved = http.post(f"{emu.url}/_emulator/clock", json={"advance": 3600}).json()
    assert moved["now"].startswith("2030-01-01T01:00:0")


def test_http_controls_reject_bad_input(emu: Emulator, http: httpx.Client) -> None:
    r = http.post(f"{emu.url}/_emulator/faults", json={"error_rate": 2})
    assert r.status_code == 400
    r = http.post(f"{emu.url}/_emulator/faults", json={"enqueue": [{"action": "MassPush"}]})
    assert r.status_code == 400
    assert http.get(f"{emu.url}/_emulator/nothing").status_code == 404


def test_db_keeps_deliveries_tokens_and_msgkeys_across_restarts(tmp_path: Path) -> None:
    db = tmp_path / "emu.sqlite"
    token = str(uuid.uuid4())
    with Emulator(credentials={AK: SECRET}, db=db) as emu, httpx.Client() as http:
        first = Caller(emu.url, http).mass_push([task()], token=token).json()
        Caller(emu.url, http).mpaas("PushBroadcast", broadcast(Msgkey="kept"))
    with Emulator(credentials={AK: SECRET}, db=db) as emu, httpx.Client() as http:
        caller = Caller(emu.url, http)
        assert len(emu.deliveries()) == 2
        assert caller.mass_push([task()], token=token).json()["MessageIds"] == first["MessageIds"]
        r = caller.mpaas("PushBroadcast", broadcast(Msgkey="kept"))
        assert r.json()["ResultCode"] == "3028"
        new_id = caller.mass_push([task()]).json()["MessageIds"]["MessageId"][0]
        assert new_id not in first["MessageIds"]["MessageId"]


def test_non_loopback_host_is_refused() -> None:
    with pytest.raises(ValueError, match="loopback"):
        Emulator(host="0.0.0.0")


def test_cli_prints_its_url_serves_and_stops_on_sigterm() -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "pushops", "emulator", "--port", "0", "--credentials", "k:s"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("pushops emulator listening on http://127.0.0.1:")
        url = line.split(" on ", 1)[1].strip()
        with httpx.Client() as http:
            r = Caller(url, http).mass_push([task()], ak="k", secret="s", timestamp=iso())
            assert r.status_code == 200, r.text
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_cli_refuses_a_non_loopback_host() -> None:
    r = subprocess.run(
        [sys.executable, "-m", "pushops", "emulator", "--host", "0.0.0.0"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert r.returncode == 1 and "loopback" in r.stderr
