"""The form decoder the emulator verifies signatures with agrees with the standard library,
and its whole-buffer fast path agrees with the piecewise reference decoder."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pushops.emulator import form
from pushops.emulator.wire import decode_pairs
from pushops.providers.signing import percent_encode, percent_encode_all

pairs = st.dictionaries(st.text(min_size=1), st.text(), max_size=8)


@given(pairs)
def test_decoding_matches_parse_qsl_and_reencoding_matches_percent_encode(
    fields: dict[str, str],
) -> None:
    body = urlencode(fields)
    for _ in range(2):  # the second pass answers from the memo
        decoded, encoded = decode_pairs(body)
        assert decoded == dict(parse_qsl(body, keep_blank_values=True))
        assert encoded == {percent_encode(k): percent_encode(v) for k, v in decoded.items()}


# --- the whole-buffer decoder against the piecewise reference ----------------------------------

# Texts made of the characters that matter to the decoder: separators, escapes in both cases,
# '+', reserved and non-ASCII characters, NUL.
raw_texts = st.text(alphabet="ab=&%+2Cc0F9fé~ *\0", max_size=40)


@given(raw_texts)
def test_any_text_decodes_as_the_piecewise_reference_does(text: str) -> None:
    assert form.decode_pairs(text) == form.decode_piecewise(text)


@given(st.lists(st.tuples(st.text(min_size=1), st.text()), max_size=8))
def test_canonical_bodies_decode_as_the_reference_does(fields: list[tuple[str, str]]) -> None:
    # Canonical RFC 3986 bodies, as our client and the Tea SDKs send, repeated keys included.
    body = "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in fields)
    assert form.decode_pairs(body) == form.decode_piecewise(body)


@pytest.mark.parametrize(
    "text",
    [
        "PushTask.1.Title=Hello%20World&PushTask.1.Body=a%2Cb",  # canonical: fast path
        "Title=Hello+World",  # '+' for a space: not canonical
        "Title=Hello%2cWorld",  # lower-case escape
        "Title=%41bc",  # needless escape of an unreserved character
        "Title=a,b&Body=x*y",  # reserved characters left raw
        "Title=a&Title=b&Body=c",  # repeated key: the last value wins
        "Title=a&Title%3D=b",  # an encoded '=' inside a key
        "Title=%E4%B8%96",  # UTF-8 escapes
        "Title=%E4%B8",  # truncated UTF-8: replaced, as unquote does
        "Title=100%",  # stray '%': kept literally
        "Title=%zz",  # not hex
        "Title=%00x",  # NUL
        "Title=a&",  # trailing '&'
        "&Title=a",  # leading '&'
        "Title=a&&Body=b",  # empty pair
        "Title&Body=b",  # key without '='
        "Title=a=b",  # '=' inside a value
        "=a&Title=b",  # empty key
        "Title=é",  # raw non-ASCII
    ],
)
def test_edge_cases_decode_as_the_reference_does(text: str) -> None:
    assert form.decode_pairs(text) == form.decode_piecewise(text)


def test_fast_path_answers_well_formed_bodies_without_the_piecewise_decoder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(text: str) -> form.Pairs:
        raise AssertionError(f"fell back for {text!r}")

    monkeypatch.setattr(form, "decode_piecewise", refuse)
    decoded, encoded = form.decode_pairs("T=Hello+World&B=a%2cb&B=%E4%B8%96&K=x%2Cy")
    assert decoded == {"T": "Hello World", "B": "世", "K": "x,y"}
    assert encoded == {"T": "Hello%20World", "B": "%E4%B8%96", "K": "x%2Cy"}


def test_fallback_takes_malformed_bodies(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    reference = form.decode_piecewise
    monkeypatch.setattr(form, "decode_piecewise", lambda t: seen.append(t) or reference(t))
    for text in ("Title=100%", "Title=a&", "Title=%00", "Title=é"):
        form.decode_pairs(text)
    assert seen == ["Title=100%", "Title=a&", "Title=%00", "Title=é"]


@given(st.lists(st.text(), max_size=12))
def test_percent_encode_all_matches_percent_encode(pieces: list[str]) -> None:
    assert percent_encode_all(pieces) == [percent_encode(p) for p in pieces]


def test_percent_encode_all_with_many_distinct_bytes_and_nuls() -> None:
    pieces = ["中文标题，你好世界" * 3, "a\0b", "%+ ~", ""]
    assert percent_encode_all(pieces) == [percent_encode(p) for p in pieces]
