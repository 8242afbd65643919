"""The form decoder the emulator verifies signatures with agrees with the standard library."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from hypothesis import given
from hypothesis import strategies as st

from pushops.emulator.wire import decode_pairs
from pushops.providers.signing import percent_encode

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
