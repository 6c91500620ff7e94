"""Tests for dedup.boilerplate: which text is boilerplate (at the edges of unrelated documents, or frequent),
related documents counting once, known hashes, template slots, long-shingle sets and related labels."""

from __future__ import annotations

from functools import lru_cache
from itertools import combinations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import dedup
from dedup import index
from dedup.boilerplate import (
    BOILERPLATE_NGRAM,
    EDGE,
    FREQUENT,
    TEMPLATE_SLOT,
    Resemblance,
    boilerplate_of,
    estimated_containment,
    fill_slots,
    long_shingle_hash_sets,
    long_shingle_set,
    long_shingle_sets,
    long_shingles,
    related_labels,
    token_masks,
)
from dedup.candidates import HashSets
from dedup.config import ScanConfig
from dedup.match import Matcher, clusters
from dedup.models import Document
from dedup.normalize import normalize
from dedup.sign import sign_documents

import reference
from conftest import CORPUS
from texts import EN_SPEECH, ZH_SPEECH

CONFIG = ScanConfig()
MIN_DOCS = CONFIG.min_docs_boilerplate
#: Many more groups than hold any text here: only text at the edges can be boilerplate.
LARGE = 10_000

#: Page furniture of a download site (no slot in it).
FURNITURE = """下载文档
温馨提示:
1. 部分包含数学公式或PPT动画的文件,查看预览时可能会显示错乱或异常,文件下载后无此问题,请放心下载。
2. 本文档由用户上传,版权归属用户,本站负责整理代发布。如果您对本文档版权有争议请及时联系客服。
网站客服:400123456
"""


@lru_cache(maxsize=None)
def corpus(lang: str) -> tuple[str, ...]:
    """The original speeches of corpus/<lang>, unrelated to each other and to tests/texts.py."""
    return tuple(p.read_text(encoding="utf-8") for p in sorted((CORPUS / lang).glob("*.txt")))


def signed(texts, config: ScanConfig = CONFIG):
    return sign_documents([Document(f"d{k}.txt", t) for k, t in enumerate(texts)], config=config)


