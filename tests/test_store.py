"""The index stores: SQLite file and Redis, same behaviour; never unpickle; refuse what is not ours."""

from __future__ import annotations

import os
import pickle
import sqlite3
import zlib

import numpy as np
import pytest

import dedup.store as store_mod
from dedup.config import CandidateConfig, ScanConfig, SignConfig
from dedup.errors import IndexStoreError
from dedup.pipeline import add_to_index, build_index, check, index_info, open_index, remove_from_index
from dedup.store import NewDocument, open_store

from conftest import CORPUS

ZH = sorted((CORPUS / "zh").glob("*.txt"))


@pytest.fixture
def folder(zh_archive):
    return zh_archive


def _doc(path: str, keys) -> NewDocument:
    return NewDocument(path=path, text=f"text of {path}", format="txt", encoding="utf-8", digest=path.encode().ljust(16, b"\0"), keys=np.array(keys, dtype=np.uint64))


def test_lookup_finds_what_was_added_and_ids_are_never_reused(tmp_path, locations):
    s = open_store(locations(tmp_path), create=True)
    try:
        a, b = s.add([_doc("a", [1, 2, 3]), _doc("b", [3, 4])], boilerplate=np.array([7], dtype=np.uint32), replace=False)
        keys, ids = s.lookup(np.array([3, 4, 99], dtype=np.uint64))
        assert sorted(zip(keys.tolist(), ids.tolist())) == [(3, a), (3, b), (4, b)]
        assert [d.path for d in s.load([a, b])] == ["a", "b"]
        assert s.with_digest(b"a".ljust(16, b"\0")) == [a]
        assert s.remove(["a", "zzz"]) == ["a"]
        (c,) = s.add([_doc("c", [5])], boilerplate=np.array([], dtype=np.uint32), replace=False)
        assert c not in (a, b)
        assert [d.path for d in s.load([a, b, c])] == ["b", "c"]
        assert s.paths() == ["b", "c"] and s.count() == 2
        assert s.boilerplate().tolist() == [7]
    finally:
        s.close()


def test_crowded_prefixes_are_merged_without_removed_documents(tmp_path, monkeypatch):
    monkeypatch.setattr(store_mod, "PREFIX_BITS", 2)  # 4 prefixes: key >> 62
    none = np.zeros(0, np.uint32)
    s = open_store(tmp_path / "x.dedup", create=True)
    key = [(k % 4) << 62 | k for k in range(40)]
    ids = [s.add([_doc(f"d{k}", [key[k]])], boilerplate=none, replace=False)[0] for k in range(40)]
    s.remove(["d0", "d4"])
    for k in range(10):  # more rows at prefix 0, until they are merged again
        s.add([_doc(f"late{k}", [1000 + k])], boilerplate=none, replace=False)
    rows = dict(s.db.execute("SELECT prefix, count(*) FROM buckets GROUP BY prefix").fetchall())
    assert all(n <= store_mod.MAX_ROWS_PER_PREFIX for n in rows.values())
    keys, found = s.lookup(np.array(key, dtype=np.uint64))
    assert set(found.tolist()) == set(ids) - {ids[0], ids[4]}  # dropped when prefix 0 was rewritten
    assert sorted(keys.tolist()) == sorted(key[k] for k in range(40) if k not in (0, 4))
    s.close()


def test_build_add_remove_through_the_pipeline(tmp_path, folder, locations):
    where = locations(tmp_path)
    build_index(folder, where)
    assert index_info(where).documents == 5
    update = add_to_index([ZH[5], folder / ZH[0].name], where)
    assert update.added == (ZH[5].as_posix(),) and update.replaced == (ZH[0].name,)
    assert index_info(where).documents == 6
    assert remove_from_index([ZH[0].name], where).removed == (ZH[0].name,)
    (doc,) = check([ZH[0]], where).checked
    assert doc.sources == ()  # removed from the archive: no longer found
    (doc,) = check([ZH[1]], where).checked
    assert [p.b for p in doc.sources] == [ZH[1].name] and doc.sources[0].relation == "exact"


