"""Sending in a process of its own, so apply uses both of a runner's CPUs.

At the provider's quota (500 MassPush calls a second) apply's one process was the limit: the
ledger writer (writing ahead, settling) and the sender (signing 29 KB forms, HTTP) shared one
interpreter lock, and the process stayed at one CPU's worth of work while the machine had
another. Here a child process (``python -m pushops.apply.sender``) holds a
:class:`~pushops.apply.gateway.Gateway` built exactly as the parent's (same credentials,
endpoints, signature, rate limits) and does the sending; the parent keeps the ledger, the
lock, the plan and every decision. The child only ever sends what it is handed, and the
parent hands a call over only once its write-ahead is committed, so exactly-once does not
depend on the child:

- the child dies with the parent (``PR_SET_PDEATHSIG``): a killed apply leaves no process
  that could send after the next run has settled what this one left pending;
- a call handed over and not answered when the child ends is left pending (it may be out
  there; the next run settles it), and the run stops; a call never handed over is certainly
  not sent;
- a stop (SIGINT, SIGTERM, a ledger error) reaches the child as a halt, so calls queued
  behind its rate limit end as not sent, as they do in one process. The child ignores those
  signals itself: a Ctrl-C reaches the whole process group, and only the parent decides.

The messages between them are pickles over a pair of private pipes: both ends are this
program. The credentials go to the child the same way (a Secret refuses pickling, so they
go as plain strings, into the child's memory only, never to a file, an argument or the
environment of anything else).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import pickle
import signal
import subprocess
import sys
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from typing import Any

from pushops.apply.gateway import FAILED, PENDING, RUN_STOPPED, Gateway, Outcome
from pushops.childproc import FRAME_LENGTH, die_with, frame, how_it_ended, spawn
from pushops.config import Environment
from pushops.diagnostics import PushopsError
from pushops.providers import Credentials, Providers
from pushops.providers.transport import TransportOptions

MODE_ENV = "PUSHOPS_SEND_PROCESS"
MODES = ("auto", "always", "never")
# "auto" sends from a child from this many calls on (a million deliveries are 10,000 calls):
# the child costs about 0.4 s to start. Measured on SQLite: 500 calls took 2.30 s with it
# against 2.05 s without, 2,000 calls 5.6-5.9 s against 6.0-6.4 s.
AUTO_FROM_CALLS = 1000
START_TIMEOUT_S = 60.0
CLOSE_TIMEOUT_S = 10.0
GONE = "SenderGone"

_INSTEAD = f"; no push was written ahead or sent ({MODE_ENV}=never sends from apply's process)"


class SendProcessError(PushopsError):
    """The sending process could not be started (``PUSHOPS_SEND_PROCESS=always``)."""


def send_mode(env: Mapping[str, str] | None = None) -> str:
    """``PUSHOPS_SEND_PROCESS``: auto (a child for large runs, on Linux), always, never."""
    value = (os.environ if env is None else env).get(MODE_ENV, "").strip().lower() or "auto"
    if value not in MODES:
        raise PushopsError(f"{MODE_ENV}={value!r}: expected one of {', '.join(MODES)}")
    return value


def wanted(mode: str, calls: int) -> bool:
    """Whether a run of ``calls`` sends from a child process. Only Linux can tie the child's
    life to the parent's (the guarantee above), so elsewhere "auto" keeps one process."""
    if mode == "always":
        return True
    return mode == "auto" and sys.platform == "linux" and calls >= AUTO_FROM_CALLS


@dataclass(frozen=True)
class Recipe:
    """What the child needs to build the parent's gateway, less the secrets."""

    environment: Environment
    endpoint: str | None
    rate_limit: bool
    options: TransportOptions
    provider_env: dict[str, str] | None

    @classmethod
    def of(cls, gateway: Gateway) -> Recipe:
        providers = gateway.providers
        env = providers.env
        return cls(
            gateway.environment,
            gateway.endpoint,
            gateway.rate_limit,
            providers.transport.options,
            None if env is None else dict(env),
        )


async def _read_frame(reader: asyncio.StreamReader) -> Any:
    (size,) = FRAME_LENGTH.unpack(await reader.readexactly(FRAME_LENGTH.size))
    return pickle.loads(await reader.readexactly(size))


async def _pipe_reader(fd: int) -> asyncio.StreamReader:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 20)
    await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(fd, "rb", buffering=0)
    )
    return reader


