"""Candidate pairs from MinHash LSH (datasketch), at document and window level.

LSH is approximate: every candidate pair is verified on the text by
``dedup.align`` before anything is reported.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np
from datasketch import MinHash, MinHashLSH


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


def window_candidates(
    windows: Sequence[Sequence[MinHash]], *, threshold: float, num_perm: int, max_hits: int | None = None
) -> Counter[tuple[int, int]]:
    """Pairs of documents with windows that collide in LSH, with how many windows collide.

    ``windows[i]`` holds the window signatures of document ``i``. A window
    that collides with windows of more than ``max_hits`` other documents is
    page furniture or stock text, not a copy: its collisions are ignored.
    """
    lsh = _lsh(threshold, num_perm)
    with lsh.insertion_session() as session:
        for i, doc_windows in enumerate(windows):
            for w, mh in enumerate(doc_windows):
                session.insert((i, w), mh, check_duplication=False)
    counts: Counter[tuple[int, int]] = Counter()
    for i, doc_windows in enumerate(windows):
        for mh in doc_windows:
            hits = {j for j, _ in lsh.query(mh) if j != i}
            if max_hits is not None and len(hits) > max_hits:
                continue
            hits = {j for j in hits if j > i}
            counts.update((i, j) for j in hits)
    return counts


def member(values: np.ndarray, sorted_set: np.ndarray) -> np.ndarray:
    """``np.isin(values, sorted_set)`` for a sorted array, without re-sorting it on every call."""
    if len(sorted_set) == 0:
        return np.zeros(len(values), dtype=bool)
    idx = np.searchsorted(sorted_set, values)
    idx[idx == len(sorted_set)] = 0
    return sorted_set[idx] == values


def shingle_document_frequency(hash_sets: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Distinct shingle hashes and, for each, the number of documents holding it."""
    if not hash_sets:
        return np.zeros(0, dtype=np.uint32), np.zeros(0, dtype=np.int64)
    allh = np.concatenate([np.unique(h) for h in hash_sets])
    return np.unique(allh, return_counts=True)


def group_frequency(
    hash_sets: Sequence[np.ndarray], groups: Sequence[int], among: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For the (sorted) hashes in ``among``: in how many distinct groups (e.g. clusters) they occur."""
    if len(among) == 0:
        return among, np.zeros(0, dtype=np.int64)
    keys = []
    for h, g in zip(hash_sets, groups):
        u = np.unique(h)
        u = u[member(u, among)]
        keys.append((u.astype(np.uint64) << np.uint64(32)) | np.uint64(g))
    pairs = np.unique(np.concatenate(keys)) if keys else np.zeros(0, dtype=np.uint64)
    return np.unique((pairs >> np.uint64(32)).astype(np.uint32), return_counts=True)
