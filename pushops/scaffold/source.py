"""Where the scaffolded workflows install pushops from: a source that exists and is pinned.

pushops is not on a package index, and installing a name from one would run whoever registers
it in the job holding production keys. The workflows install pushops from one of:

- a git commit: ``git+https://HOST/OWNER/pushops@<40-hex commit>`` (a branch or tag can move);
- an archive or wheel URL with its hash: ``https://…/pushops-0.1.0.tar.gz#sha256=<64 hex>``
  (pip checks the hash);
- a path: ``./vendor/pushops-0.1.0-py3-none-any.whl`` committed to the push repository, or
  ``.`` for pushops' own repository (its workflows install their checkout).

``pushops init`` takes it from ``--source``, or else from how the running pushops was
installed (PEP 610's ``direct_url.json``: ``pip install git+https://…@<commit>`` records the
commit). Everything else pushops needs comes from the hashed lock beside the workflows.
"""

from __future__ import annotations

import json
import re
from importlib import metadata

GIT = re.compile(r"git\+https://[^\s@#?\"'\\]+@[0-9a-f]{40}")
ARCHIVE = re.compile(r"https://[^\s#?\"'\\]+\.(whl|tar\.gz|zip)#sha256=[0-9a-f]{64}")
LOCAL = re.compile(r"(\.|\./[^\s\"'\\]*|/[^\s\"'\\]*|file:///[^\s\"'\\]*)")
EXAMPLE = "git+https://github.com/<owner>/pushops@<40-hex commit>"


class SourceError(ValueError):
    """A ``--source`` that is not pinned (or cannot be written into a workflow safely)."""


def check(source: str) -> str:
    """``source`` if the workflows can install it pinned; otherwise :class:`SourceError`."""
    if GIT.fullmatch(source) or ARCHIVE.fullmatch(source) or LOCAL.fullmatch(source):
        return source
    raise SourceError(
        f"{source!r} is not a pinned source of pushops. Give a git commit "
        f"({EXAMPLE}; a branch or tag can move), an archive URL with its hash "
        "(https://…/pushops-X.tar.gz#sha256=<64 hex>), or a path in the repository "
        "(./vendor/pushops-X-py3-none-any.whl)"
    )


def detect(distribution: str = "pushops") -> str | None:
    """The pinned source the running pushops was installed from, when it recorded one."""
    try:
        raw = metadata.distribution(distribution).read_text("direct_url.json")
        record = json.loads(raw) if raw else None
    except (metadata.PackageNotFoundError, ValueError):
        return None
    return from_direct_url(record) if isinstance(record, dict) else None


def from_direct_url(record: dict[str, object]) -> str | None:
    """A pinned source from a PEP 610 record: a git commit or a hashed https archive; a local
    folder or file (an editable checkout) is nothing a CI runner can reach."""
    url = record.get("url")
    if not isinstance(url, str):
        return None
    vcs = record.get("vcs_info")
    if isinstance(vcs, dict) and vcs.get("vcs") == "git" and url.startswith("https://"):
        candidate = f"git+{url}@{vcs.get('commit_id')}"
        return candidate if GIT.fullmatch(candidate) else None
    archive = record.get("archive_info")
    if isinstance(archive, dict):
        digest = str(archive.get("hash") or "")
        hashes = archive.get("hashes")
        if isinstance(hashes, dict) and "sha256" in hashes:
            digest = f"sha256={hashes['sha256']}"
        candidate = f"{url}#{digest}"
        return candidate if ARCHIVE.fullmatch(candidate) else None
    return None
