"""Build a new archive index of a folder (same reading, normalization and boilerplate rules as ``scan``).

Files are read, normalized and signed a batch at a time by ``index_files`` (a stage function, run
by the executor), and written as the batches come back; boilerplate is judged over the whole folder
at the end (``dedup.boilerplate``, related documents found from their MinHashes), beside the writing
of the bucket table. What a batch keeps for the writer (``IndexedChunk``) is a few arrays and the
compressed texts: it packs into arrays, so the local executor hands it over in shared memory.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from dedup import boilerplate, index, ingest, set_kernels
from dedup.boilerplate import NO_HASHES, Resemblance
from dedup.candidates import HashSets
from dedup.config import ScanConfig
from dedup.executors import Executor, LocalExecutor
from dedup.index import NO_KEYS
from dedup.models import Document, IndexUpdate, Progress, Skipped, no_progress
from dedup.sign import FILE_BATCH, Signed, SignedDocument, read_signed, sign_documents
from dedup.store import NewDocument, Store, building, prepared
from dedup.store.format import meta_for, prefix_bits_for

#: Documents written per transaction while building an index.
WRITE_BATCH = 2000
#: Building an index sorts its bucket entries one part of the key space at a time.
KEY_PART_BITS = 4
KEY_PARTS = 1 << KEY_PART_BITS

#: Two short speeches, Chinese and English, that take a build through every compiled kernel it uses.
WARM_UP_TEXTS = (
    "各位代表：现在，我代表国务院，向大会报告政府工作，请予审议，并请全国政协委员提出意见。\n" * 6,
    "Mr. Speaker, Mr. Vice President, Members of Congress, my fellow Americans: tonight I report on the state "
    "of our Union, and I ask for your help.\n" * 6,
)


@dataclass(frozen=True, eq=False)
class IndexedChunk:
    """What building an index keeps of a batch of files, in few objects: records without keys and texts, bucket
    keys, what boilerplate needs, and the files that could not be read."""

    records: list[NewDocument]  # prepared (compressed text), without keys
    keys: np.ndarray  # bucket keys of the documents, grouped by part of the key space (``KEY_PART_BITS``)
    key_parts: np.ndarray  # documents × parts: how many keys each document has in each part
    long_shingles: HashSets  # distinct long-shingle hashes of the documents, flagged: at an edge
    resemblance: Resemblance
    skipped: list[Skipped]

    def pack(self) -> tuple[tuple[tuple[np.ndarray, ...], ...], tuple]:
        """Its arrays, in two groups (the texts' alone: they are freed once written, the rest kept to the end), and
        the rest (``dedup.executors``)."""
        r, h = self.resemblance, self.long_shingles
        arrays = (self.keys, self.key_parts, h.values, h.counts, r.hashvalues, r.document_keys, r.shingles)
        texts = [d.stored_text for d in self.records]  # (prepared: compressed)
        ends = np.cumsum([len(t) for t in texts], dtype=np.int64)
        joined = np.frombuffer(b"".join(texts), dtype=np.uint8)
        records = [(d.path, d.format, d.encoding, d.digest, d.length) for d in self.records]
        return (arrays, (joined, ends)), (records, self.skipped)

    @classmethod
    def unpack(cls, groups: Sequence[tuple[np.ndarray, ...]], rest: tuple) -> IndexedChunk:
        (keys, key_parts, values, counts, hashvalues, document_keys, shingles), (joined, ends) = groups
        records, skipped = rest
        view, bounds = memoryview(joined), [0, *ends.tolist()]  # (sqlite3 binds a view as a BLOB)
        documents = [
            NewDocument(path, "", fmt, encoding, digest, NO_KEYS, view[a:b], chars)
            for (path, fmt, encoding, digest, chars), a, b in zip(records, bounds, bounds[1:])
        ]
        return cls(documents, keys, key_parts, HashSets(values, counts), Resemblance(hashvalues, document_keys, shingles), skipped)


def index_files(config: ScanConfig, found: Sequence[tuple[str, str]]) -> IndexedChunk:
    """Read, normalize and sign a batch of files ``(relative path, path)`` for the index (a stage function:
    ``executor.map`` runs it with the config shared)."""
    documents, skipped, signed = read_signed(config, found)
    return indexed_chunk(documents, config, skipped, signed=signed)


def index_documents(config: ScanConfig, documents: Sequence[Document]) -> IndexedChunk:
    """Normalize and sign a batch of documents already read (the rows of dataset files) for the index."""
    return indexed_chunk(documents, config)


def indexed_chunk(
    documents: Sequence[Document], config: ScanConfig, skipped: Sequence[Skipped] = (), *, signed: Sequence[Signed] | None = None
) -> IndexedChunk:
    """What building an index keeps of a batch of documents (``signed``: their ``Signed``, if known)."""
    if signed is None:
        docs = sign_documents(documents, config=config)
    else:
        docs = [SignedDocument(d, s) for d, s in zip(documents, signed)]
    entries = index.document_entries(docs, config)
    records = [prepared(n) for n in index.new_documents(docs, entries, keys=False)]
    keys = np.concatenate([NO_KEYS, *(e.keys for e in entries)])
    keys, key_parts = set_kernels.group_parts(
        keys, (keys >> np.uint64(64 - KEY_PART_BITS)).astype(np.uint8), np.array([len(e.keys) for e in entries]), KEY_PARTS
    )
    return IndexedChunk(
        records=records,
        keys=keys,
        key_parts=key_parts,
        long_shingles=boilerplate.long_shingle_sets([d.norm for d in docs]),
        resemblance=Resemblance.of(entries, config),
        skipped=list(skipped),
    )


def folder_boilerplate(chunks: Sequence[IndexedChunk], config: ScanConfig) -> np.ndarray:
    """The boilerplate of a folder being indexed, from what its chunks keep (related documents count once)."""
    chunks = [c for c in chunks if len(c.key_parts)]
    if not chunks:
        return NO_HASHES
    labels = boilerplate.related_labels(Resemblance.joined([c.resemblance for c in chunks]))
    return boilerplate.boilerplate_of([c.long_shingles for c in chunks], labels, config)


def warm_up(config: ScanConfig) -> None:
    """Load the compiled kernels a build uses from numba's cache (0.3-0.5 s in each process that first calls
    them) by indexing two short texts: in the building process while it lists the folder, so that the
    processes the local executor forks then have them loaded."""
    chunk = indexed_chunk([Document(path=str(k), text=t) for k, t in enumerate(WARM_UP_TEXTS)], config)
    folder_boilerplate([chunk], config)
    set_kernels.group_by_prefix(chunk.keys, np.zeros(len(chunk.keys), dtype=np.uint32), np.uint64(64 - KEY_PART_BITS))


def build_index(
    root: str | Path | Sequence[str | Path],
    location: str | Path | Store,
    *,
    config: ScanConfig | None = None,
    progress: Progress | None = None,
    executor: Executor | None = None,
    batch_size: int = FILE_BATCH,
) -> IndexUpdate:
    """Index a folder (same reading, normalization and boilerplate rules as ``scan``).

    ``root`` may also be a dataset file (JSON Lines, Parquet, CSV), a glob pattern of them, or a list of folders,
    dataset files and patterns, as ``scan`` takes them: documents are stored under the names a scan gives them (a
    dataset row: its id).

    Files are read and signed ``batch_size`` at a time by ``executor`` (by default in ``config.workers``
    processes) and written as they come; boilerplate is judged over the whole folder at the end. A file
    index is written next to ``location`` and moved into place when complete, so an existing index is
    replaced only by a finished one (``dedup.store.building``).
    """
    config = config or ScanConfig()
    progress = progress or no_progress
    executor = executor or LocalExecutor(config.workers)
    sources = [root] if isinstance(root, (str, Path)) else list(root)
    folder = Path(sources[0]) if len(sources) == 1 and Path(sources[0]).is_dir() else None
    with ThreadPoolExecutor(1) as beside_listing:  # (listing the folder is mostly waiting for the system)
        warm = beside_listing.submit(warm_up, config)
        if folder is not None:
            found, skipped = ingest.find_files(
                folder, include=config.include, exclude=config.exclude, include_hidden=config.include_hidden
            )
            jobs, stage = [found[k : k + batch_size] for k in range(0, len(found), batch_size)], index_files
            total = len(found)
        else:  # dataset files (and folders): read here, signed by the executor
            reads = ingest.read_sources(sources, config=config)
            documents = [d for r in reads for d in r.documents]
            skipped = [s for r in reads for s in r.skipped]
            jobs, stage = [documents[k : k + batch_size] for k in range(0, len(documents), batch_size)], index_documents
            total = len(documents)
            folder = reads[0].path if reads[0].format == "folder" else reads[0].path.parent
        warm.result()
    meta = {**meta_for(config), "root": str(folder.resolve())}
    added: list[str] = []

    with building(location) as store:
        store.write_meta(meta)
        chunks: list[IndexedChunk] = []  # what boilerplate needs of each document (no records, no keys)
        parts: list[list[tuple[np.ndarray, np.ndarray]]] = [[] for _ in range(KEY_PARTS)]  # bucket entries
        pending: list[IndexedChunk] = []
        read = 0  # files of ``found`` read or skipped (not the folders and files skipped while listing)

        def flush() -> None:
            ids = np.array(store.add([r for c in pending for r in c.records], boilerplate=NO_HASHES, replace=False), np.uint32)
            first = 0
            for c in pending:  # its keys come grouped by part
                owners, first = ids[first : first + len(c.records)], first + len(c.records)
                bounds = np.concatenate([[0], np.cumsum(c.key_parts.sum(axis=0))])
                for p in range(KEY_PARTS):
                    parts[p].append((c.keys[bounds[p] : bounds[p + 1]], np.repeat(owners, c.key_parts[:, p])))
            pending.clear()

        for chunk in executor.map(stage, jobs, shared=config):
            chunks.append(replace(chunk, records=[], keys=NO_KEYS))  # what boilerplate needs
            added.extend(r.path for r in chunk.records)
            pending.append(chunk)
            skipped.extend(chunk.skipped)
            read += len(chunk.records) + len(chunk.skipped)
            if sum(len(c.records) for c in pending) >= WRITE_BATCH:
                flush()
            progress("index", read, total)
        flush()
        progress("write", 0, KEY_PARTS + 1)
        # boilerplate over the whole folder (related documents count once), in another process meanwhile
        with executor.beside(folder_boilerplate, chunks, config) as boiler:
            # bucket entries a part of the key space at a time (less to sort at once), each laid out in a
            # thread while the part before is written (in worker processes, which outnumbered the cores and
            # had to send the parts back, the write phase took longer)
            store.write_meta({"prefix_bits": prefix_bits_for(sum(len(k) for p in parts for k, _ in p))})

            def layout(p: int) -> tuple[np.ndarray, ...]:
                keys, owners = zip(*parts[p]) if parts[p] else ((), ())
                parts[p] = []
                return store.prepare_buckets(np.concatenate([*keys, NO_KEYS]), np.concatenate([*owners, NO_HASHES]))

            with ThreadPoolExecutor(1) as beside_writes:
                laid_out = beside_writes.submit(layout, 0)
                for p in range(KEY_PARTS):
                    part = laid_out.result()
                    if p + 1 < KEY_PARTS:
                        laid_out = beside_writes.submit(layout, p + 1)
                    store.add_prepared_buckets(part)
                    del part
                    progress("write", p + 1, KEY_PARTS + 1)
            store.add([], boilerplate=boiler(), replace=False)
        progress("write", KEY_PARTS + 1, KEY_PARTS + 1)
    return IndexUpdate(
        location=store.location, added=tuple(added), skipped=tuple(sorted(skipped, key=lambda s: s.path)), documents=len(added)
    )
