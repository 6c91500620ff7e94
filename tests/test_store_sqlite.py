"""What only the SQLite store does: bucket rows by key prefix (merged when crowded, two kinds of rows read),
older formats read and upgraded, files that are no index (or not ours to trust) refused, atomic builds.

The ``Store`` contract itself is tested on every backend in ``test_store.py``.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sqlite3
import zlib
from pathlib import Path

import numpy as np
import pytest

from dedup import (
    CandidateConfig,
    Document,
    IndexStoreError,
    ScanConfig,
    SignConfig,
    add_to_index,
    build_index,
    check,
    index_info,
    open_store,
)
from dedup.archive import open_index
from dedup.index import document_entries
from dedup.sign import sign_documents
from dedup.store import NewDocument, building
from dedup.store.format import FORMAT, MAGIC, cut, row_arrays, unpack_text
from dedup.store.sqlite import MAX_ROWS_PER_PREFIX, SqliteStore

from conftest import CORPUS

ZH = sorted((CORPUS / "zh").glob("*.txt"))
NONE = np.zeros(0, np.uint32)


@pytest.fixture
def folder(zh_archive):
    return zh_archive


def _doc(path: str, keys) -> NewDocument:
    return NewDocument(path=path, text=f"text of {path}", format="txt", encoding="utf-8",
                       digest=hashlib.blake2b(path.encode(), digest_size=16).digest(), keys=np.array(keys, dtype=np.uint64))


def _entries(store: SqliteStore) -> set[tuple[int, int]]:
    """Every (prefix and low 32 bits of the key, id) entry of the bucket rows (``format.cut``'s form)."""
    rows = store.db.execute("SELECT prefix, keys, docs FROM buckets").fetchall()
    prefixes, bounds, suffixes, ids = row_arrays(rows)
    per_entry = np.repeat(prefixes, np.diff(bounds))
    return set(zip(((per_entry << np.uint64(32)) | suffixes.astype(np.uint64)).tolist(), ids.tolist()))


def test_crowded_prefixes_are_merged_without_removed_documents(tmp_path):
    with open_store(tmp_path / "x.dedup", create=True) as s:
        s.write_meta({"prefix_bits": 2})  # 4 prefixes: key >> 62
        key = [(k % 4) << 62 | k for k in range(40)]
        ids = [s.add([_doc(f"d{k}", [key[k]])], boilerplate=NONE, replace=False)[0] for k in range(40)]
        s.remove(["d0", "d4"])
        for k in range(10):  # more rows at prefix 0, until they are merged again
            s.add([_doc(f"late{k}", [1000 + k])], boilerplate=NONE, replace=False)
        rows = dict(s.db.execute("SELECT prefix, count(*) FROM buckets GROUP BY prefix").fetchall())
        assert sorted(rows) == [0, 1, 2, 3] and all(n <= MAX_ROWS_PER_PREFIX for n in rows.values())
        keys, found = s.lookup(np.array(key, dtype=np.uint64))
        assert set(found.tolist()) == set(ids) - {ids[0], ids[4]}  # dropped when prefix 0 was rewritten
        assert sorted(keys.tolist()) == sorted(key[k] for k in range(40) if k not in (0, 4))


def test_lookup_of_random_keys_finds_exactly_the_stored_entries(tmp_path):
    """Keys spread over every bit: what a lookup finds is what a search of all entries finds."""
    rng = np.random.default_rng(3)
    with open_store(tmp_path / "random.dedup", create=True) as s:
        s.write_meta({"prefix_bits": 8})
        stored = [rng.integers(0, 2**64, 300, dtype=np.uint64) for _ in range(20)]
        ids = s.add([_doc(f"d{k}", keys) for k, keys in enumerate(stored)], boilerplate=NONE, replace=False)
        every = np.concatenate(stored)
        owners = np.repeat(ids, [len(k) for k in stored])
        query = np.concatenate([rng.choice(every, 500), rng.integers(0, 2**64, 500, dtype=np.uint64)])
        found, got = s.lookup(query)
        at = np.isin(every, query)
        assert sorted(zip(found.tolist(), got.tolist())) == sorted(zip(every[at].tolist(), owners[at].tolist()))


def test_bucket_rows_of_both_kinds_merge_into_one(tmp_path):
    """A prefix's rows, old (whole keys) and new (suffixes), rewritten as one row of suffixes."""
    with open_store(tmp_path / "mixed.dedup", create=True) as s:
        s.write_meta({"prefix_bits": 8})
        key = (np.arange(1, 41, dtype=np.uint64) << np.uint64(20)) | np.uint64(0x0300000000000007)  # one prefix
        ids = s.add([_doc(f"d{k}", [key[k]]) for k in range(40)], boilerplate=NONE, replace=False)
        s.db.execute("DELETE FROM buckets")
        s.db.execute("DELETE FROM blobs WHERE name = 'bucket_seq'")  # as in format 1: the next seq from the rows
        for k in range(MAX_ROWS_PER_PREFIX):  # old rows: whole keys
            s.db.execute(
                "INSERT INTO buckets(prefix, seq, keys, docs) VALUES(3, ?, ?, ?)",
                (10 + k, key[k : k + 1].astype("<u8").tobytes(), np.array([ids[k]], "<u4").tobytes()),
            )
        s.add_buckets(key[8:], np.array(ids[8:], dtype=np.uint32))  # a new row: the rows of prefix 3 are merged
        s.add([_doc("more", [key[0]])], boilerplate=NONE, replace=False)
        rows = s.db.execute("SELECT keys, docs FROM buckets WHERE prefix = 3").fetchall()
        assert len(rows) == 1 and len(rows[0][0]) == len(rows[0][1]) == 4 * 41
        found, got = s.lookup(key)
        assert sorted(zip(found.tolist(), got.tolist())) == sorted([*zip(key.tolist(), ids), (int(key[0]), ids[-1] + 1)])


def _rewrite_as_format(where: Path, fmt: int) -> None:
    """Make a fresh index look as dedup wrote it in format 1 or 2: bucket rows of whole 64-bit keys (the
    documents' keys computed again here from their stored texts), and in format 1 zlib texts and no kept
    counters."""
    config = ScanConfig()
    with open_store(where) as s:
        stored = s.load(s.ids(s.paths()).values())
        bits = s.read_meta()["prefix_bits"]
        written = _entries(s)
    docs = sign_documents([Document(path=d.path, text=d.text, format=d.format, encoding=d.encoding) for d in stored], config=config)
    entries = document_entries(docs, config)
    keys = np.concatenate([e.keys for e in entries])
    owners = np.repeat(np.array([d.id for d in stored], dtype=np.uint32), [len(e.keys) for e in entries])
    assert set(zip(cut(keys, bits).tolist(), owners.tolist())) == written  # the keys the build wrote
    db = sqlite3.connect(where)
    prefixes = keys >> np.uint64(64 - bits)
    db.execute("DELETE FROM buckets")
    for p in np.unique(prefixes).tolist():
        at = prefixes == p
        db.execute(
            "INSERT INTO buckets(prefix, seq, keys, docs) VALUES(?, 1, ?, ?)",
            (p, keys[at].astype("<u8").tobytes(), owners[at].astype("<u4").tobytes()),
        )
    if fmt == 1:
        for i, blob, chars in db.execute("SELECT id, text, chars FROM documents").fetchall():
            db.execute("UPDATE documents SET text = ? WHERE id = ?", (zlib.compress(unpack_text(blob, "test", chars).encode()), i))
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
    with open_store(where) as s:
        before = _entries(s)
    _rewrite_as_format(where, fmt)
    assert index_info(where).documents == 5
    assert index_info(where).meta["format"] == fmt
    with open_store(where) as s:
        assert _entries(s) == before  # whole keys read as keys of this format
        assert len(s.load(range(1, 10))) == 5
    for path in ZH[:5]:
        (doc,) = check([path], where).checked
        assert [p.b for p in doc.sources] == [path.name] and doc.sources[0].relation == "exact"
    add_to_index([ZH[5]], where)
    assert index_info(where).meta["format"] == FORMAT == 3
    assert index_info(where).documents == 6
    for path, stored in [(ZH[5], ZH[5].as_posix()), (ZH[1], ZH[1].name)]:
        (doc,) = check([path], where).checked
        assert [p.b for p in doc.sources] == [stored] and doc.sources[0].relation == "exact"


def test_an_index_of_an_unknown_format_is_refused(tmp_path, folder):
    where = tmp_path / "new.dedup"
    build_index(folder, where)
    db = sqlite3.connect(where)
    db.execute("UPDATE meta SET value = '99' WHERE key = 'format'")
    db.commit()
    db.close()
    with pytest.raises(IndexStoreError, match="index format 99, this dedup reads formats 1, 2, 3"):
        check([ZH[0]], where)


def test_a_file_that_is_no_index_is_refused_with_its_name(tmp_path):
    junk = tmp_path / "notes.txt"
    junk.write_text("not an index at all " * 100)
    with pytest.raises(IndexStoreError, match="notes.txt"):
        with open_index(junk):
            pass
    other = tmp_path / "other.sqlite"
    sqlite3.connect(other).execute("CREATE TABLE t(x)").connection.commit()
    with pytest.raises(IndexStoreError, match="other.sqlite: not a dedup index"):
        with open_index(other):
            pass
    with pytest.raises(IndexStoreError, match="missing.dedup: no index"):
        with open_index(tmp_path / "missing.dedup"):
            pass
    with pytest.raises(IndexStoreError, match="is a folder"):
        SqliteStore(tmp_path, create=True)


def test_an_index_built_with_other_parameters_is_refused(tmp_path, folder):
    where = tmp_path / "a.dedup"
    build_index(folder, where)
    with pytest.raises(IndexStoreError, match="num_perm: index 128, now 64"):
        check([ZH[0]], where, config=ScanConfig(sign=SignConfig(num_perm=64)))
    with pytest.raises(IndexStoreError, match="doc_threshold"):
        with open_index(where, config=ScanConfig(candidates=CandidateConfig(doc_threshold=0.5))):
            pass


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


def test_building_replaces_the_file_only_once_complete(tmp_path):
    """Readers see the old index while a new one is written; a build that fails leaves the old one."""
    where = tmp_path / "a.dedup"
    with building(where) as s:
        s.write_meta({"magic": MAGIC, "old": True})  # (a build replaces only an index)
        s.add([_doc("old", [1])], boilerplate=NONE, replace=False)
    with pytest.raises(RuntimeError):
        with building(where) as s:
            s.add([_doc("new", [1])], boilerplate=NONE, replace=False)
            with open_store(where) as reader:
                assert reader.paths() == ["old"]
            raise RuntimeError("the build fails")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.dedup"]  # nothing left beside it
    with open_store(where) as s:
        assert s.paths() == ["old"] and s.read_meta() == {"magic": MAGIC, "old": True}
    with building(where) as s:
        s.add([_doc("new", [1])], boilerplate=NONE, replace=False)
    with open_store(where) as s:
        assert s.paths() == ["new"] and s.read_meta() is None


def test_building_in_worker_processes_gives_the_same_index(tmp_path):
    results = []
    for workers in (1, 2):
        where = tmp_path / f"w{workers}.dedup"
        update = build_index(CORPUS, where, config=ScanConfig(workers=workers), batch_size=4)  # several jobs
        with open_store(where) as s:
            paths = {d.id: d.path for d in s.load(range(1, 100))}
            entries = sorted((k, paths[i]) for k, i in _entries(s))
            results.append((update.added, update.skipped, entries, s.boilerplate().tolist()))
    assert results[0] == results[1]
