"""The v1 string to sign the emulator rebuilds: from the raw pairs when the body is canonical,
by decoding and re-encoding otherwise; both give what the signing reference gives."""

from __future__ import annotations

from urllib.parse import quote_plus

import pytest

from pushops.emulator.auth import _v1_string_to_sign
from pushops.emulator.wire import Request
from pushops.providers import signing

QUERY = {"Action": "MassPush", "AppKey": "1", "SignatureNonce": "n", "Signature": "x"}
FORM = {"PushTask.1.Title": "Hello World", "PushTask.1.Body": "a,b*c~", "PushTask.10.Title": "世"}


def request(body: str, query: dict[str, str] = QUERY) -> Request:
    target = "/?" + "&".join(f"{signing.percent_encode(k)}={signing.percent_encode(v)}"
                             for k, v in query.items())  # fmt: skip
    return Request("POST", target, {}, body.encode())


def expected(form: dict[str, str], query: dict[str, str] = QUERY) -> str:
    params = {k: v for k, v in query.items() if k != "Signature"}
    return signing.rpc_v1_string_to_sign("POST", {**params, **form})


def test_a_canonical_body_is_signed_from_its_raw_pairs() -> None:
    r = request(signing.encode_form(FORM))
    assert r.decoded_form.canonical is not None  # the fast path is taken
    assert _v1_string_to_sign(r) == expected(FORM)


@pytest.mark.parametrize(
    "body",
    [
        "&".join(f"{quote_plus(k)}={quote_plus(v)}" for k, v in FORM.items()),  # '+', raw '*'
        signing.encode_form(FORM).replace("%2C", "%2c"),  # lower-case escape
        signing.encode_form(FORM).replace("Hello", "%48ello"),  # needless escape
    ],
)
def test_a_body_not_in_canonical_form_is_decoded_and_re_encoded(body: str) -> None:
    r = request(body)
    assert r.decoded_form.canonical is None
    assert _v1_string_to_sign(r) == expected(FORM)


def test_a_repeated_key_signs_its_last_value() -> None:
    body = signing.encode_form(FORM) + "&PushTask.1.Title=Again"
    r = request(body)
    assert r.decoded_form.canonical is None
    assert _v1_string_to_sign(r) == expected({**FORM, "PushTask.1.Title": "Again"})


def test_a_form_field_named_like_a_query_parameter_wins() -> None:
    r = request(signing.encode_form({**FORM, "AppKey": "2"}))
    assert _v1_string_to_sign(r) == expected({**FORM, "AppKey": "2"})
