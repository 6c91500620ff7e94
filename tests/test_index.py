"""Tests for dedup.index: the entries of documents (MinHash, salted document and window bucket keys, digest) and
the query of an archive (``candidates``) on an in-memory store."""

from __future__ import annotations

from functools import lru_cache
from itertools import combinations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dedup
from dedup import index
from dedup.candidates import band_keys, lsh_params, window_threshold, window_values
from dedup.config import CandidateConfig, ScanConfig
from dedup.index import LEVEL_CJK_WINDOW, LEVEL_DOCUMENT, LEVEL_WORD_WINDOW, Entry, candidates, digest, entries, new_documents
from dedup.match import Matcher
from dedup.models import Document
from dedup.sign import sign_documents, signatures
from dedup.store import NewDocument

import reference
from conftest import CORPUS
from texts import EN_SPEECH, ZH_SPEECH

CONFIG = ScanConfig()
NO_BOILERPLATE = np.zeros(0, np.uint32)
PASSAGE = ZH_SPEECH[ZH_SPEECH.index("要围绕道路交通") :][:300]
EN_PASSAGE = EN_SPEECH[EN_SPEECH.index("This library has") :][:400]


@lru_cache(maxsize=None)
def corpus(lang: str) -> tuple[str, ...]:
    """The original speeches of corpus/<lang>, unrelated to each other and to tests/texts.py."""
    return tuple(p.read_text(encoding="utf-8") for p in sorted((CORPUS / lang).glob("*.txt")))


def signed(texts, config: ScanConfig = CONFIG, prefix: str = "d"):
    return sign_documents([Document(f"{prefix}{k}.txt", t) for k, t in enumerate(texts)], config=config)