def in_the_middle(body: str, text: str) -> str:
    cut = body.index("\n", len(body) // 2) + 1
    return body[:cut] + text + body[cut:]


def tokens(text: str) -> int:
    return len(normalize(text))


# --------------------------------------------------------------------------- where boilerplate is


def test_text_at_the_edges_of_enough_unrelated_documents_is_boilerplate_in_the_middle_not():
    bodies = corpus("zh")[:MIN_DOCS]
    n = tokens(FURNITURE)
    heads = signed([FURNITURE + b for b in bodies])
    masks = token_masks(heads, list(range(MIN_DOCS)), CONFIG, population=LARGE)
    for m in masks:
        assert m[:n].all() and not m[n:].any()
    feet = signed([b + FURNITURE for b in bodies])
    for d, m in zip(feet, token_masks(feet, list(range(MIN_DOCS)), CONFIG, population=LARGE)):
        assert m[len(d.norm) - n :].all() and not m[: len(d.norm) - n].any()
    middles = signed([in_the_middle(b, FURNITURE) for b in bodies])
    assert not any(m.any() for m in token_masks(middles, list(range(MIN_DOCS)), CONFIG, population=LARGE))
    fewer = signed([FURNITURE + b for b in bodies[: MIN_DOCS - 1]])
    assert not any(m.any() for m in token_masks(fewer, list(range(MIN_DOCS - 1)), CONFIG, population=LARGE))


def test_text_at_an_edge_in_half_of_the_documents_holding_it_is_boilerplate():
    bodies = corpus("zh")[:4]
    labels = [0, 1, 2, 3]

    def boiler(at_edge: int, holders: int) -> bool:
        texts = [FURNITURE + b if k < at_edge else in_the_middle(b, FURNITURE) for k, b in enumerate(bodies[:holders])]
        masks = token_masks(signed(texts), labels[:holders], CONFIG, population=LARGE)
        marked = {bool(m.any()) for m in masks}
        assert len(marked) == 1  # the furniture is boilerplate in all of them or in none
        return marked.pop()

    assert boiler(at_edge=2, holders=3) and boiler(at_edge=2, holders=4)
    assert not boiler(at_edge=1, holders=3) and not boiler(at_edge=1, holders=4)


def test_text_in_a_frequent_share_of_the_groups_is_boilerplate_wherever_it_is():
    bodies = corpus("zh")[:MIN_DOCS]
    docs = signed([in_the_middle(b, FURNITURE) for b in bodies])
    labels = list(range(MIN_DOCS))
    largest = max(p for p in range(1, 10 * LARGE) if MIN_DOCS >= FREQUENT * p)  # MIN_DOCS groups are FREQUENT of it
    assert all(m.sum() == tokens(FURNITURE) for m in token_masks(docs, labels, CONFIG, population=largest))
    assert not any(m.any() for m in token_masks(docs, labels, CONFIG, population=largest + 1))
    # by default the population is the number of groups: a few speeches, and text in MIN_DOCS of them is frequent
    assert all(m.sum() == tokens(FURNITURE) for m in token_masks(docs, labels, CONFIG))


def test_the_default_population_is_the_number_of_groups():
    """MIN_DOCS holders of a text in the middle among ``largest`` groups (then one more) of short unrelated texts,
    some groups of several documents."""
    largest = max(p for p in range(1, 10 * LARGE) if MIN_DOCS >= FREQUENT * p)
    rng = np.random.default_rng(7)
    pool = np.array([chr(c) for c in range(0x4E00, 0x4E00 + 3000)])
    fillers = ["".join(rng.choice(pool, 60)) for _ in range(largest + 1 - MIN_DOCS)]
    holders = [in_the_middle(b, FURNITURE) for b in corpus("zh")[:MIN_DOCS]]
    for others in (fillers[:-1], fillers):
        docs = signed(holders + others + fillers[:10])  # ten more uploads of texts already there: no more groups
        labels = list(range(len(holders + others))) + list(range(MIN_DOCS, MIN_DOCS + 10))
        masks = token_masks(docs, labels, CONFIG)
        assert len(set(labels)) in (largest, largest + 1)
        assert all(bool(m.any()) == (len(set(labels)) == largest) for m in masks[:MIN_DOCS])
        assert not any(m.any() for m in masks[MIN_DOCS:])


def test_related_documents_count_once():
    """Five uploads of one speech make no boilerplate; five unrelated documents would."""
    uploads = [
        ZH_SPEECH,
        ZH_SPEECH.replace("\n", "\r\n"),
        ZH_SPEECH.replace("2019年9月18日", "2020年10月9日"),
        ZH_SPEECH.replace("张明远", "李文华"),
        "（定稿）" + ZH_SPEECH,
    ]
    docs = signed(uploads + list(corpus("zh")[:2]))
    pairs = list(combinations(range(len(docs)), 2))
    matcher = Matcher(docs, CONFIG)
    related = clusters(len(docs), [p for p in pairs if matcher.related(*p)])
    assert related == [0, 0, 0, 0, 0, 5, 6]
    assert not any(m.any() for m in token_masks(docs, related, CONFIG))
    by_minhash = related_labels(Resemblance.of(index.document_entries(docs, CONFIG), CONFIG))
    assert by_minhash == related
    unrelated = token_masks(docs, list(range(len(docs))), CONFIG)  # as if they were five speeches
    assert all(m.mean() > 0.9 for m in unrelated[:5]) and not any(m.any() for m in unrelated[5:])


def test_known_hashes_mark_tokens():
    passage = ZH_SPEECH[ZH_SPEECH.index("要围绕道路交通") :][:300]
    known = np.unique(long_shingles(normalize(passage), CONFIG.sign).hashes)
    host = in_the_middle(corpus("zh")[0], passage)
    docs = signed([host, corpus("zh")[1]])
    masks = token_masks(docs, [0, 1], CONFIG, known=known)
    norm = docs[0].norm
    start = host.index(passage)
    inside = (norm.starts >= start) & (norm.ends <= start + len(passage))
    assert np.array_equal(masks[0], inside)
    assert not masks[1].any()
    assert not token_masks(docs, [0, 1], CONFIG)[0].any()


# --------------------------------------------------------------------------- template slots

LINE_1 = "关于印发全市安全生产专项整治三年行动实施方案的通知"
LINE_2 = "各区县人民政府，市政府各部门，各有关单位：现将实施方案印发给你们，请结合实际认真贯彻执行。"


def template_masks(slots: list[str], first: bool = False) -> list[tuple[np.ndarray, int, int]]:
    """Masks of documents headed by LINE_1, a slot, LINE_2 (``first``: the slot, LINE_1, LINE_2): each with
    where the slot's tokens are."""
    heads = [(slot + "\n" + LINE_1 if first else LINE_1 + "\n" + slot) + "\n" + LINE_2 + "\n" for slot in slots]
    docs = signed([h + b for h, b in zip(heads, corpus("zh"))])
    masks = token_masks(docs, list(range(len(docs))), CONFIG, population=LARGE)
    out = []
    for slot, m in zip(slots, masks):
        start = 0 if first else tokens(LINE_1)
        out.append((m, start, start + tokens(slot)))
    return out


def test_short_gaps_between_boilerplate_runs_are_template_slots():
    names = ["张明远同志", "李文华", "王海燕副市长"]  # at most TEMPLATE_SLOT tokens
    assert max(map(tokens, names)) <= TEMPLATE_SLOT
    header = tokens(LINE_1) + tokens(LINE_2)
    for m, start, end in template_masks(names):
        assert m[start:end].all() and m[:start].all() and m[end : end + tokens(LINE_2)].all()
        assert m.sum() == header + end - start


def test_long_gaps_and_gaps_at_the_edge_are_not_slots():
    long_names = ["市人民政府办公室关于转发通知", "县应急管理局安全生产委员会办", "区住房和城乡建设局综合执法大队"]
    assert min(map(tokens, long_names)) > TEMPLATE_SLOT
    for m, start, end in template_masks(long_names):
        assert not m[start:end].any() and m[:start].all() and m[end : end + tokens(LINE_2)].all()
    for m, start, end in template_masks(["张明远", "李文华", "王海燕"], first=True):
        assert start == 0 and not m[:end].any() and m[end : end + tokens(LINE_1) + tokens(LINE_2)].all()


def test_fill_slots_examples():
    def mask(s: str) -> np.ndarray:
        return np.array([c == "x" for c in s], dtype=bool)

    assert fill_slots(mask("xx..xx...x"), 2).tolist() == mask("xxxxxx...x").tolist()
    assert fill_slots(mask("..x.x.."), 8).tolist() == mask("..xxx..").tolist()  # not at the edges
    assert fill_slots(mask("......"), 8).tolist() == mask("......").tolist()
    assert fill_slots(mask(""), 8).tolist() == []


@settings(max_examples=300, deadline=None)
@given(st.lists(st.booleans(), max_size=60), st.integers(0, 12))
def test_fill_slots_equals_the_reference(mask, slot):
    got = fill_slots(np.array(mask, dtype=bool), slot)
    assert got.tolist() == reference.fill_slots(mask, slot)
    assert mask == [bool(x) for x in mask]  # the argument is left as it was


# --------------------------------------------------------------------------- boilerplate_of


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(2, 4), st.integers(1, 4), st.sampled_from([None, 5, 50, 500]))
def test_boilerplate_of_equals_the_reference_in_any_chunks(seed, min_docs, chunks, population):
    rng = np.random.default_rng(seed)
    pool = rng.integers(0, 2**32, 40, dtype=np.uint64).astype(np.uint32)  # spread over the parts of HashSets
    n = int(rng.integers(1, 14))
    sets = [np.unique(rng.choice(pool, rng.integers(0, 25))) for _ in range(n)]
    flags = [rng.random(len(s)) < 0.4 for s in sets]
    labels = rng.integers(0, 8, n).tolist()
    cuts = sorted(rng.choice(np.arange(1, n), min(chunks, n) - 1, replace=False).tolist()) if n > 1 else []
    bounds = [0, *cuts, n]
    parts = [HashSets.of(sets[a:b], flags[a:b]) for a, b in zip(bounds, bounds[1:])]
    config = ScanConfig(min_docs_boilerplate=min_docs)
    got = boilerplate_of(parts, labels, config, population=population)
    assert got.dtype == np.uint32
    assert got.tolist() == reference.boilerplate_hashes(
        sets, flags, labels, min_docs=min_docs, frequent=FREQUENT, population=population
    )
    assert np.array_equal(got, boilerplate_of([HashSets.of(sets, flags)], labels, config, population=population))


