"""What only the Redis store does: buckets in datasketch's layout, nothing ever unpickled, and writers that
never lose each other's documents (what a killed writer left is cleaned up, what a live one is writing is not).

The ``Store`` contract itself is tested on every backend in ``test_store.py``. The key layout these tests read
(``pending``: id → writer, ``doc:<id>``, ``live``) is the one ``dedup.store.redis`` documents; a writer's
connections are named ``dedup-writer-<its writer name>``.
"""

from __future__ import annotations

import hashlib
import multiprocessing as mp
import os
import pickle
import threading
import time
from urllib.parse import urlsplit

import numpy as np
import pytest

from dedup import IndexStoreError, build_index, check
from dedup.store import NewDocument
from dedup.store.redis import RedisStore

from conftest import CORPUS

ZH = sorted((CORPUS / "zh").glob("*.txt"))
NONE = np.zeros(0, np.uint32)


def _doc(path: str, keys=()) -> NewDocument:
    return NewDocument(path=path, text=f"text of {path}", format="txt", encoding="utf-8",
                       digest=hashlib.blake2b(path.encode(), digest_size=16).digest(), keys=np.array(keys, dtype=np.uint64))


def _client(url: str):
    import redis

    return redis.Redis.from_url(url.split("?")[0])


def _records(client, store: RedisStore) -> set[int]:
    """Ids of the document records there are, visible or not."""
    return {int(k.rsplit(b":", 1)[1]) for k in client.scan_iter(match=f"{store.prefix}:doc:*", count=1000)}


def _pending(client, store: RedisStore) -> dict[int, str]:
    """Ids being added, and their writers."""
    return {int(i): w.decode() for i, w in client.hgetall(f"{store.prefix}:pending").items()}


def _connected(client, writer: str) -> bool:
    return any(c.get("name") == f"dedup-writer-{writer}" for c in client.client_list())


class PausedWriter(RedisStore):
    """A writer that stops in the middle of an add until ``resume`` is set: its ids taken and pending, its
    documents written but not yet visible (``add`` writes their bucket entries next, by ``add_buckets``)."""

    def __init__(self, url: str, paused, resume) -> None:
        super().__init__(url)
        self.paused, self.resume = paused, resume

    def add_buckets(self, keys: np.ndarray, ids: np.ndarray) -> None:
        self.paused.set()
        if not self.resume.wait(timeout=60):
            raise TimeoutError("never resumed")
        super().add_buckets(keys, ids)


def test_buckets_are_laid_out_as_datasketch_inserts_them(redis_url):
    """The bulk insert script writes what ``RedisSetStorage.insert`` writes; datasketch reads it back."""
    from datasketch.storage import unordered_storage

    with RedisStore(redis_url, create=True) as store:
        keys = np.array([1, 2**63 + 5, 1, 77], dtype=np.uint64)
        store.add_buckets(keys, np.array([3, 4, 5, 3], dtype=np.uint32))
        parts = urlsplit(redis_url)
        params = {"host": parts.hostname, "port": parts.port, "db": int(parts.path.strip("/") or 0)}
        name = f"{store.prefix}:lsh:".encode()
        reference = unordered_storage({"type": "redis", "redis": params}, name=name + b"reference:")
        for k, i in ((1, 3), (2**63 + 5, 4), (1, 5), (77, 3)):
            reference.insert(k.to_bytes(8, "big"), str(i).encode())
        ours = unordered_storage({"type": "redis", "redis": params}, name=name)
        assert sorted(ours.keys()) == sorted(reference.keys())
        for k in reference.keys():
            assert ours.get(k) == reference.get(k)
        assert _client(redis_url).hgetall(name) == {k: name + k for k in reference.keys()}
        found, ids = store.lookup(np.array([1, 77, 9], dtype=np.uint64))
        assert sorted(zip(found.tolist(), ids.tolist())) == [(1, 3), (1, 5), (77, 3)]


