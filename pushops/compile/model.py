"""The plain data rendering produces and compiling consumes: Deliveries, WireTasks, Calls.

A **Delivery** is one message to one fan-out row (or the one message when there is no
fan-out): the unit plan compares with the ledger. A **WireTask** is one EMAS PushTask as sent,
carrying one or more deliveries merged on their targets. A **Call** is one API request.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from pushops.providers.signing import encode_form

Position = tuple[str, int, int]  # (file, line, column), 1-based

# Fields that are set per call or per broadcast by pushops; never part of a fingerprint.
UNFINGERPRINTED = frozenset({"AppKey", "IdempotentToken", "Msgkey", "AppId", "WorkspaceId"})


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
# The string encoder json uses when ensure_ascii is off (its C version when there is one).
_STRING = json.encoder.encode_basestring


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, non-ASCII kept: the one text a value hashes as."""
    return _CANONICAL.encode(value)


def fingerprint(params: dict[str, Any]) -> str:
    """``sha256:<hex>`` of the canonical JSON of a delivery's typed params (pushops-set fields
    excluded)."""
    if UNFINGERPRINTED.isdisjoint(params):
        text = canonical_json(params)
    else:
        text = canonical_json({k: v for k, v in params.items() if k not in UNFINGERPRINTED})
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


class PartialFingerprint:
    """:func:`fingerprint` for many params that share every field but ``variable`` with
    ``base`` (a fan-out's rows): the shared fields are encoded once. The canonical JSON of a
    dict is ``{`` + the ``"key":value`` pieces in key order + ``}``, each value encoded on
    its own exactly as inside the whole, so the text, and the hash, are the same."""

    def __init__(self, base: dict[str, Any], variable: Iterable[str]) -> None:
        changing = set(variable)
        names = sorted(k for k in base if k not in UNFINGERPRINTED)
        self.usable = all(type(k) is str for k in base) and changing <= set(base)
        self.pieces = [
            "" if name in changing else f"{_STRING(name)}:{canonical_json(base[name])}"
            for name in names
        ]
        self.changing = [
            (index, name, _STRING(name) + ":")
            for index, name in enumerate(names)
            if name in changing
        ]

    def __call__(self, params: dict[str, Any]) -> str:
        """The fingerprint of ``params``: ``base`` with only the variable fields changed."""
        pieces = self.pieces.copy()
        for index, name, prefix in self.changing:
            value = params[name]
            pieces[index] = prefix + (
                _STRING(value) if type(value) is str else canonical_json(value)
            )
        text = "{" + ",".join(pieces) + "}"
        return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Delivery:
    """One message to one recipient row, rendered and typed.

    ``key`` is ``{environment}/{campaign}/r{revision}/{message}[/{fan_out_key}]``. ``params``
    holds the API's field names with typed values (maps stay maps until the wire); treat it as
    read-only. ``due_at``/``expires_at`` are aware UTC datetimes or None (send now / no expiry).
    ``source`` is where the message is written; ``row`` the data file and line of its fan-out
    row. ``merge_key``, when set by the renderer, is equal for two deliveries of the same
    message exactly when their params are equal except ``TargetValue`` (it saves compile from
    serialising every row's params to find out); an in-process hint, not to be stored.
    ``zone`` is the recipient's time zone name when the fan-out gives one
    (``fan_out.time_zone``), for the policies that read local time; it is not part of the
    request, so not of the fingerprint.
    """

    key: str
    environment: str
    campaign: str
    revision: int
    message: str
    fan_out_key: str | None
    provider: str
    app: str
    params: dict[str, Any]
    fingerprint: str
    due_at: datetime | None
    expires_at: datetime | None
    source: Position
    row: tuple[str, int] | None = None
    merge_key: str | None = None
    zone: str | None = None


_new = object.__new__


def make_delivery(
    key: str,
    environment: str,
    campaign: str,
    revision: int,
    message: str,
    fan_out_key: str | None,
    provider: str,
    app: str,
    params: dict[str, Any],
    fingerprint: str,
    due_at: datetime | None,
    expires_at: datetime | None,
    source: Position,
    row: tuple[str, int] | None = None,
    merge_key: str | None = None,
    zone: str | None = None,
) -> Delivery:
    """``Delivery(...)``, the same object, without the frozen dataclass's field-by-field
    ``object.__setattr__`` (a fan-out makes a million; that was a tenth of rendering)."""
    delivery = _new(Delivery)
    delivery.__dict__.update(
        key=key,
        environment=environment,
        campaign=campaign,
        revision=revision,
        message=message,
        fan_out_key=fan_out_key,
        provider=provider,
        app=app,
        params=params,
        fingerprint=fingerprint,
        due_at=due_at,
        expires_at=expires_at,
        source=source,
        row=row,
        merge_key=merge_key,
        zone=zone,
    )
    return delivery


@dataclass(frozen=True)
class WireTask:
    """One EMAS PushTask as sent: the merged deliveries' common params, targets joined."""

    params: dict[str, Any]
    deliveries: tuple[Delivery, ...]

    @property
    def targets(self) -> int:
        return str(self.params.get("TargetValue", "")).count(",") + 1


@dataclass(frozen=True)
class Call:
    """One API request, fully serialised: ``query`` and ``form`` are exactly the business
    parameters that go on the wire (the client adds the signature and common parameters).

    ``token`` is the EMAS IdempotentToken, or the mPaaS Msgkey (what the provider dedupes on).
    ``positions`` gives the source of each wire task (EMAS ``PushTask.N`` is ``positions[N-1]``)
    or of the broadcast.
    """

    call_id: str
    environment: str
    provider: str
    app: str
    action: str
    token: str
    query: dict[str, str]
    form: dict[str, str]
    deliveries: tuple[Delivery, ...]
    positions: tuple[Position, ...]
    tasks: tuple[WireTask, ...] = ()

    @cached_property
    def body(self) -> str:
        """``form`` as the wire carries it (``k=v&...``, RFC 3986-encoded), encoded once."""
        return encode_form(self.form)

    def request(self) -> dict[str, Any]:
        """The typed request the call-scope rules check (EMAS: with its PushTask list)."""
        if self.provider == "emas":
            return {
                "AppKey": int(self.query["AppKey"]),
                "IdempotentToken": self.token,
                "PushTask": [t.params for t in self.tasks],
            }
        return dict(self.deliveries[0].params)
