"""Reading and writing the push repository's files, and only those: the one way every reader
opens a file a campaign or the config names (campaign files, ``pushops.yaml``, fan-out data,
partials), and every writer of a repository file (``pushops init``, the ledger bindings) writes.

A pull request controls the repository's content, symlinks included, and CI runs validate
and plan on it with secrets nearby, so a file is read only when:

- its path, with every symlink followed, stays inside the folder it is read from (the repo
  root, or the ``templates`` folder for partials): ``..``, absolute paths and symlinks that
  lead out are refused alike;
- it is a regular file: a FIFO would block the reader forever and a device has no end, so
  the file is opened without blocking and checked before a byte is read;
- the last component is not swapped for a symlink between the check and the open
  (``O_NOFOLLOW``). A symlink swapped higher up the path in that instant is not caught: that
  takes someone running code on the machine already, not a pull request.

A file is written (:func:`write_in`) under the same first rule: a symlinked folder or file on
the way that leads out of the repository (a cloned template, a pull request) is refused before
anything is written, and folders are created only inside it.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import BinaryIO

_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
_FLAGS |= getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


class RepoFileError(ValueError):
    """A file that may not or cannot be read; the message says why, for the user, and
    ``rule`` is the diagnostic's rule id."""

    def __init__(self, message: str, rule: str = "file.unreadable") -> None:
        super().__init__(message)
        self.rule = rule


def inside(folder: Path, name: str | Path, *, where: str = "the repository") -> Path:
    """``name`` (relative to ``folder``, or absolute) resolved with every symlink followed,
    or a :class:`RepoFileError` when that leads outside ``folder``."""
    text = str(name)
    if not text or "\x00" in text:
        raise RepoFileError("the path is empty")
    base = folder.resolve()
    relative = not (PurePosixPath(text).is_absolute() or PureWindowsPath(text).is_absolute())
    if relative and (".." in PurePosixPath(text).parts or ".." in PureWindowsPath(text).parts):
        raise RepoFileError(f"leads outside {where} ('..')", "file.outside-repo")
    try:
        path = (base / text).resolve()
    except (OSError, RuntimeError) as exc:  # a symlink loop
        raise RepoFileError(f"cannot be resolved: {exc.strerror or exc}") from None
    if not path.is_relative_to(base):
        raise RepoFileError(
            f"leads outside {where} (a symlink or an absolute path); pushops reads only "
            "files inside it",
            "file.outside-repo",
        )
    return path


def open_in(folder: Path, name: str | Path, *, where: str = "the repository") -> BinaryIO:
    """``name`` under ``folder`` opened for reading (binary), once :func:`inside` allows it
    and it is a regular file; a :class:`RepoFileError` saying why not otherwise."""
    path = inside(folder, name, where=where)
    try:
        fd = os.open(path, _FLAGS)
    except FileNotFoundError:
        raise RepoFileError("no such file", "file.missing") from None
    except IsADirectoryError:
        raise RepoFileError("is a directory, not a file") from None
    except OSError as exc:
        raise RepoFileError(f"cannot read: {exc.strerror or exc}") from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise RepoFileError("is a directory, not a file")
        if not stat.S_ISREG(mode):
            raise RepoFileError("is not a regular file (a pipe, socket or device)")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_text_in(folder: Path, name: str | Path, *, where: str = "the repository") -> str:
    """The UTF-8 text of ``name`` under ``folder``, read through :func:`open_in`."""
    with open_in(folder, name, where=where) as fh:
        return fh.read().decode("utf-8")


def write_in(folder: Path, name: str | Path, text: str, *, where: str = "the repository") -> Path:
    """Write ``text`` (UTF-8, ``\\n`` line ends) to ``name`` under ``folder`` once :func:`inside`
    allows it, creating missing folders; the path written, or a :class:`RepoFileError`.

    Atomic (a temporary file beside it, then a rename): a reader never sees half a file, and a
    crash leaves the old one. A symlink that stays inside is written through (its target is
    replaced, the link kept); an existing file keeps its permissions.
    """
    path = inside(folder, name, where=where)
    try:
        mode: int | None = os.stat(path).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise RepoFileError(f"cannot write: {exc.strerror or exc}") from None
    if mode is not None and not stat.S_ISREG(mode):
        raise RepoFileError("is not a regular file; nothing was written")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as exc:
        raise RepoFileError(f"cannot write: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
        os.chmod(tmp, stat.S_IMODE(mode) if mode is not None else 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _umask() -> int:
    # Read by setting it: there is no other way; set back at once (pushops is one thread here).
    current = os.umask(0o022)
    os.umask(current)
    return current
