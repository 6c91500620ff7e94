"""A shared archive index on a Redis server; the LSH buckets in datasketch's Redis storage layout.

``redis://host:port/db`` (optionally ``?prefix=name`` to keep several indexes in one database;
default ``dedup``), ``rediss://`` for TLS (addresses and their options: ``dedup.store.redis_address``;
datasketch's bucket storage connects with the same parameters). Every Redis error is an ``IndexStoreError``.

Keys under the prefix: ``meta`` (hash of JSON values), ``doc:<id>`` (hash),
``paths`` (path → id), ``live`` (set of visible ids), ``digest:<hex>`` (set of ids),
``boilerplate`` (sorted uint32 array), ``next`` (id counter), ``pending`` (id → the writer still
adding it), ``writer:<name>`` (a writer's lease) and the bucket storage ``lsh:``.

Several writers may add at once. A writer takes its ids and marks them pending in one step, writes
its documents and their buckets (invisible: not live), then makes them visible in one script that
also replaces documents stored under the same paths. What a killed writer left pending is removed
by the next writer, once the killed one is gone: its connection (named after it) has left the server,
or, where the server does not list its clients, its lease has run out. Nothing a live writer adds is
ever removed by another's clean-up. Before it makes them visible, a writer renews its lease for as long
as it waits for the answer (``socket_timeout``): a commit that reaches the server later (the server was
stopped, the writer gave up waiting) finds the lease gone and changes nothing.
"""

from __future__ import annotations

import json
import math
import re
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import redis
from datasketch.storage import unordered_storage

from dedup.arrays import distinct
from dedup.errors import IndexStoreError
from dedup.store import NewDocument, StoreBase, StoredDocument
from dedup.store.format import MAGIC, damaged, hashes_of, u4_blob, unpack_text
from dedup.store.redis_address import UNFINISHED, address, failure, guarded
from dedup.store.redis_scripts import COMMIT, DROP, INSERT, REMOVE, TAKE

#: Bucket entries inserted per script call.
BATCH = 4000
#: How long a writer's lease lasts without being renewed (it is renewed at every step of a write), in ms.
LEASE_MS = 60_000


