"""Plan files: ``plan --out FILE`` writes everything apply needs to send exactly that plan.

**What is in it.** The environment, the ledger's lineage and serial at planning time, the
clock the campaigns were rendered with, the creation time and the git commit; the calls
exactly as they go on the wire (business parameters only, the form already encoded: the
client adds AccessKeyId and the signature when it sends) with, for each delivery they
carry, its key, fingerprint and typed request (what the ledger records); the scheduled
pushes to cancel, the pending calls to settle first, the held deliveries and the count of
every action. No credential ever goes in: the requests never held one, and the values of the
credential variables are masked all the same.

**Format (version 3).** A zstd-compressed stream of JSON Lines, written and read one line at
a time, so neither side ever holds the whole plan: a header object, then records
(``["cancel", ...]``, ``["held", ...]``, ``["finding", ...]``, ``["call", ...]``, then
``["sends", ...]``: the sends by campaign that apply lists before it sends), then
``["end", counts]`` and last ``["mac", "hmac-sha256:..."]``. A fan-out whose every row is
its own message takes about 60 bytes a delivery (version 1, plain JSON, took about 900).
Version 2, the same without the sends record, is still read.

**Integrity.** A plan file is a reviewed artefact: apply must send what ``pushops plan``
computed, nothing an editor made of it. An unkeyed checksum proves nothing (anyone who edits
a Title can recompute it), so the last line is an HMAC-SHA256 over every byte before it,
keyed with a key derived from the environment's provider credentials (the access key secret
and id, see :func:`plan_key`): the ones apply needs anyway to send; whoever can forge a plan
file could send pushes directly. ``PUSHOPS_PLAN_KEY``, when set, is used instead (a job
whose Plan step has no provider credentials: see pushops.plan.session). ``plan --out``
with neither writes an unsigned file, which apply refuses; so make the plan where apply
runs. Sandbox plan files are signed with a public key: they only ever reach
the built-in emulator. Apply checks the MAC over a private copy of the file before it sends
anything (a file swapped afterwards changes nothing), then that the plan is for this
environment and ledger (lineage, serial), not older than ``--max-plan-age`` and not from
the future.
"""

from __future__ import annotations

import hmac
import io
import json
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import IO, Any

import orjson
import zstandard

from pushops.diagnostics import PushopsError
from pushops.plan.findings import Finding
from pushops.plan.mask import MASK, mask
from pushops.plan.model import (
    ACTIONS,
    BLOCKED,
    REPLACE,
    RESOLVE,
    SEND,
    Action,
    Actions,
    Calls,
    CampaignSends,
    Plan,
    PlannedCall,
    PlannedCancel,
    PlannedDelivery,
    SendTally,
    call_record,
    planned_delivery,
)
from pushops.providers.signing import percent_encode
from pushops.wording import duration

FORMAT = "pushops-plan"
FORMAT_VERSION = 3
# Version 2 files carry no tally of their sends (a "sends" record): apply counts them.
READABLE_VERSIONS = (2, FORMAT_VERSION)
DEFAULT_MAX_AGE = timedelta(hours=1)
CLOCK_SKEW = timedelta(minutes=5)  # a plan "from the future" by more than this is refused
LEVEL = 3  # zstd: ~60 bytes a fan-out delivery, compressed at ~100 MB/s
MAX_RECORD = 64 * 2**20  # bytes in one line: a call of 100 deliveries is well under 1 MB
MAC_PREFIX = "hmac-sha256:"
_KEY_CONTEXT = b"pushops plan file\0"
SANDBOX_SECRET = "pushops-sandbox-plans-are-signed-with-a-public-key"


class PlanFileError(PushopsError):
    """A plan file apply must not use (damaged, edited, stale, for elsewhere, too old)."""


# ---------------------------------------------------------------------------------- keys


def plan_key(access_key_id: str, access_key_secret: str, environment: str) -> bytes:
    """The MAC key of ``environment``'s plan files: HMAC-SHA256 of the access key secret
    over a context naming the key id and the environment (a key of its own, so a MAC says
    nothing about the secret and a plan for one environment is no plan for another)."""
    message = _KEY_CONTEXT + access_key_id.encode() + b"\0" + environment.encode()
    return hmac.digest(access_key_secret.encode(), message, "sha256")


def sandbox_key(environment: str) -> bytes:
    """The public key of sandbox plan files (see the module docstring)."""
    return plan_key("pushops-sandbox", SANDBOX_SECRET, environment)


