"""The ``Store`` contract, one suite run against every backend: memory, SQLite and Redis.

What each backend keeps only for itself is tested in ``test_store_sqlite.py`` and ``test_store_redis.py``;
killed writers and readers beside a writer in ``test_store_crash.py``. The Redis cases skip without a
server (``redis_url``, see ``conftest.py``).
"""

from __future__ import annotations

import hashlib
import multiprocessing as mp
import random
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from dedup import (
    IndexStoreError,
    MemoryStore,
    ScanConfig,
    SignConfig,
    Store,
    add_to_index,
    build_index,
    check,
    index_info,
    open_store,
    remove_from_index,
)
from dedup.archive import open_index
from dedup.store import NewDocument, building
from dedup.store.format import FORMAT, MAGIC, meta_for

from conftest import CORPUS

ZH = sorted((CORPUS / "zh").glob("*.txt"))
NONE = np.zeros(0, dtype=np.uint32)


@dataclass
class Backend:
    """One kind of store: ``location`` is what the library functions and ``building`` take (a path, a Redis
    address, or for memory the store object itself: a process cannot reopen it by a name)."""

    kind: str
    location: str | MemoryStore

    def open(self, *, create: bool = False) -> Store:
        if isinstance(self.location, MemoryStore):
            return self.location  # (closing it does nothing)
        return open_store(self.location, create=create)


@pytest.fixture(params=["memory", "sqlite", "redis"])
def backend(request, tmp_path) -> Backend:
    if request.param == "memory":
        return Backend("memory", MemoryStore())
    if request.param == "sqlite":
        return Backend("sqlite", str(tmp_path / "archive.dedup"))
    return Backend("redis", request.getfixturevalue("redis_url"))  # skips without a Redis server


@pytest.fixture
def store(backend):
    with backend.open(create=True) as s:
        yield s


def digest_of(name: str) -> bytes:
    return hashlib.blake2b(name.encode(), digest_size=16).digest()


def doc(path: str, keys=(), *, text: str | None = None, digest: bytes | None = None, encoding: str | None = "utf-8",
        fmt: str = "txt") -> NewDocument:
    return NewDocument(
        path=path, text=f"text of {path}" if text is None else text, format=fmt, encoding=encoding,
        digest=digest_of(path) if digest is None else digest, keys=np.array(keys, dtype=np.uint64),
    )


def u8(*keys: int) -> np.ndarray:
    return np.array(keys, dtype=np.uint64)


def entries(store: Store, keys) -> set[tuple[int, int]]:
    """The (key, id) entries a lookup of ``keys`` gives."""
    found, ids = store.lookup(np.asarray(keys, dtype=np.uint64))
    assert len(found) == len(ids)
    return set(zip(found.tolist(), ids.tolist()))


def live_entries(store: Store, keys) -> set[tuple[int, int]]:
    """The entries of a lookup whose documents are stored (what a check reads: ``load`` leaves the others out)."""
    found = entries(store, keys)
    stored = {d.id for d in store.load({i for _, i in found})}
    return {(k, i) for k, i in found if i in stored}


# --------------------------------------------------------------------------- the contract


def test_a_new_store_is_empty(store):
    assert isinstance(store, Store)
    assert store.read_meta() is None
    assert store.count() == 0 and store.paths() == [] and store.ids(["a"]) == {}
    assert store.load([1, 2]) == [] and store.with_digest(digest_of("a")) == []
    assert store.boilerplate().dtype == np.uint32 and store.boilerplate().tolist() == []
    assert entries(store, u8(1, 2)) == set() and entries(store, u8()) == set()
    assert store.size_bytes() >= 0