async def _pipe_writer(fd: int) -> asyncio.WriteTransport:
    loop = asyncio.get_running_loop()
    transport, _ = await loop.connect_write_pipe(asyncio.Protocol, os.fdopen(fd, "wb", buffering=0))
    return transport


# ---------------------------------------------------------------- the parent's side


def start_early(mode: str, deliveries: int) -> bool:
    """Whether to start the sending process before a saved plan sending ``deliveries`` is
    verified: its start (about 0.4 s, an interpreter and its imports) then runs on the other
    CPU while apply checks the plan's MAC (0.7 s at a million) and opens the ledger. Only the
    header is read by then, so the calls are counted low (a MassPush call carries at most 100
    tasks); a run that turns out to need no child ends it unused."""
    return wanted(mode, deliveries // 100)


class Spawned:
    """A sending process started ahead of need: it has nothing yet (no credentials, no
    gateway) and waits for its recipe. :meth:`take` hands it to :class:`SendingProcess`;
    :meth:`abandon` ends it unused (it reads the end of its pipe and exits quietly)."""

    def __init__(self, proc: subprocess.Popen[bytes], down_write: int, up_read: int) -> None:
        self.proc = proc
        self._fds: tuple[int, int] | None = (down_write, up_read)

    @classmethod
    def begin(cls) -> Spawned:
        try:
            # A session of its own: a Ctrl-C at the terminal reaches apply alone, which
            # relays it as a halt (the child could not ignore it while still importing).
            proc, down_write, up_read = spawn("pushops.apply.sender")
        except OSError as error:
            raise SendProcessError(
                f"could not start the sending process: {error}{_INSTEAD}"
            ) from None
        return cls(proc, down_write, up_read)

    def take(self) -> tuple[subprocess.Popen[bytes], int, int]:
        """The process and the parent's ends of its pipes (down to it, up from it)."""
        if self._fds is None:
            raise RuntimeError("this sending process was already taken or abandoned")
        down_write, up_read = self._fds
        self._fds = None
        return self.proc, down_write, up_read

    def abandon(self) -> None:
        """End it unused (nothing if it was taken): close its pipes, wait for it to exit."""
        if self._fds is None:
            return
        for fd in self._fds:
            os.close(fd)
        self._fds = None
        try:
            self.proc.wait(timeout=CLOSE_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class SendingProcess:
    """The parent's handle on its sending child: ``hand_over`` (a Gateway's ``send``, the
    answer awaited apart) and ``halt``."""

    def __init__(
        self, proc: subprocess.Popen[bytes], reader: asyncio.StreamReader, out: Any
    ) -> None:
        self.proc = proc
        self._reader = reader
        self._out = out
        self._numbers = itertools.count()
        self._waiting: dict[int, asyncio.Future[Outcome]] = {}
        self._gone: str | None = None
        self._listening: asyncio.Task[None] | None = None

    @classmethod
    async def start(cls, gateway: Gateway, early: Spawned | None = None) -> SendingProcess:
        """Start the child (or take the one started ``early``) and wait until its gateway is
        built (:class:`SendProcessError` if it cannot be: nothing was handed to it, so
        nothing was sent)."""
        credentials = gateway.providers.transport.credentials
        token = credentials.security_token
        proc, down_write, up_read = (early or Spawned.begin()).take()
        reader = await _pipe_reader(up_read)
        out = await _pipe_writer(down_write)
        sending = cls(proc, reader, out)
        out.write(
            frame(
                (
                    Recipe.of(gateway),
                    credentials.access_key_id,
                    credentials.access_key_secret.reveal(),
                    None if token is None else token.reveal(),
                )
            )
        )
        try:
            ready = await asyncio.wait_for(_read_frame(reader), START_TIMEOUT_S)
        except (asyncio.IncompleteReadError, asyncio.TimeoutError, OSError):
            ready = None
        if ready != ("ready",):
            await sending.close()
            raise SendProcessError(
                f"the sending process did not start{how_it_ended(proc.returncode)}{_INSTEAD}"
            )
        sending._listening = asyncio.create_task(sending._listen())
        return sending

    def hand_over(
        self, provider: str, app: str, query: Mapping[str, str], body: str
    ) -> Awaitable[Outcome]:
        """Hand one planned call (its form already encoded) to the child now, to be sent as
        :meth:`Gateway.send` sends it; returns its answer to await. The form is the child's
        to keep from here (apply holds hundreds of calls in hand; see Applier.send_one)."""
        if self._gone is not None:
            # Never handed over: certainly not sent.
            done: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
            done.set_result(
                Outcome(FAILED, code=RUN_STOPPED, message=f"not sent: {self._gone}", fatal=True)
            )
            return done
        number = next(self._numbers)
        answer: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._waiting[number] = answer
        self._out.write(frame(("send", number, provider, app, dict(query), body)))
        return self._answer(number, answer)

    async def _answer(self, number: int, answer: asyncio.Future[Outcome]) -> Outcome:
        try:
            return await answer
        finally:
            self._waiting.pop(number, None)

    def halt(self, reason: str) -> None:
        """Send nothing more: calls the child has not put on the wire end as interrupted."""
        if self._gone is None and not self._out.is_closing():
            self._out.write(frame(("halt", reason)))

    async def _listen(self) -> None:
        try:
            while True:
                kind, number, outcome = await _read_frame(self._reader)
                answer = self._waiting.get(number)
                if kind == "outcome" and answer is not None and not answer.done():
                    answer.set_result(outcome)
        except (asyncio.IncompleteReadError, OSError, pickle.UnpicklingError, ValueError):
            pass
        code = await asyncio.to_thread(self._exit_code)
        self._ended(f"the sending process ended{how_it_ended(code)}")

    def _exit_code(self) -> int | None:
        try:
            return self.proc.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            return None

    def _ended(self, why: str) -> None:
        """The child is gone: what it was handed may have gone out (pending, for the next
        run to settle); nothing more is handed to it."""
        if self._gone is None:
            self._gone = why
        for answer in self._waiting.values():
            if not answer.done():
                answer.set_result(
                    Outcome(
                        PENDING,
                        code=GONE,
                        message=f"no answer: {why} before answering; the next run settles it",
                        fatal=True,
                    )
                )

    async def close(self) -> None:
        """No more calls: the child finishes and exits (killed if it does not)."""
        if not self._out.is_closing():
            self._out.close()
        try:
            await asyncio.wait_for(asyncio.to_thread(self.proc.wait), CLOSE_TIMEOUT_S)
        except asyncio.TimeoutError:
            self.proc.kill()
            await asyncio.to_thread(self.proc.wait)
        if self._listening is not None:
            self._listening.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listening
        self._ended("the sending process ended")


# ---------------------------------------------------------------- the child's side


async def _serve(down: int, up: int) -> None:
    reader = await _pipe_reader(down)
    out = await _pipe_writer(up)
    try:
        recipe, key_id, secret, token = await _read_frame(reader)
    except asyncio.IncompleteReadError:
        return  # started early and not needed: apply stopped before it had a recipe
    credentials = Credentials.of(key_id, secret, token)
    del secret, token
    async with Providers(credentials, recipe.options, env=recipe.provider_env) as providers:
        gateway = Gateway(
            providers, recipe.environment, endpoint=recipe.endpoint, rate_limit=recipe.rate_limit
        )
        sending: set[asyncio.Task[None]] = set()

        async def answer(number: int, provider: str, app: str, query: Any, body: str) -> None:
            outcome = await gateway.send(provider, app, query, body=body)
            out.write(frame(("outcome", number, outcome)))

        out.write(frame(("ready",)))
        try:
            while True:
                try:
                    message = await _read_frame(reader)
                except asyncio.IncompleteReadError:
                    break  # the parent is done (or gone: then this process is being killed)
                if message[0] == "send":
                    task = asyncio.create_task(answer(*message[1:]))
                    sending.add(task)
                    task.add_done_callback(sending.discard)
                elif message[0] == "halt":
                    gateway.halt(message[1])
            gateway.halt("the run was interrupted before this call was sent")
            if sending:
                await asyncio.gather(*sending, return_exceptions=True)
        finally:
            await gateway.aclose()
            out.close()


def main(argv: list[str]) -> int:
    parent, down, up = (int(a) for a in argv)
    if sys.platform == "linux":
        die_with(parent)
    # Only the parent decides when to stop, and tells this process (a halt).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        asyncio.run(_serve(down, up))
    except Exception as error:  # said in one line; the parent reports the end of the child
        print(f"pushops: the sending process stopped: {type(error).__name__}: {error}",
              file=sys.stderr)  # fmt: skip
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