def signer(key: bytes) -> str:
    """A short name of a key, kept in the header: a plan signed with other credentials is
    told apart from one that was edited. A hash of the derived key: it reveals nothing."""
    return hmac.digest(key, b"pushops plan signer", "sha256").hex()[:16]


# ---------------------------------------------------------------------------------- writing


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(timezone.utc).isoformat()


def _header(plan: Plan, key: bytes | None) -> dict[str, Any]:
    counts = plan.counts()
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "environment": plan.environment,
        "lineage": plan.lineage,
        "serial": plan.serial,
        "git_commit": plan.git_commit,
        "created_at": _time(plan.created_at),
        "now": _time(plan.now),
        "margin_s": plan.margin_s,
        "sandbox": plan.sandbox,
        "resolves": list(plan.resolves),
        "counts": {name: counts[name] for name in ACTIONS if counts[name]},
        "signer": signer(key) if key is not None else None,
    }


class _Masker:
    """Secret values out of records; cheap when there are none (the usual case)."""

    def __init__(self, secrets: tuple[str, ...]) -> None:
        self.secrets = secrets
        # How a secret appears in a JSON line, and inside an encoded form body.
        self.json_forms = [json.dumps(s, ensure_ascii=False)[1:-1].encode() for s in secrets]
        self.body_forms = [(percent_encode(s), percent_encode(MASK)) for s in secrets]

    def line(self, record: list[Any] | bytes) -> bytes:
        data = record if isinstance(record, bytes) else orjson.dumps(record)
        if not self.secrets:
            return data
        if not any(form in data for form in self.json_forms) and not any(
            encoded.encode() in data for encoded, _ in self.body_forms
        ):
            return data
        masked = mask(orjson.loads(data), self.secrets)
        if masked[0] == "call":
            body = masked[7]
            for encoded, replacement in self.body_forms:
                body = body.replace(encoded, replacement)
            masked[7] = body
        return orjson.dumps(masked)


def write_plan(
    plan: Plan, path: Path, key: bytes | None = None, secrets: tuple[str, ...] = ()
) -> None:
    """Write ``plan`` to ``path`` (atomically: never a half-written plan file), signed with
    ``key`` (:func:`plan_key`), or unsigned when there is none."""
    masker = _Masker(tuple(secrets))
    mac = hmac.new(key or b"", digestmod="sha256")
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as raw:
        # One worker thread compresses while this one serialises and signs the records (at a
        # million deliveries plan writes the file alone, after the rendering process is
        # done, with a CPU otherwise idle). The bytes differ from one-threaded zstd's (any
        # zstd reads them) but not between runs, whatever the number of workers.
        compressor = zstandard.ZstdCompressor(level=LEVEL, write_checksum=True, threads=1)
        with compressor.stream_writer(raw, closefd=False) as out:

            def put(data: bytes) -> None:
                data += b"\n"
                mac.update(data)
                out.write(data)

            put(orjson.dumps(mask(_header(plan, key), secrets) if secrets else _header(plan, key)))
            for c in plan.cancels:
                put(masker.line(["cancel", c.provider, c.app, c.message_id, list(c.keys),
                                 _time(c.due_at)]))  # fmt: skip
            held = [a for a in plan.blocked if a.held]
            for a in held:
                put(masker.line(["held", a.key, a.reason, a.fingerprint_before,
                                 a.fingerprint_after]))  # fmt: skip
            # Policy findings, with any override given when planning: apply refuses a plan
            # while one blocks, and records the overrides before it sends.
            for finding in plan.findings:
                put(masker.line(["finding", finding.to_json()]))
            for record in plan.calls.records():
                put(masker.line(record))
            put(masker.line(["sends", [item.to_json() for item in plan.calls.sends()]]))
            counts = {
                "cancels": len(plan.cancels),
                "held": len(held),
                "findings": len(plan.findings),
                "calls": len(plan.calls),
                "deliveries": plan.calls.deliveries,
            }
            put(orjson.dumps(["end", counts]))
            tag = MAC_PREFIX + mac.hexdigest() if key is not None else None
            out.write(orjson.dumps(["mac", tag]) + b"\n")
        raw.flush()
        os.fsync(raw.fileno())
    tmp.replace(path)


# ---------------------------------------------------------------------------------- reading


def _fail(path: Path, what: str) -> PlanFileError:
    return PlanFileError(f"plan file {path} is malformed: {what}; make a new plan")


def _text(value: Any, path: Path, field: str, *, optional: bool = False) -> Any:
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise _fail(path, f"{field} is {_kind(value)}, not text")
    return value


