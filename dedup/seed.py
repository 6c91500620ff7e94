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

from dedup.align_kernels import bag_dice, diagonal_runs, shared_shingles, similar_sentences
from dedup.arrays import run_starts
from dedup.normalize import Normalized, sentences
from dedup.sign import Signed, bag_features
from dedup.sort_kernels import radix_order


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
    sentence_starts: np.ndarray  # first token of each sentence, plus len(tokens) at the end
    sentence_of: np.ndarray  # the sentence of each distinct (sentence, feature) row, rows sorted by feature
    feature_values: np.ndarray  # the distinct features of the rows, sorted
    feature_starts: np.ndarray  # where each one's rows start, and the number of rows at the end
    sentence_sizes: np.ndarray  # distinct features per sentence
    weights: np.ndarray  # cumulative token weights (``Normalized.weights``): len(tokens) + 1 of them, from 0
    breaks: np.ndarray  # bool per token: a sentence ends after it (``Normalized.breaks``; none known: nowhere)


def shingle_index(signed: Signed, *, max_repeats: int = 8) -> ShingleIndex:
    """Group a document's shingles by hash; hashes repeated more than ``max_repeats`` times are left out."""
    order = radix_order(signed.hashes)
    values, starts, counts = _groups(signed.hashes[order])
    ok = counts <= max_repeats
    norm = signed.norm
    n = len(norm)
    breaks = norm.breaks if norm.breaks is not None else np.zeros(n, dtype=bool)
    sentence, sentence_starts = sentences(breaks)
    features = bag_features(norm)
    of, feats, sizes = _sentence_sets(features, sentence, len(sentence_starts) - 1)
    feature_values, feature_starts, _ = _groups(feats)
    return ShingleIndex(
        signed.positions, signed.lengths, order, values[ok], starts[ok], counts[ok], features, sentence_starts,
        of, feature_values, np.append(feature_starts, len(feats)), sizes, cumulative_weights(norm), breaks,
    )


def cumulative_weights(norm: Normalized) -> np.ndarray:
    """A document's token weights (``Normalized.weights``) added up: ``len(norm) + 1`` of them, from 0 (the weight of
    tokens ``a0:a1`` is ``w[a1] - w[a0]``)."""
    return np.concatenate([[0.0], np.cumsum(norm.weights)])


def _groups(sorted_values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct values of a sorted array, where each one's run starts, and its length (``np.unique`` on sorted input)."""
    starts = np.flatnonzero(run_starts(sorted_values))
    return sorted_values[starts], starts, np.diff(np.append(starts, len(sorted_values)))


_MAX_SENTENCES_PER_FEATURE = 30
#: ``sentence_seeds`` counts the features sentence pairs share in a table of sentences of a by sentences of b up
#: to this many cells (16 MB); beyond, it sorts them.
_DENSE_CELLS = 1 << 22


def _sentence_sets(features: np.ndarray, sentence: np.ndarray, n_sentences: int):
    """Distinct features of each sentence: unique (sentence, feature) rows sorted by feature (their sentences and
    their features), and set sizes."""
    tokens = np.flatnonzero(features != 0)
    # sentence numbers grow with the token index, so a stable sort by feature sorts by (feature, sentence)
    tokens = tokens[radix_order(features[tokens])]
    f, sent = features[tokens], sentence[tokens]
    first = np.ones(len(tokens), dtype=bool)
    first[1:] = (f[1:] != f[:-1]) | (sent[1:] != sent[:-1])
    sizes = np.bincount(sent[first], minlength=n_sentences)
    return np.ascontiguousarray(sent[first], dtype=np.int64), f[first], sizes


def sentence_seeds(
    index_a: ShingleIndex, index_b: ShingleIndex, *, min_dice: float = 0.4, min_features: int = 4
) -> np.ndarray:
    """Sentence pairs with similar bags of words, as ``(a0, a1, b0, b1)`` token ranges.

    Tolerates shuffled and replaced words, which break shingles: two
    sentences match when the Dice coefficient of their feature sets is at
    least ``min_dice`` (after Sanchez-Perez et al., PAN 2014); a feature found in
    more than ``_MAX_SENTENCES_PER_FEATURE`` sentences of b says little and is left out.
    """
    a, b = index_a, index_b
    return similar_sentences(
        a.sentence_of, a.feature_values, a.feature_starts, a.sentence_sizes, a.sentence_starts,
        b.sentence_of, b.feature_values, b.feature_starts, b.sentence_sizes, b.sentence_starts,
        min_dice, min_features, _MAX_SENTENCES_PER_FEATURE, _DENSE_CELLS,
    )


def bag_similarity(index_a: ShingleIndex, index_b: ShingleIndex, span: tuple[int, int, int, int]) -> float:
    """Dice similarity of the bags of features of the two sides of a span (order-free; ``bag_dice``)."""
    a0, a1, b0, b1 = span
    return float(bag_dice(index_a.features[a0:a1], index_b.features[b0:b1]))


#: ``bag_features`` marks a CJK trigram with the top bit; its first two characters are the bits above the last 18.
_CJK_FEATURE = np.uint64(1 << 63)


def gap_similarity(index_a: ShingleIndex, index_b: ShingleIndex, span: tuple[int, int, int, int]) -> float:
    """Dice similarity of the two sides of a short span (a gap between two passages) on Chinese character bigrams
    and content words: a sentence with half its words replaced keeps about a quarter of its bigrams and a tenth of
    its trigrams, where two unrelated sentences of government reports share a fifth of their bigrams 2 times in 10,000
    (``bag_similarity`` on trigrams is for passages)."""
    a0, a1, b0, b1 = span
    return float(bag_dice(_bigrams(index_a.features[a0:a1]), _bigrams(index_b.features[b0:b1])))


def _bigrams(features: np.ndarray) -> np.ndarray:
    """Bag features with each CJK trigram cut to its first two characters (still marked as CJK)."""
    return np.where(features & _CJK_FEATURE != 0, features >> np.uint64(18), features)


def seeds(index_a: ShingleIndex, index_b: ShingleIndex) -> np.ndarray:
    """Shared shingles as an ``(m, 3)`` array of (token in a, token in b, length)."""
    return shared_shingles(
        index_a.values, index_a.starts, index_a.counts, index_a.order, index_a.positions, index_a.lengths,
        index_b.values, index_b.starts, index_b.counts, index_b.order, index_b.positions,
    )


def fragments(seed_array: np.ndarray) -> np.ndarray:
    """Exact matches: overlapping seeds on one diagonal, as ``(a0, a1, b0, b1)`` rows sorted by a0."""
    return diagonal_runs(np.ascontiguousarray(seed_array, dtype=np.int64))
