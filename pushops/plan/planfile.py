"""Plan files: ``plan --out FILE`` writes everything apply needs to send exactly that plan.

A plan file holds the compiled calls' wire parameters (business parameters only: the client
adds AccessKeyId and the signature when it sends), the delivery keys, fingerprints and
tokens, the environment, the ledger's lineage and serial at planning time, the creation time
and the git commit, and a checksum over all of it so a file edited by hand is refused. No
credential ever goes in: the requests never held one, and the values of the credential
variables are masked all the same.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from pushops.diagnostics import PushopsError
from pushops.plan.engine import parse_iso
from pushops.plan.findings import Finding
from pushops.plan.mask import mask
from pushops.plan.model import Action, Plan, PlannedCall, PlannedCancel, PlannedDelivery

FORMAT = "pushops-plan"
FORMAT_VERSION = 1
DEFAULT_MAX_AGE = timedelta(hours=1)


class PlanFileError(PushopsError):
    """A plan file apply must not use (damaged, edited, stale, for elsewhere, too old)."""


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(timezone.utc).isoformat()


def _canonical(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def checksum(body: dict[str, Any]) -> str:
    return "sha256:" + hashlib.sha256(_canonical(body)).hexdigest()


def plan_body(plan: Plan) -> dict[str, Any]:
    return {
        "environment": plan.environment,
        "lineage": plan.lineage,
        "serial": plan.serial,
        "git_commit": plan.git_commit,
        "created_at": _time(plan.created_at),
        "now": _time(plan.now),
        "margin_s": plan.margin_s,
        "sandbox": plan.sandbox,
        "resolves": list(plan.resolves),
        # Policy findings, with any override given when planning: apply refuses a plan
        # while one blocks, and records the overrides before it sends.
        "findings": [f.to_json() for f in plan.findings],
        "actions": [
            [
                a.key,
                a.action,
                a.reason,
                a.fingerprint_before,
                a.fingerprint_after,
                a.diff,
                a.call_id,
                _time(a.due_at),
                a.held,
            ]
            for a in plan.actions
        ],
        "cancels": [
            {
                "provider": c.provider,
                "app": c.app,
                "message_id": c.message_id,
                "keys": list(c.keys),
                "due_at": _time(c.due_at),
            }
            for c in plan.cancels
        ],
        "calls": [
            {
                "call_id": c.call_id,
                "provider": c.provider,
                "app": c.app,
                "action": c.action,
                "token": c.token,
                "query": c.query,
                "form": c.form,
                "deliveries": [
                    [
                        d.key,
                        d.campaign,
                        d.message,
                        d.fingerprint,
                        d.request,
                        d.position,
                        _time(d.due_at),
                        _time(d.expires_at),
                    ]
                    for d in c.deliveries
                ],
            }
            for c in plan.calls
        ],
    }


def write_plan(plan: Plan, path: Path, secrets: tuple[str, ...] = ()) -> None:
    body = mask(plan_body(plan), secrets) if secrets else plan_body(plan)
    document = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "checksum": checksum(body),
        "plan": body,
    }
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(_canonical(document) + b"\n")
    tmp.replace(path)  # never a half-written plan file


def read_plan(path: Path) -> Plan:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PlanFileError(f"cannot read plan file {path}: {exc.strerror or exc}") from None
    try:
        document = json.loads(raw)
    except ValueError:
        raise PlanFileError(f"{path} is not a pushops plan file (not JSON)") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise PlanFileError(f"{path} is not a pushops plan file")
    if document.get("format_version") != FORMAT_VERSION:
        raise PlanFileError(
            f"{path} has plan format version {document.get('format_version')!r}; this pushops "
            f"reads version {FORMAT_VERSION}. Make a new plan with this pushops"
        )
    body = document.get("plan")
    if not isinstance(body, dict) or document.get("checksum") != checksum(body):
        raise PlanFileError(
            f"plan file {path} was changed after `pushops plan` wrote it (its checksum does "
            "not match): refusing to apply it. Make a new plan with `pushops plan --out`"
        )
    try:
        return _plan(body)
    except (KeyError, TypeError, ValueError) as exc:
        raise PlanFileError(f"plan file {path} is malformed: {exc}") from None


def _plan(body: dict[str, Any]) -> Plan:
    created = parse_iso(body["created_at"])
    now = parse_iso(body["now"])
    assert created is not None and now is not None
    return Plan(
        environment=body["environment"],
        lineage=body["lineage"],
        serial=int(body["serial"]),
        git_commit=body["git_commit"],
        created_at=created,
        now=now,
        margin_s=float(body["margin_s"]),
        sandbox=bool(body["sandbox"]),
        resolves=list(body["resolves"]),
        findings=[Finding.from_json(f) for f in body.get("findings", [])],
        actions=[
            Action(k, a, r, fb, fa, diff, None, cid, parse_iso(due), held)
            for k, a, r, fb, fa, diff, cid, due, held in body["actions"]
        ],
        cancels=[
            PlannedCancel(
                c["provider"], c["app"], c["message_id"], tuple(c["keys"]), parse_iso(c["due_at"])
            )
            for c in body["cancels"]
        ],
        calls=[
            PlannedCall(
                c["call_id"],
                c["provider"],
                c["app"],
                c["action"],
                c["token"],
                c["query"],
                c["form"],
                tuple(
                    PlannedDelivery(k, camp, msg, fp, req, pos, parse_iso(due), parse_iso(exp))
                    for k, camp, msg, fp, req, pos, due, exp in c["deliveries"]
                ),
            )
            for c in body["calls"]
        ],
    )


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
    """Refuse a plan made for another environment or ledger, or one too old or stale."""
    if environment is not None and environment != plan.environment:
        raise PlanFileError(
            f"plan file {path} was made for environment {plan.environment!r}, not "
            f"{environment!r}; make a plan for {environment!r}"
        )
    if sandbox != plan.sandbox:
        made = "with --sandbox" if plan.sandbox else "without --sandbox"
        raise PlanFileError(f"plan file {path} was made {made}; apply it the same way")
    age = now - plan.created_at
    if age > max_age:
        raise PlanFileError(
            f"plan file {path} is {int(age.total_seconds() // 60)} min old, older than the "
            f"{int(max_age.total_seconds() // 60)} min allowed (--max-plan-age); make a new plan"
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
