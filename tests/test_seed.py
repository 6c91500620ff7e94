import numpy as np

from dedup.config import SignConfig
from dedup.normalize import normalize
from dedup.seed import bag_similarity, fragments, gap_similarity, seeds, sentence_seeds, shingle_index
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


def test_a_sentence_with_half_its_words_replaced_keeps_its_bigrams_in_a_gap():
    source = "我们要根据各地水源条件和人口规模，合理确定供水设施建设标准和建设时序，集中资金保障重点项目，提高供水安全水平。"
    spun = "今年要根据各省财政条件和城市规模，合理调整供水设施改造办法和改造顺序，集中人力保障民生项目，提高供水服务水平。"
    other = "今年春天气候温和，河水缓缓上涨，农民们忙着春耕播种，乡间集市热闹非凡，外出务工的青年陆续返乡创业，村里新修了文化广场。"
    a = shingle_index(sign(normalize(source), SIGN))
    for text, alike in ((spun, True), (other, False), (source, True)):
        b = shingle_index(sign(normalize(text), SIGN))
        span = (0, len(a.weights) - 1, 0, len(b.weights) - 1)
        assert (gap_similarity(a, b, span) >= 0.2) == alike
        assert gap_similarity(a, b, span) >= bag_similarity(a, b, span)  # (bigrams: more left than trigrams)
    english = shingle_index(sign(normalize("We will build roads and bridges in every county"), SIGN))
    span = (0, len(english.weights) - 1, 0, len(english.weights) - 1)
    assert gap_similarity(english, english, span) == bag_similarity(english, english, span) == 1.0  # (words as they are)
