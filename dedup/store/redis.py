"""A shared archive index on a Redis server; the LSH buckets in datasketch's Redis storage layout.

``redis://host:port/db`` (optionally ``?prefix=name`` to keep several indexes in one database;
default ``dedup``). Keys under the prefix: ``meta`` (hash of JSON values), ``doc:<id>`` (hash),
``paths`` (path → id), ``live`` (set of visible ids), ``digest:<hex>`` (set of ids),
``boilerplate`` (sorted uint32 array), ``next`` (id counter), ``pending`` (id → the writer still
adding it), ``writer:<name>`` (a writer's lease) and the bucket storage ``lsh:``.

Several writers may add at once. A writer takes its ids and marks them pending in one step, writes
its documents and their buckets (invisible: not live), then makes them visible in one script that
also replaces documents stored under the same paths. What a killed writer left pending is removed
by the next writer, once the killed one is gone: its connection (named after it) has left the server,
or, where the server does not list its clients, its lease has run out. Nothing a live writer adds is
ever removed by another's clean-up.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

import numpy as np
import redis
from datasketch.storage import unordered_storage

from dedup.arrays import distinct
from dedup.errors import IndexStoreError
from dedup.store import NewDocument, StoreBase, StoredDocument
from dedup.store.format import hashes_of, u4_blob, unpack_text

#: Bucket entries inserted per script call.
BATCH = 4000
#: How long a writer's lease lasts without being renewed (it is renewed at every step of a write), in ms.
LEASE_MS = 60_000

#: ``RedisSetStorage.insert(key, value)`` for each (key, value) pair of ARGV[2:], under the storage name
#: ARGV[1]: the name's hash maps the key to its set (name .. key), the set holds the values.
_INSERT = """
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

#: Take ARGV[2] ids for writer ARGV[1] and mark them pending, renewing its lease (ARGV[3] ms); the first id.
_TAKE = """
local p = KEYS[1]
redis.call('SET', p .. 'writer:' .. ARGV[1], '1', 'PX', ARGV[3])
local last = redis.call('INCRBY', p .. 'next', ARGV[2])
local first = last - tonumber(ARGV[2]) + 1
for i = first, last do
  redis.call('HSET', p .. 'pending', i, ARGV[1])
end
return first
"""

#: Make writer ARGV[1]'s documents visible: ARGV[3..] are (id, path, digest hex) triples. With ARGV[2] = '1'
#: a document stored under the same path is replaced, else such a path is an error and nothing changes. An
#: error too if any of the writer's documents is no longer pending for it (cleaned up: nothing changes).
_COMMIT = """
local p = KEYS[1]
local writer, replace = ARGV[1], ARGV[2] == '1'
for i = 3, #ARGV, 3 do
  if redis.call('HGET', p .. 'pending', ARGV[i]) ~= writer or redis.call('EXISTS', p .. 'doc:' .. ARGV[i]) == 0 then
    return redis.error_reply('LOST ' .. ARGV[i])
  end
  if not replace and redis.call('HEXISTS', p .. 'paths', ARGV[i + 1]) == 1 then
    return redis.error_reply('STORED ' .. ARGV[i + 1])
  end
end
local function hex(s)
  return (string.gsub(s, '.', function(c) return string.format('%02x', string.byte(c)) end))
end
for i = 3, #ARGV, 3 do
  local id, path, digest = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local old = redis.call('HGET', p .. 'paths', path)
  if old then
    local old_digest = redis.call('HGET', p .. 'doc:' .. old, 'digest')
    if old_digest then
      redis.call('SREM', p .. 'digest:' .. hex(old_digest), old)
    end
    redis.call('SREM', p .. 'live', old)
    redis.call('DEL', p .. 'doc:' .. old)
  end
  redis.call('HSET', p .. 'paths', path, id)
  redis.call('SADD', p .. 'digest:' .. digest, id)
  redis.call('SADD', p .. 'live', id)
  redis.call('HDEL', p .. 'pending', id)
end
return #ARGV
"""

#: Remove what writer ARGV[1] left pending (ids ARGV[2..]), where it is still pending for it.
_DROP = """
local p = KEYS[1]
for i = 2, #ARGV do
  if redis.call('HGET', p .. 'pending', ARGV[i]) == ARGV[1] then
    redis.call('HDEL', p .. 'pending', ARGV[i])
    redis.call('DEL', p .. 'doc:' .. ARGV[i])
  end
end
return 0
"""

