"""Seeds of an alignment: what two documents share, found fast.

*Shingle seeds*: shingles (``dedup.sign``) the two documents share, as (token in a, token in b,
length); overlapping ones on one diagonal form exact *fragments*. *Sentence seeds*: pairs of
sentences with similar bags of words (Dice of their feature sets), which tolerate shuffled and
replaced words. The per-document work (``shingle_index``) is done once and reused for every pair
a document is in. ``dedup.align`` chains seeds into passages.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dedup.arrays import member, run_starts
from dedup.normalize import sentences
from dedup.sign import Signed, bag_features


@dataclass(frozen=True, eq=False)
class ShingleIndex:
    """Per-document work for seeding, done once and reused for every pair the document is in."""

    positions: np.ndarray  # token where each shingle starts
    lengths: np.ndarray  # tokens in each shingle
    order: np.ndarray  # shingle indices sorted by hash
    values: np.ndarray  # distinct hashes (repeated ones left out)
    starts: np.ndarray  # where each hash's group starts in ``order``
    counts: np.ndarray  # size of each group
    features: np.ndarray  # bag-of-words feature of each token (0: none)
    unique_features: np.ndarray  # sorted distinct features
    sentence_starts: np.ndarray  # first token of each sentence, plus len(tokens) at the end
    sentence_sets: np.ndarray  # distinct (sentence, feature) rows, sorted by feature
    sentence_sizes: np.ndarray  # distinct features per sentence


def shingle_index(signed: Signed, *, max_repeats: int = 8) -> ShingleIndex:
    """Group a document's shingles by hash; hashes repeated more than ``max_repeats`` times are left out."""
    order = np.argsort(signed.hashes, kind="stable")
    values, starts, counts = _groups(signed.hashes[order])
    ok = counts <= max_repeats
    norm = signed.norm
    n = len(norm)
    breaks = norm.breaks if norm.breaks is not None else np.zeros(n, dtype=bool)
    sentence, sentence_starts = sentences(breaks)
    features = bag_features(norm)
    sets, sizes = _sentence_sets(features, sentence, len(sentence_starts) - 1)
    return ShingleIndex(
        signed.positions, signed.lengths, order, values[ok], starts[ok], counts[ok], features, _groups(sets[:, 1])[0], sentence_starts, sets, sizes
    )