def test_add_then_lookup_load_with_digest_ids_paths_count(store):
    b, a = store.add(
        [doc("讲话/乙.txt", [3, 4, 2**64 - 1], text="第二篇讲话。", encoding=None, fmt="docx"), doc("a.txt", [1, 2, 3])],
        boilerplate=NONE, replace=False,
    )
    assert a != b
    assert entries(store, u8(3, 4, 99, 2**64 - 1)) == {(3, a), (3, b), (4, b), (2**64 - 1, b)}
    assert entries(store, u8(1, 1, 1)) == {(1, a)}
    loaded = store.load([b, a, a, 10**6])  # in order of id, each once, ids not stored left out
    assert [d.id for d in loaded] == sorted([a, b])
    by_id = {d.id: d for d in loaded}
    assert (by_id[a].path, by_id[a].text, by_id[a].format, by_id[a].encoding, by_id[a].digest) == (
        "a.txt", "text of a.txt", "txt", "utf-8", digest_of("a.txt"))
    assert (by_id[b].path, by_id[b].text, by_id[b].format, by_id[b].encoding, by_id[b].digest) == (
        "讲话/乙.txt", "第二篇讲话。", "docx", None, digest_of("讲话/乙.txt"))
    assert store.with_digest(digest_of("a.txt")) == [a]
    assert store.ids(["a.txt", "讲话/乙.txt", "zzz"]) == {"a.txt": a, "讲话/乙.txt": b}
    assert store.paths() == ["a.txt", "讲话/乙.txt"] and store.count() == 2
    (c,) = store.add([doc("c.txt", [5], digest=digest_of("a.txt"))], boilerplate=NONE, replace=False)  # an exact copy
    assert sorted(store.with_digest(digest_of("a.txt"))) == sorted([a, c])
    assert store.add([], boilerplate=NONE, replace=False) == [] and store.count() == 3


def test_boilerplate_is_merged_into_the_stored_one(store):
    store.add([], boilerplate=np.array([7, 3], dtype=np.uint32), replace=False)
    assert store.boilerplate().tolist() == [3, 7]
    store.add([doc("a")], boilerplate=np.array([9, 3, 5, 2**32 - 1], dtype=np.uint32), replace=False)
    store.add([doc("b")], boilerplate=NONE, replace=False)
    assert store.boilerplate().dtype == np.uint32 and store.boilerplate().tolist() == [3, 5, 7, 9, 2**32 - 1]


def test_ids_are_never_reused_also_after_a_remove(store):
    a, b, c = store.add([doc("a", [1]), doc("b", [1]), doc("c", [1])], boilerplate=NONE, replace=False)
    assert store.remove(["c", "b"]) == ["c", "b"]  # the highest ids among them
    (d,) = store.add([doc("d", [1])], boilerplate=NONE, replace=False)
    assert d not in (a, b, c)
    (e,) = store.add([doc("a", [1])], boilerplate=NONE, replace=True)
    assert e not in (a, b, c, d)
    (f,) = store.add([doc("c", [1])], boilerplate=NONE, replace=False)
    assert f not in (a, b, c, d, e)
    assert live_entries(store, u8(1)) == {(1, d), (1, e), (1, f)}  # old bucket entries of b, c, a are not theirs


def test_remove_takes_documents_out_of_every_answer(store):
    a, b = store.add([doc("a", [1, 2]), doc("b", [2])], boilerplate=NONE, replace=False)
    assert sorted(store.remove(["b", "zzz", "a"])) == ["a", "b"]
    assert store.remove(["a"]) == []
    assert store.count() == 0 and store.paths() == [] and store.ids(["a", "b"]) == {}
    assert store.load([a, b]) == [] and store.with_digest(digest_of("a")) == []
    assert live_entries(store, u8(1, 2)) == set()  # (a lookup may still give their ids: ignored)


def test_add_with_replace_replaces_the_document_stored_under_its_path(store):
    (old,) = store.add([doc("a", [1, 2], text="old text", digest=digest_of("old"))], boilerplate=NONE, replace=False)
    (other,) = store.add([doc("b", [2])], boilerplate=NONE, replace=False)
    new, c = store.add([doc("a", [2, 3], text="new text", digest=digest_of("new")), doc("c", [3])], boilerplate=NONE, replace=True)
    assert new not in (old, other, c)
    assert store.load([old]) == [] and [d.text for d in store.load([old, new])] == ["new text"]
    assert store.with_digest(digest_of("old")) == [] and store.with_digest(digest_of("new")) == [new]
    assert store.ids(["a"]) == {"a": new}
    assert store.paths() == ["a", "b", "c"] and store.count() == 3
    assert live_entries(store, u8(1, 2, 3)) == {(2, new), (3, new), (2, other), (3, c)}
    # the same file added again: the same digest, one document
    (newer,) = store.add([doc("a", [3], text="new text", digest=digest_of("new"))], boilerplate=NONE, replace=True)
    assert store.with_digest(digest_of("new")) == [newer] and store.ids(["a"]) == {"a": newer} and store.count() == 3
    assert live_entries(store, u8(1, 2, 3)) == {(3, newer), (2, other), (3, c)}


