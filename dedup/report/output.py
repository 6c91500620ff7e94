"""Writing a report to a file: never over one of the report's inputs, never replacing a device or a pipe.

``open_output(path, inputs=...)`` gives a UTF-8 text stream for ``path``:

- a regular file (or a new one) is written to a temporary file beside it and renamed over it once the
  report is complete, so a failed or interrupted run leaves the old file as it was; through a symbolic
  link, the file it points to is replaced (the link stays);
- a device, a FIFO or another special file (``/dev/null``, a named pipe) is written directly, never
  replaced; so is the file behind a descriptor's name (``/dev/stdout``, ``/dev/fd/N``, ``/proc/self/fd/N``),
  appended to as the shell opened it;
- a path that is one of ``inputs`` (the files the report was made from: the same file by name, link or
  hard link) is refused with ``ConfigError`` before anything is written (``check_output`` says so early).
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TextIO

from dedup.errors import ConfigError
from dedup.report.escape import printable

#: Folders of the system's special files: nothing is created there, names there are written as they stand.
_SYSTEM = ("/dev/", "/proc/")

PathLike = str | os.PathLike


def _same_input(path: PathLike, inputs: Iterable[PathLike]) -> PathLike | None:
    """The input that ``path`` is, if any: the same file (device and inode), or for an input whose name is shown
    escaped (a non-UTF-8 file name), the same escaped real path."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None  # nothing there yet: not an input
    real = None
    for candidate in inputs:
        try:
            other = os.stat(candidate)
        except (OSError, ValueError):
            real = real or printable(os.path.realpath(path))
            if printable(os.path.realpath(candidate)) == real:
                return candidate
            continue
        if (other.st_dev, other.st_ino) == (st.st_dev, st.st_ino):
            return candidate
    return None


def check_output(path: PathLike, inputs: Iterable[PathLike] = ()) -> None:
    """Raise ``ConfigError`` if the report file ``path`` is one of ``inputs`` (a file read, or the index)."""
    same = _same_input(path, inputs)
    if same is not None:
        where, other = printable(os.fspath(path)), printable(os.fspath(same))
        what = "one of the inputs" if other == where else f"the same file as {other}, one of the inputs"
        raise ConfigError(f"will not write the report to {where}: it is {what}; write the report to another file")


def _where(path: PathLike) -> tuple[str, str]:
    """How to write ``path``: ``("replace", file)``, ``("direct", path)`` or ``("append", path)``."""
    where = os.path.abspath(path)
    try:
        st = os.stat(where)
    except (OSError, ValueError):
        return "replace", where  # a new file (or one that cannot be written: said when it is tried)
    if not stat.S_ISREG(st.st_mode):
        return "direct", where
    real = os.path.realpath(where)
    if where.startswith(_SYSTEM) and not real.startswith(_SYSTEM):
        return "append", where  # /dev/stdout and the like, redirected to a file
    return "replace", real


@contextmanager
def open_output(path: PathLike, *, inputs: Iterable[PathLike] = ()) -> Iterator[TextIO]:
    """A text stream writing the report to ``path`` (see the module's documentation); ``ConfigError`` if ``path``
    is one of ``inputs``, ``OSError`` if it cannot be written."""
    check_output(path, inputs)
    how, where = _where(path)
    if how != "replace":
        with open(where, "a" if how == "append" else "w", encoding="utf-8", newline="") as out:
            yield out
        return
    folder, name = os.path.split(where)
    fd, tmp = tempfile.mkstemp(dir=folder or ".", prefix=f".{name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            yield out
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, where)
    except BaseException:
        os.unlink(tmp)
        raise