def test_boilerplate_of_real_documents_in_several_chunks_equals_in_one():
    bodies = list(corpus("zh")) + list(corpus("en"))
    texts = [FURNITURE + b if k % 2 else b + FURNITURE for k, b in enumerate(bodies)] + [ZH_SPEECH, EN_SPEECH]
    norms = [d.norm for d in signed(texts)]
    labels = list(range(len(norms)))
    one = boilerplate_of([long_shingle_sets(norms)], labels, CONFIG, population=LARGE)
    assert len(one) >= len(np.unique(long_shingles(normalize(FURNITURE), CONFIG.sign).hashes))
    for size in (1, 3, 7):
        chunks = [long_shingle_sets(norms[k : k + size]) for k in range(0, len(norms), size)]
        assert np.array_equal(boilerplate_of(chunks, labels, CONFIG, population=LARGE), one)


# --------------------------------------------------------------------------- long shingles

EDGE_TEXTS = (ZH_SPEECH, EN_SPEECH, ZH_SPEECH[:40] * 3 + EN_SPEECH[:200], "短", "", " ", ZH_SPEECH[::-1])


def test_long_shingle_sets_are_the_distinct_hashes_flagged_when_any_is_at_an_edge():
    """The compiled flagging and de-duplication against their definition on the shingles."""
    for text in EDGE_TEXTS:
        norm = normalize(text)
        x = long_shingles(norm, CONFIG.sign)
        assert set(x.lengths.tolist()) <= {BOILERPLATE_NGRAM["cjk_ngram"], BOILERPLATE_NGRAM["word_ngram"], len(norm)}
        n = len(x.norm)
        at_edge = (x.positions < EDGE * n) | (x.positions + x.lengths > (1 - EDGE) * n)
        expected: dict[int, bool] = {}
        for h, e in zip(x.hashes.tolist(), at_edge.tolist()):
            expected[h] = expected.get(h, False) or e
        hashes, flags = long_shingle_set(norm)
        assert hashes.tolist() == sorted(expected) and flags.tolist() == [expected[h] for h in sorted(expected)]