def test_a_file_that_is_no_index_is_refused_with_its_name(tmp_path):
    junk = tmp_path / "notes.txt"
    junk.write_text("not an index at all " * 100)
    with pytest.raises(IndexStoreError, match="notes.txt"):
        open_index(junk)
    other = tmp_path / "other.sqlite"
    sqlite3.connect(other).execute("CREATE TABLE t(x)").connection.commit()
    with pytest.raises(IndexStoreError, match="not a dedup index"):
        open_index(other)
    with pytest.raises(IndexStoreError, match="no index"):
        open_index(tmp_path / "missing.dedup")


def test_an_index_built_with_other_parameters_is_refused(tmp_path, folder, locations):
    where = locations(tmp_path)
    build_index(folder, where)
    with pytest.raises(IndexStoreError, match="num_perm: index 128, now 64"):
        check([ZH[0]], where, config=ScanConfig(sign=SignConfig(num_perm=64)))
    with pytest.raises(IndexStoreError, match="doc_threshold"):
        open_index(where, config=ScanConfig(candidates=CandidateConfig(doc_threshold=0.5)))


def _rewrite_as_format(where, fmt: int, folder) -> None:
    """Make a fresh index look as dedup wrote it in format 1 or 2: bucket rows of whole 64-bit keys (the
    documents' keys computed again here), and in format 1 zlib texts and no kept counters."""
    from dedup import ingest
    from dedup.pipeline import _index_files

    config = ScanConfig()
    found, _ = ingest.find_files(folder)
    chunk, _ = _index_files(config, found)
    db = sqlite3.connect(where)
    ids = dict(db.execute("SELECT path, id FROM documents").fetchall())
    bits = dict(db.execute("SELECT key, value FROM meta").fetchall())["prefix_bits"]
    owners = np.array([ids[r.path] for r in chunk.records], dtype=np.uint32)
    bounds = np.cumsum([0, *chunk.key_parts.sum(axis=0)])  # the chunk's keys are grouped by part
    owners = np.concatenate([np.repeat(owners, chunk.key_parts[:, p]) for p in range(chunk.key_parts.shape[1])])
    assert len(owners) == bounds[-1] == len(chunk.keys)
    prefixes = chunk.keys >> np.uint64(64 - int(bits))
    db.execute("DELETE FROM buckets")
    for p in np.unique(prefixes).tolist():
        at = prefixes == p
        db.execute(
            "INSERT INTO buckets(prefix, seq, keys, docs) VALUES(?, 1, ?, ?)",
            (p, chunk.keys[at].astype("<u8").tobytes(), owners[at].astype("<u4").tobytes()),
        )
    if fmt == 1:
        for i, blob in db.execute("SELECT id, text FROM documents").fetchall():
            db.execute("UPDATE documents SET text = ? WHERE id = ?", (zlib.compress(store_mod._unpack_text(blob, "test").encode()), i))
        db.execute("DELETE FROM blobs WHERE name IN ('documents', 'bucket_seq')")  # kept since format 2
    db.execute("UPDATE meta SET value = ? WHERE key = 'format'", (str(fmt),))
    db.commit()
    db.close()


@pytest.mark.parametrize("fmt", [1, 2])
def test_an_index_of_an_older_format_is_read_and_upgraded_by_an_add(tmp_path, folder, fmt):
    """Format 1 kept texts zlib-compressed, formats 1 and 2 whole keys in bucket rows: still read; an add
    writes this format's texts and rows (old rows stay, rows of both kinds are read) and records its format."""
    where = tmp_path / "old.dedup"
    build_index(folder, where)
    _rewrite_as_format(where, fmt, folder)
    assert index_info(where).documents == 5
    for path in ZH[:5]:
        (doc,) = check([path], where).checked
        assert [p.b for p in doc.sources] == [path.name] and doc.sources[0].relation == "exact"
    assert index_info(where).meta["format"] == fmt
    add_to_index([ZH[5]], where)
    assert index_info(where).meta["format"] == store_mod.FORMAT == 3
    assert index_info(where).documents == 6
    for path, stored in [(ZH[5], ZH[5].as_posix()), (ZH[1], ZH[1].name)]:
        (doc,) = check([path], where).checked
        assert [p.b for p in doc.sources] == [stored] and doc.sources[0].relation == "exact"