def _integer(value: Any, path: Path, field: str) -> int:
    if type(value) is not int:
        raise _fail(path, f"{field} is {_kind(value)}, not an integer")
    return value


def _moment(value: Any, path: Path, field: str, *, optional: bool = False) -> datetime | None:
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise _fail(path, f"{field} is {_kind(value)}, not a time")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _fail(path, f"{field} {value[:40]!r} is not a time") from None
    if moment.tzinfo is None:
        raise _fail(path, f"{field} {value[:40]!r} has no time zone")
    return moment


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    names = {bool: "a boolean", int: "a number", float: "a number", str: "text",
             list: "a list", dict: "an object"}  # fmt: skip
    return names.get(type(value), type(value).__name__)


def _json(data: bytes, path: Path, where: str) -> Any:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        # orjson refuses nesting deeper than 254 levels here, without recursing in Python.
        raise _fail(path, f"{where} is not JSON ({str(exc).split(':')[0]})") from None


class _Lines:
    """The decompressed lines of a plan file, each at most MAX_RECORD bytes."""

    def __init__(self, source: IO[bytes], path: Path) -> None:
        source.seek(0)
        self.path = path
        reader = zstandard.ZstdDecompressor().stream_reader(source, closefd=False)
        self.stream = io.BufferedReader(reader, 1 << 20)  # type: ignore[arg-type]

    def __iter__(self) -> Iterator[bytes]:
        while True:
            try:
                line = self.stream.readline(MAX_RECORD + 1)
            except zstandard.ZstdError:
                raise PlanFileError(
                    f"plan file {self.path} is damaged (its compressed data does not decode); "
                    "make a new plan"
                ) from None
            if not line:
                return
            if len(line) > MAX_RECORD:
                raise _fail(self.path, f"a record is longer than {MAX_RECORD // 2**20} MiB")
            if not line.endswith(b"\n"):
                # What a cut file decodes to: zstd hands over the part it has, silently.
                raise PlanFileError(
                    f"plan file {self.path} is truncated (it ends inside a record); make a new plan"
                )
            yield line