def test_hash_sets_of_shingles_are_those_of_the_long_shingle_sets():
    """The build's one-call ``long_shingle_sets`` holds what ``HashSets.of`` the sorted sets holds (each document's
    values of a part in another order), and so does ``long_shingle_hash_sets``."""
    docs = signed(EDGE_TEXTS)
    sets = [long_shingle_set(d.norm) for d in docs]
    expected = HashSets.of([h for h, _ in sets], [f for _, f in sets])
    uniques, hash_sets = long_shingle_hash_sets(docs)
    assert all(np.array_equal(u, h) for u, (h, _) in zip(uniques, sets))
    for got in (long_shingle_sets([d.norm for d in docs]), hash_sets):
        assert np.array_equal(got.counts, expected.counts)
        bounds = np.concatenate([[0], np.cumsum(expected.counts.T.ravel())])  # part by part, document by document
        for a, b in zip(bounds, bounds[1:]):
            assert sorted(got.values[a:b].tolist()) == sorted(expected.values[a:b].tolist())


# --------------------------------------------------------------------------- related documents without aligning


def variants():
    """A speech and its variants, another speech and its variants, and unrelated speeches; related: one label each,
    the smallest index of its group. A text without shingles comes first: it has no document keys."""
    import opencc

    zh, en = corpus("zh"), corpus("en")
    groups = [
        [""],  # no shingles
        [
            ZH_SPEECH,
            ZH_SPEECH.replace("2019年9月18日", "2020年10月9日"),
            opencc.OpenCC("s2t").convert(ZH_SPEECH),
            ZH_SPEECH[: int(len(ZH_SPEECH) * 0.7)],  # most of it
            ZH_SPEECH[: int(len(ZH_SPEECH) * 0.6)] + zh[5][800:1050],  # about two thirds of it is the speech
        ],
        [EN_SPEECH, EN_SPEECH.upper().replace("Thank you.", "")],
        *([t] for t in zh[:4]),
        *([t] for t in en[:3]),
        [ZH_SPEECH[: int(len(ZH_SPEECH) * 0.3)] + zh[6][800:1400]],  # about a third of it, and of the speech
        ["短"],  # no windows, one shingle
    ]
    texts = [t for g in groups for t in g]
    starts = np.cumsum([0] + [len(g) for g in groups[:-1]]).tolist()
    expected = [start for start, g in zip(starts, groups) for _ in g]
    return texts, expected


