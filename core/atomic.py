"""Atomic file writes: a crash, a full disk or an exception half-way through a save never
leaves a half-written file where the previous good one was.

The new content goes to a temporary file in the same directory (so the final rename
stays on one file system), is flushed and fsync'ed, and only then replaces the target
with os.replace, which is atomic on POSIX and Windows.  On any failure the temporary
file is removed and the target is untouched.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from .errors import SaveError


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# Read once at import: os.umask can only be read by setting it, which is not thread-safe.
_UMASK = _current_umask()


def _fsync_directory(directory: Path):
    """Make the rename itself durable (POSIX only; Windows cannot open directories)."""
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write(path, write, binary: bool = False, encoding: str = "utf-8"):
    """Call `write(f)` with a file object open on a temporary file next to `path`, then
    move it over `path`.  OSError becomes SaveError naming the file; any other exception
    (a bug, KeyboardInterrupt) propagates; in both cases `path` is left as it was.

    A symbolic link is followed (the file it names is replaced, the link stays); a path
    that is not a regular file (/dev/stdout, a named pipe) is written to directly: a
    rename would replace the device or pipe itself."""
    path = Path(path)
    if path.exists() and not path.is_file() and not path.is_dir():
        _write_in_place(path, write, binary, encoding)      # (exists/is_file follow links)
        return
    if path.is_symlink():
        path = path.resolve()
    directory = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as e:
        raise SaveError(f"cannot write {path}: {e.strerror or e}") from None
    try:
        # mkstemp creates the file 0600; give the result the permissions the old file
        # had, or a new file's usual ones.
        try:
            mode = os.stat(path).st_mode & 0o7777
        except OSError:
            mode = 0o666 & ~_UMASK
        with contextlib.suppress(OSError):
            os.chmod(tmp, mode)
        if binary:
            f = os.fdopen(fd, "wb")
        else:
            f = os.fdopen(fd, "w", encoding=encoding, newline="\n")
        with f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(e, OSError):
            raise SaveError(f"cannot write {path}: {e.strerror or e} "
                            "(the previous file, if any, is unchanged)") from None
        raise
    _fsync_directory(directory)


def _write_in_place(path: Path, write, binary: bool, encoding: str):
    try:
        with open(path, "wb" if binary else "w", **({} if binary else
                                                    {"encoding": encoding, "newline": "\n"})) as f:
            write(f)
    except OSError as e:
        raise SaveError(f"cannot write {path}: {e.strerror or e}") from None


def atomic_write_text(path, text: str, encoding: str = "utf-8"):
    atomic_write(path, lambda f: f.write(text), encoding=encoding)