def test_lookup_of_random_keys_finds_exactly_the_stored_entries(tmp_path):
    """Keys spread over every bit: what a lookup finds is what a search of all entries finds."""
    rng = np.random.default_rng(3)
    s = open_store(tmp_path / "random.dedup", create=True)
    try:
        s.write_meta({"prefix_bits": 8})
        stored = [rng.integers(0, 2**64, 300, dtype=np.uint64) for _ in range(20)]
        ids = s.add([_doc(f"d{k}", keys) for k, keys in enumerate(stored)], boilerplate=np.zeros(0, np.uint32), replace=False)
        every = np.concatenate(stored)
        owners = np.repeat(ids, [len(k) for k in stored])
        query = np.concatenate([rng.choice(every, 500), rng.integers(0, 2**64, 500, dtype=np.uint64)])
        found, got = s.lookup(query)
        at = np.isin(every, query)
        assert sorted(zip(found.tolist(), got.tolist())) == sorted(zip(every[at].tolist(), owners[at].tolist()))
    finally:
        s.close()


def test_bucket_rows_of_both_kinds_merge_into_one(tmp_path):
    """A prefix's rows, old (whole keys) and new (suffixes), rewritten as one row of suffixes."""
    s = open_store(tmp_path / "mixed.dedup", create=True)
    try:
        s.write_meta({"prefix_bits": 8})
        key = (np.arange(1, 41, dtype=np.uint64) << np.uint64(20)) | np.uint64(0x0300000000000007)  # one prefix
        ids = s.add([_doc(f"d{k}", [key[k]]) for k in range(40)], boilerplate=np.zeros(0, np.uint32), replace=False)
        s.db.execute("DELETE FROM buckets")
        s.db.execute("DELETE FROM blobs WHERE name = 'bucket_seq'")  # as in format 1: the next seq from the rows
        for k in range(store_mod.MAX_ROWS_PER_PREFIX):  # old rows: whole keys
            s.db.execute(
                "INSERT INTO buckets(prefix, seq, keys, docs) VALUES(3, ?, ?, ?)",
                (10 + k, key[k : k + 1].astype("<u8").tobytes(), np.array([ids[k]], "<u4").tobytes()),
            )
        s.add_buckets(key[8:], np.array(ids[8:], dtype=np.uint32))  # a new row: the rows of prefix 3 are merged
        s.add([_doc("more", [key[0]])], boilerplate=np.zeros(0, np.uint32), replace=False)
        rows = s.db.execute("SELECT keys, docs FROM buckets WHERE prefix = 3").fetchall()
        assert len(rows) == 1 and len(rows[0][0]) == len(rows[0][1]) == 4 * 41
        found, got = s.lookup(key)
        assert sorted(zip(found.tolist(), got.tolist())) == sorted([*zip(key.tolist(), ids), (int(key[0]), ids[-1] + 1)])
    finally:
        s.close()


def test_an_index_of_an_unknown_format_is_refused(tmp_path, folder):
    where = tmp_path / "new.dedup"
    build_index(folder, where)
    db = sqlite3.connect(where)
    db.execute("UPDATE meta SET value = '99' WHERE key = 'format'")
    db.commit()
    db.close()
    with pytest.raises(IndexStoreError, match="index format 99, this dedup reads formats 1, 2, 3"):
        check([ZH[0]], where)