def test_related_labels_group_near_duplicates_and_not_unrelated_documents():
    texts, expected = variants()
    docs = signed(texts)
    entries = index.document_entries(docs, CONFIG)
    assert expected[:8] == [0, 1, 1, 1, 1, 1, 6, 6]
    assert related_labels(Resemblance.of(entries, CONFIG)) == expected
    parts = [Resemblance.of(entries[a:b], CONFIG) for a, b in ((0, 3), (3, 3), (3, 12), (12, len(entries)))]
    assert related_labels(Resemblance.joined(parts)) == expected
    assert related_labels(Resemblance.of([], CONFIG)) == []


def test_estimated_containment_is_close_to_the_exact_containment_of_the_shingle_sets():
    """On real variants; tolerance 0.15: with 128 permutations the Jaccard estimate has a standard error of up to
    0.044, which the containment formula magnifies up to about three times when one text is several times the
    other's size (the speech inside a four-times longer document)."""
    zh, en = corpus("zh"), corpus("en")
    planted = CORPUS / "planted"

    def read(name: str) -> str:
        return dedup.read_document(planted / name).text

    cases = [
        (ZH_SPEECH, ZH_SPEECH[: len(ZH_SPEECH) // 2]),
        (ZH_SPEECH, ZH_SPEECH + zh[0]),
        (ZH_SPEECH, ZH_SPEECH.replace("安全", "平安")),
        (zh[8], read("zh09_rural_revitalization_abridged.txt")),
        (zh[8], read("zh09_rural_revitalization_with_symposium_passage.txt")),
        (zh[5], read("zh09_rural_revitalization_with_symposium_passage.txt")),
        (zh[4], read("zh05_model_workers_reordered.txt")),
        (en[3], read("en04_memorial_day_abridged.txt")),
        (en[2], read("en03_keynote_reordered.txt")),
        (en[6], read("en06_school_opening_with_town_hall_passage.txt")),
        (EN_SPEECH, EN_SPEECH[: len(EN_SPEECH) // 2]),
        (ZH_SPEECH, zh[0]),
        (EN_SPEECH, en[0]),
    ]
    exact_values = []
    for a, b in cases:
        docs = signed([a, b])
        ea, eb = index.entries([d.signed for d in docs], CONFIG)
        exact = reference.containment(docs[0].signed.hashes, docs[1].signed.hashes)
        estimate = estimated_containment(ea.hashvalues, ea.shingles, eb.hashvalues, eb.shingles)
        assert estimate == estimated_containment(eb.hashvalues, eb.shingles, ea.hashvalues, ea.shingles)
        assert 0.0 <= estimate <= 1.0
        assert abs(estimate - exact) <= 0.15, (exact, estimate)
        exact_values.append(exact)
    assert min(exact_values) < 0.1 and max(exact_values) > 0.95  # the cases span the range
    none = np.zeros(CONFIG.sign.num_perm, np.uint32)
    assert estimated_containment(none, 0, none, 10) == 0.0
