"""Candidate pairs from MinHash LSH (datasketch), at document and window level.

LSH is approximate: every candidate pair is verified on the text by
``dedup.align`` before anything is reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from datasketch import MinHash, MinHashLSH

from dedup import kernels
from dedup.arrays import distinct, member, run_starts
from dedup.config import CandidateConfig, ScanConfig
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


def window_keys(signed: Signed, config: ScanConfig, *, salt: np.ndarray | None = None) -> np.ndarray:
    """``windows × bands`` bucket keys of a document's bag-of-words windows (``band_keys``)."""
    c = config.candidates
    _, values = window_signatures(bag_signed(signed), config.sign, window=window_size(signed.norm, c.window))
    return band_keys(values, threshold=window_threshold(signed, c), salt=salt)


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


def common_hashes(
    unique_sets: Sequence[np.ndarray], *, min_docs: int, parts: int = 16, flags: Sequence[np.ndarray] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shingle hashes held by at least ``min_docs`` documents; for each, how many documents hold it, and how
    many of those have it flagged.

    ``unique_sets`` are the documents' distinct uint32 hashes, sorted (as ``np.unique`` gives
    them); ``flags`` (bool, one per hash; none flagged if not given), e.g. "at an edge of the
    document". The same as ``shingle_document_frequency`` filtered, but counted one of ``parts``
    slices of the hash range at a time: most hashes are held by one document, and counting all
    at once needs several times the memory of the hashes themselves.
    """
    if not unique_sets:
        return np.zeros(0, dtype=np.uint32), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    bounds = (np.arange(1, parts, dtype=np.uint64) << np.uint64(32)) // np.uint64(parts)
    bounds = bounds.astype(np.uint32)
    cuts = [[0, *np.searchsorted(h, bounds).tolist(), len(h)] for h in unique_sets]
    values, counts, flagged = [], [], []
    for p in range(parts):
        held = np.concatenate([h[c[p] : c[p + 1]] for h, c in zip(unique_sets, cuts)]).astype(np.uint64) << np.uint64(1)
        if flags is not None:  # the flag in the lowest bit: sorted, a hash's run ends with its flagged holders
            held |= np.concatenate([f[c[p] : c[p + 1]] for f, c in zip(flags, cuts)])
        held.sort()
        firsts = np.flatnonzero(run_starts(held >> np.uint64(1)))
        k = np.diff(np.append(firsts, len(held)))
        keep = k >= min_docs
        values.append((held[firsts[keep]] >> np.uint64(1)).astype(np.uint32))
        counts.append(k[keep])
        flagged.append(np.add.reduceat(held & np.uint64(1), firsts)[keep].astype(np.int64) if len(held) else k[keep])
    return np.concatenate(values), np.concatenate(counts), np.concatenate(flagged)


def group_frequency(
    hash_sets: Sequence[np.ndarray], groups: Sequence[int], among: np.ndarray, among_df: np.ndarray
) -> np.ndarray:
    """For the (sorted) hashes in ``among``, held by ``among_df`` documents: in how many distinct groups they occur.

    ``hash_sets`` are the documents' distinct hashes. Only groups of several
    documents change the count (a hash in k of their members counts once, not
    k times), so only those are looked at.
    """
    counts = among_df.astype(np.int64).copy()
    members: dict[int, list[int]] = {}
    for i, g in enumerate(groups):
        members.setdefault(g, []).append(i)
    for docs in members.values():
        if len(docs) < 2:
            continue
        held = np.concatenate([hash_sets[i][member(hash_sets[i], among)] for i in docs])
        values, k = np.unique(held, return_counts=True)
        repeated = k > 1
        np.subtract.at(counts, np.searchsorted(among, values[repeated]), k[repeated] - 1)
    return counts
