"""Tests for dedup.match: the relation of an aligned pair, what its passages cover, boilerplate passages,
severity, clusters and aligning through an executor."""

from __future__ import annotations

import random
from functools import lru_cache
from itertools import combinations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dedup
from dedup import boilerplate
from dedup.align import TokenSpan
from dedup.config import WORD_WEIGHT, ScanConfig
from dedup.match import (
    NEAR_DUPLICATE_MIN_OTHER,
    RELATED_COVERAGE,
    Matcher,
    clusters,
    coverage,
    duplicate_clusters,
    groups,
    is_boilerplate,
    own_text,
    pair_similarity,
)
from dedup.models import RELATIONS, Document, Pair, at_least
from dedup.normalize import normalize
from dedup.sign import sign_documents

import reference
from conftest import CORPUS
from texts import EN_SPEECH, SITE_HEAD, ZH_SPEECH

CONFIG = ScanConfig()

#: 300 characters of ZH_SPEECH (its second point), to copy into other speeches.
PASSAGE = ZH_SPEECH[ZH_SPEECH.index("要围绕道路交通") :][:300]


@lru_cache(maxsize=None)
def corpus(lang: str) -> tuple[str, ...]:
    """The original speeches of corpus/<lang>, unrelated to each other and to tests/texts.py."""
    return tuple(p.read_text(encoding="utf-8") for p in sorted((CORPUS / lang).glob("*.txt")))