#: Remove the document stored under path ARGV[1]: its id, or false if there is none.
_REMOVE = """
local p = KEYS[1]
local id = redis.call('HGET', p .. 'paths', ARGV[1])
if not id then
  return false
end
local digest = redis.call('HGET', p .. 'doc:' .. id, 'digest')
if digest then
  redis.call('SREM', p .. 'digest:' .. string.gsub(digest, '.', function(c) return string.format('%02x', string.byte(c)) end), id)
end
redis.call('SREM', p .. 'live', id)
redis.call('HDEL', p .. 'paths', ARGV[1])
redis.call('DEL', p .. 'doc:' .. id)
return id
"""


class RedisStore(StoreBase):
    """A shared index on a Redis server (see the module's docstring)."""

    def __init__(self, url: str, *, create: bool = False) -> None:
        parts = urlsplit(url)
        query = dict(p.split("=", 1) for p in parts.query.split("&") if "=" in p)
        self.prefix = query.get("prefix", "dedup")
        db = int(parts.path.strip("/") or 0) if parts.path.strip("/").isdigit() or not parts.path.strip("/") else None
        if db is None:
            raise IndexStoreError(f"{url}: the database must be a number, as in redis://host:6379/0")
        self.location = f"redis://{parts.hostname or 'localhost'}:{parts.port or 6379}/{db}?prefix={self.prefix}"
        params = {"host": parts.hostname or "localhost", "port": parts.port or 6379, "db": db}
        if parts.username:
            params["username"] = parts.username
        if parts.password:
            params["password"] = parts.password
        self.writer = uuid.uuid4().hex  # this store's name as a writer: its connections carry it
        self.r = redis.Redis(**params, socket_connect_timeout=5, client_name=f"dedup-writer-{self.writer}")
        try:
            self.r.ping()
        except redis.RedisError as err:
            raise IndexStoreError(f"{self.location}: cannot reach the Redis server ({err})") from None
        self._lsh_name = self._k("lsh:").encode()
        self.buckets = unordered_storage(
            {"type": "redis", "redis": params, "redis_buffer": {"transaction": True}}, name=self._lsh_name
        )
        self._scripts = {
            name: self.r.register_script(script)
            for name, script in (("insert", _INSERT), ("take", _TAKE), ("commit", _COMMIT), ("drop", _DROP), ("remove", _REMOVE))
        }
        if not create and not self.r.exists(self._k("meta")):
            raise IndexStoreError(f"{self.location}: no index here (build one with 'dedup index build')")

    def _k(self, name: str) -> str:
        return f"{self.prefix}:{name}"

    def _run(self, script: str, *args: object) -> object:
        return self._scripts[script](keys=[self._k("")], args=list(args))

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

    def _renew(self) -> None:
        self.r.set(self._k(f"writer:{self.writer}"), "1", px=LEASE_MS)

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
                self._renew()
                triples = [x for d, i in zip(documents, ids) for x in (i, d.path, d.digest.hex())]
                self._run("commit", self.writer, "1" if replace else "0", *triples)
            except redis.ResponseError as err:
                self._run("drop", self.writer, *ids)
                what, _, which = str(err).partition(" ")
                if what == "STORED":
                    raise IndexStoreError(f"{self.location}: already stored: {which}") from None
                if what == "LOST":
                    raise IndexStoreError(
                        f"{self.location}: documents being added were removed by another writer's clean-up "
                        "(was this one disconnected for long?); nothing was added, add them again"
                    ) from None
                raise
            except BaseException:
                self._run("drop", self.writer, *ids)
                raise
        if len(boilerplate):
            self._merge_boilerplate(boilerplate)
        return ids

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

    def remove(self, paths: Iterable[str]) -> list[str]:
        return [p for p in paths if self._run("remove", p) is not None]

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
                    i, h[b"path"].decode(), unpack_text(h[b"text"], self.location), h[b"format"].decode(),
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
        return hashes_of(self.r.get(self._k("boilerplate")) or b"", self.location)

    def size_bytes(self) -> int:
        return int(self.r.info("memory").get("used_memory", 0))

    def clear(self) -> None:
        """Delete everything under the prefix (a new build)."""
        keys = list(self.r.scan_iter(match=self._k("*"), count=1000))
        for k in range(0, len(keys), 1000):
            self.r.unlink(*keys[k : k + 1000])

    def close(self) -> None:
        self.r.close()
