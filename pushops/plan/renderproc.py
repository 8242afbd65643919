"""Rendering and checking a large fan-out in a process of its own, so plan uses both CPUs.

Planning a million personalised deliveries was one interpreter's work: render each row
(templates, fingerprint, key check), check it against the provider schema and rules, then
decide, compile and write it. Rendering and checking are about two fifths of that and
depend on nothing but the campaign, the clock and the data file, so for a campaign whose
fan-out data is large, a child process (``python -m pushops.plan.renderproc``) renders and
checks it while the parent decides, compiles and writes what came before.

The child changes what is planned in nothing:

- it gets the parent's loaded configuration and campaign (not the files again), the clock
  and the environment, and renders with the same :class:`~pushops.render.engine.Renderer`
  (the same sandbox, repository-bound file access and bounds); its deliveries, diagnostics
  and their order are the parent's own;
- it checks a delivery (:class:`~pushops.plan.checks.DeliveryChecker`) only when the parent
  asks it to check them all, which it does when the ledger holds nothing of the campaign's
  revision (every delivery is then sent, and only what is sent is checked); otherwise the
  parent checks the ones it sends, as without the child;
- it writes only to its pipe: plan writes nothing to the ledger, and what the child sends is
  read, rebuilt into deliveries and decided by the parent alone;
- it dies with the parent (``PR_SET_PDEATHSIG``), and a child that ends before its last
  frame ends the plan with an error: nothing is planned from a part of a campaign.

Backpressure is the pipe's: the child holds one batch while the parent is behind, so memory
stays flat however many rows the file has. The messages are pickles over a pair of private
pipes; both ends are this program.
"""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from pushops.campaign import Campaign
from pushops.childproc import FRAME_LENGTH, die_with, frame, how_it_ended, spawn
from pushops.compile import Delivery
from pushops.compile.model import make_delivery
from pushops.config import Config
from pushops.diagnostics import Diagnostic, PushopsError, Report
from pushops.render import render_deliveries
from pushops.render.fanout import resolve_data_path

MODE_ENV = "PUSHOPS_RENDER_PROCESS"
MODES = ("auto", "always", "never")
# "auto" renders a campaign in a child when its fan-out data files hold this many bytes. The
# child costs ~0.4 s to start; measured (bench rows, ~29 bytes): 10,000 rows (0.28 MB) plan
# in 1.2-1.5 s alone, 1.6-1.7 s with it; 60,000 rows (1.7 MB) in 5.6 s alone, 4.5-5.0 s.
AUTO_FROM_BYTES = 1 << 20
BATCH = 500  # deliveries a frame (one pickle each way; bounded memory)
CLOSE_TIMEOUT_S = 10.0

# Items of a frame: a message's shared fields, one delivery of it, a diagnostic, the end.
_HEADER, _DELIVERY, _DIAGNOSTIC, _END, _FAILED = range(5)


def render_mode(env: Mapping[str, str] | None = None) -> str:
    """``PUSHOPS_RENDER_PROCESS``: auto (a child for large fan-outs, on Linux), always, never."""
    value = (os.environ if env is None else env).get(MODE_ENV, "").strip().lower() or "auto"
    if value not in MODES:
        raise PushopsError(f"{MODE_ENV}={value!r}: expected one of {', '.join(MODES)}")
    return value


def fan_out_bytes(campaign: Campaign, root: Path) -> int:
    """The bytes of the data files ``campaign`` fans out over (those that resolve; the
    renderer reports the rest)."""
    total = 0
    for message in campaign.messages:
        spec = message.fan_out
        if isinstance(spec, dict) and isinstance(spec.get("data"), str):
            try:
                total += resolve_data_path(root, spec["data"]).stat().st_size
            except (ValueError, OSError):
                continue
    return total


def wanted(mode: str, campaign: Campaign, config: Config) -> bool:
    """Whether ``campaign`` is rendered in a child. Only Linux can tie the child's life to
    the parent's, so elsewhere "auto" keeps one process."""
    if mode == "always":
        return True
    if mode != "auto" or sys.platform != "linux":
        return False
    return fan_out_bytes(campaign, config.root) >= AUTO_FROM_BYTES


def _read_frame(pipe: IO[bytes]) -> Any | None:
    """The next frame, or None at the end of the pipe (a frame cut short is an end too)."""
    head = pipe.read(FRAME_LENGTH.size)
    if len(head) < FRAME_LENGTH.size:
        return None
    (size,) = FRAME_LENGTH.unpack(head)
    data = pipe.read(size)
    if len(data) < size:
        return None
    return pickle.loads(data)


# ---------------------------------------------------------------- the parent's side


