"""Where an archive index keeps its data: a local SQLite file, or a shared Redis.

A store holds plain data only, never pickles, so an index handed over by
someone else cannot run code when opened:

- ``meta``: JSON-encoded parameters (MinHash, shingles, LSH thresholds, scheme);
- documents: path, format, encoding, size, a digest of the normalized tokens
  and the original text (UTF-8 in an LZ4 frame; zlib in indexes of format 1),
  so that ``check`` can report passages even when the archive folder has moved;
- LSH buckets: 64-bit bucket keys (see ``dedup.index``) mapped to document ids, in rows of one key
  prefix (the top ``prefix_bits`` bits); a row keeps of each key its low 32 bits, so the prefix and
  those bits tell keys apart (indexes of format 1 and 2 kept whole keys; a row says which by its
  length);
- boilerplate: the long-shingle hashes judged boilerplate in the archive, one sorted
  array of little-endian uint32 (read whole at every check, so it is one blob);
- in SQLite, kept by every write: how many documents there are (asked at every check)
  and the last ``seq`` of the bucket rows (each write adds rows under a new one).

Every change is atomic: SQLite writes one transaction per batch; Redis writes
the new documents' data first and makes them visible last, with one
``MULTI``/``EXEC``, so a crash leaves either the old or the new contents.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import lz4.frame
import numpy as np

from dedup import kernels
from dedup.arrays import distinct, run_starts
from dedup.errors import IndexStoreError

#: Written into every index; a file without it is not a dedup index.
MAGIC = "dedup-index"
FORMAT = 3
#: Formats this dedup reads. Format 1 kept the texts zlib-compressed (a stored text says which by its first
#: bytes); formats 1 and 2 kept whole 64-bit keys in bucket rows (a row says which by its length).
READABLE_FORMATS = (1, 2, 3)
_LZ4_MAGIC = b"\x04\x22\x4d\x18"  # an LZ4 frame starts with it; a zlib stream never does
#: Buckets are grouped by the top bits of their key: one row per group and write. An index built
#: at once uses fewer bits when it is small (``prefix_bits_for``, recorded as meta ``prefix_bits``).
PREFIX_BITS = 24
#: SQLite page size of new index files: bucket rows of up to ~4,000 bytes stay in their b-tree page, and
#: three compressed texts of ~4.4 KB fit a page (with 8 KB pages each filled one). Read through a memory map,
#: a lookup touches the same few bytes of each row's page either way (reads by ``read()`` copied whole pages:
#: twice as slow with 16 KB).
PAGE_SIZE = 16384
#: Rows of one prefix merged into one when a write leaves more than this many.
MAX_ROWS_PER_PREFIX = 8
#: SQLite's limit on parameters per statement is 32766; stay well below it.
_PARAMS = 900


@dataclass(frozen=True)
class StoredDocument:
    """One archived document as the store keeps it."""

    id: int
    path: str
    text: str
    format: str
    encoding: str | None
    digest: bytes  # of the normalized tokens: equal digests, exact duplicates


@dataclass(frozen=True)
class NewDocument:
    """A document to archive, with its LSH bucket keys."""

    path: str
    text: str
    format: str
    encoding: str | None
    digest: bytes
    keys: np.ndarray  # uint64 bucket keys
    stored_text: bytes | memoryview | None = None  # the text as stored (``prepared``), else made by ``add``
    chars: int | None = None  # length of the text, when ``prepared`` has left the text out

    @property
    def length(self) -> int:
        return len(self.text) if self.chars is None else self.chars


def prepared(document: NewDocument) -> NewDocument:
    """The document in its stored form (compressed), the text itself left out: e.g. made in a worker process
    before ``add``, so that less goes back to the writing process."""
    d = document
    return NewDocument(d.path, "", d.format, d.encoding, d.digest, d.keys, _stored_text(d), d.length)


def _stored_text(document: NewDocument) -> bytes | memoryview:
    return document.stored_text or lz4.frame.compress(document.text.encode("utf-8"))


def _unpack_text(blob: bytes, where: str) -> str:
    try:
        data = lz4.frame.decompress(blob) if blob[:4] == _LZ4_MAGIC else zlib.decompress(blob)
        return data.decode("utf-8")
    except (RuntimeError, zlib.error, TypeError, UnicodeDecodeError) as err:
        raise IndexStoreError(f"{where}: a stored text is damaged ({err})") from None


def _u4_blob(values: np.ndarray) -> bytes:
    """Little-endian uint32 values as bytes: document ids, key suffixes, hashes."""
    return np.ascontiguousarray(values, dtype="<u4").tobytes()


_hashes_blob = _u4_blob  # sorted uint32 hashes


def _hashes_of(blob: bytes, where: str) -> np.ndarray:
    if not isinstance(blob, bytes) or len(blob) % 4:
        raise IndexStoreError(f"{where}: the stored boilerplate is damaged")
    return np.frombuffer(blob, dtype="<u4")  # read-only view: nothing writes to it


class Store:
    """What the index needs from its storage; see ``SqliteStore`` and ``RedisStore``. Closed at the end of
    a ``with`` block."""

    location: str

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def read_meta(self) -> dict | None: ...
    def write_meta(self, meta: dict) -> None: ...
    def add(self, documents: Sequence[NewDocument], *, boilerplate: np.ndarray, replace: bool) -> list[int]: ...
    def add_buckets(self, keys: np.ndarray, ids: np.ndarray) -> None: ...
    def prepare_buckets(self, keys: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, ...]:
        """``add_buckets``'s entries laid out as this store writes them, by a pure function of the arrays and
        the store's parameters: it may run in another thread while the store writes (it never touches the
        storage). The result goes to ``add_prepared_buckets``."""
        return keys, ids

    def add_prepared_buckets(self, prepared: tuple[np.ndarray, ...]) -> None:
        self.add_buckets(*prepared)

    def remove(self, paths: Iterable[str]) -> list[str]: ...
    def lookup(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...
    def with_digest(self, digest: bytes) -> list[int]: ...
    def load(self, ids: Iterable[int]) -> list[StoredDocument]: ...
    def ids(self, paths: Sequence[str]) -> dict[str, int]: ...
    def paths(self) -> list[str]: ...
    def count(self) -> int: ...
    def boilerplate(self) -> np.ndarray: ...
    def size_bytes(self) -> int: ...
    def close(self) -> None: ...


# --------------------------------------------------------------------------- SQLite

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents(
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    path TEXT NOT NULL UNIQUE,
    format TEXT NOT NULL,
    encoding TEXT,
    chars INTEGER NOT NULL,
    digest BLOB NOT NULL,
    text BLOB NOT NULL,
    added REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS documents_digest ON documents(digest);
CREATE TABLE IF NOT EXISTS buckets(
    prefix INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    keys BLOB NOT NULL,
    docs BLOB NOT NULL,
    PRIMARY KEY(prefix, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS blobs(name TEXT PRIMARY KEY, data BLOB NOT NULL);
"""