def test_a_path_given_twice_to_an_add_with_replace_is_stored_once_the_later_document(store):
    """(``dedup index add folder folder/a.txt``.)"""
    (old,) = store.add([doc("a", [1], text="stored")], boilerplate=NONE, replace=False)
    first, second, b = store.add([doc("a", [2], text="first"), doc("a", [3], text="second"), doc("b")], boilerplate=NONE, replace=True)
    assert len({old, first, second, b}) == 4
    assert store.ids(["a", "b"]) == {"a": second, "b": b} and store.paths() == ["a", "b"] and store.count() == 2
    assert [(d.id, d.text) for d in store.load([old, first, second])] == [(second, "second")]
    assert store.with_digest(digest_of("a")) == [second] and live_entries(store, u8(1, 2, 3)) == {(3, second)}


def test_add_without_replace_refuses_a_stored_path_and_adds_nothing(store):
    (a,) = store.add([doc("a", [1], text="first")], boilerplate=np.array([1], np.uint32), replace=False)
    with pytest.raises(IndexStoreError, match="already stored: a$"):  # (only what was stored before)
        store.add([doc("x", [5]), doc("a", [6], text="second")], boilerplate=np.array([2], np.uint32), replace=False)
    assert store.paths() == ["a"] and store.count() == 1 and store.ids(["a", "x"]) == {"a": a}
    assert [d.text for d in store.load(range(1, a + 10))] == ["first"]
    assert store.with_digest(digest_of("x")) == [] and live_entries(store, u8(1, 5, 6)) == {(1, a)}
    assert store.boilerplate().tolist() == [1]  # one atomic change: nothing of it
    (x,) = store.add([doc("x", [5])], boilerplate=NONE, replace=False)  # the store goes on as before
    assert store.paths() == ["a", "x"] and live_entries(store, u8(1, 5, 6)) == {(1, a), (5, x)}


def test_meta_is_read_as_written_and_other_values_stay(store):
    assert store.read_meta() is None
    store.write_meta({"magic": "x", "nested": {"list": [1, 2.5, None, "文"], "flag": True}, "n": 1})
    store.write_meta({"magic": "y", "m": 2})
    assert store.read_meta() == {"magic": "y", "nested": {"list": [1, 2.5, None, "文"], "flag": True}, "n": 1, "m": 2}


def test_clear_removes_everything(store):
    a, b = store.add([doc("a", [1, 2]), doc("b", [2])], boilerplate=np.array([4], np.uint32), replace=False)
    store.add_buckets(u8(3), np.array([a], np.uint32))
    store.remove(["b"])
    store.write_meta({"magic": "x"})
    store.clear()
    assert store.read_meta() is None and store.count() == 0 and store.paths() == [] and store.ids(["a"]) == {}
    assert store.load([a, b]) == [] and store.with_digest(digest_of("a")) == []
    assert entries(store, u8(1, 2, 3)) == set() and store.boilerplate().tolist() == []
    (c,) = store.add([doc("c", [1])], boilerplate=NONE, replace=False)  # usable again
    store.write_meta({"magic": "z"})
    assert store.paths() == ["c"] and entries(store, u8(1)) == {(1, c)} and store.read_meta() == {"magic": "z"}