class PlanFile:
    """A plan file, copied privately and its header read; :meth:`verified` checks it all and
    gives the plan, whose calls stream from that copy."""

    def __init__(self, path: Path) -> None:
        self.path = path
        # Everything is read from a private copy: the file as checked is the file as sent.
        self._copy: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=16 * 2**20)  # noqa: SIM115
        try:
            with open(path, "rb") as source:
                magic = source.read(4)
                source.seek(0)
                shutil.copyfileobj(source, self._copy, 1 << 20)
        except OSError as exc:
            self.close()
            raise PlanFileError(f"cannot read plan file {path}: {exc.strerror or exc}") from None
        if magic != b"\x28\xb5\x2f\xfd":  # zstd's frame magic
            self.close()
            old = magic.startswith(b"{")
            raise PlanFileError(
                f"{path} is not a pushops plan file"
                + (" of this version (a version 1 plan? make a new plan)" if old else "")
            )
        try:
            first = next(iter(_Lines(self._copy, path)), None)
            if first is None:
                raise PlanFileError(
                    f"plan file {path} is truncated or damaged (nothing in it decodes); make "
                    "a new plan"
                )
            self.header = self._header(_json(first, path, "the header"))
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        self._copy.close()

    # -- the header ------------------------------------------------------------------------

    def _header(self, doc: Any) -> dict[str, Any]:
        path = self.path
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise PlanFileError(f"{path} is not a pushops plan file")
        if doc.get("format_version") not in READABLE_VERSIONS:
            raise PlanFileError(
                f"{path} has plan format version {doc.get('format_version')!r}; this pushops "
                f"reads versions {' and '.join(map(str, READABLE_VERSIONS))}. Make a new plan with "
                "this pushops"
            )
        counts = doc.get("counts")
        if not isinstance(counts, dict) or not all(
            k in ACTIONS and type(v) is int and v >= 0 for k, v in counts.items()
        ):
            raise _fail(path, "counts is not a count of each action")
        resolves = doc.get("resolves")
        if not isinstance(resolves, list) or not all(isinstance(r, str) for r in resolves):
            raise _fail(path, "resolves is not a list of call ids")
        margin = doc.get("margin_s")
        if type(margin) not in (int, float) or not 0 <= margin < 10**9:
            raise _fail(path, f"margin_s is {_kind(margin)} out of range, not a duration")
        if type(doc.get("sandbox")) is not bool:
            raise _fail(path, f"sandbox is {_kind(doc.get('sandbox'))}, not a boolean")
        return {
            "environment": _text(doc.get("environment"), path, "environment"),
            "lineage": _text(doc.get("lineage"), path, "lineage"),
            "serial": _integer(doc.get("serial"), path, "serial"),
            "git_commit": _text(doc.get("git_commit"), path, "git_commit", optional=True),
            "created_at": _moment(doc.get("created_at"), path, "created_at"),
            "now": _moment(doc.get("now"), path, "now"),
            "margin_s": float(margin),
            "sandbox": doc["sandbox"],
            "resolves": list(resolves),
            "counts": Counter(counts),
            "signer": _text(doc.get("signer"), path, "signer", optional=True),
        }

    @property
    def environment(self) -> str:
        environment: str = self.header["environment"]
        return environment

    @property
    def deliveries_to_send(self) -> int:
        """How many deliveries the plan sends, as its header counts them (not yet verified:
        only for what may be prepared before, never for what is sent)."""
        counts = self.header["counts"]
        return int(counts[SEND] + counts[REPLACE] + counts[RESOLVE])

    def check_made_for(self, environment: str | None, sandbox: bool) -> None:
        """Refuse, from the header alone, a plan made for another environment or the other
        way (--sandbox): said plainly, before any MAC can fail for that reason."""
        _made_for(self.header["environment"], self.header["sandbox"], self.path, environment,
                  sandbox)  # fmt: skip

    # -- the whole file --------------------------------------------------------------------

    def verified(self, key: bytes) -> Plan:
        """The plan, once the MAC over the whole file checks out with ``key``; raises
        :class:`PlanFileError` (nothing is sent) when it does not or the file is damaged."""
        path = self.path
        mac = hmac.new(key, digestmod="sha256")
        cancels: list[PlannedCancel] = []
        held: list[Action] = []
        findings: list[Finding] = []
        end: Any = None
        tag: Any = None
        sends: list[CampaignSends] | None = None
        for number, line in enumerate(_Lines(self._copy, path), 1):
            if tag is not None:
                raise _fail(path, "there is more after its MAC")
            if line.startswith(b'["mac",'):
                tag = _json(line, path, "the MAC line")
                continue
            mac.update(line)
            if line.startswith(b'["call",') or number == 1:
                continue  # read when sent; the MAC covers them
            record = _json(line, path, f"record {number}")
            kind = record[0] if isinstance(record, list) and record else None
            if kind == "cancel":
                cancels.append(self._cancel(record))
            elif kind == "held":
                held.append(self._held(record))
            elif kind == "finding":
                findings.append(self._finding(record))
            elif kind == "sends" and sends is None and end is None:
                sends = self._sends(record)
            elif kind == "end" and end is None:
                end = record
            else:
                raise _fail(path, f"record {number} is not a plan record")
        if tag is None:
            raise PlanFileError(
                f"plan file {path} is truncated (its MAC line is missing); make a new plan"
            )
        if not (isinstance(tag, list) and len(tag) == 2):
            raise _fail(path, "the MAC line is not a MAC")
        if tag[1] is None:
            raise PlanFileError(
                f"plan file {path} is not signed: it was made without the provider "
                f"credentials of environment {self.environment!r}, so apply cannot tell it "
                "from an edited one. Make the plan where apply runs, with the same credentials"
            )
        expected = MAC_PREFIX + mac.hexdigest()
        if not isinstance(tag[1], str) or not hmac.compare_digest(tag[1], expected):
            if self.header["signer"] not in (None, signer(key)):
                raise PlanFileError(
                    f"plan file {path} was signed with other credentials (or another "
                    f"PUSHOPS_PLAN_KEY) than apply has for environment {self.environment!r}: "
                    "refusing it. Make the plan with the key apply uses"
                )
            raise PlanFileError(
                f"plan file {path} was changed after `pushops plan` wrote it (its MAC does not "
                "match): refusing to apply it. Make a new plan with `pushops plan --out`"
            )
        counts = self._end(end)
        found = {"cancels": len(cancels), "held": len(held), "findings": len(findings)}
        if any(counts[name] != n for name, n in found.items()):
            raise _fail(path, "its record counts do not match its records")
        h = self.header
        return Plan(
            environment=h["environment"],
            lineage=h["lineage"],
            serial=h["serial"],
            git_commit=h["git_commit"],
            created_at=h["created_at"],
            now=h["now"],
            margin_s=h["margin_s"],
            sandbox=h["sandbox"],
            actions=Actions.summary(h["counts"], held),
            calls=_FileCalls(self, counts["calls"], counts["deliveries"], sends),
            cancels=cancels,
            resolves=h["resolves"],
            findings=findings,
        )

    def _end(self, end: Any) -> dict[str, int]:
        names = ("cancels", "held", "findings", "calls", "deliveries")
        counts = end[1] if isinstance(end, list) and len(end) == 2 else None
        if not isinstance(counts, dict) or not all(
            type(counts.get(n)) is int and counts[n] >= 0 for n in names
        ):
            raise _fail(self.path, "its end record is missing or not a count of its records")
        return {n: counts[n] for n in names}

    def _cancel(self, record: list[Any]) -> PlannedCancel:
        path = self.path
        if len(record) != 6 or not isinstance(record[4], list):
            raise _fail(path, "a cancel record has the wrong shape")
        _, provider, app, message_id, keys, due = record
        return PlannedCancel(
            _text(provider, path, "a cancel's provider"),
            _text(app, path, "a cancel's app"),
            _text(message_id, path, "a cancel's MessageId"),
            tuple(_text(k, path, "a cancel's key") for k in keys),
            _moment(due, path, "a cancel's due time", optional=True),
        )

    def _finding(self, record: list[Any]) -> Finding:
        if len(record) != 2 or not isinstance(record[1], dict):
            raise _fail(self.path, "a finding record has the wrong shape")
        data = record[1]
        texts = ("source", "level", "message")
        if not all(isinstance(data.get(name), str) for name in texts):
            raise _fail(self.path, "a finding has no source, level or message")
        try:
            return Finding.from_json(data)
        except (KeyError, TypeError, ValueError):
            raise _fail(self.path, "a finding has a field of the wrong type") from None

    def _sends(self, record: list[Any]) -> list[CampaignSends]:
        if len(record) != 2 or not isinstance(record[1], list):
            raise _fail(self.path, "its sends record has the wrong shape")
        out = []
        for item in record[1]:
            where = "a campaign's sends"
            if not isinstance(item, dict) or not isinstance(item.get("loops"), list):
                raise _fail(self.path, f"{where} has the wrong shape")
            counts = [_integer(item.get(n), self.path, f"{where}: {n}")
                      for n in ("deliveries", "calls", "at_apply")]  # fmt: skip
            if not all(isinstance(loop, dict) for loop in item["loops"]):
                raise _fail(self.path, f"{where}: a loop is not a schedule")
            out.append(
                CampaignSends(
                    _text(item.get("campaign"), self.path, f"{where}: campaign"),
                    _text(item.get("provider"), self.path, f"{where}: provider"),
                    *counts,
                    _moment(item.get("first"), self.path, f"{where}: first", optional=True),
                    item["loops"],
                )
            )
        return out

    def _held(self, record: list[Any]) -> Action:
        path = self.path
        if len(record) != 5:
            raise _fail(path, "a held record has the wrong shape")
        _, key, reason, before, after = record
        return Action(
            _text(key, path, "a held key"),
            BLOCKED,
            _text(reason, path, "a held reason"),
            _text(before, path, "a held fingerprint", optional=True),
            _text(after, path, "a held fingerprint", optional=True),
            held=True,
        )

    def calls(self) -> Iterator[PlannedCall]:
        """The calls, in order, each checked as it is read (the MAC already covers them)."""
        path = self.path
        for number, line in enumerate(_Lines(self._copy, path), 1):
            if line.startswith(b'["call",'):
                yield self._call(_json(line, path, f"record {number}"), number)

    def _call(self, record: Any, number: int) -> PlannedCall:
        path = self.path
        where = f"call record {number}"
        if not isinstance(record, list) or len(record) != 9:
            raise _fail(path, f"{where} has the wrong shape")
        _, call_id, provider, app, action, token, query, body, deliveries = record
        if not isinstance(query, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in query.items()
        ):
            raise _fail(path, f"{where}: its query is not a map of text")
        if not isinstance(deliveries, list) or not deliveries:
            raise _fail(path, f"{where} carries no deliveries")
        out = []
        for item in deliveries:
            # The usual record, checked in a few comparisons (apply reads 50,000 deliveries a
            # second); anything else goes through the checks below, which name what is wrong.
            if (
                type(item) is list
                and len(item) == 8
                and type(item[0]) is str
                and type(item[1]) is str
                and type(item[2]) is str
                and type(item[3]) is str
                and type(item[4]) is dict
                and type(item[5]) is int
                and item[6] is None
                and item[7] is None
            ):
                out.append(planned_delivery(item))  # checked: as it is
                continue
            if not isinstance(item, list) or len(item) != 8:
                raise _fail(path, f"{where}: a delivery has the wrong shape")
            key, campaign, message, fp, request, position, due, expires = item
            if not isinstance(request, dict):
                raise _fail(path, f"{where}: a delivery's request is not an object")
            out.append(
                PlannedDelivery(
                    _text(key, path, f"{where}: a key"),
                    _text(campaign, path, f"{where}: a campaign"),
                    _text(message, path, f"{where}: a message"),
                    _text(fp, path, f"{where}: a fingerprint"),
                    request,
                    _integer(position, path, f"{where}: a position"),
                    _moment(due, path, f"{where}: a due time", optional=True),
                    _moment(expires, path, f"{where}: an expiry", optional=True),
                )
            )
        return PlannedCall(
            _text(call_id, path, f"{where}: its call id"),
            _text(provider, path, f"{where}: its provider"),
            _text(app, path, f"{where}: its app"),
            _text(action, path, f"{where}: its action"),
            _text(token, path, f"{where}: its token"),
            query,
            _text(body, path, f"{where}: its body"),
            tuple(out),
        )