def _sync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _bucket_rows(keys: np.ndarray, ids: np.ndarray, bits: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(key, id) entries as bucket rows, one per key prefix, in prefix order: the prefixes, where each row's
    entries start (one bound more, at the end), and the entries' key suffixes (their low 32 bits, what a row of
    format 3 keeps) and ids."""
    suffixes, ids, prefixes, bounds = kernels.group_by_prefix(
        np.ascontiguousarray(keys, dtype="<u8"), np.ascontiguousarray(ids, dtype="<u4"), np.uint64(64 - bits)
    )
    return prefixes, bounds, suffixes, ids


def _row_blobs(rows: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """``_bucket_rows`` as ``(prefix, keys blob, ids blob)`` per row; the blobs are slices of the arrays, not
    copies (sqlite3 binds any contiguous buffer as a BLOB: here, their little-endian bytes)."""
    prefixes, bounds, suffixes, ids = rows
    suffixes, ids = (np.ascontiguousarray(a, dtype="<u4") for a in (suffixes, ids))
    b = bounds.tolist()
    return ((p, suffixes[b[r] : b[r + 1]], ids[b[r] : b[r + 1]]) for r, p in enumerate(prefixes.tolist()))


def _cut(keys: np.ndarray, bits: int) -> np.ndarray:
    """What tells keys apart in rows: the prefix (top ``bits`` bits, the row) above the key's low 32 bits."""
    return ((keys >> np.uint64(64 - bits)) << np.uint64(32)) | (keys & np.uint64(0xFFFFFFFF))


