"""Who sent a request, and whether to believe it: credentials, signature, timestamp, nonce.

Both schemes of api-facts §3 are verified with the same functions the client signs with, so a
disagreement between the two is a test failure rather than a silent mismatch.
"""

from __future__ import annotations

import hmac
import threading
from collections import deque
from collections.abc import Mapping

from pushops.emulator.clock import Clock, parse_iso_utc
from pushops.emulator.errors import ApiError, missing
from pushops.emulator.wire import Request
from pushops.providers import signing

WINDOW_SECONDS = 15 * 60  # timestamp skew allowed, and how long a nonce stays "used"

# What an ACS3 request must sign at the least (api-facts §3.2: an inference, kept minimal).
ACS3_REQUIRED_SIGNED = ("host", "x-acs-action", "x-acs-version", "x-acs-date")


class NonceBook:
    """Nonces seen in the last 15 minutes of emulator time, per access key."""

    def __init__(self) -> None:
        self._seen: set[tuple[str, str]] = set()
        self._order: deque[tuple[float, tuple[str, str]]] = deque()
        self._lock = threading.Lock()

    def use(self, access_key_id: str, nonce: str, now: float) -> bool:
        """Record a nonce; False when it was already used inside the window."""
        key = (access_key_id, nonce)
        with self._lock:
            order = self._order
            while order and order[0][0] < now - WINDOW_SECONDS:
                self._seen.discard(order.popleft()[1])
            if key in self._seen:
                return False
            self._seen.add(key)
            order.append((now, key))
            return True

    def clear(self) -> None:
        with self._lock:
            self._seen.clear()
            self._order.clear()


def _v1_string_to_sign(request: Request) -> str:
    """What the v1 signature of ``request`` signs: the query (without Signature) and the form
    fields, RFC 3986-encoded, sorted by key; a form field wins over a query one of its name."""
    form = request.decoded_form
    query = request.query_encoded
    # (isdisjoint iterates its argument: the dozen query keys, not the ~700 form ones)
    if form.canonical is not None and form.fields.keys().isdisjoint(request.query):
        # The body is already in canonical form: its raw pairs are the encoded ones.
        pairs = "&".join([f"{k}={v}" for k, v in query.items() if k != "Signature"])
        sts = signing.rpc_v1_string_to_sign_of(request.method, pairs, form.canonical)
        if sts is not None:  # (None only when a key repeats, which isdisjoint ruled out)
            return sts
    encoded = dict(query)
    del encoded["Signature"]  # unreserved name: encoded as itself
    encoded.update(form.encoded)
    canonical = signing.canonical_from_encoded(encoded)
    return signing.rpc_v1_string_to_sign_from_canonical(request.method, canonical)


class Authenticator:
    def __init__(self, credentials: Mapping[str, str], clock: Clock) -> None:
        self.credentials = dict(credentials)
        self.clock = clock
        self.nonces = NonceBook()

    def verify(self, request: Request) -> str:
        """The access key id of a correctly signed, fresh request; raises ApiError otherwise."""
        authorization = request.headers.get("authorization")
        if authorization is not None:
            return self._verify_acs3(request, authorization)
        return self._verify_v1(request)

    def _check_time(self, value: str | None, name: str) -> None:
        if not value:
            raise missing(name)
        ts = parse_iso_utc(value)
        if ts is None:
            raise ApiError("InvalidTimeStamp.Format")
        if abs(self.clock.time() - ts) > WINDOW_SECONDS:
            raise ApiError(
                "InvalidTimeStamp.Expired",
                f"Specified time stamp or date value is expired. Timestamp {value} is more "
                "than 15 minutes away from the server time.",
            )

    def _secret(self, access_key_id: str | None) -> str:
        if not access_key_id:
            raise missing("AccessKeyId")
        secret = self.credentials.get(access_key_id)
        if secret is None:
            raise ApiError("InvalidAccessKeyId.NotFound")
        return secret

    def _use_nonce(self, access_key_id: str, nonce: str) -> None:
        if not self.nonces.use(access_key_id, nonce, self.clock.time()):
            raise ApiError("SignatureNonceUsed")

    def _verify_v1(self, request: Request) -> str:
        query = request.query
        signature = query.get("Signature")
        if not signature:
            raise missing("Signature")
        method = query.get("SignatureMethod")
        if method != "HMAC-SHA1":
            raise missing("SignatureMethod") if not method else ApiError("InvalidSignatureMethod")
        nonce = query.get("SignatureNonce")
        if not nonce:
            raise missing("SignatureNonce")
        self._check_time(query.get("Timestamp"), "Timestamp")
        access_key_id = query.get("AccessKeyId") or ""
        secret = self._secret(access_key_id)
        sts = _v1_string_to_sign(request)
        expected = signing.rpc_v1_sign(sts, secret)
        if not hmac.compare_digest(expected, signature):
            # The suffix lets the legacy SDK compare our string to sign with its own and
            # report InvalidAccessKeySecret when only the secret differs (api-facts §0.3).
            raise ApiError(
                "SignatureDoesNotMatch",
                "Specified signature is not matched with our calculation. "
                f"server string to sign is:{sts}",
            )
        self._use_nonce(access_key_id, nonce)
        return access_key_id

    def _verify_acs3(self, request: Request, authorization: str) -> str:
        try:
            auth = signing.parse_acs3_authorization(authorization)
        except ValueError as exc:
            raise ApiError("IncompleteSignature", f"{exc}.") from None
        if auth.algorithm != signing.ACS3_ALGORITHM:
            raise ApiError("InvalidSignatureMethod")
        headers = request.headers
        unsigned = [h for h in ACS3_REQUIRED_SIGNED if h not in auth.signed_headers]
        if unsigned:
            raise ApiError(
                "IncompleteSignature",
                f"The request signature does not conform to Aliyun standards: "
                f"{', '.join(unsigned)} must be signed.",
            )
        nonce = headers.get("x-acs-signature-nonce")
        if not nonce:
            raise missing("SignatureNonce")
        self._check_time(headers.get("x-acs-date"), "Timestamp")
        secret = self._secret(auth.access_key_id)
        canonical = signing.acs3_canonical_request(
            request.method, request.path, request.query, headers, auth.signed_headers, request.body
        )
        sts = signing.acs3_string_to_sign(canonical)
        if not hmac.compare_digest(signing.acs3_signature(secret, sts), auth.signature):
            raise ApiError(
                "SignatureDoesNotMatch",
                "Specified signature does not match our calculation. "
                f"server string to sign is:{sts}",
            )
        self._use_nonce(auth.access_key_id, nonce)
        return auth.access_key_id
