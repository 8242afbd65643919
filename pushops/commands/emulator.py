"""``pushops emulator``: serve both provider APIs on loopback until SIGTERM/SIGINT."""

from __future__ import annotations

import errno
import os
import sys

import click

from pushops.diagnostics import PushopsError


def _credentials(values: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for value in values:
        key_id, sep, secret = value.partition(":")
        if not sep or not key_id or not secret:
            raise click.BadParameter(
                f"expected ID:SECRET, got {value!r}", param_hint="--credentials"
            )
        out[key_id] = secret
    return out


@click.command(name="emulator")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="Port; 0 picks a free one.",
)
@click.option(
    "--credentials",
    "credentials",
    multiple=True,
    metavar="ID:SECRET",
    help="An access key the emulator accepts (repeatable). "
    "Default: pushops-emulator:pushops-emulator-secret.",
)
@click.option("--db", type=click.Path(dir_okay=False), help="Keep state in this SQLite file.")
@click.option("--latency-ms", type=click.FloatRange(min=0), default=0, help="Delay every answer.")
@click.option("--jitter-ms", type=click.FloatRange(min=0), default=0, help="± random delay.")
@click.option("--quota", type=click.IntRange(min=1), help="Calls per second per access key.")
@click.option("--error-rate", type=click.FloatRange(0, 1), default=0.0, help="InternalError share.")
@click.option("--drop-rate", type=click.FloatRange(0, 1), default=0.0, help="Unanswered share.")
@click.option(
    "--allow-remote",
    is_flag=True,
    help="Allow a non-loopback --host (the emulator accepts test credentials: keep it local).",
)
def command(
    host: str,
    port: int,
    credentials: tuple[str, ...],
    db: str | None,
    latency_ms: float,
    jitter_ms: float,
    quota: int | None,
    error_rate: float,
    drop_rate: float,
    allow_remote: bool,
) -> None:
    """Serve EMAS Push and mPaaS on one port for dry-runs, tests and benchmarks.

    The first line on stdout is ``pushops emulator listening on http://HOST:PORT``.
    """
    from pushops.emulator.embedded import build_app, is_loopback, serve_forever

    if not allow_remote and not is_loopback(host):
        raise click.UsageError(f"--host {host} is not a loopback address; add --allow-remote")
    app = build_app(
        _credentials(credentials),
        latency_ms=latency_ms,
        jitter_ms=jitter_ms,
        quota=quota,
        error_rate=error_rate,
        drop_rate=drop_rate,
        db=db,
    )

    def announce(url: str) -> None:
        sys.stdout.write(f"pushops emulator listening on {url}\n")
        sys.stdout.flush()

    try:
        serve_forever(app, host, port, announce)
    except OSError as exc:  # the port is taken, the address is not this machine's …
        shown = f"[{host}]" if ":" in host else host
        why = os.strerror(exc.errno) if exc.errno else str(exc)
        hint = (
            "; another process listens there: pick another --port, or 0 for a free one"
            if exc.errno == errno.EADDRINUSE
            else ""
        )
        raise PushopsError(f"the emulator cannot listen on {shown}:{port}: {why}{hint}") from None