class _Boom:
    """Unpickling this runs code: it creates a file."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (os.system, (f"touch {self.path}",))


def test_an_index_with_pickled_keys_is_never_unpickled(tmp_path, zh_archive, redis_url):
    build_index(zh_archive, redis_url)
    marker = tmp_path / "pwned"
    client = _client(redis_url)
    prefix = RedisStore(redis_url).prefix
    for key in list(client.scan_iter(match=f"{prefix}:lsh:*", count=100))[:50]:
        if client.type(key) == b"set":
            client.sadd(key, pickle.dumps(_Boom(marker)))
    client.hset(f"{prefix}:meta", "created", pickle.dumps(_Boom(marker)))
    with pytest.raises(IndexStoreError):
        check([ZH[0]], redis_url)
    assert not marker.exists()


def test_a_refused_add_leaves_no_record_behind(redis_url):
    client = _client(redis_url)
    with RedisStore(redis_url, create=True) as store:
        (a,) = store.add([_doc("a", [1])], boilerplate=NONE, replace=False)
        with pytest.raises(IndexStoreError, match="already stored: a"):
            store.add([_doc("x", [2]), _doc("a", [3])], boilerplate=NONE, replace=False)
        assert _records(client, store) == {a} and _pending(client, store) == {}


def test_a_live_writers_documents_are_left_alone_by_another_writers_clean_up(redis_url):
    """Writer A stops in the middle of an add (a thread of this process: its connection stays open); writer B
    adds meanwhile, cleaning up first: A's pending documents are untouched, and A's add then completes."""
    client = _client(redis_url)
    with RedisStore(redis_url, create=True) as b:
        b.write_meta({"magic": "test"})
        paused, resume = threading.Event(), threading.Event()
        with PausedWriter(redis_url, paused, resume) as a:
            added: list = []
            writing = threading.Thread(
                target=lambda: added.append(a.add([_doc(f"a{k}", [k, 100]) for k in range(5)], boilerplate=NONE, replace=False))
            )
            writing.start()
            try:
                assert paused.wait(timeout=30)
                pending = _pending(client, b)
                assert len(pending) == 5 and set(pending.values()) == {a.writer} and set(pending) <= _records(client, b)
                b_ids = b.add([_doc(f"b{k}", [k, 100]) for k in range(3)], boilerplate=NONE, replace=False)
                assert _pending(client, b) == pending and set(pending) <= _records(client, b)  # untouched
                assert b.count() == 3 and b.load(pending) == []  # (not visible yet)
            finally:
                resume.set()
                writing.join(timeout=30)
            (a_ids,) = added
        assert sorted(a_ids) == sorted(pending)
        assert b.count() == 8 and len(b.load([*a_ids, *b_ids])) == 8 and _pending(client, b) == {}
        found, ids = b.lookup(np.array([100], dtype=np.uint64))
        assert sorted(ids.tolist()) == sorted([*a_ids, *b_ids])


def test_a_writer_whose_pending_documents_were_cleaned_up_adds_nothing(redis_url):
    """Should a writer's pending documents be removed all the same (as when its connection was gone for long),
    its add fails as a whole: nothing of it becomes visible."""
    client = _client(redis_url)
    paused, resume = threading.Event(), threading.Event()
    with RedisStore(redis_url, create=True) as first:
        first.write_meta({"magic": "test"})
        first.add([_doc("a", [1])], boilerplate=NONE, replace=False)
    with PausedWriter(redis_url, paused, resume) as a:
        failed: list = []

        def write() -> None:
            try:
                a.add([_doc("b", [2]), _doc("c", [3])], boilerplate=np.array([5], np.uint32), replace=False)
            except IndexStoreError as err:
                failed.append(err)

        writing = threading.Thread(target=write)
        writing.start()
        assert paused.wait(timeout=30)
        pending = _pending(client, a)
        client.hdel(f"{a.prefix}:pending", *pending)  # as a clean-up does
        client.delete(*(f"{a.prefix}:doc:{i}" for i in pending))
        resume.set()
        writing.join(timeout=30)
        assert len(failed) == 1 and "removed by another writer's clean-up" in str(failed[0])
        assert a.paths() == ["a"] and a.count() == 1 and a.boilerplate().tolist() == []


def _add_then_stop(url: str, paused, resume, names) -> None:
    """(A process) add two documents, stopping in the middle (to be killed there)."""
    with PausedWriter(url, paused, resume) as writer:
        names.put(writer.writer)
        writer.add([_doc("killed/0", [1]), _doc("killed/1", [2])], boilerplate=np.array([9], np.uint32), replace=False)


def test_what_a_killed_writer_left_is_cleaned_up_by_the_next_once_its_connection_is_gone(redis_url):
    """A writer process stops in the middle of an add; another writer's add leaves its pending documents alone
    while it lives; it is killed (SIGKILL: its connection closes); the next add removes what it left."""
    client = _client(redis_url)
    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    with RedisStore(redis_url, create=True) as store:
        store.write_meta({"magic": "test"})
        (kept,) = store.add([_doc("kept", [1])], boilerplate=NONE, replace=False)
        paused, resume, names = ctx.Event(), ctx.Event(), ctx.Queue()
        proc = ctx.Process(target=_add_then_stop, args=(redis_url, paused, resume, names))
        proc.start()
        try:
            assert paused.wait(timeout=30), "the writer never got to the middle of its add"
            writer = names.get(timeout=5)
            left = _pending(client, store)
            assert len(left) == 2 and set(left.values()) == {writer} and set(left) <= _records(client, store)
            assert _connected(client, writer)
            store.add([_doc("while alive", [1])], boilerplate=NONE, replace=False)
            assert _pending(client, store) == left and set(left) <= _records(client, store)  # alive: left alone
        finally:
            proc.kill()
            proc.join(timeout=30)
        end = time.monotonic() + 10
        while _connected(client, writer) and time.monotonic() < end:
            time.sleep(0.01)
        assert not _connected(client, writer)
        assert set(left) <= _records(client, store)  # nothing removed until a writer cleans up
        store.add([_doc("after", [2])], boilerplate=NONE, replace=False)
        assert _pending(client, store) == {} and not set(left) & _records(client, store)
        assert store.paths() == ["after", "kept", "while alive"] and store.count() == 3
        assert _records(client, store) == set(store.ids(store.paths()).values())
        assert len(store.load(range(1, 20))) == 3 and store.boilerplate().tolist() == []
        found, ids = store.lookup(np.array([1, 2], dtype=np.uint64))
        assert kept in ids.tolist() and not set(ids.tolist()) & set(left)