def middle(text: str, n: int) -> str:
    """``n`` characters from the middle of a text (no title, no stock opening or closing)."""
    return text[len(text) // 2 :][:n]


def insert(host: str, passage: str, at: float = 0.5) -> str:
    """``passage`` inserted into ``host`` at the first line break after the share ``at`` of its text."""
    cut = host.index("\n", int(len(host) * at)) + 1
    return host[:cut] + passage + host[cut:]


def signed(texts, config: ScanConfig = CONFIG):
    return sign_documents([Document(f"d{k}.txt", t) for k, t in enumerate(texts)], config=config)


def no_boilerplate(docs) -> list[np.ndarray]:
    return [np.zeros(len(d.norm), dtype=bool) for d in docs]


def judge(a: str, b: str, config: ScanConfig = CONFIG) -> Pair | None:
    docs = signed([a, b], config)
    return Matcher(docs, config).judge((0, 1), no_boilerplate(docs))


def rule(pair: Pair, threshold: float) -> str:
    """The near-duplicate rule of the module's docstring, on the pair's coverages."""
    high, low = max(pair.a_coverage, pair.b_coverage), min(pair.a_coverage, pair.b_coverage)
    return "near_duplicate" if high >= threshold and low >= NEAR_DUPLICATE_MIN_OTHER else "partial"


def weight(text: str) -> float:
    """A text's weight by the reference normalizer: CJK 1, a word of letters WORD_WEIGHT, a number 1."""
    return float(reference.normalize(text).weights.sum())


# --------------------------------------------------------------------------- relations


def test_the_same_tokens_are_exact_whatever_the_encoding_line_endings_or_wrapping(tmp_path):
    files = {
        "gb18030.txt": ZH_SPEECH.encode("gb18030"),
        "crlf.txt": ZH_SPEECH.replace("\n", "\r\n").encode("utf-8"),
        "utf16.txt": ("\ufeff" + ZH_SPEECH).encode("utf-16-le"),
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    docs = [dedup.read_document(tmp_path / name) for name in files]
    assert {d.encoding for d in docs} == {"gb18030", "utf-8", "utf-16"}
    wrapped = "\n".join(ZH_SPEECH[k : k + 37] for k in range(0, len(ZH_SPEECH), 37))
    halfwidth = ZH_SPEECH.translate(str.maketrans("，。：！、", ",.:!,"))
    texts = [d.text for d in docs] + [wrapped, halfwidth]
    assert len(set(texts)) == 4  # different texts (gb18030 and utf-16 decode to the same), the same tokens
    for a, b in combinations(range(len(texts)), 2):
        pair = judge(texts[a], texts[b])
        assert pair is not None and pair.relation == "exact", (a, b)
        assert (pair.a_coverage, pair.b_coverage, pair.similarity) == (1.0, 1.0, 1.0)

    en = [EN_SPEECH, EN_SPEECH.upper().replace("\n", "\r\n"), " ".join(EN_SPEECH.split(" ")).replace(". ", ".\n  ")]
    for a, b in combinations(en, 2):
        assert judge(a, b).relation == "exact"


def test_a_redated_copy_is_a_near_duplicate():
    redated = ZH_SPEECH.replace("2019年9月18日", "2020年10月9日").replace("张明远", "李文华")
    pair = judge(ZH_SPEECH, redated)
    assert pair.relation == "near_duplicate"
    assert min(pair.a_coverage, pair.b_coverage) >= 0.95
    assert 0.95 <= pair.similarity < 1.0
    assert pair.differences  # a near-duplicate says what differs


def test_a_copy_in_traditional_characters_is_a_near_duplicate_not_exact():
    """README: Traditional characters make a near-duplicate (the same tokens after conversion, not the same text)."""
    import opencc

    traditional = opencc.OpenCC("s2t").convert(ZH_SPEECH)
    assert normalize(traditional).tokens == normalize(ZH_SPEECH).tokens
    pair = judge(ZH_SPEECH, traditional)
    assert pair.relation == "near_duplicate" and (pair.a_coverage, pair.b_coverage) == (1.0, 1.0)


def test_a_near_duplicate_covers_the_threshold_of_one_document_and_half_of_the_other():
    zh = corpus("zh")
    head = ZH_SPEECH[:480]  # about 70% of the speech
    cases = [
        # (a, b, threshold, relation): the speech inside a longer document
        (ZH_SPEECH, ZH_SPEECH + middle(zh[3], 350), 0.8, "near_duplicate"),  # b covered ~0.66 ≥ 0.5
        (ZH_SPEECH, ZH_SPEECH + middle(zh[3], 1500), 0.8, "partial"),  # b covered ~0.39 < 0.5
        # two documents sharing ~70% of each
        (head + middle(zh[0], 200), head + middle(zh[2], 200), 0.8, "partial"),  # ~0.7 < threshold
        (head + middle(zh[0], 200), head + middle(zh[2], 200), 0.65, "near_duplicate"),
        (head + middle(zh[0], 200), head + middle(zh[2], 600), 0.65, "partial"),  # b covered ~0.44 < 0.5
    ]
    for a, b, threshold, relation in cases:
        pair = judge(a, b, ScanConfig(threshold=threshold))
        assert pair.relation == relation == rule(pair, threshold), (threshold, pair.a_coverage, pair.b_coverage)
        # not at a rounding distance from a boundary: the case says what it tests
        for c in (pair.a_coverage, pair.b_coverage):
            assert min(abs(c - threshold), abs(c - NEAR_DUPLICATE_MIN_OTHER)) > 0.03


def test_a_copied_passage_is_partial_and_its_offsets_slice_the_copied_text():
    host = insert(corpus("zh")[1], PASSAGE)
    pair = judge(ZH_SPEECH, host)
    assert pair.relation == "partial" and pair.differences == ()
    (p,) = pair.passages
    copied = ZH_SPEECH[p.a_start : p.a_end]
    assert copied == host[p.b_start : p.b_end]
    assert copied in PASSAGE and len(copied) >= 0.95 * len(PASSAGE)
    assert not p.boilerplate and p.similarity == 1.0
    # coverage: the weight of the copy over the weight of each document
    assert pair.a_coverage == pytest.approx(weight(copied) / weight(ZH_SPEECH), abs=1e-4)
    assert pair.b_coverage == pytest.approx(weight(copied) / weight(host), abs=1e-4)
    assert pair.similarity == pytest.approx(2 * weight(copied) / (weight(ZH_SPEECH) + weight(host)), abs=1e-4)


def test_coverage_of_a_passage_in_a_text_of_words_numbers_and_characters_leaves_boilerplate_out():
    """Weights by hand: a CJK character 1, a word WORD_WEIGHT, a number 1; boilerplate tokens out of the total."""
    host = insert(EN_SPEECH, PASSAGE)
    docs = signed([ZH_SPEECH, host])
    title_end = host.index("\n\n")  # the title, byline and date: call them boilerplate
    boiler = no_boilerplate(docs)
    boiler[1] = docs[1].norm.ends <= title_end
    assert boiler[1].any()
    pair = Matcher(docs, CONFIG).judge((0, 1), boiler)
    (p,) = pair.passages
    copied = host[p.b_start : p.b_end]
    content = weight(host) - weight(host[:title_end])
    # Remarks at the Opening of the Riverside Library / Mayor Ellen Park / March 4, 2018: 12 words, 2 numbers
    assert weight(host[:title_end]) == pytest.approx(12 * WORD_WEIGHT + 2)
    assert pair.b_coverage == pytest.approx(weight(copied) / content, abs=1e-4)
    assert pair.relation == "partial"


def test_coverage_by_hand():
    norm = normalize("甲乙丙 alpha beta 2019 丁戊")
    w = WORD_WEIGHT
    assert norm.weights.tolist() == [1, 1, 1, w, w, 1, 1, 1]
    none = np.zeros(8, dtype=bool)
    assert coverage(norm.weights, none, [(1, 4)]) == pytest.approx((1 + 1 + w) / (6 + 2 * w))
    assert coverage(norm.weights, none, [(1, 4), (2, 5), (7, 8)]) == pytest.approx((1 + 1 + 2 * w + 1) / (6 + 2 * w))
    boiler = np.array([0, 0, 0, 0, 1, 0, 1, 0], dtype=bool)  # beta and 丁 are boilerplate
    assert coverage(norm.weights, boiler, [(1, 5)]) == pytest.approx((1 + 1 + w) / (5 + w))
    assert coverage(norm.weights, np.ones(8, dtype=bool), [(0, 8)]) == 0.0  # nothing but boilerplate
    assert coverage(norm.weights, none, []) == 0.0
    for ranges in ([(1, 4)], [(0, 3), (5, 8)], []):  # no boilerplate mask: the same figures, to the bit
        assert coverage(norm.weights, None, ranges) == coverage(norm.weights, none, ranges)


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_coverage_equals_the_reference(data):
    n = data.draw(st.integers(0, 30))
    weights = np.array(data.draw(st.lists(st.sampled_from([1.0, WORD_WEIGHT]), min_size=n, max_size=n)))
    boiler = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
    bounds = st.integers(0, n)
    ranges = [tuple(sorted(r)) for r in data.draw(st.lists(st.tuples(bounds, bounds), max_size=5))]
    assert coverage(weights, boiler, ranges) == pytest.approx(reference.coverage(weights, boiler, ranges), abs=1e-12)


def test_pair_similarity_is_matched_weight_over_total_weight():
    a, b = ZH_SPEECH, insert(corpus("zh")[4], PASSAGE)
    docs = signed([a, b])
    spans = Matcher(docs, CONFIG).spans(0, 1)
    boiler = no_boilerplate(docs)
    wa, wb = docs[0].norm.weights, docs[1].norm.weights
    expected = sum(s.similarity * (wa[s.a0 : s.a1].sum() + wb[s.b0 : s.b1].sum()) for s in spans) / (wa.sum() + wb.sum())
    assert pair_similarity(docs[0], docs[1], boiler[0], boiler[1], spans) == pytest.approx(expected)
    assert pair_similarity(docs[0], docs[0], boiler[0], boiler[0], [TokenSpan(0, len(wa), 0, len(wa), 1.0)]) == 1.0
    everything = [np.ones(len(wa), dtype=bool), np.ones(len(wb), dtype=bool)]
    assert pair_similarity(docs[0], docs[1], *everything, spans) == 0.0


def test_related_pairs_cover_half_of_either_document():
    zh = corpus("zh")
    big_copy = ZH_SPEECH[: int(len(ZH_SPEECH) * 0.75)]
    texts = [ZH_SPEECH, insert(zh[1], PASSAGE), insert(zh[2], big_copy, 0.3), big_copy + middle(zh[3], 150), zh[5]]
    docs = signed(texts)
    matcher = Matcher(docs, CONFIG)
    seen = set()
    for j in range(1, len(texts)):
        pair = matcher.judge((0, j), no_boilerplate(docs))
        related = pair is not None and max(pair.a_coverage, pair.b_coverage) >= RELATED_COVERAGE
        assert matcher.related(0, j) == related
        seen.add(related)
    assert seen == {True, False}


# --------------------------------------------------------------------------- boilerplate passages


def site_pages(bodies):
    return [SITE_HEAD.format(name=f"讲话{k}") + body for k, body in enumerate(bodies)]


def test_a_pair_sharing_only_boilerplate_is_no_pair():
    docs = signed(site_pages(corpus("zh")[:3]))
    boiler = boilerplate.token_masks(docs, [0, 1, 2], CONFIG)
    assert all(m.any() for m in boiler)
    matcher = Matcher(docs, CONFIG)
    for pair in combinations(range(3), 2):
        assert matcher.judge(pair, boiler) is None
        shared = matcher.judge(pair, no_boilerplate(docs))  # the page furniture alone is a passage
        assert shared is not None and shared.relation == "partial"


def test_boilerplate_passages_are_flagged_and_left_out_of_coverage():
    zh = corpus("zh")
    pages = site_pages([zh[0], insert(zh[1], PASSAGE), zh[2]])
    docs = signed([ZH_SPEECH, *pages])
    boiler = boilerplate.token_masks(docs, [0, 1, 2, 3], CONFIG)
    pair = Matcher(docs, CONFIG).judge((1, 2), boiler)  # the furniture, and the passage in one of them
    assert pair is None
    pair = Matcher(docs, CONFIG).judge((0, 2), boiler)
    assert pair.relation == "partial" and [p.boilerplate for p in pair.passages] == [False]
    furnished = Matcher(docs, CONFIG).judge((2, 3), boiler)
    assert furnished is None
    # a page holding the furniture and a copy of the passage, against the speech with the furniture added
    docs = signed([SITE_HEAD.format(name="原文") + ZH_SPEECH, *pages])
    boiler = boilerplate.token_masks(docs, [0, 1, 2, 3], CONFIG)
    pair = Matcher(docs, CONFIG).judge((0, 2), boiler)
    assert sorted(p.boilerplate for p in pair.passages) == [False, True]
    content = [p for p in pair.passages if not p.boilerplate]
    (p,) = content
    a = docs[0].norm
    in_passage = (a.starts >= p.a_start) & (a.ends <= p.a_end)
    expected = a.weights[in_passage & ~boiler[0]].sum() / a.weights[~boiler[0]].sum()
    assert pair.a_coverage == pytest.approx(expected, abs=1e-4)
    b = docs[2].norm  # similarity: of the passage that is not boilerplate, over both documents' content
    in_b = (b.starts >= p.b_start) & (b.ends <= p.b_end)
    matched = p.similarity * (a.weights[in_passage].sum() + b.weights[in_b].sum())
    assert pair.similarity == pytest.approx(matched / (a.weights[~boiler[0]].sum() + b.weights[~boiler[2]].sum()), abs=1e-4)


def stock_phrase_speeches(n_docs: int = 40, per_doc: int = 60, seed: int = 7) -> list[list[str]]:
    """Speeches of clauses: 200 stock phrases (6 words each; every phrase in a dozen speeches, so each is boilerplate
    by frequency) in random orders (two phrases rarely follow each other twice), and between them clauses of their own
    (12 words: longer than a template's slot); each speech's clauses."""
    rng = random.Random(seed)
    vocab = sorted({"".join(rng.choice("bcdfgklmnprstvz") + rng.choice("aeiou") for _ in range(3)) for _ in range(3000)})
    phrases = [" ".join(rng.sample(vocab, 6)) for _ in range(200)]
    return [
        [rng.choice(phrases) if k % 2 else " ".join(rng.sample(vocab, 12)) for k in range(per_doc)] for _ in range(n_docs)
    ]


def spoken(clauses: list[str]) -> str:
    return "".join(c + (". " if k % 3 == 2 else ", ") for k, c in enumerate(clauses)).capitalize()


def test_stock_phrases_strung_together_in_an_order_two_speeches_share_are_a_copy():
    speeches = stock_phrase_speeches()
    copied = speeches[0][1:60:2][:10]  # 60 words, every one of them in stock phrases
    speeches[0] = speeches[0][:30] + copied + speeches[0][30:]
    speeches[1] = speeches[1][:30] + copied + speeches[1][30:]
    speeches[2] = speeches[2][:30] + copied[::-1] + speeches[2][30:]  # the same phrases, in another order
    speeches[3] = speeches[3][:30] + copied[::2] + speeches[3][30:]  # every other one
    docs = signed([spoken(s) for s in speeches])
    boiler = boilerplate.token_masks(docs, list(range(len(docs))), CONFIG)
    matcher = Matcher(docs, CONFIG)
    assert matcher.judge((0, 1), boiler) is None  # (the masks alone: all of it is boilerplate)
    pair = matcher.judge((0, 1), boiler, stock=boiler.stock)
    assert pair is not None and pair.relation == "partial"
    (p,) = [p for p in pair.passages if not p.boilerplate]
    a, b = docs[0].doc.text, docs[1].doc.text
    assert len(a[p.a_start : p.a_end]) >= 0.9 * len(", ".join(copied))
    assert normalize(a[p.a_start : p.a_end]).tokens == normalize(b[p.b_start : p.b_end]).tokens
    assert pair.a_coverage > 0.1  # (the copy counts: not left out as boilerplate)
    for other in combinations(range(len(docs)), 2):
        if other != (0, 1):
            assert matcher.judge(other, boiler, stock=boiler.stock) is None, other


def test_own_text_is_none_where_most_shared_shingles_are_stock():
    norm = normalize("we hold these truths to be self evident that all men are created equal and endowed with rights")
    span = TokenSpan(0, len(norm), 0, len(norm), 1.0)
    own_a, own_b = own_text(norm, norm, span, np.zeros(0, dtype=np.uint32))
    assert own_a.all() and own_b.all()  # nothing stock: all of it theirs
    stock = np.unique(boilerplate.long_shingles(norm, CONFIG.sign).hashes)  # (the same shingles, of the whole text)
    own_a, own_b = own_text(norm, norm, span, np.sort(stock[: len(stock) // 2 + 1]))
    assert not own_a.any() and not own_b.any()
    own_a, _ = own_text(norm, norm, span, np.sort(stock[: len(stock) // 3]))
    assert own_a.any()


def test_a_passage_is_boilerplate_when_less_than_min_passage_is_left_on_a_side():
    w = np.ones(100)
    none = np.zeros(100, dtype=bool)
    span = TokenSpan(0, 60, 20, 80, 1.0)
    ten = np.zeros(100, dtype=bool)
    ten[0:10] = True  # 50 left in a
    eleven = ten.copy()
    eleven[10] = True  # 49 left in a
    assert not is_boilerplate(span, w, ten, w, none, 50)
    assert is_boilerplate(span, w, eleven, w, none, 50)
    assert not is_boilerplate(TokenSpan(20, 80, 0, 60, 1.0), w, none, w, ten, 50)
    assert is_boilerplate(TokenSpan(20, 80, 0, 60, 1.0), w, none, w, eleven, 50)  # either side
    assert is_boilerplate(TokenSpan(0, 49, 0, 49, 1.0), w, none, w, none, 50)  # short, without any boilerplate
    words = np.full(100, WORD_WEIGHT)  # 12 words weigh 50 characters: 11 do not
    assert is_boilerplate(TokenSpan(0, 11, 0, 11, 1.0), words, none, words, none, 50)
    assert not is_boilerplate(TokenSpan(0, 13, 0, 13, 1.0), words, none, words, none, 50)
    mask = np.zeros(100, dtype=bool)
    mask[5:7] = True  # 13 words, 2 of them boilerplate
    assert is_boilerplate(TokenSpan(0, 13, 0, 13, 1.0), words, mask, words, none, 50)


# --------------------------------------------------------------------------- severity


def make_pair(relation="partial", cov=(0.5, 0.5), similarity=0.5, a="a", b="b", b_origin="scanned") -> Pair:
    return Pair(a=a, b=b, relation=relation, similarity=similarity, a_coverage=cov[0], b_coverage=cov[1], b_origin=b_origin)


def test_severity_orders_by_relation_then_coverage_then_similarity_then_names():
    expected = [
        make_pair("exact", (0.1, 0.1), 0.1, "z", "z"),
        make_pair("near_duplicate", (0.5, 1.0), 0.2),
        make_pair("near_duplicate", (0.9, 0.9), 0.99),
        make_pair("near_duplicate", (0.9, 0.9), 0.98, "a", "b"),
        make_pair("near_duplicate", (0.9, 0.9), 0.98, "a", "c"),
        make_pair("near_duplicate", (0.9, 0.9), 0.98, "b", "a"),
        make_pair("partial", (0.95, 0.0), 0.0),
        make_pair("partial", (0.3, 0.3), 0.9, "a", "b"),
        make_pair("partial", (0.3, 0.3), 0.9, "a", "c"),
        make_pair("partial", (0.3, 0.3), 0.9, "a", "b", b_origin="archive"),  # named index:b: after c
    ]
    for p, q in zip(expected, expected[1:]):
        assert p.severity() < q.severity(), (p, q)
    assert sorted(reversed(expected), key=Pair.severity) == expected
    assert expected[-1].names() == ("a", "index:b")
    # a scanned file that happens to be named like an archive document ties with it
    assert make_pair(b="index:b").severity() == make_pair(b="b", b_origin="archive").severity()


pairs_strategy = st.builds(
    make_pair,
    relation=st.sampled_from(RELATIONS),
    cov=st.tuples(st.sampled_from([0.0, 0.5, 1.0]), st.sampled_from([0.0, 0.5, 1.0])),
    similarity=st.sampled_from([0.5, 1.0]),
    a=st.sampled_from(["a", "b"]),
    b=st.sampled_from(["a", "b", "index:a"]),
    b_origin=st.sampled_from(["scanned", "archive"]),
)


@settings(max_examples=300, deadline=None)
@given(pairs_strategy, pairs_strategy)
def test_severity_agrees_with_the_reference(p, q):
    assert (p.severity() < q.severity()) == reference.more_severe(p, q)


def test_at_least():
    table = {  # (relation, worst): as severe as worst or more
        ("exact", "exact"): True, ("exact", "near_duplicate"): True, ("exact", "partial"): True,
        ("near_duplicate", "exact"): False, ("near_duplicate", "near_duplicate"): True, ("near_duplicate", "partial"): True,
        ("partial", "exact"): False, ("partial", "near_duplicate"): False, ("partial", "partial"): True,
    }
    assert {(r, w): at_least(r, w) for r in RELATIONS for w in RELATIONS} == table
    assert RELATIONS == ("exact", "near_duplicate", "partial")


# --------------------------------------------------------------------------- clusters


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 25).flatmap(lambda n: st.tuples(st.just(n), st.lists(st.tuples(st.integers(0, max(n - 1, 0)), st.integers(0, max(n - 1, 0))), max_size=40 if n else 0))))
def test_clusters_are_the_connected_components_labelled_by_their_smallest_node(case):
    n, edges = case
    assert clusters(n, edges) == reference.component_labels(n, edges)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abcdefghij"), st.sampled_from("abcdefghij")), max_size=15))
def test_groups_are_the_connected_components_of_the_nodes_of_the_edges(edges):
    found = groups(edges)
    assert all(g == sorted(g) for g in found)
    assert sorted(map(sorted, found)) == sorted(sorted(c) for c in reference.components({x for e in edges for x in e}, edges))


def test_duplicate_clusters_link_exact_and_near_duplicates_only_and_name_archive_documents():
    pairs = [
        make_pair("exact", a="x.txt", b="y.txt"),
        make_pair("near_duplicate", a="y.txt", b="z.txt"),
        make_pair("partial", a="z.txt", b="w.txt"),  # no link
        make_pair("near_duplicate", a="x.txt", b="old/x.txt", b_origin="archive"),
        make_pair("partial", a="p.txt", b="q.txt"),
        make_pair("near_duplicate", a="p.txt", b="p.txt", b_origin="archive"),  # the archived p.txt is another document
    ]
    assert duplicate_clusters(pairs) == (("index:old/x.txt", "x.txt", "y.txt", "z.txt"), ("index:p.txt", "p.txt"))
    assert duplicate_clusters([make_pair("partial")]) == ()


@settings(max_examples=150, deadline=None)
@given(st.lists(pairs_strategy, max_size=12))
def test_duplicate_clusters_agree_with_the_reference(pairs):
    assert duplicate_clusters(pairs) == reference.duplicate_clusters(pairs)


# --------------------------------------------------------------------------- aligning through an executor


class Recording:
    """An executor that records the batches it is given and the results it hands back."""

    def __init__(self, inner) -> None:
        self.inner, self.batches, self.results = inner, [], []

    def map(self, fn, jobs, *, shared=None):
        self.batches = [list(job) for job in jobs]
        for result in self.inner.map(fn, jobs, shared=shared):
            self.results.append(result)
            yield result


def test_aligning_in_batches_through_an_executor_gives_the_spans_of_aligning_here():
    zh, en = corpus("zh"), corpus("en")
    texts = [
        ZH_SPEECH,
        ZH_SPEECH.replace("2019年9月18日", "2020年10月9日"),
        insert(zh[1], PASSAGE),
        zh[2],
        EN_SPEECH,
        insert(en[0], EN_SPEECH[200:700]),
    ]
    docs = signed(texts)
    pairs = list(combinations(range(len(docs)), 2))
    here = Matcher(docs, CONFIG)
    here.align_all(pairs)
    executor = Recording(dedup.LocalExecutor(workers=2))
    assert executor.inner.forks
    done = []
    there = Matcher(docs, CONFIG)
    there.align_all(pairs, executor=executor, batch_size=1, progress=lambda *a: done.append(a))
    assert executor.batches == [[p] for p in pairs]
    assert executor.results == [[(here.spans(*p), here.related(*p))] for p in pairs]
    assert [there.spans(*p) for p in pairs] == [here.spans(*p) for p in pairs]
    assert [there.related(*p) for p in pairs] == [here.related(*p) for p in pairs]
    assert any(here.related(*p) for p in pairs) and not all(here.related(*p) for p in pairs)
    assert sum(1 for p in pairs if here.spans(*p)) >= 4  # the case aligns something
    assert done[-1] == ("align", len(pairs), len(pairs))
    boiler = no_boilerplate(docs)
    assert [there.judge(p, boiler) for p in pairs] == [here.judge(p, boiler) for p in pairs]


def test_passages_offsets_slice_the_original_texts_at_tokens_of_matching_text():
    zh = corpus("zh")
    texts = [
        ZH_SPEECH,
        ZH_SPEECH.replace("\n", "\r\n"),
        ZH_SPEECH.replace("2019年9月18日", "2020年10月9日"),
        insert(zh[1], PASSAGE),
        insert(EN_SPEECH, PASSAGE),
    ]
    docs = signed(texts)
    matcher = Matcher(docs, CONFIG)
    seen = 0
    for i, j in combinations(range(len(docs)), 2):
        pair = matcher.judge((i, j), no_boilerplate(docs))
        if pair is None:
            continue
        for p in pair.passages:
            a, b = texts[i][p.a_start : p.a_end], texts[j][p.b_start : p.b_end]
            for text, start, end in ((texts[i], p.a_start, p.a_end), (texts[j], p.b_start, p.b_end)):
                spans = reference.token_spans(text)
                assert start in {s for s, _, _ in spans} and end in {e for _, e, _ in spans}
            ra, rb = reference.normalize(a), reference.normalize(b)
            if p.similarity == 1.0:
                assert ra.tokens == rb.tokens
            else:  # the re-dated copy: the same tokens but the date
                assert len(set(ra.tokens) ^ set(rb.tokens)) <= 4
            seen += 1
    assert seen >= 8
