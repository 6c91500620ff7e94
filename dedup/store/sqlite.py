"""The embedded archive index: one SQLite file, no server (WAL: readers never block each other).

Documents, bucket rows (one row per key prefix and write; crowded prefixes merged), meta and blobs
(boilerplate, the document count and the last bucket-row ``seq``, kept by every write) in one file.
``add`` is one transaction; ``dedup.store.sqlite_files.building`` writes a new index into a file beside the old
one, without a journal, and moves it into place only when complete, so a crash leaves the old index or the new
one. How the file is opened (read-only too) and what SQLite's errors mean: ``dedup.store.sqlite_files``.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from dedup import set_kernels
from dedup.arrays import distinct, run_starts
from dedup.errors import IndexStoreError
from dedup.store import NewDocument, StoreBase, StoredDocument, sqlite_files
from dedup.store.format import PREFIX_BITS, bucket_rows, cut, damaged, hashes_of, row_arrays, row_blobs, u4_blob, unpack_text

#: SQLite page size of new index files: bucket rows of up to ~4,000 bytes stay in their b-tree page, and
#: three compressed texts of ~4.4 KB fit a page (with 8 KB pages each filled one). Read through a memory map,
#: a lookup touches the same few bytes of each row's page either way (reads by ``read()`` copied whole pages:
#: twice as slow with 16 KB).
PAGE_SIZE = 16384
#: Rows of one prefix merged into one when a write leaves more than this many.
MAX_ROWS_PER_PREFIX = 8
#: SQLite's limit on parameters per statement is 32766; stay well below it.
_PARAMS = 900

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


def _rows_in(run: Callable[[str, list], Iterable[tuple]], sql: str, values: Iterable) -> Iterator[tuple]:
    """The rows of ``sql`` for all ``values``, its ``{}`` standing for the marks of an ``IN`` list; run (by
    ``run(sql, parameters)``) with at most ``_PARAMS`` values a statement."""
    values = list(values)
    for start in range(0, len(values), _PARAMS):
        part = values[start : start + _PARAMS]
        yield from run(sql.format(",".join("?" * len(part))), part)


class SqliteStore(StoreBase):
    """The embedded default: one SQLite file, no server (WAL: readers never block each other).

    ``read_only``: opened for reading only (``check``, ``index info``): an index that cannot be written (a read-only
    file or folder, another user's) is read all the same, and a write is an ``IndexStoreError``. Opened to write
    (the default), an index that cannot be written is an ``IndexStoreError`` at once, before any work is done.
    """

    def __init__(
        self, path: Path, *, create: bool = False, fresh: bool = False, cache_kib: int = 65536, read_only: bool = False
    ) -> None:
        self.path = Path(path)
        self.location = str(path)
        self.fresh = fresh
        self.read_only = read_only and not (create or fresh)
        self._syncing: threading.Thread | None = None
        if not create and not self.path.is_file():
            raise IndexStoreError(f"{path}: no index here (build one with 'dedup index build')")
        if self.path.is_dir():
            raise IndexStoreError(f"{path}: is a folder, not an index file")
        if not self.read_only and self.path.exists():
            sqlite_files.check_writable(self.path, self.location)
        try:
            self.db = sqlite_files.connect(self.path, read_only=self.read_only)
            self.db.execute("PRAGMA busy_timeout = 60000")
            self.db.execute(f"PRAGMA cache_size = {-int(cache_kib)}")
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
            if getattr(self, "db", None) is not None:
                self.db.close()
            raise self._error(err, "cannot be opened") from None
        self._set_prefix_bits(self.read_meta() or {})

    def _error(self, err: sqlite3.DatabaseError, doing: str) -> IndexStoreError:
        return sqlite_files.error(self.path, self.location, err, doing, read_only=self.read_only)

    def _set_prefix_bits(self, meta: dict) -> None:
        bits = meta.get("prefix_bits", getattr(self, "prefix_bits", PREFIX_BITS))
        if type(bits) is int and 1 <= bits <= 32:
            self.prefix_bits, self._bad_prefix_bits = bits, None
        else:  # (``check_meta`` says so first, for an index opened through it)
            self.prefix_bits, self._bad_prefix_bits = PREFIX_BITS, bits

    def _bits(self) -> int:
        """The key-prefix bits of the bucket rows; ``IndexStoreError`` if the recorded ones are not valid."""
        if self._bad_prefix_bits is not None:
            raise damaged(self.location, f"prefix_bits {self._bad_prefix_bits!r}, where dedup writes 8 to 32")
        return self.prefix_bits

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        if self.read_only:
            raise IndexStoreError(f"{self.location}: cannot be changed: opened for reading only")
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.DatabaseError as err:
            raise self._error(err, "cannot be changed") from None
        try:
            yield self.db
            # how many documents: asked at every check, and counting them reads a whole index b-tree
            self.db.execute(
                "INSERT INTO blobs(name, data) SELECT 'documents', count(*) FROM documents WHERE true "
                "ON CONFLICT(name) DO UPDATE SET data = excluded.data"
            )
            self.db.execute("COMMIT")
        except BaseException as exc:
            with contextlib.suppress(sqlite3.DatabaseError):  # (where SQLite cannot go on, it has rolled back)
                if self.db.in_transaction:
                    self.db.execute("ROLLBACK")
            if isinstance(exc, sqlite3.DatabaseError):
                raise self._error(exc, "cannot be changed") from None
            raise

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
            raise self._error(err, "cannot be read") from None

    def read_meta(self) -> dict | None:
        try:
            rows = self.db.execute("SELECT key, value FROM meta").fetchall()
        except sqlite3.DatabaseError:
            return None
        try:
            return {k: json.loads(v) for k, v in rows} or None  # (no meta recorded: None, as the other stores)
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
        """Archive documents in one transaction (see ``Store.add``)."""
        now = time.time()
        with self._transaction() as db:
            if replace:
                db.executemany("DELETE FROM documents WHERE path = ?", [(d.path,) for d in documents])
            first = db.execute("SELECT coalesce(max(seq), 0) FROM sqlite_sequence WHERE name = 'documents'").fetchone()[0]
            if type(first) is not int or first < 0:
                raise damaged(self.location, f"the last document id is {first!r}")
            try:  # (with replace, a path given twice: the later document replaces the earlier, as in the other stores)
                db.executemany(
                    f"INSERT {'OR REPLACE ' if replace else ''}INTO documents(path, format, encoding, chars, digest, text, added) "
                    "VALUES(?,?,?,?,?,?,?)",
                    ((d.path, d.format, d.encoding, d.length, d.digest, d.packed_text, now) for d in documents),
                )
            except sqlite3.IntegrityError:  # (this add's own rows are seen here too: those stored before have ids up to first)
                stored = sorted(p for p, i in self.ids([d.path for d in documents]).items() if i <= first)
                what = f"already stored: {', '.join(stored[:5])}" if stored else "a path given twice"
                raise IndexStoreError(f"{self.location}: {what}") from None
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
                    (u4_blob(merged),),
                )
        return ids

    def add_buckets(self, keys: np.ndarray, ids: np.ndarray) -> None:
        """Bucket entries of stored documents, written at once (building an index): rows of one prefix each."""
        self.add_prepared_buckets(self.prepare_buckets(keys, ids))

    def prepare_buckets(self, keys: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, ...]:
        """The entries as bucket rows (``format.bucket_rows``; the grouping lets other threads run)."""
        return bucket_rows(keys, ids, self._bits())

    def add_prepared_buckets(self, prepared: tuple[np.ndarray, ...]) -> None:
        with self._transaction() as db:
            self._insert_rows(db, row_blobs(prepared))  # type: ignore[arg-type]
        if self.fresh:
            self._write_back()

    def _insert_rows(self, db: sqlite3.Connection, rows: Iterable[tuple[int, np.ndarray, np.ndarray]]) -> None:
        seq = self._next_seq(db)
        db.executemany("INSERT INTO buckets(prefix, seq, keys, docs) VALUES(?,?,?,?)", ((p, seq, k, i) for p, k, i in rows))

    def _write_buckets(self, db: sqlite3.Connection, keys: np.ndarray, ids: np.ndarray) -> None:
        """Entries of documents added to an index: new rows, and the prefixes with too many rows merged."""
        rows = bucket_rows(keys, ids, self._bits())
        self._insert_rows(db, row_blobs(rows))
        crowded = list(_rows_in(
            db.execute,
            f"SELECT prefix FROM buckets WHERE prefix IN ({{}}) GROUP BY prefix HAVING count(*) > {MAX_ROWS_PER_PREFIX}",
            rows[0].tolist(),
        ))
        for (prefix,) in crowded:
            self._merge_prefix(db, prefix)

    def _next_seq(self, db: sqlite3.Connection) -> int:
        """A ``seq`` no bucket row has yet (one per write): a counter kept in ``blobs``, so that no write has to
        scan the bucket table for the highest (an index of format 1 has none until its next write)."""
        row = db.execute("SELECT data FROM blobs WHERE name = 'bucket_seq'").fetchone()
        if row and not (isinstance(row[0], bytes) and len(row[0]) == 8):
            raise damaged(self.location, "the bucket row counter is not 8 bytes")
        last = int.from_bytes(row[0], "little") if row else db.execute("SELECT coalesce(max(seq), 0) FROM buckets").fetchone()[0]
        if type(last) is not int or not 0 <= last < 1 << 62:
            raise damaged(self.location, f"the last bucket row is {last!r}")
        db.execute(
            "INSERT INTO blobs(name, data) VALUES('bucket_seq', ?) ON CONFLICT(name) DO UPDATE SET data = excluded.data",
            ((last + 1).to_bytes(8, "little"),),
        )
        return last + 1

    def _merge_prefix(self, db: sqlite3.Connection, prefix: int) -> None:
        """Rewrite a prefix's rows as one (of format 3), leaving out documents no longer stored."""
        rows = db.execute("SELECT seq, keys, docs FROM buckets WHERE prefix = ?", (prefix,)).fetchall()
        _, _, suffixes, ids = row_arrays([(prefix, kb, ib) for _, kb, ib in rows], self.location)
        if any(type(r[0]) is not int for r in rows):
            raise damaged(self.location, f"a bucket row of prefix {prefix} has no number")
        live = self._live(db, distinct(ids))
        keep = np.isin(ids, live)
        db.execute("DELETE FROM buckets WHERE prefix = ?", (prefix,))
        if keep.any():
            order = np.lexsort((ids[keep], suffixes[keep]))
            db.execute(
                "INSERT INTO buckets(prefix, seq, keys, docs) VALUES(?,?,?,?)",
                (prefix, max(r[0] for r in rows), u4_blob(suffixes[keep][order]), u4_blob(ids[keep][order])),
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
        cuts, first = np.unique(cut(keys.astype(np.uint64), self._bits()), return_index=True)  # sorted
        keys = keys.astype(np.uint64)[first]
        prefixes = cuts >> np.uint64(32)
        prefixes = prefixes[run_starts(prefixes)].astype(np.int64).tolist()
        rows = list(_rows_in(self._query, "SELECT prefix, keys, docs FROM buckets WHERE prefix IN ({})", prefixes))
        at, ids = set_kernels.match_rows(cuts, *row_arrays(rows, self.location))
        return keys[at], ids

    def with_digest(self, digest: bytes) -> list[int]:
        return [r[0] for r in self._query("SELECT id FROM documents WHERE digest = ?", (digest,))]

    def load(self, ids: Iterable[int]) -> list[StoredDocument]:
        rows = _rows_in(
            self._query, "SELECT id, path, text, format, encoding, digest, chars FROM documents WHERE id IN ({})",
            sorted(set(int(i) for i in ids)),
        )
        return [self._document(*r) for r in rows]

    def _document(self, i: int, path: object, text: object, fmt: object, encoding: object, digest: object,
                  chars: object) -> StoredDocument:
        """A stored document from its row; ``IndexStoreError`` if a value is not of the kind dedup writes."""
        if not (isinstance(path, str) and isinstance(fmt, str) and isinstance(encoding, (str, type(None)))
                and isinstance(digest, bytes)):
            raise damaged(self.location, f"document {i} has a path, format, encoding or digest of the wrong kind")
        return StoredDocument(i, path, unpack_text(text, self.location, chars), fmt, encoding, digest)  # type: ignore[arg-type]

    def ids(self, paths: Sequence[str]) -> dict[str, int]:
        return dict(_rows_in(self._query, "SELECT path, id FROM documents WHERE path IN ({})", paths))

    def paths(self) -> list[str]:
        paths = [r[0] for r in self._query("SELECT path FROM documents ORDER BY path")]
        if not all(isinstance(p, str) for p in paths):
            raise damaged(self.location, "a stored path is not text")
        return paths

    def count(self) -> int:
        kept = self._query("SELECT data FROM blobs WHERE name = 'documents'")  # kept by every write
        if kept and type(kept[0][0]) is int and kept[0][0] >= 0:
            return kept[0][0]
        return self._query("SELECT count(*) FROM documents")[0][0]

    def boilerplate(self) -> np.ndarray:
        return self._boilerplate(self.db)

    def _boilerplate(self, db: sqlite3.Connection) -> np.ndarray:
        try:
            row = db.execute("SELECT data FROM blobs WHERE name = 'boilerplate'").fetchone()
        except sqlite3.DatabaseError as err:
            raise self._error(err, "cannot be read") from None
        return hashes_of(row[0] if row else b"", self.location)

    def clear(self) -> None:
        """Remove everything (in one transaction)."""
        with self._transaction() as db:
            for table in ("documents", "buckets", "blobs", "meta"):
                db.execute(f"DELETE FROM {table}")
            db.execute("DELETE FROM sqlite_sequence WHERE name = 'documents'")
        self._set_prefix_bits({"prefix_bits": PREFIX_BITS})

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


building = sqlite_files.building  # (a new index file beside the old one: ``dedup.store.sqlite_files.building``)
