"""numba, set up for dedup's compiled kernels: the ``*_kernels`` modules take ``njit`` from here, never from numba.

numba keeps compiled kernels (``@njit(cache=True)``) in ``__pycache__`` beside their source or, where that
cannot be written, in the user's cache folder (``~/.cache/numba``, or ``NUMBA_CACHE_DIR`` where it is set).
Where none of these can be written (a system-wide install run by an ordinary user, a read-only container
whose HOME cannot be written either), decorating a kernel raises ``RuntimeError: cannot cache function``
on import, and every command failed, ``--help`` included. So before any kernel is decorated:

- where numba has a folder it can write, nothing changes;
- else the kernels are cached in a folder of this user under the temporary folder
  (``<tmp>/dedup-numba-<uid>``, made private to the user; ``NUMBA_CACHE_DIR`` is set to it, so that numba
  and the processes this one starts use it);
- else (no usable temporary folder either, or that folder is not this user's alone: a cache holds pickles,
  which must not come from someone else) they are compiled without a cache, in each process that runs them.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numba
import numba.core.config
from numba.misc.appdirs import AppDirs

#: numba's own cache folder for the source files of this package (beside them).
IN_TREE = Path(__file__).resolve().parent / "__pycache__"


def writable(folder: str | Path) -> bool:
    """Whether numba can keep its cache in ``folder``: tested as numba does (make it, write a file in it)."""
    try:
        os.makedirs(folder, exist_ok=True)
        tempfile.TemporaryFile(dir=folder).close()
    except (OSError, ValueError):  # (ValueError: a path with a NUL byte)
        return False
    return True


def numba_folders() -> list[str]:
    """The folders numba would cache this package's kernels in, in its order of preference."""
    folders = [os.environ["NUMBA_CACHE_DIR"]] if os.environ.get("NUMBA_CACHE_DIR") else []
    return [*folders, str(IN_TREE), AppDirs(appname="numba", appauthor=False).user_cache_dir]


def private_temporary_folder(under: str | Path | None = None, *, name: str = "dedup-numba") -> Path | None:
    """``<name>-<uid>`` in ``under`` (default: the temporary folder), made if need be, if it is a folder of this user
    that no one else can write, and this user can (else None: no usable temporary folder, or someone else's folder).
    Kept files that others must not have planted: numba's cache (pickles), the word segmenter's dictionary."""
    uid = os.getuid() if hasattr(os, "getuid") else None
    try:
        base = Path(under if under is not None else tempfile.gettempdir())
        folder = base / f"{name}-{uid if uid is not None else 'user'}"
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:
            pass
        info = folder.lstat()
    except (OSError, ValueError):  # (FileNotFoundError: no usable temporary folder at all; ValueError: a NUL byte)
        return None
    if not stat.S_ISDIR(info.st_mode) or (uid is not None and (info.st_uid != uid or info.st_mode & 0o022)):
        return None
    return folder if writable(folder) else None


def cache_plan(folders: Sequence[str | Path], temporary: str | Path | None = None) -> tuple[bool, Path | None]:
    """Whether compiled kernels can be cached, and where numba must be told to cache them: None where one of
    ``folders`` (numba's own, ``numba_folders``) can be written, else this user's folder in ``temporary`` (default:
    the temporary folder), if there is one."""
    if any(writable(folder) for folder in folders):
        return True, None
    folder = private_temporary_folder(temporary)
    return folder is not None, folder


def set_up_cache() -> tuple[bool, Path | None]:
    """``cache_plan`` for this package, carried out: a fallback folder is set as ``NUMBA_CACHE_DIR``."""
    cache, folder = cache_plan(numba_folders())
    if folder is not None:
        os.environ["NUMBA_CACHE_DIR"] = str(folder)
        numba.core.config.reload_config()  # (numba read its configuration when it was imported)
    return cache, folder


#: Whether compiled kernels are cached, and the temporary folder they are cached in where numba had none.
CACHE, FALLBACK = set_up_cache()


def njit(*args: object, **options: object):  # noqa: ANN201 - numba's decorator
    """``numba.njit``, with ``cache=True`` honoured only where a cache can be kept."""
    if not CACHE:
        options["cache"] = False
    return numba.njit(*args, **options)


__all__ = [
    "CACHE", "FALLBACK", "IN_TREE", "cache_plan", "njit", "numba_folders", "private_temporary_folder", "writable",
]
