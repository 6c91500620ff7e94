import pickle

import numpy as np
from datasketch import MinHash
from hypothesis import given, settings
from hypothesis import strategies as st

import reference
from dedup import sign_kernels
from dedup.config import ScanConfig, SignConfig
from dedup.models import Document
from dedup.normalize import normalize
from dedup.sign import (
    STOPWORDS, SignedDocuments, bag_features, permutations, sign, sign_documents, signatures, window_signatures,
    window_size,
)

from texts import EN_SPEECH, ZH_SPEECH

CONFIG = SignConfig()


def _shingles(signed):
    return [signed.norm.tokens[p : p + k] for p, k in zip(signed.positions, signed.lengths)]


def test_cjk_character_ngrams_and_latin_word_ngrams():
    signed = sign(normalize("深入开展创先争优活动 the quick brown fox"), CONFIG)
    lengths = dict(zip(signed.positions.tolist(), signed.lengths.tolist()))
    assert lengths[0] == 5  # starts on a CJK character
    assert lengths[len(signed.norm) - 3] == 3  # "quick brown fox": three words
    assert len(signed.norm) - 1 not in lengths  # no shingle past the end


def test_shingles_and_their_hashes_are_those_of_the_definition():
    for text in (ZH_SPEECH + EN_SPEECH, EN_SPEECH[:200] + "中文" + ZH_SPEECH[:50], "短", ""):
        signed = sign(normalize(text), CONFIG)
        expected = reference.shingle_strings(signed.norm.tokens, signed.norm.cjk.tolist())
        assert [(int(p), s) for p, s in zip(signed.positions, _shingles(signed))] == expected
        assert signed.hashes.tolist() == [reference.shingle_hash(s) for _, s in expected]


def _minhash(hashes):
    return signatures([np.asarray(hashes, dtype=np.uint32)], CONFIG)[0]


def test_signatures_equal_datasketch_minhash_with_the_same_hash():
    for text in (ZH_SPEECH, EN_SPEECH, "短", "a b"):
        signed = sign(normalize(text), CONFIG)
        expected = MinHash(num_perm=CONFIG.num_perm, seed=CONFIG.seed, hashfunc=reference.shingle_hash)
        expected.update_batch(_shingles(signed))
        assert expected.scheme == CONFIG.scheme
        assert np.array_equal(_minhash(signed.hashes), expected.hashvalues)


def test_jaccard_estimate_tracks_edits():
    a = sign(normalize(ZH_SPEECH), CONFIG)
    b = sign(normalize(ZH_SPEECH.replace("安全", "平安")), CONFIG)
    c = sign(normalize(EN_SPEECH), CONFIG)
    ma, mb, mc = (MinHash(num_perm=CONFIG.num_perm, scheme=CONFIG.scheme, hashvalues=_minhash(s.hashes)) for s in (a, b, c))
    exact = len(set(a.hashes.tolist()) & set(b.hashes.tolist())) / len(set(a.hashes.tolist()) | set(b.hashes.tolist()))
    assert abs(ma.jaccard(mb) - exact) < 0.12
    assert ma.jaccard(mc) < 0.05


def _windows(signed, *, window, skip=None):
    """``(first shingle, end, hash values)`` of each window."""
    starts, values = window_signatures(signed, CONFIG, window=window, skip=skip)
    n = len(signed.hashes)
    return [(s, min(n, s + window), row) for s, row in zip(starts.tolist(), values)]


def test_windows_cover_the_document_and_skip_flagged_shingles():
    signed = sign(normalize(ZH_SPEECH), CONFIG)
    size = window_size(signed.norm, 100)
    assert size == 100
    windows = _windows(signed, window=size)
    assert windows[0][0] == 0
    assert windows[-1][1] >= len(signed.hashes) - size // 2
    assert all(e - s <= size for s, e, _ in windows)
    skip = np.ones(len(signed.hashes), dtype=bool)
    assert _windows(signed, window=size, skip=skip) == []
    en = sign(normalize(EN_SPEECH), CONFIG)
    assert window_size(en.norm, 100) == 24