class RenderingProcess:
    """One campaign rendered (and, if asked, checked) in a child: iterate :meth:`deliveries`;
    :meth:`problems` then answers for the deliveries of the batch last read."""

    def __init__(self, config: Config, environment: str, now: datetime, *, check_all: bool) -> None:
        self.config = config
        self.environment = environment
        self.now = now
        self.check_all = check_all
        # The problems the child found in the current batch's deliveries, by key.
        self.checked: dict[str, tuple[Delivery, list[Diagnostic]]] = {}

    def problems(self, delivery: Delivery) -> list[Diagnostic] | None:
        """What the child's check found in ``delivery``, or None if it did not check it."""
        found = self.checked.get(delivery.key)
        if found is None or found[0] is not delivery:
            return None
        return found[1]

    def deliveries(self, campaign: Campaign, report: Report) -> Iterator[Delivery]:
        try:
            request = frame((self.config, campaign, self.environment, self.now, self.check_all))
        except Exception:
            # Rendered here instead, as without the child (and checked by plan as it sends).
            yield from render_deliveries(
                [campaign], self.config, self.environment, self.now, report
            )
            return
        try:
            # A session of its own: a Ctrl-C reaches plan alone, which then ends the child.
            proc, down_write, up_read = spawn("pushops.plan.renderproc")
        except OSError as error:
            raise PushopsError(f"could not start the rendering process: {error}") from None
        up = os.fdopen(up_read, "rb", buffering=1 << 16)
        try:
            try:
                with os.fdopen(down_write, "wb") as down:
                    down.write(request)
            except BrokenPipeError:
                pass  # it ended already: reading says how
            yield from self._read(up, report, proc)
        finally:
            up.close()
            self.checked = {}
            if proc.poll() is None:
                proc.kill()  # stopped early (an error, a Ctrl-C): the rest is not wanted
            proc.wait(timeout=CLOSE_TIMEOUT_S)

    def _read(
        self, up: IO[bytes], report: Report, proc: subprocess.Popen[bytes]
    ) -> Iterator[Delivery]:
        header: tuple[Any, ...] = ()
        while True:
            try:
                batch = _read_frame(up)
            except (pickle.UnpicklingError, EOFError, ValueError) as error:
                batch = None
                proc.kill()
                broken = f": {type(error).__name__}"
            else:
                broken = ""
            if batch is None:
                code = proc.wait(timeout=CLOSE_TIMEOUT_S)
                raise PushopsError(
                    f"the rendering process ended{how_it_ended(code)}{broken} before it had "
                    "rendered the campaign; nothing was planned"
                )
            self.checked = {}
            for item in batch:
                kind = item[0]
                if kind == _DELIVERY:
                    (_, key, fan_out_key, params, printed, due_at, expires_at, line, group,
                     zone, problems) = item  # fmt: skip
                    env, campaign_id, revision, message, provider, app, source, data = header
                    delivery = make_delivery(
                        key, env, campaign_id, revision, message, fan_out_key, provider, app,
                        params, printed, due_at, expires_at, source,
                        None if line is None else (data, line), group, zone,
                    )  # fmt: skip
                    if problems is not None:
                        self.checked[key] = (delivery, problems)
                    yield delivery
                elif kind == _HEADER:
                    header = item[1]
                elif kind == _DIAGNOSTIC:
                    report.add(item[1])
                elif kind == _FAILED:
                    raise PushopsError(item[1])
                else:  # _END
                    return


# ---------------------------------------------------------------- the child's side


class _Forwarded(Report):
    """The child's report: each diagnostic goes to the parent in the stream, in order."""

    def __init__(self, items: list[Any]) -> None:
        super().__init__()
        self.items = items

    def add(self, diagnostic: Diagnostic) -> None:
        super().add(diagnostic)
        self.items.append((_DIAGNOSTIC, diagnostic))

    def extend(self, diagnostics: Iterable[Diagnostic]) -> None:
        for diagnostic in diagnostics:
            self.add(diagnostic)


def _render(down: IO[bytes], up: IO[bytes]) -> None:
    from pushops.plan.checks import DeliveryChecker  # only the child checks here

    request = _read_frame(down)
    if request is None:
        return  # the parent stopped before it asked for anything
    config, campaign, environment, now, check_all = request
    items: list[Any] = []
    report = _Forwarded(items)
    checker = DeliveryChecker(now) if check_all else None
    header: tuple[Any, ...] = ()
    try:
        for delivery in render_deliveries([campaign], config, environment, now, report):
            row = delivery.row
            shared = (
                delivery.environment, delivery.campaign, delivery.revision, delivery.message,
                delivery.provider, delivery.app, delivery.source, row[0] if row else None,
            )  # fmt: skip
            if shared != header:
                header = shared
                items.append((_HEADER, header))
            problems = checker(campaign, delivery) if checker is not None else None
            items.append(
                (_DELIVERY, delivery.key, delivery.fan_out_key, delivery.params,
                 delivery.fingerprint, delivery.due_at, delivery.expires_at,
                 row[1] if row else None, delivery.merge_key, delivery.zone, problems)
            )  # fmt: skip
            if len(items) >= BATCH:
                up.write(frame(items))
                items.clear()
    except PushopsError as error:  # as the parent would have raised it
        items.append((_FAILED, str(error)))
    else:
        items.append((_END,))
    up.write(frame(items))
    up.flush()


def main(argv: list[str]) -> int:
    parent, down_fd, up_fd = (int(a) for a in argv)
    if sys.platform == "linux":
        die_with(parent)
    # Only the parent decides when to stop (it ends this process).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    with os.fdopen(down_fd, "rb") as down, os.fdopen(up_fd, "wb", buffering=1 << 16) as up:
        try:
            _render(down, up)
        except BrokenPipeError:
            return 0  # the parent stopped reading: it wants no more
        except Exception as error:  # said in one line; the parent reports the end
            print(
                f"pushops: the rendering process stopped: {type(error).__name__}: {error}",
                file=sys.stderr,
            )
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