def test_bucket_entries_written_apart_from_the_documents(store):
    """As a build writes them: documents without keys, then their entries, at once or laid out beforehand
    (in another thread while the store writes)."""
    a, b = store.add([doc("a"), doc("b")], boilerplate=NONE, replace=False)
    store.add_buckets(u8(10, 11, 10), np.array([a, a, b], np.uint32))
    rng = np.random.default_rng(5)
    spread = rng.integers(0, 2**64, 400, dtype=np.uint64)  # keys over every bit
    owners = rng.choice([a, b], len(spread)).astype(np.uint32)
    with ThreadPoolExecutor(1) as beside:
        laid_out = beside.submit(store.prepare_buckets, spread, owners)
        (c,) = store.add([doc("c", [10])], boilerplate=NONE, replace=False)
        store.add_prepared_buckets(laid_out.result())
    assert entries(store, u8(10, 11, 12)) == {(10, a), (10, b), (11, a), (10, c)}
    query = np.concatenate([spread[::3], rng.integers(0, 2**64, 100, dtype=np.uint64)])
    assert entries(store, query) == set(zip(spread[::3].tolist(), owners[::3].tolist()))


def test_building_gives_a_store_holding_only_what_was_written_in_it(backend):
    with backend.open(create=True) as s:
        s.write_meta({"magic": MAGIC, "old": 1})  # (a build replaces only an index)
        s.add([doc("old", [1])], boilerplate=np.array([1], np.uint32), replace=False)
    with building(backend.location) as s:
        assert isinstance(s, Store)
        s.write_meta({"magic": "new"})
        (n,) = s.add([doc("new")], boilerplate=NONE, replace=False)
        s.add_buckets(u8(2), np.array([n], np.uint32))
        s.add([], boilerplate=np.array([2], np.uint32), replace=False)
    with backend.open() as s:
        assert s.read_meta() == {"magic": "new"} and s.paths() == ["new"] and s.count() == 1
        assert entries(s, u8(1, 2)) == {(2, n)} and s.boilerplate().tolist() == [2]
        # a store object given as it is: emptied and filled in place
        with building(s) as same:
            assert same is s and s.count() == 0 and s.read_meta() is None
            same.add([doc("newer")], boilerplate=NONE, replace=False)
        assert s.paths() == ["newer"]


def test_an_index_is_used_only_with_the_parameters_it_was_built_with(backend):
    with backend.open(create=True) as s:
        s.write_meta(meta_for(ScanConfig()))
    with open_index(backend.location) as (s, meta):
        assert meta["format"] == FORMAT and isinstance(s, Store)
    with pytest.raises(IndexStoreError, match="num_perm: index 128, now 64"):
        with open_index(backend.location, config=ScanConfig(sign=SignConfig(num_perm=64))):
            pass


def test_a_location_without_an_index_is_refused(tmp_path, locations):
    with pytest.raises(IndexStoreError, match="no index"):
        open_store(locations(tmp_path))


# --------------------------------------------------------------------------- through the library


def test_build_add_remove_check_through_the_library(backend, zh_archive):
    where = backend.location
    assert build_index(zh_archive, where).documents == 5
    info = index_info(where, paths=True)
    assert info.documents == 5 and info.meta["format"] == FORMAT and info.size_bytes >= 0
    assert info.paths == tuple(sorted(p.name for p in ZH[:5]))
    update = add_to_index([ZH[5], zh_archive / ZH[0].name], where)
    assert update.added == (ZH[5].as_posix(),) and update.replaced == (ZH[0].name,) and update.documents == 6
    assert index_info(where).documents == 6
    assert remove_from_index([ZH[0].name], where).removed == (ZH[0].name,)
    assert remove_from_index([ZH[0].name], where).removed == ()
    assert index_info(where).documents == 5 and ZH[0].name not in index_info(where, paths=True).paths
    removed, kept, added = check([ZH[0], ZH[1], ZH[5]], where).checked
    assert removed.sources == ()  # removed from the archive: no longer found
    assert [p.b for p in kept.sources] == [ZH[1].name] and kept.sources[0].relation == "exact"
    assert [p.b for p in added.sources][:1] == [ZH[5].as_posix()] and added.sources[0].relation == "exact"


# --------------------------------------------------------------------------- writers at once

WRITERS, PER_WRITER, PER_ADD = 4, 100, 10
SHARED = 1 << 40  # document k of every writer has the key SHARED + k: writers add to the same buckets


