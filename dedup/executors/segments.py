"""Shared-memory segments: arrays handed from one process to another as a file of a folder kept in memory
(``/dev/shm``), which the receiving process maps instead of unpickling them (``dedup.executors.local``).

A segment is this package's own file, not ``multiprocessing.shared_memory``'s, whose resource tracker is a
process that outlives the command; its name starts with a prefix of its maker's choosing (a pool's), so that
what a killed process left can be found and removed (``sweep``).
"""

from __future__ import annotations

import math
import mmap
import os
import re
import secrets
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np

#: Where shared-memory segments are files (Linux).
SHM = Path("/dev/shm")
#: Room always left free in shared memory.
SHM_SPARE = 32 << 20
#: How the segments of this package are named (a pool's: ``dedup-<pid of the pool's process>-<pool>-<segment>``).
SEGMENT_PREFIX = "dedup-"
#: File systems kept in memory, where segments may be made.
MEMORY_FILE_SYSTEMS = frozenset({"tmpfs", "ramfs"})

#: An array's dtype, shape and offset in its segment.
Layout = tuple[tuple[str, tuple[int, ...], int], ...]


def in_memory(folder: Path) -> bool:
    """Whether ``folder`` is on a file system kept in memory (``tmpfs``, as ``/dev/shm`` is), by the mount table of
    this process (Linux; elsewhere: False)."""
    try:
        where = os.path.realpath(folder)
        table = Path("/proc/self/mountinfo").read_text(encoding="utf-8", errors="replace").splitlines()
    except (OSError, ValueError):
        return False
    mounted, kind = "", ""
    for line in table:  # "id parent dev root mount-point options ... - type source options"
        fields = line.split()
        if len(fields) < 8 or "-" not in fields[6:]:
            continue
        point = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m[1], 8)), fields[4])  # (a space is written \040)
        if where == point or where.startswith(point.rstrip("/") + "/"):
            if len(point) >= len(mounted):  # the deepest mount point; of one mounted twice, the later mount
                mounted, kind = point, fields[fields.index("-", 6) + 1]
    return kind in MEMORY_FILE_SYSTEMS


def share(arrays: Sequence[np.ndarray], shm: Path = SHM, *, prefix: str = SEGMENT_PREFIX) -> tuple[str, Layout] | None:
    """Copy arrays into a new shared-memory segment, a file of ``shm`` named ``prefix`` and a random part: its
    name, and the dtype, shape and offset of each array.

    ``None`` where ``shm`` is not a folder in memory or it has little room left: its size is limited (64 MB in
    a default Docker container), and the receiving process keeps what it received mapped until it drops the
    arrays. The segment is written (never written through a mapping, which the kernel kills for a lack of room),
    so that a folder that fills up meanwhile is ``None`` too.
    """
    arrays = [np.ascontiguousarray(a) for a in arrays]
    size = sum(a.nbytes for a in arrays)
    try:
        room = shutil.disk_usage(shm).free
    except OSError:
        return None
    if room < 4 * size + SHM_SPARE or not in_memory(shm):
        return None
    name = prefix + secrets.token_hex(8)
    path = Path(shm) / name
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except OSError:
        return None
    layout, at = [], 0
    try:
        with open(fd, "wb", buffering=0) as out:
            for a in arrays:
                view = memoryview(a.reshape(-1).view(np.uint8))
                while view:  # (a raw file may write part of what it is given)
                    view = view[out.write(view) :]
                layout.append((a.dtype.str, a.shape, at))
                at += a.nbytes
            if not size:
                out.write(b"\0")  # (an empty file cannot be mapped)
    except OSError:  # no room after all
        path.unlink(missing_ok=True)
        return None
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return name, tuple(layout)


def unshare(name: str, layout: Layout, shm: Path = SHM) -> list[np.ndarray]:
    """The arrays ``share`` put in segment ``name``, as views of its memory (a private mapping of its file,
    freed with the last of them); the segment's name removed, so that it is read once."""
    fd = os.open(Path(shm) / name.lstrip("/"), os.O_RDONLY)
    try:
        mapped = mmap.mmap(fd, os.fstat(fd).st_size, access=mmap.ACCESS_COPY)
    finally:
        os.close(fd)
        remove(name, shm)
    return [np.frombuffer(mapped, dtype=dtype, count=math.prod(shape), offset=at).reshape(shape) for dtype, shape, at in layout]


def sweep(shm: Path | None, prefix: str) -> None:
    """Remove the segments of ``shm`` whose names start with ``prefix`` (a pool's: left by a process that ended
    before it could hand them on or remove them)."""
    if shm is None or not prefix.startswith(SEGMENT_PREFIX):
        return
    try:
        names = [n for n in os.listdir(shm) if n.startswith(prefix)]
    except OSError:
        return
    for name in names:
        remove(name, shm, missing_ok=True)


def remove(name: str, shm: Path, *, missing_ok: bool = False) -> None:
    """Remove segment ``name`` (made by ``share``)."""
    try:
        os.unlink(Path(shm) / name.lstrip("/"))
    except FileNotFoundError:
        if not missing_ok:
            raise


__all__ = [
    "MEMORY_FILE_SYSTEMS", "SEGMENT_PREFIX", "SHM", "SHM_SPARE", "Layout",
    "in_memory", "remove", "share", "sweep", "unshare",
]
