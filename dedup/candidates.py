"""Candidate pairs from MinHash LSH (datasketch), at document and window level.

LSH is approximate: every candidate pair is verified on the text by
``dedup.align`` before anything is reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from datasketch import MinHash, MinHashLSH

from dedup import kernels
from dedup.arrays import distinct, run_starts
from dedup.config import CandidateConfig, ScanConfig
from dedup.normalize import Normalized
from dedup.sign import Signed, bag_signed, window_signatures, window_size


def _lsh(threshold: float, num_perm: int) -> MinHashLSH:
    return MinHashLSH(threshold=threshold, num_perm=num_perm)


def document_candidates(
    minhashes: Sequence[MinHash | None], *, threshold: float, num_perm: int
) -> set[tuple[int, int]]:
    """Pairs ``(i, j)``, ``i < j``, of documents whose signatures collide in LSH.

    ``None`` entries (documents without shingles) are left out.
    """
    lsh = _lsh(threshold, num_perm)
    with lsh.insertion_session() as session:
        for i, mh in enumerate(minhashes):
            if mh is not None:
                session.insert(i, mh, check_duplication=False)
    pairs: set[tuple[int, int]] = set()
    for i, mh in enumerate(minhashes):
        if mh is None:
            continue
        for j in lsh.query(mh):
            if j != i:
                pairs.add((min(i, j), max(i, j)))
    return pairs


@lru_cache(maxsize=16)
def lsh_params(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows) that datasketch's MinHashLSH picks for this threshold."""
    from datasketch.lsh import _optimal_param

    return _optimal_param(threshold, num_perm, 0.5, 0.5)




def band_keys(signatures: np.ndarray, *, threshold: float, salt: np.ndarray | None = None) -> np.ndarray:
    """``windows × bands`` LSH bucket keys of MinHash signatures (``windows × num_perm``).

    Bands and rows are those datasketch's ``MinHashLSH`` picks for the
    threshold; each band's rows are mixed into one 64-bit key (xor
    ``salt[band]`` when given, to keep kinds of keys apart; at least one value a band).
    """
    bands, rows = lsh_params(threshold, signatures.shape[1])
    salt = np.zeros(bands, dtype=np.uint64) if salt is None else salt[:bands]
    if len(salt) < bands:
        raise ValueError(f"{bands} bands need as many salt values, got {len(salt)}")
    return kernels.band_keys(np.ascontiguousarray(signatures, dtype=np.uint32), bands, rows, salt)


def window_threshold(signed: Signed, config: CandidateConfig) -> float:
    """LSH threshold of a document's windows: CJK windows and word windows have their own."""
    return config.passage_threshold if signed.norm.mostly_cjk else config.word_passage_threshold


def window_keys(signed: Signed, config: ScanConfig) -> np.ndarray:
    """``windows × bands`` bucket keys of a document's bag-of-words windows (``band_keys``)."""
    return band_keys(window_values(signed, config), threshold=window_threshold(signed, config.candidates))


def window_values(signed: Signed, config: ScanConfig) -> np.ndarray:
    """``windows × num_perm`` MinHash values of a document's bag-of-words windows."""
    window = window_size(signed.norm, config.candidates.window)
    return window_signatures(bag_signed(signed), config.sign, window=window)[1]