def _documents(writer: int) -> list[NewDocument]:
    rng = np.random.default_rng(writer)
    return [
        doc(f"w{writer}/d{k:03d}", [*rng.integers(0, 2**64, 5, dtype=np.uint64).tolist(), SHARED + k],
            text=f"document {k} of writer {writer}")
        for k in range(PER_WRITER)
    ]


def _write(where: str | Store, writer: int, start) -> None:
    """One writer: waits for the others at ``start``, then adds its documents in several ``add`` calls."""
    store = where if isinstance(where, Store) else open_store(where)
    try:
        documents = _documents(writer)
        start.wait(timeout=60)
        for k in range(0, PER_WRITER, PER_ADD):
            store.add(documents[k : k + PER_ADD], boilerplate=np.array([writer, 100 + k], np.uint32), replace=False)
    finally:
        if store is not where:
            store.close()


def _run_at_once(target, args: list[tuple]) -> None:
    """``target(*a, start)`` for each of ``args`` in processes of their own (forked where the system forks),
    started together."""
    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    start = ctx.Barrier(len(args))
    procs = [ctx.Process(target=target, args=(*a, start)) for a in args]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0] * len(procs)


def test_four_writers_adding_at_once_lose_no_document(backend):
    """Four processes add 100 documents each to one index at once, in adds of 10: all 400 are there.

    SQLite and Redis: four processes, each opening the index by its location. Memory: four threads on one
    ``MemoryStore`` (a process cannot share it)."""
    with backend.open(create=True) as s:
        s.write_meta({"magic": "writers"})
    if isinstance(backend.location, MemoryStore):
        start = threading.Barrier(WRITERS)
        with ThreadPoolExecutor(WRITERS) as pool:
            for f in [pool.submit(_write, backend.location, w, start) for w in range(WRITERS)]:
                f.result()
    else:
        _run_at_once(_write, [(backend.location, w) for w in range(WRITERS)])
    written = [d for w in range(WRITERS) for d in _documents(w)]
    with backend.open() as s:
        assert s.count() == len(written) == WRITERS * PER_WRITER
        assert s.paths() == sorted(d.path for d in written)
        ids = s.ids([d.path for d in written])
        assert len(ids) == len(set(ids.values())) == len(written)
        assert {(d.path, d.text, d.digest) for d in s.load(ids.values())} == {(d.path, d.text, d.digest) for d in written}
        assert all(s.with_digest(d.digest) == [ids[d.path]] for d in written[::37])
        want = {(int(k), ids[d.path]) for d in written for k in d.keys}
        assert live_entries(s, [int(k) for d in written for k in d.keys]) == want
        assert s.boilerplate().tolist() == sorted({*range(WRITERS), *range(100, 100 + PER_WRITER, PER_ADD)})


def _add_folder(location: str, folder: Path, start) -> None:
    start.wait(timeout=60)
    add_to_index([folder], location)


def test_four_adds_of_folders_at_once_through_the_library(locations, tmp_path, zh_archive):
    """``add_to_index`` (what ``dedup index add`` runs) of four folders at once, in processes of their own:
    every document is stored and found again by a check."""
    where = str(locations(tmp_path))
    build_index(zh_archive, where)
    rng = random.Random(7)
    lines = [line for f in ZH for line in f.read_text(encoding="utf-8").splitlines() if len(line) > 30]
    folders = []
    for k in range(WRITERS):
        folder = tmp_path / f"new{k}"
        folder.mkdir()
        for j in range(3):  # new speeches pieced together from paragraphs of the corpus
            (folder / f"n{k}{j}.txt").write_text("\n".join(rng.sample(lines, 8)), encoding="utf-8")
        folders.append(folder)
    _run_at_once(_add_folder, [(where, f) for f in folders])
    new = sorted(p.as_posix() for f in folders for p in f.iterdir())
    info = index_info(where, paths=True)
    assert info.documents == 5 + len(new) and set(new) <= set(info.paths)
    for checked in check(new, where).checked:
        exact = [p.b for p in checked.sources if p.relation == "exact"]
        assert checked.path in exact, (checked.path, [(p.b, p.relation) for p in checked.sources])
