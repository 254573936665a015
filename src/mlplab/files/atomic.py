"""The one atomic writer: every file mlplab writes goes through here.

The bytes go to a temporary file in the same folder, are flushed and
``fsync``-ed, and the temporary file is renamed over the target
(``os.replace``), after which the folder itself is ``fsync``-ed. A crash or
``kill -9`` at any moment leaves either the old file or the new one.

Only regular files are ever replaced. A character device or a FIFO named as
the target (``/dev/null``, ``/dev/stdout``, a named pipe, a terminal) is written
to directly, as ``cp`` and ``tar -f`` do, and never replaced by a file; a block
device, a socket or anything else that is not a regular file is refused.

The temporary file is named ``.NAME.PID-RANDOM.tmp``. One left behind by a
killed process (its PID no longer running) is removed by the next write to the
same target.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from ..errors import MLPLabError


class FileWriteError(MLPLabError, OSError):
    """A file could not be written (missing folder, no permission, disk full, …)."""


@contextlib.contextmanager
def atomic_writer(path: str | os.PathLike[str]) -> Iterator[IO[bytes]]:
    """Write ``path`` atomically through a binary file object.

    ``with atomic_writer("fig.png") as f: fig.savefig(f, format="png")``.
    The data goes to a temporary file next to ``path``; when the block ends
    without an exception the file is flushed, ``fsync``-ed and renamed over
    ``path`` (``os.replace``), and the folder is ``fsync``-ed. On any error
    the temporary file is removed and an existing ``path`` is left untouched.
    A new file gets the usual permissions (``0o666`` less the umask); a
    replaced file keeps its permissions. A symbolic link is followed: the
    file it points to is replaced and the link kept.

    A character device or FIFO (``/dev/null``, ``/dev/stdout``, a named pipe)
    is written to directly, without a temporary file: it cannot be replaced
    atomically, and replacing it with a regular file would break it.

    Raises:
        FileWriteError: the folder is missing or not writable, ``path`` is a
            folder, a block device, a socket or a symlink loop, or the disk is full.
    """
    given = as_path(path, FileWriteError)
    kind = _target_kind(given)
    if kind == "stream":
        with _stream_writer(given) as f:
            yield f
        return
    target = _resolve(given)
    folder = target.parent
    if not folder.is_dir():
        raise FileWriteError(
            f"cannot write {str(target)!r}: the folder {str(folder)!r} does not exist; "
            "create it first."
        )
    remove_stale_temporaries(target)
    tmp = folder / f".{target.name}.{os.getpid()}-{secrets.token_hex(6)}.tmp"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(tmp, flags, 0o666)  # the umask applies, as for open(path, "wb")
    except OSError as err:
        raise FileWriteError(f"cannot write {str(target)!r}: {os_reason(err)}.") from None
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        with contextlib.suppress(OSError):  # keep the permissions of the file replaced
            os.chmod(tmp, stat.S_IMODE(os.stat(target).st_mode))
        _refuse_non_regular(target)  # it may have appeared while we wrote
        os.replace(tmp, target)
    except BaseException as err:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(err, OSError) and not isinstance(err, MLPLabError):
            raise FileWriteError(f"cannot write {str(target)!r}: {os_reason(err)}.") from None
        raise
    _fsync_dir(folder)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_writer`)."""
    with atomic_writer(path) as f:
        f.write(data)


def atomic_write_text(path: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> None:
    """Write ``text`` to ``path`` atomically, encoded as ``encoding`` (UTF-8)."""
    atomic_write_bytes(path, text.encode(encoding))


def _target_kind(path: Path) -> str:
    """``"file"`` (absent or a regular file: replace atomically) or ``"stream"``; else refuse."""
    try:
        mode = os.stat(path).st_mode  # follows links: /dev/stdout -> /proc/self/fd/1 -> …
    except FileNotFoundError:
        return "file"
    except OSError as err:  # ELOOP (a symlink loop), EACCES, ENAMETOOLONG, …
        raise FileWriteError(f"cannot write {str(path)!r}: {os_reason(err)}.") from None
    if stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
        return "stream"
    if stat.S_ISREG(mode) and _is_fd_link(path):
        return "stream"  # /dev/stdout redirected to a file: write through the descriptor
    _refuse_non_regular(path)
    return "file"


def _refuse_non_regular(path: Path) -> None:
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return
    except OSError as err:
        raise FileWriteError(f"cannot write {str(path)!r}: {os_reason(err)}.") from None
    if stat.S_ISREG(mode):
        return
    if stat.S_ISDIR(mode):
        raise FileWriteError(f"cannot write {str(path)!r}: it is a directory; give a file name.")
    what = (
        "a block device"
        if stat.S_ISBLK(mode)
        else "a socket"
        if stat.S_ISSOCK(mode)
        else "not a regular file"
    )
    raise FileWriteError(
        f"cannot write {str(path)!r}: it is {what}; mlplab writes regular files (or "
        "streams to a character device or FIFO) and never replaces anything else."
    )


def _is_fd_link(path: Path) -> bool:
    text = os.path.abspath(path)
    return text in ("/dev/stdout", "/dev/stderr") or bool(
        re.match(r"^/(dev/fd|proc/self/fd|proc/\d+/fd)/\d+$", text)
    )


@contextlib.contextmanager
def _stream_writer(path: Path) -> Iterator[IO[bytes]]:
    """Write straight into a device, FIFO or inherited descriptor: no temporary, no rename."""
    try:
        f = open(path, "wb")  # noqa: SIM115 - closed below, errors translated
    except OSError as err:
        raise FileWriteError(f"cannot write {str(path)!r}: {os_reason(err)}.") from None
    try:
        with f:
            yield f
            f.flush()
    except OSError as err:
        if isinstance(err, MLPLabError | BrokenPipeError):
            raise
        raise FileWriteError(f"cannot write {str(path)!r}: {os_reason(err)}.") from None


def _resolve(path: Path) -> Path:
    if not path.is_symlink():  # replace the file the link points to, and keep the link
        return path
    try:
        return path.resolve()
    except (RuntimeError, OSError):  # a symlink loop
        raise FileWriteError(
            f"cannot write {str(path)!r}: it is a symbolic link that loops back on itself."
        ) from None


_TEMP = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)-[0-9a-f]{12}\.tmp$")


def remove_stale_temporaries(target: str | os.PathLike[str]) -> list[Path]:
    """Remove the temporaries a killed writer left beside ``target``; return them.

    Only files named as :func:`atomic_writer` names them, ``.NAME.PID-RANDOM.tmp``,
    for this very ``NAME``, and only when no process with that PID is running on
    this machine (a live writer's temporary is never touched).
    """
    target = Path(target)
    removed: list[Path] = []
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return removed
    for entry in entries:
        m = _TEMP.match(entry.name)
        if not m or m["name"] != target.name or _pid_alive(int(m["pid"])):
            continue
        with contextlib.suppress(OSError):
            if entry.is_file(follow_symlinks=False):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
    return removed


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # someone else's process, or unknown: leave its file alone
    return True


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


def os_reason(err: OSError) -> str:
    return err.strerror or str(err) or type(err).__name__


def as_path(path: str | os.PathLike[str], error: type[MLPLabError]) -> Path:
    try:
        return Path(os.fspath(path))
    except TypeError:
        raise error(f"`path` must be a file path (str or os.PathLike); got {path!r}.") from None


__all__ = [
    "FileWriteError",
    "atomic_write_bytes",
    "atomic_write_text",
    "atomic_writer",
    "remove_stale_temporaries",
]