def test_redis_buckets_are_laid_out_as_datasketch_inserts_them(redis_url):
    """The bulk insert script writes what ``RedisSetStorage.insert`` writes; datasketch reads it back."""
    import redis
    from datasketch.storage import unordered_storage

    store = open_store(redis_url, create=True)
    keys = np.array([1, 2**63 + 5, 1, 77], dtype=np.uint64)
    store.add_buckets(keys, np.array([3, 4, 5, 3], dtype=np.uint32))
    base, params = redis_url.split("?prefix=")[0], {"host": "127.0.0.1"}
    client = redis.Redis.from_url(base)
    params.update(port=client.connection_pool.connection_kwargs["port"], db=client.connection_pool.connection_kwargs["db"])
    reference = unordered_storage({"type": "redis", "redis": params}, name=store._lsh_name + b"reference:")
    for k, i in ((1, 3), (2**63 + 5, 4), (1, 5), (77, 3)):
        reference.insert(k.to_bytes(8, "big"), str(i).encode())
    ours = unordered_storage({"type": "redis", "redis": params}, name=store._lsh_name)
    assert sorted(ours.keys()) == sorted(reference.keys())
    for k in reference.keys():
        assert ours.get(k) == reference.get(k)
    assert client.hgetall(store._lsh_name) == {k: store._lsh_name + k for k in reference.keys()}
    found, ids = store.lookup(np.array([1, 77, 9], dtype=np.uint64))
    assert sorted(zip(found.tolist(), ids.tolist())) == [(1, 3), (1, 5), (77, 3)]
    store.close()


class _Boom:
    """Unpickling this runs code: it creates a file."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (os.system, (f"touch {self.path}",))


def test_pickles_planted_in_an_index_are_never_loaded(tmp_path, folder):
    where = tmp_path / "a.dedup"
    build_index(folder, where)
    marker = tmp_path / "pwned"
    payload = pickle.dumps(_Boom(marker))
    db = sqlite3.connect(where)
    db.execute("UPDATE meta SET value = ? WHERE key = 'created'", (payload,))
    db.execute("UPDATE documents SET digest = ?, encoding = ?", (payload, payload))
    db.commit()
    db.close()
    with pytest.raises(IndexStoreError, match="not a dedup index"):
        check([ZH[0]], where)
    assert not marker.exists()


def test_redis_index_with_pickled_keys_is_never_unpickled(tmp_path, folder, redis_url):
    build_index(folder, redis_url)
    marker = tmp_path / "pwned"
    import redis

    from dedup.store import RedisStore

    s = RedisStore(redis_url, create=False)
    r = redis.Redis.from_url(redis_url.split("?")[0])
    for key in list(r.scan_iter(match=f"{s.prefix}:lsh:*", count=100))[:50]:
        if r.type(key) == b"set":
            r.sadd(key, pickle.dumps(_Boom(marker)))
    r.hset(f"{s.prefix}:meta", "created", pickle.dumps(_Boom(marker)))
    s.close()
    with pytest.raises(IndexStoreError):
        check([ZH[0]], redis_url)
    assert not marker.exists()


def test_building_in_worker_processes_gives_the_same_index(tmp_path, monkeypatch):
    import dedup.pipeline as pipeline

    monkeypatch.setattr(pipeline, "_INDEX_CHUNK", 4)  # several jobs even for the small corpus
    results = []
    for workers in (1, 2):
        where = tmp_path / f"w{workers}.dedup"
        update = build_index(CORPUS, where, config=ScanConfig(workers=workers))
        s = open_store(where)
        paths = {d.id: d.path for d in s.load(range(1, 100))}
        all_keys = s.db.execute("SELECT prefix, keys, docs FROM buckets").fetchall()
        entries = sorted(
            (p, k, paths[i])
            for p, kb, ib in all_keys
            for k, i in zip(np.frombuffer(kb, "<u4").tolist(), np.frombuffer(ib, "<u4").tolist())
        )
        results.append((update.added, update.skipped, entries, s.boilerplate().tolist()))
        s.close()
    assert results[0] == results[1]