def _groups(sorted_values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct values of a sorted array, where each one's run starts, and its length (``np.unique`` on sorted input)."""
    starts = np.flatnonzero(run_starts(sorted_values))
    return sorted_values[starts], starts, np.diff(np.append(starts, len(sorted_values)))


_MAX_SENTENCES_PER_FEATURE = 30


def _sentence_sets(features: np.ndarray, sentence: np.ndarray, n_sentences: int):
    """Distinct features of each sentence: unique (sentence, feature) rows sorted by feature, and set sizes."""
    tokens = np.flatnonzero(features != 0)
    # sentence numbers grow with the token index, so a stable sort by feature sorts by (feature, sentence)
    tokens = tokens[np.argsort(features[tokens], kind="stable")]
    f, sent = features[tokens], sentence[tokens].astype(np.uint64)
    first = np.ones(len(tokens), dtype=bool)
    first[1:] = (f[1:] != f[:-1]) | (sent[1:] != sent[:-1])
    rows = np.stack([sent[first], f[first]], axis=1)
    sizes = np.bincount(rows[:, 0].astype(np.int64), minlength=n_sentences)
    return rows, sizes


def sentence_seeds(
    index_a: ShingleIndex, index_b: ShingleIndex, *, min_dice: float = 0.4, min_features: int = 4
) -> np.ndarray:
    """Sentence pairs with similar bags of words, as ``(a0, a1, b0, b1)`` token ranges.

    Tolerates shuffled and replaced words, which break shingles: two
    sentences match when the Dice coefficient of their feature sets is at
    least ``min_dice`` (after Sanchez-Perez et al., PAN 2014).
    """
    shared = np.intersect1d(index_a.unique_features, index_b.unique_features, assume_unique=True)
    if len(shared) == 0:
        return np.zeros((0, 4), dtype=np.int64)
    ra, rb = index_a.sentence_sets, index_b.sentence_sets  # sorted by feature
    ra = ra[member(ra[:, 1], shared)]
    # join the (sentence, feature) rows of a and b on the feature
    lo = np.searchsorted(rb[:, 1], ra[:, 1], side="left")
    count = np.searchsorted(rb[:, 1], ra[:, 1], side="right") - lo
    count[count > _MAX_SENTENCES_PER_FEATURE] = 0  # a feature in many sentences says little
    total = int(count.sum())
    if total == 0:
        return np.zeros((0, 4), dtype=np.int64)
    offsets = np.arange(total) - np.repeat(np.cumsum(count) - count, count)
    sent_a = np.repeat(ra[:, 0].astype(np.int64), count)
    sent_b = rb[np.repeat(lo, count) + offsets, 0].astype(np.int64)
    nb = len(index_b.sentence_starts) - 1
    keys, n = np.unique(sent_a * nb + sent_b, return_counts=True)
    r, c = keys // nb, keys % nb
    size_a, size_b = index_a.sentence_sizes, index_b.sentence_sizes
    dice = 2 * n / np.maximum(size_a[r] + size_b[c], 1)
    ok = (dice >= min_dice) & (size_a[r] >= min_features) & (size_b[c] >= min_features)
    r, c = r[ok], c[ok]
    sa, sb = index_a.sentence_starts, index_b.sentence_starts
    return np.stack([sa[r], sa[r + 1], sb[c], sb[c + 1]], axis=1).astype(np.int64)


def bag_similarity(index_a: ShingleIndex, index_b: ShingleIndex, span: tuple[int, int, int, int]) -> float:
    """Dice similarity of the bags of features of the two sides of a span (order-free)."""
    a0, a1, b0, b1 = span
    fa, fb = index_a.features[a0:a1], index_b.features[b0:b1]
    fa, fb = fa[fa != 0], fb[fb != 0]
    if len(fa) + len(fb) == 0:
        return 0.0
    va, ca = np.unique(fa, return_counts=True)
    vb, cb = np.unique(fb, return_counts=True)
    _, ia, ib = np.intersect1d(va, vb, assume_unique=True, return_indices=True)
    return float(2 * np.minimum(ca[ia], cb[ib]).sum() / (len(fa) + len(fb)))


def seeds(sa: Signed, sb: Signed, *, index_a: ShingleIndex | None = None, index_b: ShingleIndex | None = None) -> np.ndarray:
    """Shared shingles as an ``(m, 3)`` array of (token in a, token in b, length)."""
    ia_ = index_a or shingle_index(sa)
    ib_ = index_b or shingle_index(sb)
    oa, va, sta, ca = ia_.order, ia_.values, ia_.starts, ia_.counts
    ob, vb, stb, cb = ib_.order, ib_.values, ib_.starts, ib_.counts
    common, ia, ib = np.intersect1d(va, vb, assume_unique=True, return_indices=True)
    if len(common) == 0:
        return np.zeros((0, 3), dtype=np.int64)
    ca, cb, sta, stb = ca[ia], cb[ib], sta[ia], stb[ib]
    # every (a, b) combination within each group of equal hashes, vectorized
    a_elem = np.repeat(sta - np.cumsum(ca) + ca, ca) + np.arange(int(ca.sum()))  # positions in oa
    reps = np.repeat(cb, ca)  # each a element pairs with all b elements of its group
    b_first = np.repeat(stb, ca)
    total = int(reps.sum())
    offsets = np.arange(total) - np.repeat(np.cumsum(reps) - reps, reps)
    a_idx = oa[np.repeat(a_elem, reps)]
    b_idx = ob[np.repeat(b_first, reps) + offsets]
    return np.stack([ia_.positions[a_idx], ib_.positions[b_idx], ia_.lengths[a_idx]], axis=1).astype(np.int64)


def fragments(seed_array: np.ndarray) -> np.ndarray:
    """Exact matches: overlapping seeds on one diagonal, as ``(a0, a1, b0, b1)`` rows sorted by a0."""
    if len(seed_array) == 0:
        return np.zeros((0, 4), dtype=np.int64)
    pa, pb, k = seed_array[:, 0], seed_array[:, 1], seed_array[:, 2]
    diag = pa - pb
    order = np.lexsort((pa, diag))
    pa, diag, end = pa[order], diag[order], (pa + k)[order]
    # furthest end reached so far on the same diagonal: a running maximum that restarts on each
    # diagonal (each diagonal's values are lifted above all earlier ones)
    group = np.cumsum(np.concatenate([[0], diag[1:] != diag[:-1]]))
    lift = group * (int(end.max()) + 1)
    run_end = np.maximum.accumulate(end + lift) - lift
    new = np.ones(len(pa), dtype=bool)
    new[1:] = (diag[1:] != diag[:-1]) | (pa[1:] > run_end[:-1])
    run_id = np.cumsum(new) - 1
    starts = pa[new]
    ends = np.zeros(run_id[-1] + 1, dtype=np.int64)
    np.maximum.at(ends, run_id, end)
    out = np.stack([starts, ends, starts - diag[new], ends - diag[new]], axis=1)
    return out[np.argsort(out[:, 0], kind="stable")]