class _FileCalls(Calls):
    """A plan file's calls, streamed from its private copy every time they are iterated."""

    def __init__(
        self,
        source: PlanFile,
        calls: int,
        deliveries: int,
        sends: list[CampaignSends] | None,
    ) -> None:
        super().__init__()
        self._source = source
        self._calls = calls
        self.deliveries = deliveries
        self._sends = sends

    def append(self, call: PlannedCall) -> None:
        raise TypeError("a plan file's calls cannot be added to")

    def __iter__(self) -> Iterator[PlannedCall]:
        return self._source.calls()

    def records(self) -> Iterator[bytes]:
        for call in self._source.calls():
            yield call_record(call)

    def sends(self) -> list[CampaignSends]:
        if self._sends is None:  # a version 2 file: counted from its calls, each checked
            tally = SendTally()
            for call in self._source.calls():
                tally.add_call(call)
            self._sends = list(tally.campaigns.values())
        return self._sends

    def __len__(self) -> int:
        return self._calls

    def __bool__(self) -> bool:
        return self._calls > 0


def _made_for(
    planned: str, planned_sandbox: bool, path: Path, environment: str | None, sandbox: bool
) -> None:
    if environment is not None and environment != planned:
        raise PlanFileError(
            f"plan file {path} was made for environment {planned!r}, not {environment!r}; "
            f"make a plan for {environment!r}"
        )
    if sandbox != planned_sandbox:
        made = "with --sandbox" if planned_sandbox else "without --sandbox"
        raise PlanFileError(f"plan file {path} was made {made}; apply it the same way")