def _row_arrays(rows: Sequence[tuple[int, bytes, bytes]]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Bucket rows ``(prefix, keys blob, ids blob)`` as arrays: each row's prefix, where its entries start
    (one bound more, at the end), and the entries' keys (their low 32 bits) and ids.

    A row of format 3 keeps 4-byte key suffixes; of formats 1 and 2, whole 8-byte keys (told apart by length).
    """
    kblobs = [kb if len(kb) == len(ib) else np.frombuffer(kb, dtype="<u8").astype("<u4").tobytes() for _, kb, ib in rows]
    bounds = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum([len(r[2]) // 4 for r in rows], out=bounds[1:])
    return (
        np.array([r[0] for r in rows], dtype=np.uint64),
        bounds,
        np.frombuffer(b"".join(kblobs), dtype="<u4"),
        np.frombuffer(b"".join(r[2] for r in rows), dtype="<u4"),
    )


def _rows_in(run: Callable[[str, list], Iterable[tuple]], sql: str, values: Iterable) -> Iterator[tuple]:
    """The rows of ``sql`` for all ``values``, its ``{}`` standing for the marks of an ``IN`` list; run (by
    ``run(sql, parameters)``) with at most ``_PARAMS`` values a statement."""
    values = list(values)
    for start in range(0, len(values), _PARAMS):
        part = values[start : start + _PARAMS]
        yield from run(sql.format(",".join("?" * len(part))), part)


def prefix_bits_for(entries: int) -> int:
    """Key-prefix bits for an index of this many bucket entries: rows of 192 to 384 entries on average (under
    3,100 bytes, so that SQLite keeps them in their b-tree page of ``PAGE_SIZE``, not in overflow pages), at
    most ``PREFIX_BITS``."""
    return int(min(PREFIX_BITS, max(8, math.floor(math.log2(max(1, entries) / 192)))))


class SqliteStore(Store):
    """The embedded default: one SQLite file, no server (WAL: readers never block each other)."""

    def __init__(self, path: Path, *, create: bool, fresh: bool = False) -> None:
        self.path = Path(path)
        self.location = str(path)
        self.fresh = fresh
        self._syncing: threading.Thread | None = None
        if not create and not self.path.is_file():
            raise IndexStoreError(f"{path}: no index here (build one with 'dedup index build')")
        if self.path.is_dir():
            raise IndexStoreError(f"{path}: is a folder, not an index file")
        try:
            self.db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
            self.db.execute("PRAGMA busy_timeout = 60000")
            self.db.execute("PRAGMA cache_size = -65536")
            if create or fresh:  # (a file that exists keeps its page size)
                self.db.execute(f"PRAGMA page_size = {PAGE_SIZE}")
            if fresh:  # a new file that nobody reads until it is complete and moved into place: no journal
                self.db.execute("PRAGMA journal_mode = OFF")
                self.db.execute("PRAGMA synchronous = OFF")
            elif create:
                self.db.execute("PRAGMA journal_mode = WAL")
            if create or fresh:
                self.db.executescript(_SCHEMA)
            else:
                self.db.execute("SELECT 1 FROM sqlite_master").fetchall()
                # reads through a memory map of the file: no copy of each page a lookup touches (as big as the
                # file; not a fixed huge map, whose unmapping cost more than the copies it saved)
                self.db.execute(f"PRAGMA mmap_size = {self.path.stat().st_size + (64 << 20)}")
        except sqlite3.DatabaseError as err:
            raise IndexStoreError(f"{path}: not a dedup index ({err})") from None
        self._set_prefix_bits(self.read_meta() or {})

    def _set_prefix_bits(self, meta: dict) -> None:
        bits = meta.get("prefix_bits", getattr(self, "prefix_bits", PREFIX_BITS))
        self.prefix_bits = bits if isinstance(bits, int) and 1 <= bits <= 32 else PREFIX_BITS

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
            # how many documents: asked at every check, and counting them reads a whole index b-tree
            self.db.execute(
                "INSERT INTO blobs(name, data) SELECT 'documents', count(*) FROM documents WHERE true "
                "ON CONFLICT(name) DO UPDATE SET data = excluded.data"
            )
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def _write_back(self) -> None:
        """(A fresh file) put what is written so far on disk, in a thread (the writes go on meanwhile): the
        sync ``close`` waits for before the file is moved into place then has little left to write. Only
        while the bucket table is written, the bulk of an index: a build forks its processes before, and a
        process should not fork while it runs a thread."""
        if self._syncing is None or not self._syncing.is_alive():
            self._syncing = threading.Thread(target=_sync, args=(self.path,), daemon=True)
            self._syncing.start()

    def _query(self, sql: str, args: Sequence = ()) -> list[tuple]:
        try:
            return self.db.execute(sql, args).fetchall()
        except sqlite3.DatabaseError as err:
            raise IndexStoreError(f"{self.location}: not a dedup index or damaged ({err})") from None

    def read_meta(self) -> dict | None:
        try:
            rows = self.db.execute("SELECT key, value FROM meta").fetchall()
        except sqlite3.DatabaseError:
            return None
        try:
            return {k: json.loads(v) for k, v in rows}
        except (TypeError, ValueError):
            return None

    def write_meta(self, meta: dict) -> None:
        with self._transaction() as db:
            db.executemany(
                "INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                [(k, json.dumps(v)) for k, v in meta.items()],
            )
        self._set_prefix_bits(meta)

    def add(self, documents: Sequence[NewDocument], *, boilerplate: np.ndarray, replace: bool) -> list[int]:
        """Archive documents in one transaction; a document already stored under the same path is replaced."""
        now = time.time()
        with self._transaction() as db:
            if replace:
                db.executemany("DELETE FROM documents WHERE path = ?", [(d.path,) for d in documents])
            first = db.execute("SELECT coalesce(max(seq), 0) FROM sqlite_sequence WHERE name = 'documents'").fetchone()[0]
            db.executemany(
                "INSERT INTO documents(path, format, encoding, chars, digest, text, added) VALUES(?,?,?,?,?,?,?)",
                ((d.path, d.format, d.encoding, d.length, d.digest, _stored_text(d), now) for d in documents),
            )
            ids = list(range(first + 1, first + 1 + len(documents)))  # AUTOINCREMENT: consecutive in one transaction
            if documents:
                last = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'documents'").fetchone()[0]
                if last != ids[-1]:
                    raise IndexStoreError(f"{self.location}: document ids out of step ({last} != {ids[-1]})")
            keys = [d.keys for d in documents if len(d.keys)]
            if keys:
                owners = [np.full(len(d.keys), i, dtype=np.uint32) for d, i in zip(documents, ids) if len(d.keys)]
                self._write_buckets(db, np.concatenate(keys).astype(np.uint64), np.concatenate(owners))
            if len(boilerplate):
                merged = distinct(np.concatenate([self._boilerplate(db), boilerplate.astype(np.uint32)]))
                db.execute(
                    "INSERT INTO blobs(name, data) VALUES('boilerplate', ?) "
                    "ON CONFLICT(name) DO UPDATE SET data = excluded.data",
                    (_hashes_blob(merged),),
                )
        return ids

    def add_buckets(self, keys: np.ndarray, ids: np.ndarray) -> None:
        """Bucket entries of stored documents, written at once (building an index): rows of one prefix each."""
        self.add_prepared_buckets(self.prepare_buckets(keys, ids))

    def prepare_buckets(self, keys: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, ...]:
        """The entries as bucket rows (``_bucket_rows``; the grouping lets other threads run)."""
        return _bucket_rows(keys, ids, self.prefix_bits)

    def add_prepared_buckets(self, prepared: tuple[np.ndarray, ...]) -> None:
        with self._transaction() as db:
            self._insert_rows(db, _row_blobs(prepared))  # type: ignore[arg-type]
        if self.fresh:
            self._write_back()

    def _insert_rows(self, db: sqlite3.Connection, rows: Iterable[tuple[int, np.ndarray, np.ndarray]]) -> None:
        seq = self._next_seq(db)
        db.executemany("INSERT INTO buckets(prefix, seq, keys, docs) VALUES(?,?,?,?)", ((p, seq, k, i) for p, k, i in rows))

    def _write_buckets(self, db: sqlite3.Connection, keys: np.ndarray, ids: np.ndarray) -> None:
        """Entries of documents added to an index: new rows, and the prefixes with too many rows merged."""
        rows = _bucket_rows(keys, ids, self.prefix_bits)
        self._insert_rows(db, _row_blobs(rows))
        crowded = list(_rows_in(
            db.execute,
            f"SELECT prefix FROM buckets WHERE prefix IN ({{}}) GROUP BY prefix HAVING count(*) > {MAX_ROWS_PER_PREFIX}",
            rows[0].tolist(),
        ))
        for (prefix,) in crowded:
            self._merge_prefix(db, prefix)

    @staticmethod
    def _next_seq(db: sqlite3.Connection) -> int:
        """A ``seq`` no bucket row has yet (one per write): a counter kept in ``blobs``, so that no write has to
        scan the bucket table for the highest (an index of format 1 has none until its next write)."""
        row = db.execute("SELECT data FROM blobs WHERE name = 'bucket_seq'").fetchone()
        last = int.from_bytes(row[0], "little") if row else db.execute("SELECT coalesce(max(seq), 0) FROM buckets").fetchone()[0]
        db.execute(
            "INSERT INTO blobs(name, data) VALUES('bucket_seq', ?) ON CONFLICT(name) DO UPDATE SET data = excluded.data",
            ((last + 1).to_bytes(8, "little"),),
        )
        return last + 1

    def _merge_prefix(self, db: sqlite3.Connection, prefix: int) -> None:
        """Rewrite a prefix's rows as one (of format 3), leaving out documents no longer stored."""
        rows = db.execute("SELECT seq, keys, docs FROM buckets WHERE prefix = ?", (prefix,)).fetchall()
        _, _, suffixes, ids = _row_arrays([(prefix, kb, ib) for _, kb, ib in rows])
        live = self._live(db, distinct(ids))
        keep = np.isin(ids, live)
        db.execute("DELETE FROM buckets WHERE prefix = ?", (prefix,))
        if keep.any():
            order = np.lexsort((ids[keep], suffixes[keep]))
            db.execute(
                "INSERT INTO buckets(prefix, seq, keys, docs) VALUES(?,?,?,?)",
                (prefix, max(r[0] for r in rows), _u4_blob(suffixes[keep][order]), _u4_blob(ids[keep][order])),
            )

    @staticmethod
    def _live(db: sqlite3.Connection, ids: np.ndarray) -> np.ndarray:
        out = [r[0] for r in _rows_in(db.execute, "SELECT id FROM documents WHERE id IN ({})", ids.tolist())]
        return np.array(sorted(out), dtype=np.uint32)

    def remove(self, paths: Iterable[str]) -> list[str]:
        """Remove documents by stored path; returns the paths that were stored. Their buckets are
        left behind and ignored (ids are never reused), and dropped when their prefix is rewritten."""
        removed = []
        with self._transaction() as db:
            for p in paths:
                if db.execute("DELETE FROM documents WHERE path = ?", (p,)).rowcount:
                    removed.append(p)
        return removed

    def lookup(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Stored (key, document id) entries whose key is one of ``keys``; ids of removed documents included.

        Keys are told apart by their prefix and low 32 bits (what rows keep): a stored key that differs
        from one of ``keys`` only in the bits between (1 in 2**32 of those sharing its row) is found as it.
        """
        cut, first = np.unique(_cut(keys.astype(np.uint64), self.prefix_bits), return_index=True)  # sorted
        keys = keys.astype(np.uint64)[first]
        prefixes = cut >> np.uint64(32)
        prefixes = prefixes[run_starts(prefixes)].astype(np.int64).tolist()
        rows = list(_rows_in(self._query, "SELECT prefix, keys, docs FROM buckets WHERE prefix IN ({})", prefixes))
        at, ids = kernels.match_rows(cut, *_row_arrays(rows))
        return keys[at], ids

    def with_digest(self, digest: bytes) -> list[int]:
        return [r[0] for r in self._query("SELECT id FROM documents WHERE digest = ?", (digest,))]

    def load(self, ids: Iterable[int]) -> list[StoredDocument]:
        rows = _rows_in(
            self._query, "SELECT id, path, text, format, encoding, digest FROM documents WHERE id IN ({})",
            sorted(set(int(i) for i in ids)),
        )
        return [StoredDocument(r[0], r[1], _unpack_text(r[2], self.location), r[3], r[4], r[5]) for r in rows]

    def ids(self, paths: Sequence[str]) -> dict[str, int]:
        return dict(_rows_in(self._query, "SELECT path, id FROM documents WHERE path IN ({})", paths))

    def paths(self) -> list[str]:
        return [r[0] for r in self._query("SELECT path FROM documents ORDER BY path")]

    def count(self) -> int:
        kept = self._query("SELECT data FROM blobs WHERE name = 'documents'")  # kept by every write
        if kept and isinstance(kept[0][0], int):
            return kept[0][0]
        return self._query("SELECT count(*) FROM documents")[0][0]

    def boilerplate(self) -> np.ndarray:
        return self._boilerplate(self.db)

    def _boilerplate(self, db: sqlite3.Connection) -> np.ndarray:
        try:
            row = db.execute("SELECT data FROM blobs WHERE name = 'boilerplate'").fetchone()
        except sqlite3.DatabaseError as err:
            raise IndexStoreError(f"{self.location}: not a dedup index or damaged ({err})") from None
        return _hashes_of(row[0] if row else b"", self.location)

    def size_bytes(self) -> int:
        return sum(p.stat().st_size for p in (self.path, Path(f"{self.path}-wal")) if p.exists())

    def close(self) -> None:
        if self.fresh:  # complete: readers and later writers use WAL; on disk before it is moved into place
            self.db.execute("PRAGMA journal_mode = WAL")
            self.db.close()
            if self._syncing is not None:
                self._syncing.join()
            _sync(self.path)
            return
        self.db.close()


# --------------------------------------------------------------------------- Redis


#: Bucket entries inserted per script call.
_REDIS_BATCH = 4000
#: ``RedisSetStorage.insert(key, value)`` for each (key, value) pair of ARGV[2:], under the storage name
#: ARGV[1]: the name's hash maps the key to its set (name .. key), the set holds the values.
_REDIS_INSERT = """
local name = ARGV[1]
local fields = {}
for i = 2, #ARGV, 2 do
  local set = name .. ARGV[i]
  redis.call('SADD', set, ARGV[i + 1])
  fields[#fields + 1] = ARGV[i]
  fields[#fields + 1] = set
  if #fields >= 1000 then
    redis.call('HSET', name, unpack(fields))
    fields = {}
  end
end
if #fields > 0 then
  redis.call('HSET', name, unpack(fields))
end
return 0
"""


class RedisStore(Store):
    """A shared index on a Redis server; LSH buckets live in datasketch's Redis storage.

    ``redis://host:port/db`` (optionally ``?prefix=name`` to keep several
    indexes in one database; default ``dedup``). Keys under the prefix:
    ``meta`` (hash of JSON values), ``doc:<id>`` (hash), ``paths`` (path → id),
    ``live`` (set of visible ids), ``digest:<hex>`` (set of ids), ``boilerplate``
    (sorted uint32 array), ``next`` (id counter), and the bucket storage ``lsh:``.
    """

    def __init__(self, url: str, *, create: bool) -> None:
        try:
            import redis
            from datasketch.storage import unordered_storage
        except ImportError as err:  # pragma: no cover - redis is a dependency
            raise IndexStoreError(f"{url}: the redis package is needed for a Redis index ({err})") from None
        parts = urlsplit(url)
        query = dict(p.split("=", 1) for p in parts.query.split("&") if "=" in p)
        self.prefix = query.get("prefix", "dedup")
        db = int(parts.path.strip("/") or 0) if parts.path.strip("/").isdigit() or not parts.path.strip("/") else None
        if db is None:
            raise IndexStoreError(f"{url}: the database must be a number, as in redis://host:6379/0")
        self.location = f"redis://{parts.hostname or 'localhost'}:{parts.port or 6379}/{db}?prefix={self.prefix}"
        params = {"host": parts.hostname or "localhost", "port": parts.port or 6379, "db": db}
        if parts.password:
            params["password"] = parts.password
        self.r = redis.Redis(**params, socket_connect_timeout=5)
        try:
            self.r.ping()
        except redis.RedisError as err:
            raise IndexStoreError(f"{self.location}: cannot reach the Redis server ({err})") from None
        self._error = redis.RedisError
        self._lsh_name = self._k("lsh:").encode()
        self.buckets = unordered_storage(
            {"type": "redis", "redis": params, "redis_buffer": {"transaction": True}}, name=self._lsh_name
        )
        self._insert = self.r.register_script(_REDIS_INSERT)
        if not create and not self.r.exists(self._k("meta")):
            raise IndexStoreError(f"{self.location}: no index here (build one with 'dedup index build')")

    def _k(self, name: str) -> str:
        return f"{self.prefix}:{name}"

    def read_meta(self) -> dict | None:
        raw = self.r.hgetall(self._k("meta"))
        try:
            return {k.decode(): json.loads(v) for k, v in raw.items()} if raw else None
        except (UnicodeDecodeError, ValueError):
            return None

    def write_meta(self, meta: dict) -> None:
        self.r.hset(self._k("meta"), mapping={k: json.dumps(v) for k, v in meta.items()})

    def _live_ids(self, ids: Sequence[int]) -> list[int]:
        flags = self.r.smismember(self._k("live"), list(ids)) if ids else []
        return [i for i, f in zip(ids, flags) if f]

    def _purge_unfinished(self) -> None:
        """Drop the records of documents a crashed writer never made visible."""
        live = {int(x) for x in self.r.smembers(self._k("live"))}
        for key in self.r.scan_iter(match=self._k("doc:*"), count=1000):
            if int(key.decode().rsplit(":", 1)[1]) not in live:
                self.r.delete(key)

    def add(self, documents: Sequence[NewDocument], *, boilerplate: np.ndarray, replace: bool) -> list[int]:
        self._purge_unfinished()
        ids = [int(self.r.incr(self._k("next"))) for _ in documents]
        pipe = self.r.pipeline(transaction=False)
        for d, i in zip(documents, ids):
            pipe.hset(
                self._k(f"doc:{i}"),
                mapping={
                    "path": d.path, "format": d.format, "encoding": d.encoding or "",
                    "chars": d.length, "digest": d.digest, "text": bytes(_stored_text(d)),
                },
            )
        pipe.execute()
        for d, i in zip(documents, ids):  # buckets first: invisible until the id is live
            self.add_buckets(d.keys, np.full(len(d.keys), i, dtype=np.uint32))
        old = self.r.hmget(self._k("paths"), [d.path for d in documents]) if documents else []
        commit = self.r.pipeline(transaction=True)
        for d, i, o in zip(documents, ids, old):
            if o is not None:
                commit.srem(self._k("live"), int(o))
                commit.delete(self._k(f"doc:{int(o)}"))
                commit.srem(self._k(f"digest:{d.digest.hex()}"), int(o))
            commit.hset(self._k("paths"), d.path, i)
            commit.sadd(self._k(f"digest:{d.digest.hex()}"), i)
            commit.sadd(self._k("live"), i)
        commit.execute()
        if len(boilerplate):
            self._merge_boilerplate(boilerplate)
        return ids

    def _merge_boilerplate(self, boilerplate: np.ndarray) -> None:
        """Union into the stored array, retried if another writer changed it meanwhile."""
        import redis

        key = self._k("boilerplate")
        while True:
            with self.r.pipeline(transaction=True) as pipe:
                try:
                    pipe.watch(key)
                    stored = _hashes_of(pipe.get(key) or b"", self.location)
                    merged = distinct(np.concatenate([stored, boilerplate.astype(np.uint32)]))
                    pipe.multi()
                    pipe.set(key, _hashes_blob(merged))
                    pipe.execute()
                    return
                except redis.WatchError:
                    continue

    def add_buckets(self, keys: np.ndarray, ids: np.ndarray) -> None:
        """Insert ``(key, id)`` into the bucket storage, laid out as datasketch's ``RedisSetStorage.insert`` lays
        it out (read through it), by a server-side script: one call per batch instead of two commands per entry."""
        raw = keys.astype(">u8").tobytes()  # big-endian, as ``key.to_bytes(8, "big")``
        values = [str(i).encode() for i in ids.tolist()]
        for start in range(0, len(values), _REDIS_BATCH):
            args: list[bytes] = [self._lsh_name]
            for j in range(start, min(start + _REDIS_BATCH, len(values))):
                args += (raw[8 * j : 8 * j + 8], values[j])
            self._insert(args=args)

    def remove(self, paths: Iterable[str]) -> list[str]:
        removed = []
        for p in paths:
            i = self.r.hget(self._k("paths"), p)
            if i is None:
                continue
            i = int(i)
            digest = self.r.hget(self._k(f"doc:{i}"), "digest") or b""
            pipe = self.r.pipeline(transaction=True)
            pipe.srem(self._k("live"), i)
            pipe.hdel(self._k("paths"), p)
            pipe.srem(self._k(f"digest:{digest.hex()}"), i)
            pipe.delete(self._k(f"doc:{i}"))
            pipe.execute()
            removed.append(p)
        return removed

    def lookup(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        keys = distinct(keys.astype(np.uint64)).tolist()
        found, ids = [], []
        for key, members in zip(keys, self.buckets.getmany(*[k.to_bytes(8, "big") for k in keys])):
            for m in members:
                if not m.isdigit():
                    raise IndexStoreError(f"{self.location}: a bucket holds something that is not a document id")
                found.append(key)
                ids.append(int(m))
        return np.array(found, dtype=np.uint64), np.array(ids, dtype=np.uint32)

    def with_digest(self, digest: bytes) -> list[int]:
        return self._live_ids(sorted(int(x) for x in self.r.smembers(self._k(f"digest:{digest.hex()}"))))

    def load(self, ids: Iterable[int]) -> list[StoredDocument]:
        live = self._live_ids(sorted(set(int(i) for i in ids)))
        pipe = self.r.pipeline(transaction=False)
        for i in live:
            pipe.hgetall(self._k(f"doc:{i}"))
        out = []
        for i, h in zip(live, pipe.execute()):
            if not h:
                continue
            out.append(
                StoredDocument(
                    i, h[b"path"].decode(), _unpack_text(h[b"text"], self.location), h[b"format"].decode(),
                    h[b"encoding"].decode() or None, h[b"digest"],
                )
            )
        return out

    def ids(self, paths: Sequence[str]) -> dict[str, int]:
        values = self.r.hmget(self._k("paths"), list(paths)) if paths else []
        return {p: int(v) for p, v in zip(paths, values) if v is not None}

    def paths(self) -> list[str]:
        return sorted(p.decode() for p in self.r.hkeys(self._k("paths")))

    def count(self) -> int:
        return int(self.r.scard(self._k("live")))

    def boilerplate(self) -> np.ndarray:
        return _hashes_of(self.r.get(self._k("boilerplate")) or b"", self.location)

    def size_bytes(self) -> int:
        return int(self.r.info("memory").get("used_memory", 0))

    def clear(self) -> None:
        """Delete everything under the prefix (a new build)."""
        for key in self.r.scan_iter(match=self._k("*"), count=1000):
            self.r.delete(key)

    def close(self) -> None:
        self.r.close()


def open_store(location: str | Path, *, create: bool = False, fresh: bool = False) -> Store:
    """The store at ``location``: a ``redis://`` address or a file path.

    ``fresh``: a new index file that nobody opens until it is complete (``dedup index build`` writes one
    and moves it into place): written without a journal, synced to disk when closed.
    """
    text = str(location)
    if text.startswith(("redis://", "rediss://")):
        return RedisStore(text, create=create)
    return SqliteStore(Path(location), create=create, fresh=fresh)
