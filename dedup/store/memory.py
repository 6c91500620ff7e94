"""An archive index in this process's memory: for tests and one-off runs (as datasketch's dict storage is).

It keeps what the other stores keep, behaves as they do (the conformance suite runs against it
too), and is safe to use from several threads at once; it is gone when the process ends.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from dedup.arrays import distinct
from dedup.errors import IndexStoreError
from dedup.store import NewDocument, StoreBase, StoredDocument
from dedup.store.format import unpack_text


@dataclass(frozen=True)
class _Stored:
    path: str
    packed_text: bytes
    format: str
    encoding: str | None
    digest: bytes
    chars: int


class MemoryStore(StoreBase):
    """An index held in memory (``location`` is only a name for reports)."""

    def __init__(self, name: str = "memory") -> None:
        self.location = name
        self._lock = threading.Lock()
        self._meta: dict = {}
        self._docs: dict[int, _Stored] = {}
        self._paths: dict[str, int] = {}
        self._keys: list[np.ndarray] = []
        self._owners: list[np.ndarray] = []
        self._boilerplate = np.zeros(0, dtype=np.uint32)
        self._next = 0  # ids are never reused, not even after ``clear``

    def clear(self) -> None:
        with self._lock:
            self._meta, self._docs, self._paths, self._keys, self._owners = {}, {}, {}, [], []
            self._boilerplate = np.zeros(0, dtype=np.uint32)

    def read_meta(self) -> dict | None:
        with self._lock:
            return dict(self._meta) or None

    def write_meta(self, meta: dict) -> None:
        with self._lock:
            self._meta.update(meta)

    def add(self, documents: Sequence[NewDocument], *, boilerplate: np.ndarray, replace: bool) -> list[int]:
        with self._lock:
            if not replace:
                stored = [d.path for d in documents if d.path in self._paths]
                if stored:
                    raise IndexStoreError(f"{self.location}: already stored: {', '.join(stored[:5])}")
                if len({d.path for d in documents}) < len(documents):
                    raise IndexStoreError(f"{self.location}: a path given twice")
            ids = list(range(self._next + 1, self._next + 1 + len(documents)))
            self._next += len(documents)
            for d, i in zip(documents, ids):
                old = self._paths.pop(d.path, None)
                if old is not None:
                    del self._docs[old]
                self._docs[i] = _Stored(d.path, bytes(d.packed_text), d.format, d.encoding, d.digest, d.length)
                self._paths[d.path] = i
                if len(d.keys):
                    self._keys.append(d.keys.astype(np.uint64))
                    self._owners.append(np.full(len(d.keys), i, dtype=np.uint32))
            if len(boilerplate):
                self._boilerplate = distinct(np.concatenate([self._boilerplate, boilerplate.astype(np.uint32)]))
            return ids

    def add_buckets(self, keys: np.ndarray, ids: np.ndarray) -> None:
        with self._lock:
            self._keys.append(keys.astype(np.uint64))
            self._owners.append(ids.astype(np.uint32))

    def remove(self, paths: Iterable[str]) -> list[str]:
        removed = []
        with self._lock:
            for p in paths:
                i = self._paths.pop(p, None)
                if i is not None:
                    del self._docs[i]
                    removed.append(p)
        return removed

    def lookup(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with self._lock:
            stored = np.concatenate([np.zeros(0, np.uint64), *self._keys])
            owners = np.concatenate([np.zeros(0, np.uint32), *self._owners])
        at = np.isin(stored, keys.astype(np.uint64))
        return stored[at], owners[at]

    def with_digest(self, digest: bytes) -> list[int]:
        with self._lock:
            return sorted(i for i, d in self._docs.items() if d.digest == digest)

    def load(self, ids: Iterable[int]) -> list[StoredDocument]:
        with self._lock:
            found = [(i, self._docs[i]) for i in sorted(set(int(i) for i in ids)) if i in self._docs]
        return [StoredDocument(i, d.path, unpack_text(d.packed_text, self.location, d.chars), d.format, d.encoding, d.digest) for i, d in found]

    def ids(self, paths: Sequence[str]) -> dict[str, int]:
        with self._lock:
            return {p: self._paths[p] for p in paths if p in self._paths}

    def paths(self) -> list[str]:
        with self._lock:
            return sorted(self._paths)

    def count(self) -> int:
        return len(self._docs)

    def boilerplate(self) -> np.ndarray:
        return self._boilerplate

    def size_bytes(self) -> int:
        with self._lock:
            texts = sum(len(d.packed_text) for d in self._docs.values())
            return texts + sum(k.nbytes + o.nbytes for k, o in zip(self._keys, self._owners))

    def close(self) -> None:
        """Nothing to close: the index stays in memory while the object lives."""
