"""An index file when things are not as they should be: tampered with (each table and column, a decompression
bomb, recorded values out of range), read-only, a build target that is no index, builds killed before they
finished. Whatever the file holds, the library raises ``IndexStoreError`` naming the index, never anything else,
and never changes or removes what it was not asked to.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import tracemalloc
import zlib
from pathlib import Path

import lz4.frame
import numpy as np
import pytest

from dedup import (
    IndexStoreError,
    LocalExecutor,
    add_to_index,
    build_index,
    check,
    index_info,
    open_store,
    remove_from_index,
)
from dedup.store import building
from dedup.store.format import MAGIC, pack_text, unpack_text
from dedup.store.sqlite import SqliteStore

from conftest import CORPUS
from texts import EN_SPEECH, ZH_SPEECH

ZH = sorted((CORPUS / "zh").glob("*.txt"))
forks = pytest.mark.skipif("fork" not in mp.get_all_start_methods(), reason="no fork here")


@pytest.fixture(scope="module")
def small_index(tmp_path_factory) -> tuple[Path, Path]:
    """A small index (a short Chinese and a short English speech), and a draft copied from the Chinese one."""
    folder = tmp_path_factory.mktemp("small")
    (folder / "archive").mkdir()
    (folder / "archive" / "zh.txt").write_text(ZH_SPEECH, encoding="utf-8")
    (folder / "archive" / "en.txt").write_text(EN_SPEECH, encoding="utf-8")
    (folder / "draft.txt").write_text("前言。\n" + ZH_SPEECH[60:], encoding="utf-8")
    build_index(folder / "archive", folder / "small.dedup", executor=LocalExecutor(1))
    return folder / "small.dedup", folder / "draft.txt"


@pytest.fixture
def index_copy(small_index, tmp_path) -> tuple[Path, Path]:
    where = tmp_path / "copy.dedup"
    shutil.copy(small_index[0], where)
    return where, small_index[1]


def _tamper(where: Path, *statements: str) -> None:
    db = sqlite3.connect(where)
    for sql in statements:
        db.execute(sql)
    db.commit()
    db.close()


# --------------------------------------------------------------------------- tampered tables and columns

OPERATIONS = {
    "info": lambda where, draft: index_info(where, paths=True),
    "check": lambda where, draft: check([draft], where, executor=LocalExecutor(1)),
    "add": lambda where, draft: add_to_index([draft], where),
    "remove": lambda where, draft: remove_from_index(["en.txt"], where),
}

DAMAGED = "index damaged"
TAMPERED = [  # (what is done to the file, what at least one operation must say; None: nothing needs to fail)
    ("UPDATE documents SET path = id", None),  # (a column of text: SQLite stores the number as text)
    ("UPDATE documents SET path = randomblob(4)", "wrong kind|stored path is not text"),
    ("UPDATE documents SET format = randomblob(2)", "wrong kind"),
    ("UPDATE documents SET encoding = X'00'", "wrong kind"),
    ("UPDATE documents SET digest = 'text'", "wrong kind"),
    ("UPDATE documents SET chars = -1", "its length is not"),
    ("UPDATE documents SET chars = 'many'", "its length is not"),
    ("UPDATE documents SET chars = chars + 1", "characters where .* were stored"),
    ("UPDATE documents SET chars = 1000000000000", "characters where .* were stored"),
    ("UPDATE documents SET text = X'00'", "a stored text is damaged"),
    ("UPDATE documents SET text = X'04224d18ffff'", "a stored text is damaged"),  # (an LZ4 frame's start, then junk)
    ("UPDATE documents SET text = 'text'", "its length is not"),
    ("UPDATE documents SET text = 5", "its length is not"),
    ("UPDATE documents SET added = 'then'", None),
    ("UPDATE documents SET id = id + 1000", None),
    ("UPDATE buckets SET keys = X'0102'", "a bucket row of prefix"),
    ("UPDATE buckets SET keys = 'text'", "a bucket row of prefix"),
    ("UPDATE buckets SET keys = substr(keys, 2)", "a bucket row of prefix"),
    ("UPDATE buckets SET keys = keys || X'ff'", "damaged .*Could not decode"),  # (|| makes text)
    ("UPDATE buckets SET docs = X'010203'", "a bucket row of prefix"),
    ("UPDATE buckets SET docs = 5", "a bucket row of prefix"),
    ("UPDATE buckets SET prefix = -prefix - 1", None),  # (rows no key is looked up in)
    ("UPDATE buckets SET seq = 'x' || seq", None),
    ("UPDATE blobs SET data = X'05' WHERE name = 'documents'", None),  # (counted again)
    ("UPDATE blobs SET data = -3 WHERE name = 'documents'", None),
    ("UPDATE blobs SET data = 5 WHERE name = 'bucket_seq'", "counter"),
    ("UPDATE blobs SET data = X'01' WHERE name = 'bucket_seq'", "counter"),
    ("INSERT OR REPLACE INTO blobs VALUES('boilerplate', X'010203')", "boilerplate"),
    ("INSERT OR REPLACE INTO blobs VALUES('boilerplate', 'text')", "boilerplate"),
    ("INSERT OR REPLACE INTO blobs VALUES('boilerplate', 5)", "boilerplate"),
    ("UPDATE meta SET value = '\"x\"' WHERE key = 'magic'", "not a dedup index"),
    ("UPDATE meta SET value = 'not json' WHERE key = 'created'", "not a dedup index"),
    ("UPDATE meta SET value = '\"3\"' WHERE key = 'format'", "index format '3'"),
    ("UPDATE meta SET value = 'true' WHERE key = 'format'", "index format True"),
    ("UPDATE meta SET value = '64' WHERE key = 'prefix_bits'", "prefix_bits 64"),
    ("UPDATE meta SET value = '4' WHERE key = 'prefix_bits'", "prefix_bits 4"),
    ("UPDATE meta SET value = '\"24\"' WHERE key = 'prefix_bits'", "prefix_bits '24'"),
    ("UPDATE meta SET value = 'true' WHERE key = 'prefix_bits'", "prefix_bits True"),
    ("UPDATE meta SET value = '5' WHERE key = 'bands'", "LSH bands 5"),
    ("UPDATE meta SET value = '{\"document\": [1]}' WHERE key = 'bands'", "LSH bands"),
    ("UPDATE meta SET value = json_set(value, '$.document', json('[8, 16]')) WHERE key = 'bands'",
     "built with other LSH bands and rows .document: index \\[8, 16\\]"),
    ("UPDATE meta SET value = '5' WHERE key = 'root'", "root 5 is not a folder"),
    ("UPDATE meta SET value = 'null' WHERE key = 'root'", None),
    ("UPDATE meta SET value = '[]' WHERE key = 'matching'", "built with other MinHash/LSH parameters"),
    ("UPDATE sqlite_sequence SET seq = 'x'", "the last document id"),
    ("UPDATE sqlite_sequence SET seq = -5", "the last document id"),
    ("UPDATE sqlite_sequence SET seq = 0", "document ids out of step"),
    ("DROP TABLE buckets", "damaged .*no such table"),
    ("DROP TABLE blobs", "damaged .*no such table"),
    ("DROP TABLE documents", "damaged .*no such table"),
    ("DROP TABLE meta", "not a dedup index"),
]


@pytest.mark.parametrize("sql, expected", TAMPERED, ids=[t[0] for t in TAMPERED])
def test_a_tampered_index_is_an_index_store_error_naming_it_never_another_error(index_copy, sql, expected):
    """Each table and column of an index set to what dedup never writes: ``index info``, ``check``, ``index add``
    and ``index remove`` either work or raise ``IndexStoreError`` naming the index (a traceback of any other
    error fails the test), and where the tampering matters, at least one says what is wrong."""
    where, draft = index_copy
    _tamper(where, sql)
    errors = []
    for name, operation in OPERATIONS.items():
        try:
            operation(where, draft)
        except IndexStoreError as err:
            assert str(err).startswith(str(where)), err
            errors.append(f"{name}: {err}")
    if expected is not None:
        assert any(re.search(expected, e) for e in errors), errors


def test_a_bucket_row_of_the_wrong_length_is_index_damaged_not_a_value_error(index_copy):
    where, draft = index_copy
    _tamper(where, "UPDATE buckets SET keys = substr(keys, 1, length(keys) - 3)")
    with pytest.raises(IndexStoreError, match=r"copy.dedup: index damaged \(a bucket row of prefix \d+ is not one dedup "
                                              r"writes\); rebuild it with 'dedup index build'"):
        check([draft], where, executor=LocalExecutor(1))


# --------------------------------------------------------------------------- recorded values (meta)


def test_prefix_bits_64_is_refused_with_a_hint_not_zero_sources(index_copy):
    where, draft = index_copy
    (doc,) = check([draft], where, executor=LocalExecutor(1)).checked
    assert [p.b for p in doc.sources] == ["zh.txt"]
    _tamper(where, "UPDATE meta SET value = '64' WHERE key = 'prefix_bits'")
    with pytest.raises(IndexStoreError, match="prefix_bits 64, where dedup writes 8 to 32.*rebuild it with 'dedup index build'"):
        check([draft], where, executor=LocalExecutor(1))
    with SqliteStore(where) as store:  # the store itself: an error, not lookups in rows of other bits
        with pytest.raises(IndexStoreError, match="prefix_bits 64"):
            store.lookup(np.array([1, 2], dtype=np.uint64))


# --------------------------------------------------------------------------- decompression bombs


def _zlib_bomb(mib: int) -> bytes:
    c, chunk = zlib.compressobj(9), bytes(1 << 20)
    return b"".join([c.compress(chunk) for _ in range(mib)] + [c.flush()])


def _lz4_bomb(mib: int) -> bytes:
    c, chunk = lz4.frame.LZ4FrameCompressor(), bytes(1 << 20)
    return b"".join([c.begin()] + [c.compress(chunk) for _ in range(mib)] + [c.flush()])


@pytest.mark.parametrize("bomb", [lambda: _zlib_bomb(64), lambda: _lz4_bomb(256)], ids=["zlib", "lz4"])
def test_a_decompression_bomb_is_refused_without_being_expanded(bomb):
    """A stored text that expands to hundreds of MB (the issue's expanded beyond 4 GB): decompressed no further
    than 4 bytes a stored character, then refused."""
    blob = bomb()
    tracemalloc.start()
    try:
        with pytest.raises(IndexStoreError, match="where: index damaged .a stored text is damaged"):
            unpack_text(blob, "where", 5000)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < len(blob) + (4 << 20)  # (the whole text would be 64 to 256 MB)
    assert unpack_text(pack_text("文" * 5000), "where", 5000) == "文" * 5000  # 3 bytes a character: within the bound
    assert unpack_text(zlib.compress("😀 ok".encode()), "where", 4) == "😀 ok"  # (format 1: zlib)


def test_check_of_an_index_holding_a_bomb_says_the_stored_text_is_damaged(index_copy):
    where, draft = index_copy
    db = sqlite3.connect(where)
    db.execute("UPDATE documents SET text = ? WHERE path = 'zh.txt'", (_lz4_bomb(256),))
    db.commit()
    db.close()
    with pytest.raises(IndexStoreError, match="copy.dedup: index damaged .a stored text is damaged"):
        check([draft], where, executor=LocalExecutor(1))


# --------------------------------------------------------------------------- read-only indexes


def test_an_index_opened_read_only_is_read_and_refuses_every_change(index_copy):
    where, draft = index_copy
    before = where.read_bytes()
    with SqliteStore(where, read_only=True) as store:
        assert store.count() == 2 and sorted(store.paths()) == ["en.txt", "zh.txt"]
        assert {d.path for d in store.load(store.ids(["zh.txt", "en.txt"]).values())} == {"en.txt", "zh.txt"}
        for change in (lambda: store.write_meta({"x": 1}), lambda: store.remove(["zh.txt"]), store.clear,
                       lambda: store.add([], boilerplate=np.zeros(1, np.uint32), replace=True),
                       lambda: store.add_buckets(np.array([1], np.uint64), np.array([1], np.uint32))):
            with pytest.raises(IndexStoreError, match="copy.dedup: cannot be changed: opened for reading only"):
                change()
        with pytest.raises(IndexStoreError, match="opened for reading only"):
            add_to_index([draft], store)
        with pytest.raises(sqlite3.OperationalError, match="readonly"):  # SQLite refuses too
            store.db.execute("DELETE FROM documents")
    assert where.read_bytes() == before and sorted(p.name for p in where.parent.iterdir()) == ["copy.dedup"]


def _as_another_user(job, *args) -> dict:
    """``job(*args)`` in a forked process: as the user ``nobody`` if this is root (root reads and writes whatever
    the permissions say), else as this user. Its result (a dict) comes back through a pipe."""
    ctx = mp.get_context("fork")
    reader, writer = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_run_as_nobody, args=(writer, job, *args))
    proc.start()
    writer.close()
    result = reader.recv() if reader.poll(120) else {"crashed": "no answer"}
    proc.join(timeout=30)
    if "skip" in result:
        pytest.skip(result["skip"])
    return result


def _run_as_nobody(writer, job, *args) -> None:
    """(The forked process: everything it runs is imported already, some of it from where nobody cannot read.)"""
    try:
        if os.geteuid() == 0:
            try:
                os.setgroups([])
                os.setgid(65534)
                os.setuid(65534)
            except PermissionError as err:  # (a container that does not let root change its user)
                writer.send({"skip": f"cannot become another user here: {err}"})
                return
        result = job(*args)
    except BaseException as err:  # (any error: reported, the test says which)
        result = {"crashed": f"{type(err).__name__}: {err}"}
    writer.send(result)


def _use_read_only(where: str, draft: str) -> dict:
    result: dict = {}
    try:
        result["documents"] = index_info(where).documents
        (doc,) = check([draft], where, executor=LocalExecutor(1)).checked
        result["sources"] = [p.b for p in doc.sources]
    except IndexStoreError as err:
        result["read"] = str(err)
    for name, change in (("add", lambda: add_to_index([draft], where)), ("remove", lambda: remove_from_index(["zh.txt"], where))):
        try:
            change()
            result[name] = "changed"
        except IndexStoreError as err:
            result[name] = str(err)
    result["files"] = sorted(os.listdir(os.path.dirname(where)))
    return result


@pytest.fixture
def shared_folder(index_copy):
    """A folder any user can read (a test's own temporary folder is root's alone), holding the index and a draft;
    given writable to everyone until the test makes it read-only."""
    where, draft = index_copy
    check([draft], where, executor=LocalExecutor(1))  # (what a check compiles, compiled before the fork)
    folder = Path(tempfile.mkdtemp(prefix="dedup-ro-"))
    folder.chmod(0o777)
    shutil.copy(where, folder / "a.dedup")
    shutil.copy(draft, folder / "draft.txt")
    for f in folder.iterdir():
        f.chmod(0o644)  # (root's: the journal files SQLite makes beside it get the same)
    yield folder
    folder.chmod(0o755)
    shutil.rmtree(folder, ignore_errors=True)


def _add_and_die(where: str, text_path: str) -> None:
    store = SqliteStore(Path(where))
    store.db.execute("PRAGMA wal_autocheckpoint = 0")
    add_to_index([text_path], store)
    os.kill(os.getpid(), signal.SIGKILL)  # (no close: no checkpoint)


def _killed_writer_adds(where: Path, text_path: Path) -> None:
    """(A forked process) add a document and be killed: the add is committed in the write-ahead log only, which a
    reader must recover (the log and its shared-memory file are left beside the index)."""
    proc = mp.get_context("fork").Process(target=_add_and_die, args=(str(where), str(text_path)))
    proc.start()
    proc.join(timeout=60)
    assert proc.exitcode == -signal.SIGKILL


@forks
@pytest.mark.parametrize("case", ["folder and file", "file only", "log left by a killed writer"])
def test_a_read_only_index_is_checkable_and_a_change_fails_clearly(shared_folder, case):
    """As a user who cannot write the index (``nobody``, when the tests run as root): ``index info`` and ``check``
    work and change no file; ``index add`` and ``index remove`` fail with an error saying the index is read-only."""
    where, draft = shared_folder / "a.dedup", shared_folder / "draft.txt"
    documents = 2
    if case == "log left by a killed writer":
        (shared_folder / "new.txt").write_text(EN_SPEECH.replace("library", "museum"), encoding="utf-8")
        _killed_writer_adds(where, shared_folder / "new.txt")
        assert {p.name for p in shared_folder.iterdir()} >= {"a.dedup-wal", "a.dedup-shm"}
        documents = 3
    where.chmod(0o444)
    if case != "file only":
        shared_folder.chmod(0o555)
    before = {p.name: p.read_bytes() for p in shared_folder.iterdir() if p.name != "a.dedup-shm"}  # (shared memory)
    result = _as_another_user(_use_read_only, str(where), str(draft))
    assert "crashed" not in result and "read" not in result, result
    assert result["documents"] == documents and result["sources"][:1] == ["zh.txt"]
    for change in ("add", "remove"):
        assert re.match(rf"{where}: cannot be changed: the (index file|folder of the index) is read-only", result[change]), result
    if case != "file only":
        assert {p.name: p.read_bytes() for p in shared_folder.iterdir() if p.name != "a.dedup-shm"} == before
        assert result["files"] == sorted([*before, *(["a.dedup-shm"] if "a.dedup-wal" in before else [])])


@forks
def test_a_log_that_cannot_be_recovered_in_a_read_only_folder_is_said(shared_folder):
    where = shared_folder / "a.dedup"
    (shared_folder / "new.txt").write_text(EN_SPEECH.replace("library", "museum"), encoding="utf-8")
    _killed_writer_adds(where, shared_folder / "new.txt")
    (shared_folder / "a.dedup-shm").unlink()
    shared_folder.chmod(0o555)
    result = _as_another_user(_use_read_only, str(where), str(shared_folder / "draft.txt"))
    assert "its write-ahead log (a.dedup-wal) must be recovered, which takes a folder this user can write" in result["read"]


# --------------------------------------------------------------------------- build targets


def test_a_build_refuses_to_replace_a_file_that_is_no_index(tmp_path):
    folder = tmp_path / "archive"
    folder.mkdir()
    (folder / "a.txt").write_text(ZH_SPEECH, encoding="utf-8")
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes, not an index\n" * 100)
    other = tmp_path / "other.sqlite"
    sqlite3.connect(other).execute("CREATE TABLE t(x)").connection.commit()
    for target in (notes, other):
        before = target.read_bytes()
        with pytest.raises(IndexStoreError, match=f"{target.name}: is not a dedup index, and 'dedup index build' replaces only an index"):
            build_index(folder, target, executor=LocalExecutor(1))
        assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["archive", "notes.txt", "other.sqlite"]  # nothing left beside
    empty = tmp_path / "empty.dedup"
    empty.touch()  # (nothing to lose)
    assert build_index(folder, empty, executor=LocalExecutor(1)).documents == 1
    assert build_index(folder, empty, executor=LocalExecutor(1)).documents == 1  # an index is replaced


def test_a_redis_build_refuses_a_prefix_holding_other_data(redis_url, tmp_path):
    import redis

    folder = tmp_path / "archive"
    folder.mkdir()
    (folder / "a.txt").write_text(ZH_SPEECH, encoding="utf-8")
    prefix = redis_url.rsplit("prefix=", 1)[1]
    client = redis.Redis.from_url(redis_url.split("?")[0])
    client.set(f"{prefix}:session:42", "someone else's")
    with pytest.raises(IndexStoreError, match="holds keys under its prefix but no dedup index"):
        build_index(folder, redis_url, executor=LocalExecutor(1))
    assert client.get(f"{prefix}:session:42") == b"someone else's"
    client.delete(f"{prefix}:session:42")
    assert build_index(folder, redis_url, executor=LocalExecutor(1)).documents == 1
    assert build_index(folder, redis_url, executor=LocalExecutor(1)).documents == 1  # an index is replaced
    client.delete(f"{prefix}:meta")  # as a build killed while it emptied the prefix leaves it: dedup's keys only
    assert build_index(folder, redis_url, executor=LocalExecutor(1)).documents == 1


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_build_removes_what_killed_builds_of_its_target_left_and_nothing_else(tmp_path):
    folder = tmp_path / "archive"
    folder.mkdir()
    (folder / "a.txt").write_text(ZH_SPEECH, encoding="utf-8")
    target = tmp_path / "a.dedup"
    dead, alive = _dead_pid(), subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        stale = [f".a.dedup.{dead}.building{s}" for s in ("", "-wal", "-shm", "-journal")]
        kept = [f".a.dedup.{alive.pid}.building", f".b.dedup.{dead}.building", ".a.dedup.x.building", "a.dedup.notes"]
        for name in stale + kept:
            (tmp_path / name).write_bytes(b"left")
        build_index(folder, target, executor=LocalExecutor(1))
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["archive", "a.dedup", *kept])
    finally:
        alive.kill()
        alive.wait()


def _build(folder: str, target: str) -> None:
    build_index(folder, target, executor=LocalExecutor(1), batch_size=2)


@forks
def test_a_build_killed_with_sigkill_leaves_a_file_the_next_build_removes(tmp_path):
    target = tmp_path / "a.dedup"
    build_index(ZH[0].parent, target, executor=LocalExecutor(1))
    proc = mp.get_context("fork").Process(target=_build, args=(str(CORPUS), str(target)))
    proc.start()
    left = tmp_path / f".a.dedup.{proc.pid}.building"
    end = time.monotonic() + 60
    while not (left.exists() and left.stat().st_size > 0) and proc.is_alive() and time.monotonic() < end:
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)
    proc.join()
    assert left.exists(), "the build ended before it could be killed"
    build_index(ZH[0].parent, target, executor=LocalExecutor(1))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.dedup"]


def _build_at_once(folder: str, target: str, start) -> None:
    start.wait(timeout=60)
    build_index(folder, target, executor=LocalExecutor(1))


@forks
def test_two_builds_of_one_target_at_once_both_complete(tmp_path):
    target = tmp_path / "a.dedup"
    ctx = mp.get_context("fork")
    start = ctx.Barrier(2)
    procs = [ctx.Process(target=_build_at_once, args=(str(ZH[0].parent), str(target), start)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0, 0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.dedup"]
    assert index_info(target).documents == len(ZH)


def test_building_into_a_file_is_refused_when_it_is_no_index_even_through_the_store_package(tmp_path):
    junk = tmp_path / "junk.bin"
    junk.write_bytes(os.urandom(5000))
    with pytest.raises(IndexStoreError, match="is not a dedup index"):
        with building(junk):
            pass
    with building(tmp_path / "new.dedup") as store:
        store.write_meta({"magic": MAGIC})
    with open_store(tmp_path / "new.dedup") as store:
        assert store.read_meta() == {"magic": MAGIC}
