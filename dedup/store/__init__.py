"""Where an archive index keeps its data: one interface, three backends.

- ``SqliteStore`` (``dedup.store.sqlite``): the embedded default, one SQLite file, no server;
- ``RedisStore`` (``dedup.store.redis``): a shared index on a Redis server, the LSH buckets in
  datasketch's Redis storage layout;
- ``MemoryStore`` (``dedup.store.memory``): in this process only, for tests and one-off runs (like
  datasketch's dict storage).

``open_store(location)`` opens one by its location: ``redis://`` (or ``rediss://``) address, or a
file path; ``building(location)`` gives a store to fill with a new index that replaces the old one
only once complete. What is stored, and its format version, is ``dedup.store.format``'s.

Every change is atomic: a crash leaves either the old or the new contents, and writers running at
once never lose each other's documents (the conformance suite in ``tests/test_store.py`` runs
against every backend).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from dedup.errors import IndexStoreError
from dedup.store.format import pack_text


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

    @property
    def packed_text(self) -> bytes | memoryview:
        """The text as stored (``dedup.store.format.pack_text``)."""
        return self.stored_text if self.stored_text is not None else pack_text(self.text)


def prepared(document: NewDocument) -> NewDocument:
    """The document in its stored form (compressed), the text itself left out: e.g. made in a worker process
    before ``add``, so that less goes back to the writing process."""
    d = document
    return NewDocument(d.path, "", d.format, d.encoding, d.digest, d.keys, d.packed_text, d.length)


@runtime_checkable
class Store(Protocol):
    """What an archive index needs from its storage. Closed at the end of a ``with`` block.

    Ids are never reused: a replaced or removed document's id is gone for good, and bucket entries of
    ids that are no longer stored are ignored (``load`` and ``with_digest`` give stored documents only).
    """

    location: str  # a file path, or an address without password

    def __enter__(self) -> Store: ...
    def __exit__(self, *exc: object) -> None: ...
    def read_meta(self) -> dict | None:
        """The recorded meta (JSON values), or None where there is none or it is damaged."""
    def write_meta(self, meta: dict) -> None:
        """Record these meta values (others stay)."""
    def add(self, documents: Sequence[NewDocument], *, boilerplate: np.ndarray, replace: bool) -> list[int]:
        """Archive documents and their bucket keys, and merge ``boilerplate`` (sorted uint32 hashes) into the
        stored boilerplate, in one atomic change; their new ids, in order. With ``replace``, a document stored
        under the same path is replaced; without, such a path is an ``IndexStoreError`` and nothing is added."""
    def add_buckets(self, keys: np.ndarray, ids: np.ndarray) -> None:
        """Bucket entries ``(keys[i], ids[i])`` of stored documents (a build writes them apart from ``add``)."""
    def prepare_buckets(self, keys: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, ...]:
        """``add_buckets``'s entries laid out as this store writes them, by a pure function of the arrays and the
        store's parameters: it may run in another thread while the store writes. For ``add_prepared_buckets``."""
    def add_prepared_buckets(self, prepared: tuple[np.ndarray, ...]) -> None: ...
    def remove(self, paths: Iterable[str]) -> list[str]:
        """Remove documents by stored path; the paths that were stored."""
    def lookup(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Stored (key, document id) entries whose key is one of ``keys``; ids of removed documents included."""
    def with_digest(self, digest: bytes) -> list[int]:
        """Ids of the stored documents with this digest."""
    def load(self, ids: Iterable[int]) -> list[StoredDocument]:
        """The stored documents of these ids (ids no longer stored left out), in order of id."""
    def ids(self, paths: Sequence[str]) -> dict[str, int]:
        """The ids of those of ``paths`` that are stored."""
    def paths(self) -> list[str]:
        """Every stored path, sorted."""
    def count(self) -> int:
        """How many documents are stored."""
    def boilerplate(self) -> np.ndarray:
        """The stored boilerplate: sorted uint32 long-shingle hashes."""
    def size_bytes(self) -> int:
        """How much room the index takes (Redis: the server's memory)."""
    def clear(self) -> None:
        """Remove everything: documents, buckets, boilerplate and meta."""
    def close(self) -> None: ...


class StoreBase:
    """What the backends share: closing at the end of a ``with`` block, and buckets prepared as they are."""

    def __enter__(self) -> StoreBase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()  # type: ignore[attr-defined]

    def prepare_buckets(self, keys: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, ...]:
        return keys, ids

    def add_prepared_buckets(self, prepared: tuple[np.ndarray, ...]) -> None:
        self.add_buckets(*prepared)  # type: ignore[attr-defined]


def is_redis(location: object) -> bool:
    return isinstance(location, str) and location.startswith(("redis://", "rediss://"))


def open_store(location: str | Path, *, create: bool = False, read_only: bool = False) -> Store:
    """The store at ``location``: a ``redis://`` address or a file path (``create``: a new one if there is none).

    ``read_only``: only to read (a file index that cannot be written, e.g. a read-only file or folder, is read all
    the same; a write is an ``IndexStoreError``). Without it, a file index that cannot be written is refused at
    once. A Redis server decides for itself what a client may do."""
    if is_redis(location):
        from dedup.store.redis import RedisStore

        return RedisStore(str(location), create=create)
    from dedup.store.sqlite import SqliteStore

    return SqliteStore(Path(location), create=create, read_only=read_only)


@contextmanager
def building(location: str | Path | Store) -> Iterator[Store]:
    """A store to fill with a new index at ``location``, that replaces what is there only once complete.

    A file: a new file written next to it and moved into place when the block ends without an error
    (``dedup.store.sqlite_files.building``). Redis and a store given as it is: emptied first (on Redis, build under a
    new ``?prefix=`` and switch to it to keep serving the old index meanwhile). A file or Redis prefix that holds
    something else than a dedup index is refused (``IndexStoreError``), never replaced.
    """
    if isinstance(location, Store):
        location.clear()
        yield location
        return
    if is_redis(location):
        with open_store(location, create=True) as store:
            if store.holds_other_data():  # type: ignore[attr-defined]
                raise IndexStoreError(
                    f"{store.location}: holds keys under its prefix but no dedup index, and 'dedup index build' "
                    "replaces only an index; give another ?prefix="
                )
            store.clear()
            yield store
        return
    from dedup.store import sqlite_files

    with sqlite_files.building(Path(location)) as store:
        yield store


__all__ = ["NewDocument", "Store", "StoreBase", "StoredDocument", "building", "is_redis", "open_store", "prepared"]
