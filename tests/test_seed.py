import numpy as np

from dedup.config import SignConfig
from dedup.normalize import normalize
from dedup.seed import bag_similarity, fragments, seeds, sentence_seeds, shingle_index
from dedup.sign import sign

from texts import ZH_SPEECH

SIGN = SignConfig()


def test_seeds_and_fragments():
    sa, sb = sign(normalize("一二三四五六七八九十"), SIGN), sign(normalize("零一二三四五六七八九十"), SIGN)
    seed_array = seeds(shingle_index(sa), shingle_index(sb))
    assert sorted(map(tuple, seed_array.tolist())) == [(i, i + 1, 5) for i in range(6)]
    assert fragments(seed_array).tolist() == [[0, 10, 1, 11]]


def test_fragments_do_not_join_seeds_across_diagonals():
    # diagonal 0: seeds at 0 and 100 (not contiguous); diagonal -50: a seed reaching token 200
    seed_array = np.array([[0, 0, 5], [100, 100, 5], [150, 200, 60]])
    assert fragments(seed_array).tolist() == [[0, 5, 0, 5], [100, 105, 100, 105], [150, 210, 200, 260]]


def test_shuffled_sentences_are_seeds_and_bags_alike():
    sentences = [s + "。" for s in ZH_SPEECH.split("。") if len(s) > 20][:6]
    a = sign(normalize("".join(sentences)), SIGN)
    shuffled = ["".join(reversed(s[:-1].split("，"))) + "。" for s in sentences]  # clauses of each sentence reversed
    b = sign(normalize("".join(shuffled)), SIGN)
    ia, ib = shingle_index(a), shingle_index(b)
    found = sentence_seeds(ia, ib)
    assert len(found) >= len(sentences) - 1  # (a sentence of one clause reversed is itself)
    for a0, a1, b0, b1 in found.tolist():
        assert bag_similarity(ia, ib, (a0, a1, b0, b1)) >= 0.4
    assert bag_similarity(ia, ib, (0, len(a.norm), 0, len(b.norm))) > 0.8  # (trigrams across a clause break differ)
    assert bag_similarity(ia, ib, (0, len(a.norm) // 2, len(b.norm) // 2, len(b.norm))) < 0.3


def test_shingles_repeated_more_than_max_repeats_are_not_seeds():
    a = sign(normalize("一二三四五" * 20 + "六七八九十"), SIGN)
    found = seeds(shingle_index(a, max_repeats=8), shingle_index(a, max_repeats=8))
    assert sorted(map(tuple, found.tolist())) == [(p, p, 5) for p in range(96, 101)]  # those reaching 六七八九十
    every = seeds(shingle_index(a, max_repeats=100), shingle_index(a, max_repeats=100))
    assert len(every) == 20**2 + 4 * 19**2 + 5  # shingles at 0, 5, … 95 alike (20), at 1, 6, … 91 (19), …
