"""The compiled alignment kernels against their definitions (``tests/reference.py``), on random inputs."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import reference
from dedup.align import chain, trim_edges
from dedup.align_kernels import bag_dice, by_start, covered_weight, similar_sentences
from dedup.config import SignConfig
from dedup.normalize import normalize
from dedup.seed import fragments, seeds, sentence_seeds, shingle_index
from dedup.sign import sign

SIGN = SignConfig()
# few distinct characters, so that random texts share shingles, sentences and features
TEXT = st.text(alphabet="一二三四五六七，。", min_size=0, max_size=160)
@st.composite
def _related(draw):
    """Two texts: the second made of pieces of the first and new text (so that they share shingles)."""
    a = draw(st.text(alphabet="一二三四五六七，。", min_size=20, max_size=160))
    b = ""
    for _ in range(draw(st.integers(0, 5))):
        i = draw(st.integers(0, len(a)))
        b += a[i : i + draw(st.integers(5, 40))] + draw(st.text(alphabet="一二三四五六七，。", max_size=6))
    return a, b


WORDS = st.lists(st.sampled_from(["alpha", "beta", "gamma", "delta", "the", "and", ".", "\n\n"]), max_size=80)


def _signed(text):
    return sign(normalize(text), SIGN)


@settings(max_examples=150, deadline=None)
@given(_related(), st.integers(1, 12))
def test_seeds_and_fragments_are_their_definitions(texts, max_repeats):
    a, b = texts
    sa, sb = _signed(a), _signed(b)
    found = seeds(shingle_index(sa, max_repeats=max_repeats), shingle_index(sb, max_repeats=max_repeats))
    want = reference.shared_seeds(sa.hashes.tolist(), sa.positions, sa.lengths, sb.hashes.tolist(), sb.positions, max_repeats)
    assert sorted(map(tuple, found.tolist())) == want
    assert list(map(tuple, fragments(found).tolist())) == reference.diagonal_fragments(want)


def _sentence_sets(index):
    sets = [set() for _ in range(len(index.sentence_starts) - 1)]
    for v, lo, hi in zip(index.feature_values.tolist(), index.feature_starts[:-1].tolist(), index.feature_starts[1:].tolist()):
        for s in index.sentence_of[lo:hi].tolist():
            sets[s].add(v)
    return sets


@settings(max_examples=150, deadline=None)
@given(st.one_of(TEXT, WORDS.map(" ".join)), st.one_of(TEXT, WORDS.map(" ".join)), st.integers(1, 6), st.sampled_from([0, 1 << 22]))
def test_sentence_seeds_are_their_definition(a, b, max_per_feature, dense_cells):
    ia, ib = shingle_index(_signed(a)), shingle_index(_signed(b))
    want = reference.similar_sentence_pairs(
        _sentence_sets(ia), _sentence_sets(ib), ia.sentence_starts.tolist(), ib.sentence_starts.tolist(),
        min_dice=0.4, min_features=2, max_per_feature=max_per_feature,
    )
    got = similar_sentences(
        ia.sentence_of, ia.feature_values, ia.feature_starts, ia.sentence_sizes, ia.sentence_starts,
        ib.sentence_of, ib.feature_values, ib.feature_starts, ib.sentence_sizes, ib.sentence_starts, 0.4, 2, max_per_feature,
        dense_cells,
    )
    assert list(map(tuple, got.tolist())) == want
    assert len(sentence_seeds(ia, ib)) == len(reference.similar_sentence_pairs(
        _sentence_sets(ia), _sentence_sets(ib), ia.sentence_starts.tolist(), ib.sentence_starts.tolist()))


FRAGMENT = st.tuples(st.integers(0, 80), st.integers(1, 25), st.integers(0, 80), st.integers(1, 25))


@settings(max_examples=300, deadline=None)
@given(st.lists(FRAGMENT, max_size=40), st.integers(0, 40), st.integers(0, 60), st.integers(0, 2**32 - 1))
def test_chains_are_their_definition(raw, max_gap, min_size, seed):
    rng = np.random.default_rng(seed)
    wa = np.concatenate([[0.0], np.cumsum(rng.choice([1.0, 50 / 12], 200))])
    wb = np.concatenate([[0.0], np.cumsum(rng.choice([1.0, 50 / 12], 200))])
    frags = np.array([(a0, a0 + la, b0, b0 + lb) for a0, la, b0, lb in raw], dtype=np.int64).reshape(-1, 4)
    frags = by_start(frags)
    assert frags.tolist() == sorted(frags.tolist(), key=lambda f: (f[0], -f[1]))
    want = reference.chains(list(map(tuple, frags.tolist())), wa, wb, max_gap, min_size)
    got = chain(frags, wa, wb, max_gap, min_size=min_size)
    assert [((c.a0, c.a1, c.b0, c.b1), c.parts, c.matched) for c in got] == want


@settings(max_examples=200, deadline=None)
@given(st.lists(FRAGMENT, max_size=30), st.integers(0, 100), st.integers(0, 100), st.integers(0, 2**32 - 1))
def test_covered_weight_is_its_definition(raw, x, y, seed):
    wa = np.concatenate([[0.0], np.cumsum(np.random.default_rng(seed).choice([1.0, 50 / 12], 200))])
    parts = [(a0, a0 + la, b0, b0 + lb) for a0, la, b0, lb in raw]  # (in no order)
    a0, a1 = min(x, y), max(x, y)
    got = covered_weight(np.array(parts, dtype=np.int64).reshape(-1, 4), a0, a1, wa)
    assert got == reference.covered(parts, a0, a1, wa)


def test_by_start_keeps_the_order_of_equal_fragments():
    frags = np.array([[5, 9, 1, 5], [0, 3, 7, 10], [5, 9, 0, 4], [5, 12, 3, 10]], dtype=np.int64)
    assert by_start(frags).tolist() == [[0, 3, 7, 10], [5, 12, 3, 10], [5, 9, 1, 5], [5, 9, 0, 4]]


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="abc", min_size=1, max_size=60), st.text(alphabet="abc", min_size=1, max_size=60),
       st.text(alphabet="abc", max_size=8), st.text(alphabet="abc", max_size=8), st.data())
def test_trim_edges_is_its_definition(a, b, head, tail, data):
    ta, tb = head + a + tail, head + b + tail  # (ends that often match, and often do not)
    a0 = data.draw(st.integers(0, len(ta) - 1))
    a1 = data.draw(st.integers(a0 + 1, len(ta)))
    b0 = data.draw(st.integers(0, len(tb) - 1))
    b1 = data.draw(st.integers(b0 + 1, len(tb)))
    assert trim_edges(ta, tb, (a0, a1, b0, b1)) == reference.trimmed_edges(ta, tb, (a0, a1, b0, b1))
    assert trim_edges(ta, tb, (0, len(ta), 0, len(tb))) == reference.trimmed_edges(ta, tb, (0, len(ta), 0, len(tb)))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 6), max_size=40), st.lists(st.integers(0, 6), max_size=40))
def test_bag_dice_is_its_definition(a, b):
    fa, fb = np.array(a, dtype=np.uint64), np.array(b, dtype=np.uint64)  # (as the indexes hold them)
    assert bag_dice(fa, fb) == reference.bag_dice(a, b)
