"""The files of an SQLite index (``dedup.store.sqlite``): how they are opened (read-write, read-only, immutable),
what SQLite's errors mean for the index, and the files of a build (a new index written beside the old one).

A build writes ``.<name>.<pid>.building`` beside its target and moves it into place once complete; a build
killed before (kill -9) leaves it behind, so the next build of the same target removes the files of builds whose
process no longer exists, under a lock on the folder (``flock`` of the folder itself: no lock file) that it
holds until its own file is there, so that builds of one target at once never remove each other's file.
"""

from __future__ import annotations

import glob
import json
import os
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from dedup.errors import IndexStoreError
from dedup.store.format import MAGIC

if TYPE_CHECKING:
    from dedup.store.sqlite import SqliteStore


def connect(path: Path, *, read_only: bool) -> sqlite3.Connection:
    """A connection to an index file. Read-only where it cannot be written (``mode=ro``; ``immutable=1`` where its
    folder cannot be written either and there is no write-ahead log to recover: SQLite could not make the files
    WAL readers share); else read-write, with writes refused by SQLite too when ``read_only`` (a read-write
    connection removes the journal files it made when it closes, a read-only one cannot)."""
    folder_writable = os.access(path.parent, os.W_OK)
    if not read_only or (folder_writable and os.access(path, os.W_OK)):
        db = sqlite3.connect(path, timeout=60, isolation_level=None)
        if read_only:
            db.execute("PRAGMA query_only = ON")
        return db
    wal = path.with_name(path.name + "-wal")
    frozen = not folder_writable and (not wal.exists() or wal.stat().st_size == 0)
    uri = f"file:{quote(str(path.absolute()))}?{'immutable=1' if frozen else 'mode=ro'}"
    return sqlite3.connect(uri, uri=True, timeout=60, isolation_level=None)


def check_writable(path: Path, location: str) -> None:
    """``IndexStoreError`` if this process cannot write the index file, or make its journal beside it."""
    for what, where in (("the index file", path), ("the folder of the index", path.parent)):
        if not os.access(where, os.W_OK):
            raise IndexStoreError(
                f"{location}: cannot be changed: {what} is read-only for this user (it can still be checked "
                "against and read)"
            )


def error(path: Path, location: str, err: sqlite3.DatabaseError, doing: str, *, read_only: bool) -> IndexStoreError:
    """An SQLite error as an ``IndexStoreError`` that says what it means for the index."""
    text = str(err)
    if "readonly" in text or "read-only" in text:
        how = " (opened for reading only)" if read_only else ""
        return IndexStoreError(f"{location}: {doing}: the index (or its folder) is read-only{how} ({text})")
    if isinstance(err, sqlite3.OperationalError) and ("unable to open" in text or "disk" in text or "locked" in text):
        wal = path.with_name(path.name + "-wal")
        if read_only and wal.exists() and not os.access(path.parent, os.W_OK):
            return IndexStoreError(
                f"{location}: {doing}: its write-ahead log ({wal.name}) must be recovered, which takes a folder "
                f"this user can write; open it once where it can be written ({text})"
            )
        return IndexStoreError(f"{location}: {doing} ({text})")
    return IndexStoreError(f"{location}: not a dedup index or damaged ({text})")


@contextmanager
def building(target: Path) -> Iterator[SqliteStore]:
    """A new index file to fill, moved into place at ``target`` once the block ends without an error (written
    beside it, without a journal; an existing index is replaced only by a finished one).

    ``target`` must be a dedup index or not exist (an empty file will do): any other file is refused, never
    replaced. The new file is ``.<name>.<pid>.building`` (``new_build_file``: what builds of ``target`` killed
    before they finished left is removed first).
    """
    from dedup.store.sqlite import SqliteStore  # (which opens its files with this module's functions)

    if target.is_dir():
        raise IndexStoreError(f"{target}: is a folder; give the index file to create, e.g. {target / 'archive.dedup'}")
    target.parent.mkdir(parents=True, exist_ok=True)
    refuse_other_files(target)
    tmp = new_build_file(target)
    try:
        with SqliteStore(tmp, create=True, fresh=True) as store:
            yield store
            store.location = str(target)
        for p in files(target)[1:]:  # a stale journal would be applied to the new file
            p.unlink(missing_ok=True)
        os.replace(tmp, target)
    finally:
        for p in files(tmp):
            p.unlink(missing_ok=True)


def files(path: Path) -> list[Path]:
    """An SQLite file and its journal files."""
    return [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]


def refuse_other_files(target: Path) -> None:
    """``IndexStoreError`` if ``target`` is there and is neither a dedup index nor empty: a build never replaces it."""
    try:
        if not target.exists() or target.stat().st_size == 0:
            return
    except OSError as err:
        raise IndexStoreError(f"{target}: cannot be read ({err.strerror or err})") from None
    magic = None
    try:
        db = connect(target, read_only=True)
        try:
            row = db.execute("SELECT value FROM meta WHERE key = 'magic'").fetchone()
            magic = json.loads(row[0]) if row else None
        finally:
            db.close()
    except (sqlite3.DatabaseError, TypeError, ValueError):
        pass
    if magic != MAGIC:
        raise IndexStoreError(
            f"{target}: is not a dedup index, and 'dedup index build' replaces only an index; "
            "remove the file or give another name"
        )


def new_build_file(target: Path) -> Path:
    """``.<name>.<pid>.building`` beside ``target``, made (empty) after what killed builds of ``target`` left there
    is removed, under a lock on the folder."""
    tmp = target.with_name(f".{target.name}.{os.getpid()}.building")
    with _folder_lock(target.parent):
        for p in [*stale_build_files(target), *files(tmp)]:
            p.unlink(missing_ok=True)
        try:
            os.close(os.open(tmp, os.O_CREAT | os.O_WRONLY, 0o666))  # there, named after this process, before the lock goes
        except OSError as err:
            raise IndexStoreError(f"{target}: cannot write a new index beside it ({err.strerror or err})") from None
    return tmp


def stale_build_files(target: Path) -> list[Path]:
    """Files of builds of ``target`` (``.<name>.<pid>.building`` and their journals) whose process is gone. Only
    where processes can be asked for (POSIX); a file of a process whose pid was taken again is left for later."""
    if os.name != "posix":
        return []
    pattern = re.compile(re.escape(f".{target.name}.") + r"(\d+)\.building(?:-wal|-shm|-journal)?")
    stale = []
    for p in target.parent.glob(f".{glob.escape(target.name)}.*.building*"):
        found = pattern.fullmatch(p.name)
        if found and int(found[1]) != os.getpid() and not _running(int(found[1])):
            stale.append(p)
    return stale


def _running(pid: int) -> bool:
    if pid <= 0:
        return True  # (not a process: leave its file alone)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # (PermissionError: another user's process)
        return True
    return True


@contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    """An exclusive lock on a folder (``flock`` of the folder itself), where the system offers one; else none."""
    try:
        import fcntl

        fd = os.open(folder, os.O_RDONLY)
    except (ImportError, OSError):
        yield
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError:  # (a file system without flock on folders)
            pass
        yield
    finally:
        os.close(fd)  # (releases the lock)
