"""The archive index stage: LSH bucket keys of documents and of their windows, and queries on a store.

Bucket keys are those of ``dedup.candidates.band_keys`` (datasketch's bands
and rows for the thresholds), salted with the level and band so that all
levels share one key space:

- document level: the document's MinHash, ``doc_threshold``;
- passage level: the bag-of-words windows, ``passage_threshold`` (CJK) or
  ``word_passage_threshold`` (Latin words), the same windows ``scan`` uses.

A query applies ``scan``'s rules: any shared document bucket, or at least
``min_shared_buckets`` shared window buckets that are not stock text (held by
more than ``max_window_hits`` documents), or the same normalized tokens.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from dedup import candidates as candidates_stage
from dedup import set_kernels
from dedup.arrays import distinct
from dedup.candidates import band_keys
from dedup.config import ScanConfig
from dedup.models import Progress, no_progress
from dedup.sign import Signed, SignedDocument, signatures
from dedup.store import NewDocument, Store

LEVEL_DOCUMENT, LEVEL_CJK_WINDOW, LEVEL_WORD_WINDOW = 0, 1, 2
NO_KEYS = np.zeros(0, dtype=np.uint64)
#: Documents whose entries are computed together (``document_entries``).
ENTRY_BATCH = 64


@lru_cache(maxsize=None)
def salt(level: int, bands: int) -> np.ndarray:
    """Per band (for up to ``bands`` bands), what keys of one level are xored with: distinct from every
    other level and band."""
    x = np.arange(bands, dtype=np.uint64) + np.uint64(level << 16)
    with np.errstate(over="ignore"):  # splitmix64
        x = x + np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


@dataclass(frozen=True, eq=False)
class Entry:
    """What the index keeps of one document besides its text: its MinHash, bucket keys and digest."""

    hashvalues: np.ndarray  # the document's MinHash
    document_keys: np.ndarray  # bands of the document's MinHash (empty without shingles)
    window_keys: np.ndarray  # windows × bands
    digest: bytes  # of the normalized tokens: equal digests, exact duplicates
    shingles: int  # number of shingles
    keys: np.ndarray  # every bucket key the document is stored under, distinct


def entries(signed: Sequence[Signed], config: ScanConfig) -> list[Entry]:
    """Index entries of a batch of signed documents (the MinHashes and bucket keys of the batch computed
    together)."""
    hv = signatures([s.hashes for s in signed], config.sign)
    has = np.array([len(s.hashes) > 0 for s in signed], dtype=bool)
    doc_keys = np.zeros((len(signed), 0), dtype=np.uint64)
    if has.any():
        keys = band_keys(hv[has], threshold=config.candidates.doc_threshold, salt=salt(LEVEL_DOCUMENT, config.sign.num_perm))
        doc_keys = np.zeros((len(signed), keys.shape[1]), dtype=np.uint64)
        doc_keys[has] = keys
    windows = _window_keys(signed, config)
    document_keys = [doc_keys[k] if has[k] else doc_keys[k, :0] for k in range(len(signed))]
    own = [a for k in range(len(signed)) for a in (document_keys[k], windows[k].ravel())]
    sizes = np.zeros(len(signed) + 1, dtype=np.int64)
    np.cumsum([len(d) + windows[k].size for k, d in enumerate(document_keys)], out=sizes[1:])
    keys, counts = set_kernels.distinct_segments(np.concatenate([NO_KEYS, *own]), sizes)  # each document's own
    ends = np.cumsum(counts)
    return [
        Entry(hv[k], document_keys[k], windows[k], digest(s), len(s.hashes), keys[ends[k] - counts[k] : ends[k]])
        for k, s in enumerate(signed)
    ]


def document_entries(docs: Sequence[SignedDocument], config: ScanConfig, progress: Progress = no_progress) -> list[Entry]:
    """``entries`` of signed documents, ``ENTRY_BATCH`` at a time (``progress("index", done, total)``)."""
    out: list[Entry] = []
    for k in range(0, len(docs), ENTRY_BATCH):
        out.extend(entries([d.signed for d in docs[k : k + ENTRY_BATCH]], config))
        progress("index", len(out), len(docs))
    return out


def new_documents(docs: Sequence[SignedDocument], entries: Sequence[Entry], *, keys: bool = True) -> list[NewDocument]:
    """The documents to archive, with their bucket keys (or, ``keys`` False, none: a build writes them apart)."""
    return [
        NewDocument(
            path=d.doc.path, text=d.doc.text, format=d.doc.format, encoding=d.doc.encoding, digest=e.digest,
            keys=e.keys if keys else NO_KEYS,
        )
        for d, e in zip(docs, entries)
    ]


def _window_keys(signed: Sequence[Signed], config: ScanConfig) -> list[np.ndarray]:
    """``windows × bands`` bucket keys of each document's windows, salted by kind (CJK or word windows); the
    band keys of all the windows of a kind computed at once."""
    c = config.candidates
    out: list[np.ndarray] = [np.zeros((0, 0), dtype=np.uint64)] * len(signed)
    for level, cjk in ((LEVEL_CJK_WINDOW, True), (LEVEL_WORD_WINDOW, False)):
        docs = [k for k, s in enumerate(signed) if s.norm.mostly_cjk == cjk]
        if not docs:
            continue
        values = [candidates_stage.window_values(signed[k], config) for k in docs]
        threshold = candidates_stage.window_threshold(signed[docs[0]], c)
        keys = band_keys(np.concatenate(values), threshold=threshold, salt=salt(level, config.sign.num_perm))
        for k, part in zip(docs, np.split(keys, np.cumsum([len(v) for v in values])[:-1])):
            out[k] = part
    return out


def digest(signed: Signed) -> bytes:
    """Identity of the normalized text: documents with equal digests are exact duplicates."""
    h = hashlib.blake2b(signed.norm.codes, digest_size=16)  # of the tokens in UTF-32-LE
    h.update(signed.norm.converted.to_bytes(8, "little"))
    return h.digest()


def candidates(store: Store, e: Entry, config: ScanConfig, *, documents: int) -> set[int]:
    """Ids of archived documents that may share text with the entry's document (verify them on the text).

    ``documents``, the size of the archive, sets how many window buckets must be shared, as in ``scan``.
    """
    windows = distinct(e.window_keys.ravel())
    found, ids = store.lookup(np.concatenate([e.document_keys, windows]))
    out = set(ids[np.isin(found, e.document_keys)].tolist())
    at_window = np.isin(found, windows)
    if at_window.any():
        pairs = np.unique(np.stack([found[at_window], ids[at_window].astype(np.uint64)], axis=1), axis=0)
        keys, per_key = np.unique(pairs[:, 0], return_counts=True)
        stock = keys[per_key > config.candidates.max_window_hits]
        shared = pairs[~np.isin(pairs[:, 0], stock), 1]
        docs, counts = np.unique(shared, return_counts=True)
        out |= set(docs[counts >= config.candidates.shared_buckets(documents)].astype(np.int64).tolist())
    out |= set(store.with_digest(e.digest))
    return out