def test_window_signatures_equal_datasketch_minhash_of_their_shingles():
    for text in (ZH_SPEECH, EN_SPEECH):
        signed = sign(normalize(text), CONFIG)
        skip = np.arange(len(signed.hashes)) % 7 == 0
        windows = _windows(signed, window=24, skip=skip)
        assert len(windows) > 3
        for start, end, hv in windows:
            kept = [h for h, s in zip(signed.hashes[start:end].tolist(), skip[start:end]) if not s]
            assert np.array_equal(hv, reference.minhash_values(kept))


def _bag_features_reference(norm):
    from dedup.normalize import word_code

    return reference.bag_features(norm.tokens, norm.cjk.tolist(), {word_code(w) for w in STOPWORDS})


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["的", "發展", "服务", "the", "of", "Growth", "jobs", "2010", "，", " ", "\n", "。"]), max_size=40))
def test_bag_features_follow_their_definition(parts):
    for text in ("".join(parts), " ".join(parts)):
        norm = normalize(text)
        assert bag_features(norm).tolist() == _bag_features_reference(norm)


def test_bag_features_of_speeches_follow_their_definition():
    for text in (ZH_SPEECH, EN_SPEECH, ZH_SPEECH + EN_SPEECH):
        norm = normalize(text)
        assert bag_features(norm).tolist() == _bag_features_reference(norm)


_HASH_SETS = st.lists(st.lists(st.integers(0, 2**32 - 1), max_size=70), max_size=6)


@settings(max_examples=200, deadline=None)
@given(_HASH_SETS, st.integers(1, 100))
def test_signatures_of_any_hash_sets_equal_datasketch_minhash(sets, chunk):
    hashes = [np.array(s, dtype=np.uint32) for s in sets]
    rows = signatures(hashes, CONFIG)
    assert rows.shape == (len(sets), CONFIG.num_perm) and rows.dtype == np.uint32
    for row, h in zip(rows, hashes):
        assert np.array_equal(row, reference.minhash_values(h.tolist()))
    assert np.array_equal(signatures(hashes, CONFIG, chunk=chunk), rows)  # (the sets a few hashes a call)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2**32 - 1), st.booleans()), max_size=90), st.integers(1, 40))
def test_block_minima_equal_datasketch_minhash_of_each_block(shingles, stride):
    hashes = np.array([h for h, _ in shingles], dtype=np.uint32)
    skip = np.array([s for _, s in shingles], dtype=bool)
    a, b = permutations(CONFIG.num_perm, CONFIG.seed, CONFIG.scheme)
    blocks, kept = sign_kernels.block_min_hashes(hashes, skip, stride, a, b)
    assert len(blocks) == len(kept) == -(-len(hashes) // stride)
    for k, (row, count) in enumerate(zip(blocks, kept)):
        block = [h for h, s in shingles[k * stride : (k + 1) * stride] if not s]
        assert count == len(block) and np.array_equal(row, reference.minhash_values(block))


@settings(max_examples=20, deadline=None)
@given(st.integers(16, 1024), st.integers(0, 2**32 - 1))
def test_permutations_are_datasketchs(num_perm, seed):
    """Drawn without importing datasketch, as its ``MinHash`` draws them for the affine32 scheme."""
    want = MinHash(num_perm=num_perm, seed=seed, scheme="affine32").permutations
    got = permutations(num_perm, seed, "affine32")
    assert got.dtype == want.dtype and np.array_equal(got, want)


def test_signed_documents_pickle_as_arrays_and_come_back_the_same():
    config = ScanConfig()
    docs = sign_documents(
        [Document("a.txt", ZH_SPEECH[:300], metadata={"year": 2019}, source="d.jsonl", row=3), Document("b.txt", EN_SPEECH[:300])],
        config=config,
    )
    present = SignedDocuments(5, {1: docs[0], 4: docs[1]})
    back = pickle.loads(pickle.dumps(present))
    assert len(back) == 5 and back[0] is None and back[-1].doc == docs[1].doc
    for k, d in ((1, docs[0]), (4, docs[1])):
        assert back[k].doc == d.doc and back[k].norm.tokens == d.norm.tokens
        assert np.array_equal(back[k].signed.hashes, d.signed.hashes) and np.array_equal(back[k].norm.starts, d.norm.starts)