def read_plan(path: Path) -> PlanFile:
    """Open a plan file: copied privately, its header read and checked (not yet its MAC)."""
    return PlanFile(path)


def check_usable(
    plan: Plan,
    path: Path,
    *,
    environment: str | None,
    lineage: str,
    serial: int,
    sandbox: bool,
    max_age: timedelta,
    now: datetime,
) -> None:
    """Refuse a plan made for another environment or ledger, too old, from the future, or
    stale."""
    _made_for(plan.environment, plan.sandbox, path, environment, sandbox)
    if plan.created_at > now + CLOCK_SKEW:
        raise PlanFileError(
            f"plan file {path} says it was made at {_time(plan.created_at)}, later than now "
            f"({_time(now)}): refusing it (is a clock wrong?). Make a new plan"
        )
    age = now - plan.created_at
    if age > max_age:
        raise PlanFileError(
            f"plan file {path} is {duration(age)} old, older than the {duration(max_age)} "
            "allowed (--max-plan-age); make a new plan"
        )
    if lineage != plan.lineage:
        raise PlanFileError(
            f"plan file {path} is stale: it was made against ledger lineage {plan.lineage}, "
            f"but the ledger is lineage {lineage} (another ledger?); make a new plan"
        )
    if serial != plan.serial:
        raise PlanFileError(
            f"plan file {path} is stale: the ledger changed since it was made (serial "
            f"{plan.serial} then, {serial} now); make a new plan"
        )


__all__ = [
    "DEFAULT_MAX_AGE",
    "FORMAT_VERSION",
    "PlanFile",
    "PlanFileError",
    "check_usable",
    "plan_key",
    "read_plan",
    "sandbox_key",
    "write_plan",
]