def in_the_middle(body: str, text: str) -> str:
    cut = body.index("\n", len(body) // 2) + 1
    return body[:cut] + text + body[cut:]


def archive(texts, config: ScanConfig = CONFIG, *, keys: bool = True):
    """A memory store holding the texts; their signed documents, entries and ids."""
    docs = signed(texts, config, prefix="archived/")
    found = index.document_entries(docs, config)
    store = dedup.MemoryStore()
    ids = store.add(new_documents(docs, found, keys=keys), boilerplate=NO_BOILERPLATE, replace=False)
    return store, docs, found, ids


def query(text: str, config: ScanConfig = CONFIG) -> Entry:
    return entries([signed([text], config)[0].signed], config)[0]


def same_entry(a: Entry, b: Entry) -> bool:
    return (
        np.array_equal(a.hashvalues, b.hashvalues)
        and np.array_equal(a.document_keys, b.document_keys)
        and np.array_equal(a.window_keys, b.window_keys)
        and a.digest == b.digest
        and a.shingles == b.shingles
        and np.array_equal(a.keys, b.keys)
    )


# --------------------------------------------------------------------------- entries


def test_an_entry_holds_the_minhash_the_band_keys_and_each_of_its_keys_once():
    texts = [ZH_SPEECH, EN_SPEECH, *corpus("zh")[:2], *corpus("en")[:2], "短", ""]
    docs = signed(texts)
    found = entries([d.signed for d in docs], CONFIG)
    bands = lsh_params(CONFIG.candidates.doc_threshold, CONFIG.sign.num_perm)[0]
    for d, e in zip(docs, found):
        assert np.array_equal(e.hashvalues, signatures([d.signed.hashes], CONFIG.sign)[0])
        assert e.shingles == len(d.signed.hashes)
        assert e.keys.dtype == np.uint64 and len(set(e.keys.tolist())) == len(e.keys)  # distinct
        assert set(e.keys.tolist()) == set(e.document_keys.tolist()) | set(e.window_keys.ravel().tolist())
        assert len(e.document_keys) == (bands if len(d.signed.hashes) else 0)
        window_bands = lsh_params(window_threshold(d.signed, CONFIG.candidates), CONFIG.sign.num_perm)[0]
        assert e.window_keys.shape == (len(window_values(d.signed, CONFIG)), window_bands)
    assert min(len(e.window_keys) for e in found[:6]) >= 5


def test_keys_are_salted_by_level_and_band():
    """Each level's keys are the unsalted band keys xor one value per band (the salt), and no salt of one level and
    band is that of another: equal band values at two levels (or in two bands) never make the same key."""
    texts = [ZH_SPEECH, EN_SPEECH, *corpus("zh"), *corpus("en")]
    docs = signed(texts)
    found = entries([d.signed for d in docs], CONFIG)
    salts: dict[int, set[tuple[int, int]]] = {LEVEL_DOCUMENT: set(), LEVEL_CJK_WINDOW: set(), LEVEL_WORD_WINDOW: set()}
    keys: dict[int, set[int]] = {level: set() for level in salts}
    for d, e in zip(docs, found):
        plain = band_keys(e.hashvalues[None], threshold=CONFIG.candidates.doc_threshold)[0]
        salts[LEVEL_DOCUMENT] |= set(enumerate((e.document_keys ^ plain).tolist()))
        keys[LEVEL_DOCUMENT] |= set(e.document_keys.tolist())
        level = LEVEL_CJK_WINDOW if d.norm.mostly_cjk else LEVEL_WORD_WINDOW
        plain = band_keys(window_values(d.signed, CONFIG), threshold=window_threshold(d.signed, CONFIG.candidates))
        for row in (e.window_keys ^ plain).tolist():
            salts[level] |= set(enumerate(row))
        keys[level] |= set(e.window_keys.ravel().tolist())
        assert not np.array_equal(e.document_keys, band_keys(e.hashvalues[None], threshold=CONFIG.candidates.doc_threshold)[0])
    for level, values in salts.items():
        bands = {band for band, _ in values}
        assert len(values) == len(bands) > 1, level  # one salt per band, the same in every document and window
    every = [s for values in salts.values() for _, s in values]
    assert len(set(every)) == len(every) and 0 not in every
    for a, b in combinations(keys, 2):
        assert keys[a] and keys[b] and not keys[a] & keys[b], (a, b)


def test_the_entries_of_a_batch_are_the_entries_of_each_document_alone():
    texts = [ZH_SPEECH, EN_SPEECH, "短", "", "。。", corpus("zh")[0], "hello world", ZH_SPEECH + EN_SPEECH, corpus("en")[1]]
    docs = signed(texts)
    batch = entries([d.signed for d in docs], CONFIG)
    for d, e in zip(docs, batch):
        assert same_entry(e, entries([d.signed], CONFIG)[0])
    assert entries([], CONFIG) == []
    many = docs * 8  # more than one ENTRY_BATCH
    assert len(many) > index.ENTRY_BATCH
    done = []
    together = index.document_entries(many, CONFIG, lambda *a: done.append(a))
    assert len(together) == len(many) and all(same_entry(a, b) for a, b in zip(together, batch * 8))
    assert done[-1] == ("index", len(many), len(many)) and len(done) == -(-len(many) // index.ENTRY_BATCH)


def test_new_documents_carry_the_keys_or_none():
    docs = signed([ZH_SPEECH, EN_SPEECH])
    found = entries([d.signed for d in docs], CONFIG)
    for keys in (True, False):
        for d, e, n in zip(docs, found, new_documents(docs, found, keys=keys)):
            assert (n.path, n.text, n.digest) == (d.doc.path, d.doc.text, e.digest)
            assert np.array_equal(n.keys, e.keys if keys else np.zeros(0, np.uint64))


# --------------------------------------------------------------------------- digests


def test_exact_copies_have_equal_digests_and_different_texts_different_ones(tmp_path):
    (tmp_path / "gb.txt").write_bytes(ZH_SPEECH.encode("gb18030"))
    (tmp_path / "crlf.txt").write_bytes(ZH_SPEECH.replace("\n", "\r\n").encode("utf-8"))
    wrapped = "\n".join(ZH_SPEECH[k : k + 29] for k in range(0, len(ZH_SPEECH), 29))
    copies = [dedup.read_document(tmp_path / "gb.txt").text, dedup.read_document(tmp_path / "crlf.txt").text, wrapped]
    assert len(set(copies)) == 3
    assert len({digest(d.signed) for d in signed(copies)}) == 1

    import opencc

    others = [
        ZH_SPEECH,
        ZH_SPEECH.replace("2019年9月18日", "2019年9月19日"),  # one digit
        ZH_SPEECH.replace("谢谢大家！", ""),
        opencc.OpenCC("s2t").convert(ZH_SPEECH),  # the same tokens after conversion, not an exact copy
        EN_SPEECH,
        EN_SPEECH.upper(),  # case folded: exact
        "短",
    ]
    digests = [digest(d.signed) for d in signed(others)]
    assert len(set(digests)) == len(others) - 1 and digests[4] == digests[5]
    assert all(len(x) == 16 for x in digests)


def test_equal_digests_are_the_exact_pairs_of_the_matcher():
    import opencc

    texts = [
        ZH_SPEECH,
        ZH_SPEECH.replace("\n", "\r\n"),
        ZH_SPEECH.replace("，", ","),
        ZH_SPEECH.replace("2019年9月18日", "2020年10月9日"),
        opencc.OpenCC("s2t").convert(ZH_SPEECH),
        opencc.OpenCC("s2t").convert(ZH_SPEECH).replace("\n", "\n\n"),
        EN_SPEECH,
        EN_SPEECH.lower(),
        EN_SPEECH.replace("forty", "fifty"),
    ]
    docs = signed(texts)
    matcher = Matcher(docs, CONFIG)
    boiler = [np.zeros(len(d.norm), dtype=bool) for d in docs]
    exact = 0
    for i, j in combinations(range(len(docs)), 2):
        pair = matcher.judge((i, j), boiler)
        same = digest(docs[i].signed) == digest(docs[j].signed)
        assert same == (pair is not None and pair.relation == "exact"), (i, j)
        exact += same
    assert exact == 3 + 1 + 1


@pytest.mark.xfail(
    strict=True,
    reason="index.candidates finds every archived document without tokens for a query without tokens (equal digests "
    "of empty token lists), while scan's rule leaves empty documents out (candidates.identical_pairs: 'none empty') "
    "and Matcher never judges them exact",
)
def test_a_document_without_tokens_is_no_candidate_of_another():
    store, _, _, ids = archive(["—1—\n", "。。。", ZH_SPEECH])
    assert len(ids) == 3
    assert candidates(store, query("\n\n—2—\n"), CONFIG, documents=4) == set()


# --------------------------------------------------------------------------- queries


def test_a_document_is_found_again_through_its_own_entry():
    texts = [ZH_SPEECH, EN_SPEECH, *corpus("zh"), *corpus("en"), "短文本", "hello world"]
    store, docs, found, ids = archive(texts)
    assert store.count() == len(texts)
    for e, i in zip(found, ids):
        assert i in candidates(store, e, CONFIG, documents=store.count())
    for d, i in zip(docs, ids):  # and through the entry of the same document signed again
        assert i in candidates(store, query(d.doc.text), CONFIG, documents=store.count())


def test_a_copied_passage_is_found_through_window_buckets_and_an_unrelated_speech_is_not():
    zh, en = corpus("zh"), corpus("en")
    texts = [*zh[:-1], ZH_SPEECH, *en[:-1], EN_SPEECH]  # the last speech of each language is not archived
    store, _, found, ids = archive(texts)
    size = store.count() + 1
    for host, source, passage in ((zh[-1], ZH_SPEECH, PASSAGE), (en[-1], EN_SPEECH, EN_PASSAGE)):
        k = texts.index(source)
        copy = query(in_the_middle(host, passage))
        assert candidates(store, copy, CONFIG, documents=size) == {ids[k]}
        # through the windows: no document bucket and no digest in common
        assert not set(copy.document_keys.tolist()) & set(found[k].document_keys.tolist())
        assert copy.digest != found[k].digest
        assert candidates(store, query(host), CONFIG, documents=size) == set()


def test_the_same_digest_finds_a_document_stored_without_keys(tmp_path):
    store, _, _, ids = archive([ZH_SPEECH, EN_SPEECH], keys=False)
    assert store.lookup(query(ZH_SPEECH).keys)[0].size == 0
    (tmp_path / "gb.txt").write_bytes(ZH_SPEECH.replace("\n", "\r\n").encode("gb18030"))
    copy = query(dedup.read_document(tmp_path / "gb.txt").text)
    assert candidates(store, copy, CONFIG, documents=3) == {ids[0]}
    assert candidates(store, query(ZH_SPEECH.replace("2019年", "2020年")), CONFIG, documents=3) == set()
    assert candidates(store, query(EN_SPEECH.upper()), CONFIG, documents=3) == {ids[1]}


def stock_archive(holders: int, config: ScanConfig, seed: int = 3):
    """An archive of ``holders`` documents ending in one stock passage, each after text of its own, and a query
    document ending in the passage: their windows inside the passage are the same (the text before it is a
    whole number of window strides long), and the rest shares nothing."""
    rng = np.random.default_rng(seed)
    pool = np.array([chr(c) for c in range(0x4E00, 0x4E00 + 3000)])

    def text(n: int) -> str:
        chars = rng.choice(pool, n)
        return "".join(c + ("。" if k % 25 == 24 else "") for k, c in enumerate(chars))

    stride = config.candidates.window // 2
    passage = text(8 * stride)
    store, _, _, ids = archive([text(60 * stride) + passage for _ in range(holders)], config)
    return store, ids, query(text(60 * stride) + passage, config)


def test_windows_held_by_more_than_max_window_hits_documents_are_stock_text():
    """With enough shared buckets asked for that a window straddling the passage and the text before it never
    makes a pair by chance (a few bands at most), the passage alone decides."""
    hits = 4
    config = ScanConfig(candidates=CandidateConfig(max_window_hits=hits, min_shared_buckets=8))
    store, ids, copy = stock_archive(hits, config)
    assert candidates(store, copy, config, documents=hits + 1) == set(ids)
    store, ids, copy = stock_archive(hits + 1, config)
    assert candidates(store, copy, config, documents=hits + 2) == set()
    # with the default limit, those documents are not stock: they are found
    roomy = ScanConfig(candidates=CandidateConfig(min_shared_buckets=8))
    store, ids, copy = stock_archive(hits + 1, roomy)
    assert candidates(store, copy, roomy, documents=hits + 2) == set(ids)


def test_the_window_buckets_to_share_grow_with_the_archive():
    zh = corpus("zh")
    store, _, found, ids = archive([*zh[:3], ZH_SPEECH])
    copy = query(in_the_middle(zh[5], PASSAGE))
    shared = len(set(np.unique(copy.window_keys).tolist()) & set(found[3].window_keys.ravel().tolist()))
    assert shared >= 2
    config = ScanConfig(candidates=CandidateConfig(min_shared_buckets=shared))
    assert config.candidates.shared_buckets(10_000) == shared
    assert candidates(store, copy, config, documents=10_000) == {ids[3]}
    assert candidates(store, copy, config, documents=100_000) == set()  # one more bucket to share
    assert candidates(store, copy, CONFIG, documents=10_000) == {ids[3]}


key_sets = st.lists(st.integers(1, 12), max_size=6)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(key_sets, key_sets, st.sampled_from([b"x", b"y", b"z"])), min_size=1, max_size=8),
    key_sets,
    key_sets,
    st.sampled_from([b"x", b"q"]),
    st.integers(1, 4),
    st.integers(1, 3),
    st.sampled_from([10, 10**5]),
)
def test_candidates_equal_the_reference(stored, doc_keys, window_keys, query_digest, max_hits, min_shared, documents):
    """Document keys (100 + k) and window keys (200 + k) in separate ranges, as salting keeps them."""

    def arr(values, base):
        return np.array(sorted({base + v for v in values}), dtype=np.uint64)

    def stored_keys(values, base):  # a store may hold a document's key more than once
        return np.array([base + v for v in values], dtype=np.uint64)

    store = dedup.MemoryStore()
    records = [
        NewDocument(f"p{k}", "", "txt", None, dig, np.concatenate([stored_keys(d, 100), stored_keys(w, 200)]))
        for k, (d, w, dig) in enumerate(stored)
    ]
    ids = store.add(records, boilerplate=NO_BOILERPLATE, replace=False)
    config = ScanConfig(candidates=CandidateConfig(max_window_hits=max_hits, min_shared_buckets=min_shared))
    windows = arr(window_keys, 200)
    rows = np.stack([windows, windows[::-1]]) if len(windows) else np.zeros((0, 0), np.uint64)  # repeats count once
    e = Entry(np.zeros(CONFIG.sign.num_perm, np.uint32), arr(doc_keys, 100), rows, query_digest, 1, np.zeros(0, np.uint64))
    expected = reference.archive_candidates(
        {i: (r.keys, r.digest) for i, r in zip(ids, records)},
        e.document_keys,
        windows,
        query_digest,
        max_window_hits=max_hits,
        shared_buckets=config.candidates.shared_buckets(documents),
    )
    assert candidates(store, e, config, documents=documents) == expected