class RedisStore(StoreBase):
    """A shared index on a Redis server (see the module's docstring).

    ``before_commit``: called in an ``add`` just before its documents are made visible (tests stop the server
    there)."""

    def __init__(self, url: str, *, create: bool = False, before_commit: Callable[[], None] | None = None) -> None:
        self.address = address(url)
        self.prefix = self.address.prefix
        self.location = self.address.location
        self.before_commit = before_commit
        params = self.address.params
        self.writer = uuid.uuid4().hex  # this store's name as a writer: its connections carry it
        try:
            self.r = redis.Redis(**params, client_name=f"dedup-writer-{self.writer}")
            self.r.ping()
            self._lsh_name = self._k("lsh:").encode()
            self.buckets = unordered_storage(
                {"type": "redis", "redis": params, "redis_buffer": {"transaction": True}}, name=self._lsh_name
            )
            self._scripts = {
                name: self.r.register_script(script)
                for name, script in (("insert", INSERT), ("take", TAKE), ("commit", COMMIT), ("drop", DROP), ("remove", REMOVE))
            }
            missing = not create and not self.r.exists(self._k("meta"))
        except redis.RedisError as err:
            if hasattr(self, "r"):
                self.r.close()
            raise failure(self.address, err) from None
        if missing:
            self.r.close()
            raise IndexStoreError(f"{self.location}: no index here (build one with 'dedup index build')")

    def _k(self, name: str) -> str:
        return f"{self.prefix}:{name}"

    def _run(self, script: str, *args: object) -> object:
        return self._scripts[script](keys=[self._k("")], args=list(args))

    @guarded
    def read_meta(self) -> dict | None:
        raw = self.r.hgetall(self._k("meta"))
        try:
            return {k.decode(): json.loads(v) for k, v in raw.items()} if raw else None
        except (UnicodeDecodeError, ValueError):
            return None

    @guarded
    def write_meta(self, meta: dict) -> None:
        self.r.hset(self._k("meta"), mapping={k: json.dumps(v) for k, v in meta.items()})

    def _live_ids(self, ids: Sequence[int]) -> list[int]:
        flags = self.r.smismember(self._k("live"), list(ids)) if ids else []
        return [i for i, f in zip(ids, flags) if f]

    def _renew(self, ms: int = LEASE_MS) -> None:
        self.r.set(self._k(f"writer:{self.writer}"), "1", px=ms)

    def _writers_alive(self, writers: set[str]) -> set[str]:
        """Those of ``writers`` still at work: connected (their connections carry their name), or, where the
        server does not list its clients, holding their lease."""
        try:
            connected = {c.get("name", "") for c in self.r.client_list()}
            return {w for w in writers if f"dedup-writer-{w}" in connected}
        except redis.ResponseError:  # CLIENT LIST not allowed here
            return {w for w in writers if self.r.exists(self._k(f"writer:{w}"))}

    def _purge_unfinished(self) -> None:
        """Remove the documents that writers no longer at work left pending (killed before they finished)."""
        pending: dict[str, list[str]] = {}
        for i, w in self.r.hgetall(self._k("pending")).items():
            pending.setdefault(w.decode(), []).append(i.decode())
        gone = set(pending) - self._writers_alive(set(pending)) - {self.writer}
        for w in gone:
            self._run("drop", w, *pending[w])

    @guarded
    def add(self, documents: Sequence[NewDocument], *, boilerplate: np.ndarray, replace: bool) -> list[int]:
        """Archive documents (see ``Store.add``): written invisible, then made visible by one script."""
        self._purge_unfinished()
        if not replace and len({d.path for d in documents}) < len(documents):
            raise IndexStoreError(f"{self.location}: a path given twice")
        if not documents:
            ids: list[int] = []
        else:
            first = int(self._run("take", self.writer, len(documents), LEASE_MS))  # type: ignore[arg-type]
            ids = list(range(first, first + len(documents)))
            try:
                self._write(documents, ids)
                # the lease for as long as this writer waits for the answer: a commit that reaches the server
                # later (this writer gave up) finds it gone and changes nothing
                self._renew(math.ceil(self.address.socket_timeout * 1000))
                if self.before_commit is not None:
                    self.before_commit()
                triples = [x for d, i in zip(documents, ids) for x in (i, d.path, d.digest.hex())]
                self._run("commit", self.writer, "1" if replace else "0", *triples)
            except redis.ResponseError as err:
                what, _, which = str(err).partition(" ")
                if not (what == "LOST" and self._live_ids(ids) == ids):  # (else: a commit sent again, once done)
                    self._drop(ids)
                    raise self._refusal(err, what, which) from None
            except (redis.RedisError, IndexStoreError) as err:
                self._drop(ids)
                if isinstance(err, IndexStoreError):
                    raise IndexStoreError(f"{err}{UNFINISHED}") from None
                raise failure(self.address, err, UNFINISHED) from None
            except BaseException:
                self._drop(ids)
                raise
        if len(boilerplate):
            self._merge_boilerplate(boilerplate)
        return ids

    def _refusal(self, err: redis.ResponseError, what: str, which: str) -> IndexStoreError:
        """What a refusal of the commit script means."""
        said = {
            "STORED": f"already stored: {which}",
            "LOST": "documents being added were removed by another writer's clean-up (was this one disconnected for "
                    "long?); nothing was added, add them again",
            "LATE": f"the Redis server took longer than {self.address.socket_timeout:g} s to answer; nothing was added, "
                    "add the documents again",
        }
        return IndexStoreError(f"{self.location}: {said[what]}") if what in said else failure(self.address, err, UNFINISHED)

    def _drop(self, ids: Sequence[int]) -> None:
        """Remove this writer's pending documents of a failed add, if the server can be reached (else the next
        writer does, once this one's connections are gone)."""
        try:
            self._run("drop", self.writer, *ids)
        except redis.RedisError:
            pass

    def _write(self, documents: Sequence[NewDocument], ids: Sequence[int]) -> None:
        """The documents' records and bucket entries, not yet visible."""
        pipe = self.r.pipeline(transaction=False)
        for d, i in zip(documents, ids):
            pipe.hset(
                self._k(f"doc:{i}"),
                mapping={
                    "path": d.path, "format": d.format, "encoding": d.encoding or "",
                    "chars": d.length, "digest": d.digest, "text": bytes(d.packed_text),
                },
            )
        pipe.execute()
        keys = [d.keys for d in documents if len(d.keys)]
        if keys:
            owners = [np.full(len(d.keys), i, dtype=np.uint32) for d, i in zip(documents, ids) if len(d.keys)]
            self.add_buckets(np.concatenate(keys).astype(np.uint64), np.concatenate(owners))

    def _merge_boilerplate(self, boilerplate: np.ndarray) -> None:
        """Union into the stored array, retried if another writer changed it meanwhile."""
        key = self._k("boilerplate")
        while True:
            with self.r.pipeline(transaction=True) as pipe:
                try:
                    pipe.watch(key)
                    stored = hashes_of(pipe.get(key) or b"", self.location)
                    merged = distinct(np.concatenate([stored, boilerplate.astype(np.uint32)]))
                    pipe.multi()
                    pipe.set(key, u4_blob(merged))
                    pipe.execute()
                    return
                except redis.WatchError:
                    continue

    @guarded
    def add_buckets(self, keys: np.ndarray, ids: np.ndarray) -> None:
        """Insert ``(key, id)`` into the bucket storage, laid out as datasketch's ``RedisSetStorage.insert`` lays
        it out (read through it), by a server-side script: one call per batch instead of two commands per entry."""
        raw = keys.astype(">u8").tobytes()  # big-endian, as ``key.to_bytes(8, "big")``
        values = [str(i).encode() for i in ids.tolist()]
        for start in range(0, len(values), BATCH):
            args: list[bytes] = [self._lsh_name]
            for j in range(start, min(start + BATCH, len(values))):
                args += (raw[8 * j : 8 * j + 8], values[j])
            self._scripts["insert"](args=args)
            self._renew()

    @guarded
    def remove(self, paths: Iterable[str]) -> list[str]:
        return [p for p in paths if self._run("remove", p) is not None]

    @guarded
    def lookup(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        keys = distinct(keys.astype(np.uint64)).tolist()
        found, ids = [], []
        for key, members in zip(keys, self.buckets.getmany(*[k.to_bytes(8, "big") for k in keys])):
            for m in members:
                i = int(m) if m.isdigit() else 1 << 32
                if i >= 1 << 32:
                    raise damaged(self.location, "a bucket holds something that is not a document id")
                found.append(key)
                ids.append(i)
        return np.array(found, dtype=np.uint64), np.array(ids, dtype=np.uint32)

    @guarded
    def with_digest(self, digest: bytes) -> list[int]:
        return self._live_ids(sorted(self._id(x) for x in self.r.smembers(self._k(f"digest:{digest.hex()}"))))

    def _id(self, value: bytes) -> int:
        """A stored document id; ``IndexStoreError`` if it is not one."""
        if not (isinstance(value, bytes) and value.isdigit() and int(value) < 1 << 62):
            raise damaged(self.location, f"{value!r} is not a document id")
        return int(value)

    @guarded
    def load(self, ids: Iterable[int]) -> list[StoredDocument]:
        live = self._live_ids(sorted(set(int(i) for i in ids)))
        pipe = self.r.pipeline(transaction=False)
        for i in live:
            pipe.hgetall(self._k(f"doc:{i}"))
        out = []
        for i, h in zip(live, pipe.execute()):
            if not h:
                continue
            try:
                path, fmt, encoding = (h[f].decode() for f in (b"path", b"format", b"encoding"))
                digest, text, chars = h[b"digest"], h[b"text"], int(h[b"chars"])
            except (KeyError, ValueError):  # (UnicodeDecodeError is a ValueError)
                raise damaged(self.location, f"document {i} lacks a field, or one is of the wrong kind") from None
            out.append(StoredDocument(i, path, unpack_text(text, self.location, chars), fmt, encoding or None, digest))
        return out

    @guarded
    def ids(self, paths: Sequence[str]) -> dict[str, int]:
        values = self.r.hmget(self._k("paths"), list(paths)) if paths else []
        return {p: self._id(v) for p, v in zip(paths, values) if v is not None}

    @guarded
    def paths(self) -> list[str]:
        try:
            return sorted(p.decode() for p in self.r.hkeys(self._k("paths")))
        except UnicodeDecodeError:
            raise damaged(self.location, "a stored path is not UTF-8") from None

    @guarded
    def count(self) -> int:
        return int(self.r.scard(self._k("live")))

    @guarded
    def boilerplate(self) -> np.ndarray:
        return hashes_of(self.r.get(self._k("boilerplate")) or b"", self.location)

    @guarded
    def size_bytes(self) -> int:
        return int(self.r.info("memory").get("used_memory", 0))

    @guarded
    def holds_other_data(self) -> bool:
        """Whether keys under the prefix are there that are not a dedup index's (another program's: a build must not
        clear them). Without a recorded index (a build killed while it emptied the prefix), keys of dedup's layout
        are an index's."""
        meta = self.read_meta()
        if isinstance(meta, dict) and meta.get("magic") == MAGIC:
            return False
        ours = re.compile(re.escape(self._k("")).encode() + rb"(meta|paths|live|boilerplate|next|pending|"
                          rb"digest:[0-9a-f]+|doc:\d+|writer:[0-9a-f]+|lsh:.*)", re.DOTALL)
        return any(not ours.fullmatch(k) for k in self.r.scan_iter(match=self._k("*"), count=1000))

    @guarded
    def clear(self) -> None:
        """Delete everything under the prefix (a new build)."""
        keys = list(self.r.scan_iter(match=self._k("*"), count=1000))
        for k in range(0, len(keys), 1000):
            self.r.unlink(*keys[k : k + 1000])

    def close(self) -> None:
        try:
            self.r.close()
        except redis.RedisError:
            pass