def banded_candidates(
    keys: np.ndarray, owners: np.ndarray, *, max_hits: int | None = None, min_shared: int = 1
) -> set[tuple[int, int]]:
    """Pairs of owners whose windows share an LSH bucket (MinHash LSH, vectorized).

    ``keys`` comes from ``band_keys`` and ``owners[w]`` is the document of
    window ``w``. A bucket holding windows of more than ``max_hits + 1``
    documents is stock text: it makes no pairs. Pairs that share fewer than
    ``min_shared`` buckets are left out (a single chance collision).

    With ``min_shared=1``, the same pairs as inserting every window into datasketch's ``MinHashLSH`` and
    querying each (tested), at a fraction of the cost and memory for millions
    of windows: one band at a time, one sort each (see benchmarks/RESULTS.md).
    """
    if len(keys) == 0:
        return set()
    owners = owners.astype(np.int64)
    span = int(owners.max()) + 1  # a pair (i, j) is coded as i * span + j
    limit = (max_hits + 1) if max_hits is not None else len(keys)
    coded = []
    for band in range(keys.shape[1]):
        order = np.lexsort((owners, keys[:, band]))
        k, o = keys[order, band], owners[order]
        first = np.ones(len(k), dtype=bool)  # one entry per (bucket, document)
        first[1:] = (k[1:] != k[:-1]) | (o[1:] != o[:-1])
        k, o = k[first], o[first]
        starts = np.flatnonzero(run_starts(k))
        sizes = np.diff(np.concatenate([starts, [len(k)]]))
        keep = (sizes >= 2) & (sizes <= limit)
        starts, sizes = starts[keep], sizes[keep]
        for size in np.unique(sizes).tolist():  # all pairs of the buckets of each size at once
            members = o[starts[sizes == size][:, None] + np.arange(size)]  # ascending in each row
            x, y = np.triu_indices(size, 1)
            coded.append((members[:, x] * span + members[:, y]).ravel())
    if not coded:
        return set()
    pairs, shared = np.unique(np.concatenate(coded), return_counts=True)
    pairs = pairs[shared >= min_shared]
    return set(zip((pairs // span).tolist(), (pairs % span).tolist()))


def shingle_document_frequency(hash_sets: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Distinct shingle hashes and, for each, the number of documents holding it."""
    if not hash_sets:
        return np.zeros(0, dtype=np.uint32), np.zeros(0, dtype=np.int64)
    allh = np.concatenate([distinct(h) for h in hash_sets])
    return np.unique(allh, return_counts=True)


#: ``HashSets`` are grouped by this many top bits of the hashes, and counted one such part at a time.
SET_PART_BITS = 4
_LOW_BITS = 32 - SET_PART_BITS


@dataclass(frozen=True, eq=False)
class HashSets:
    """Documents' distinct uint32 hashes, each with a flag (e.g. "at an edge of the document"), in two arrays.

    Grouped by the top ``SET_PART_BITS`` bits of the hash (so that a part of the hash range is counted
    at a time), in document order within a part; each value keeps the hash's other bits, then the flag
    in its lowest bit. Few objects to send between processes, whatever the number of documents.
    """

    values: np.ndarray  # uint32
    counts: np.ndarray  # documents × parts: how many values each document has in each part

    @classmethod
    def of(cls, hash_sets: Sequence[np.ndarray], flags: Sequence[np.ndarray] | None = None) -> HashSets:
        """From each document's distinct hashes and their flags (bool; none flagged if not given)."""
        sizes = np.array([len(h) for h in hash_sets], dtype=np.int64)
        hashes = np.concatenate([np.zeros(0, np.uint32), *hash_sets]).astype(np.uint32, copy=False)
        coded = (hashes & np.uint32((1 << _LOW_BITS) - 1)) << np.uint32(1)
        if flags is not None and len(coded):
            coded |= np.concatenate(flags)
        part_of = (hashes >> np.uint32(_LOW_BITS)).astype(np.uint8)
        return cls(*kernels.group_parts(coded, part_of, sizes, 1 << SET_PART_BITS))

    @classmethod
    def of_shingles(cls, norms: Sequence[Normalized], *, cjk_ngram: int, word_ngram: int, edge: float) -> HashSets:
        """``of`` the documents' distinct shingle hashes (``dedup.sign.sign`` with these n-gram sizes), each
        flagged where one of its shingles reaches into the first or last ``edge`` (a share) of the tokens; in
        one compiled call for all (``kernels.long_shingle_sets``), without sorting each document's set."""
        offsets = np.zeros(len(norms) + 1, dtype=np.int64)
        np.cumsum([len(n) for n in norms], out=offsets[1:])
        codes = np.concatenate([np.zeros(0, "<u4"), *(n.codes for n in norms)])
        cjk = np.concatenate([np.zeros(0, bool), *(n.cjk for n in norms)])
        return cls(*kernels.long_shingle_sets(
            codes, cjk, offsets, cjk_ngram, word_ngram, edge, _LOW_BITS, 1 << SET_PART_BITS
        ))


def hash_frequencies(
    sets: Sequence[HashSets], groups: Sequence[int], *, min_docs: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The hashes held by at least ``min_docs`` documents of ``sets`` (sorted), and for each: how many
    documents hold it, how many of those have it flagged, and in how many distinct ``groups`` it occurs.

    ``groups`` has one label per document of all the sets, in order (documents of one label, e.g.
    near-duplicates of each other, count once in the last figure). One part of the hash range at a
    time (one sort each): most hashes are held by one document.
    """
    labels = np.asarray(groups, dtype=np.uint64)
    if len(labels) and int(labels.max()) >= 1 << 32:
        raise ValueError("group labels must fit in 32 bits")
    counts = np.concatenate([np.zeros((0, 1 << SET_PART_BITS), np.int64), *(s.counts for s in sets)])
    bounds = [np.concatenate([[0], np.cumsum(s.counts.sum(axis=0))]) for s in sets]
    out: list[tuple[np.ndarray, ...]] = []
    for p in range(1 << SET_PART_BITS):
        values = np.concatenate([np.zeros(0, np.uint32), *(s.values[b[p] : b[p + 1]] for s, b in zip(sets, bounds))])
        coded = kernels.grouped_coded(values, counts[:, p], labels)
        coded.sort()
        low, docs, flagged, distinct_groups = kernels.run_frequencies(coded, max(1, min_docs))
        out.append(((np.uint32(p) << np.uint32(_LOW_BITS)) | low.astype(np.uint32), docs, flagged, distinct_groups))
    return tuple(np.concatenate(column) for column in zip(*out))  # type: ignore[return-value]
