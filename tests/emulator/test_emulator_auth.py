"""Gateway checks: signatures (v1 and ACS3), timestamps, nonces, keys, routing."""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timezone

import httpx
from emulator_helpers import APP_KEY, EMAS, Caller, broadcast, error_code, iso, task, tasks_form

from pushops.emulator import Emulator
from pushops.providers import signing


def test_v1_signed_mass_push_is_accepted(call: Caller) -> None:
    r = call.mass_push([task()])
    assert r.status_code == 200, r.text
    assert len(r.json()["MessageIds"]["MessageId"]) == 1


def test_acs3_signed_mass_push_is_accepted(call: Caller) -> None:
    r = call.acs3(*EMAS, {"AppKey": APP_KEY}, tasks_form([task()]))
    assert r.status_code == 200, r.text


def test_v1_wrong_secret_is_signature_does_not_match_with_the_string_to_sign(
    call: Caller,
) -> None:
    r = call.mass_push([task()], secret="not-the-secret")
    assert r.status_code == 400
    body = r.json()
    assert body["Code"] == "SignatureDoesNotMatch"
    assert set(body) == {"RequestId", "HostId", "Code", "Message", "Recommend"}
    assert body["HostId"] == "cloudpush.aliyuncs.com"
    sts = body["Message"].split("server string to sign is:")[1]
    assert sts.startswith("POST&%2F&AccessKeyId%3Dtest-ak%26Action%3DMassPush")


def test_v1_body_changed_after_signing_is_signature_does_not_match(call: Caller) -> None:
    r = call.mass_push([task()], tamper={"PushTask.1.Title": "changed"})
    assert error_code(r) == "SignatureDoesNotMatch"


def test_acs3_wrong_secret_is_signature_does_not_match(call: Caller) -> None:
    r = call.acs3(*EMAS, {"AppKey": APP_KEY}, tasks_form([task()]), secret="nope")
    assert r.status_code == 400 and error_code(r) == "SignatureDoesNotMatch"


def test_acs3_body_changed_after_signing_is_signature_does_not_match(call: Caller) -> None:
    r = call.acs3(
        *EMAS, {"AppKey": APP_KEY}, tasks_form([task()]), tamper_body=b"PushTask.1.Title=x"
    )
    assert error_code(r) == "SignatureDoesNotMatch"


def test_acs3_without_signing_host_is_incomplete_signature(call: Caller) -> None:
    signed = ["x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce"]
    r = call.acs3(*EMAS, {"AppKey": APP_KEY}, tasks_form([task()]), signed=signed)
    assert r.status_code == 400 and error_code(r) == "IncompleteSignature"


def _with_authorization(call: Caller, value: str) -> httpx.Response:
    headers = {"x-acs-action": "MassPush", "x-acs-version": "2016-08-01", "authorization": value}
    return call.client.post(f"{call.url}/", headers=headers)


def test_acs3_malformed_authorization_is_incomplete_signature(call: Caller) -> None:
    r = _with_authorization(call, "ACS3-HMAC-SHA256 Credential=test-ak")
    assert error_code(r) == "IncompleteSignature"


def test_unsupported_signature_method_is_rejected(call: Caller) -> None:
    r = _with_authorization(call, "ACS3-HMAC-SM3 Credential=a,SignedHeaders=host,Signature=b")
    assert error_code(r) == "InvalidSignatureMethod"


def test_timestamp_more_than_15_minutes_off_is_expired(call: Caller) -> None:
    r = call.mass_push([task()], timestamp=iso(time.time() - 16 * 60))
    assert r.status_code == 400 and error_code(r) == "InvalidTimeStamp.Expired"
    r = call.acs3(*EMAS, {"AppKey": APP_KEY}, tasks_form([task()]), date=iso(time.time() + 901))
    assert error_code(r) == "InvalidTimeStamp.Expired"


def test_timestamp_within_15_minutes_is_accepted(call: Caller) -> None:
    r = call.mass_push([task()], timestamp=iso(time.time() - 14 * 60))
    assert r.status_code == 200, r.text


def test_timestamp_not_iso_8601_is_invalid_format(call: Caller) -> None:
    r = call.mass_push([task()], timestamp="2024-01-02 03:04:05")
    assert error_code(r) == "InvalidTimeStamp.Format"


def test_timestamp_is_judged_by_the_emulator_clock(emu: Emulator, call: Caller) -> None:
    emu.set_now(datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc))
    assert error_code(call.mass_push([task()])) == "InvalidTimeStamp.Expired"
    assert call.mass_push([task()], timestamp="2024-01-02T03:10:00Z").status_code == 200


def test_reused_nonce_is_signature_nonce_used(call: Caller) -> None:
    nonce = str(uuid.uuid4())
    assert call.mass_push([task()], nonce=nonce).status_code == 200
    r = call.mass_push([task()], nonce=nonce)
    assert r.status_code == 400 and error_code(r) == "SignatureNonceUsed"


def test_nonce_of_a_badly_signed_request_stays_usable(call: Caller) -> None:
    nonce = str(uuid.uuid4())
    assert error_code(call.mass_push([task()], nonce=nonce, secret="x")) == "SignatureDoesNotMatch"
    assert call.mass_push([task()], nonce=nonce).status_code == 200


def test_unknown_access_key_is_invalid_access_key_id_not_found(call: Caller) -> None:
    r = call.mass_push([task()], ak="someone-else")
    assert r.status_code == 400 and error_code(r) == "InvalidAccessKeyId.NotFound"


def test_missing_signature_is_missing_signature(emu: Emulator, http: httpx.Client) -> None:
    r = http.post(f"{emu.url}/?Action=MassPush&Version=2016-08-01&AppKey=1")
    assert r.status_code == 400 and error_code(r) == "MissingSignature"


def test_unknown_action_is_invalid_api_not_found(call: Caller) -> None:
    r = call.v1("PushV9", "2016-08-01", {"AppKey": APP_KEY})
    assert r.status_code == 404 and error_code(r) == "InvalidApi.NotFound"
    r = call.v1("CancelPushScheduler", "2019-08-21", None, {"AppId": "a"})
    assert r.status_code == 404 and error_code(r) == "InvalidApi.NotFound"


def test_both_products_answer_on_one_port(call: Caller) -> None:

    assert call.mass_push([task()]).status_code == 200
    r = call.mpaas("PushBroadcast", broadcast())
    assert r.json()["ResultCode"] == "100"


def test_signature_verification_matches_the_signing_module(call: Caller) -> None:
    # The same helper that the client uses signs; a disagreement would surface here first.
    params = {"Action": "MassPush", "Title": "a b*c~"}
    assert signing.rpc_v1_string_to_sign("POST", params).endswith("Title%3Da%2520b%252Ac~")
