"""The one atomic writer: every file mlplab writes goes through here.

The bytes go to a temporary file in the same folder, are flushed and
``fsync``-ed, and the temporary file is renamed over the target
(``os.replace``), after which the folder itself is ``fsync``-ed. A crash or
``kill -9`` at any moment leaves either the old file or the new one.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from ..errors import MLPLabError


class FileWriteError(MLPLabError, OSError):
    """A file could not be written (missing folder, no permission, disk full, …)."""


@contextlib.contextmanager
def atomic_writer(path: str | os.PathLike) -> Iterator[IO[bytes]]:
    """Write ``path`` atomically through a binary file object.

    ``with atomic_writer("fig.png") as f: fig.savefig(f, format="png")``.
    The data goes to a temporary file next to ``path``; when the block ends
    without an exception the file is flushed, ``fsync``-ed and renamed over
    ``path`` (``os.replace``), and the folder is ``fsync``-ed. On any error
    the temporary file is removed and an existing ``path`` is left untouched.
    A new file gets the usual permissions (``0o666`` less the umask); a
    replaced file keeps its permissions.

    Raises:
        FileWriteError: the folder is missing or not writable, ``path`` is a
            folder, or the disk is full.
    """
    target = _as_path(path, FileWriteError)
    if target.is_symlink():  # replace the file the link points to, and keep the link
        target = target.resolve()
    folder = target.parent
    if target.is_dir():
        raise FileWriteError(f"cannot write {str(target)!r}: it is a directory; give a file name.")
    if not folder.is_dir():
        raise FileWriteError(
            f"cannot write {str(target)!r}: the folder {str(folder)!r} does not exist; "
            "create it first."
        )
    tmp = folder / f".{target.name}.{secrets.token_hex(6)}.tmp"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(tmp, flags, 0o666)  # the umask applies, as for open(path, "wb")
    except OSError as err:
        raise FileWriteError(f"cannot write {str(target)!r}: {_os_reason(err)}.") from None
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        with contextlib.suppress(OSError):  # keep the permissions of the file replaced
            os.chmod(tmp, stat.S_IMODE(os.stat(target).st_mode))
        os.replace(tmp, target)
    except BaseException as err:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(err, OSError) and not isinstance(err, MLPLabError):
            raise FileWriteError(f"cannot write {str(target)!r}: {_os_reason(err)}.") from None
        raise
    _fsync_dir(folder)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_writer`)."""
    with atomic_writer(path) as f:
        f.write(data)


def atomic_write_text(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> None:
    """Write ``text`` to ``path`` atomically, encoded as ``encoding`` (UTF-8)."""
    atomic_write_bytes(path, text.encode(encoding))


def _fsync_dir(folder: Path) -> None:
    # Makes the rename itself durable. Not possible on every platform (Windows).
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _os_reason(err: OSError) -> str:
    return err.strerror or str(err) or type(err).__name__


def _as_path(path, error: type[MLPLabError]) -> Path:
    try:
        return Path(os.fspath(path))
    except TypeError:
        raise error(f"`path` must be a file path (str or os.PathLike); got {path!r}.") from None


__all__ = ["FileWriteError", "atomic_write_bytes", "atomic_write_text", "atomic_writer"]
