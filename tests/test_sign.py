import numpy as np
from datasketch import MinHash
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup import kernels
from dedup.config import SignConfig
from dedup.normalize import normalize
from dedup.sign import minhash_of, permutations, shingle_hash, sign, signatures, window_minhashes, window_size

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


def test_vectorized_hashes_equal_the_scalar_hash():
    signed = sign(normalize(ZH_SPEECH + EN_SPEECH), CONFIG)
    assert [shingle_hash(s) for s in _shingles(signed)] == signed.hashes.tolist()


def test_signatures_equal_datasketch_minhash_with_the_same_hash():
    for text in (ZH_SPEECH, EN_SPEECH, "短", "a b"):
        signed = sign(normalize(text), CONFIG)
        reference = MinHash(num_perm=CONFIG.num_perm, seed=CONFIG.seed, hashfunc=shingle_hash)
        reference.update_batch(_shingles(signed))
        ours = minhash_of(signed.hashes, CONFIG)
        assert isinstance(ours, MinHash)
        assert ours.scheme == reference.scheme
        assert np.array_equal(ours.hashvalues, reference.hashvalues)


def test_jaccard_estimate_tracks_edits():
    a = sign(normalize(ZH_SPEECH), CONFIG)
    b = sign(normalize(ZH_SPEECH.replace("安全", "平安")), CONFIG)
    c = sign(normalize(EN_SPEECH), CONFIG)
    ma, mb, mc = (minhash_of(s.hashes, CONFIG) for s in (a, b, c))
    exact = len(set(a.hashes.tolist()) & set(b.hashes.tolist())) / len(set(a.hashes.tolist()) | set(b.hashes.tolist()))
    assert abs(ma.jaccard(mb) - exact) < 0.12
    assert ma.jaccard(mc) < 0.05


def test_windows_cover_the_document_and_skip_flagged_shingles():
    signed = sign(normalize(ZH_SPEECH), CONFIG)
    size = window_size(signed.norm, 100)
    assert size == 100
    windows = window_minhashes(signed, CONFIG, window=size)
    assert windows[0][0] == 0
    assert windows[-1][1] >= len(signed.hashes) - size // 2
    assert all(e - s <= size for s, e, _ in windows)
    skip = np.ones(len(signed.hashes), dtype=bool)
    assert window_minhashes(signed, CONFIG, window=size, skip=skip) == []
    en = sign(normalize(EN_SPEECH), CONFIG)
    assert window_size(en.norm, 100) == 24


def test_window_signatures_equal_datasketch_minhash_of_their_shingles():
    for text in (ZH_SPEECH, EN_SPEECH):
        signed = sign(normalize(text), CONFIG)
        skip = np.arange(len(signed.hashes)) % 7 == 0
        windows = window_minhashes(signed, CONFIG, window=24, skip=skip)
        assert len(windows) > 3
        for start, end, hv in windows:
            reference = MinHash(num_perm=CONFIG.num_perm, seed=CONFIG.seed, hashfunc=int)
            reference.update_batch([h for h, s in zip(signed.hashes[start:end].tolist(), skip[start:end]) if not s])
            assert np.array_equal(hv, reference.hashvalues)


def _bag_features_reference(norm):
    """The definition of ``bag_features``, token by token."""
    from dedup.normalize import word_code
    from dedup.sign import STOPWORDS

    stop = {word_code(w) for w in STOPWORDS}
    codes, cjk, out = [ord(c) for c in norm.tokens], norm.cjk.tolist(), []
    for i, code in enumerate(codes):
        if not cjk[i]:
            out.append(0 if code in stop else code)
        elif i + 2 < len(codes) and cjk[i + 1] and cjk[i + 2]:
            c0, c1, c2 = (x & 0x3FFFF for x in codes[i : i + 3])
            out.append(c0 << 36 | c1 << 18 | c2 | 1 << 63)
        else:
            out.append(0)
    return out


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["的", "發展", "服务", "the", "of", "Growth", "jobs", "2010", "，", " ", "\n", "。"]), max_size=40))
def test_bag_features_follow_their_definition(parts):
    from dedup.sign import bag_features

    for text in ("".join(parts), " ".join(parts)):
        norm = normalize(text)
        assert bag_features(norm).tolist() == _bag_features_reference(norm)


def test_bag_features_of_speeches_follow_their_definition():
    from dedup.sign import bag_features

    for text in (ZH_SPEECH, EN_SPEECH, ZH_SPEECH + EN_SPEECH):
        norm = normalize(text)
        assert bag_features(norm).tolist() == _bag_features_reference(norm)


def _reference(hashes) -> np.ndarray:
    """datasketch's MinHash of a set of shingle hashes (fed as they are: ``hashfunc=int``)."""
    reference = MinHash(num_perm=CONFIG.num_perm, seed=CONFIG.seed, hashfunc=int)
    if len(hashes):
        reference.update_batch(list(hashes))
    return reference.hashvalues


_HASH_SETS = st.lists(st.lists(st.integers(0, 2**32 - 1), max_size=70), max_size=6)


@settings(max_examples=200, deadline=None)
@given(_HASH_SETS)
def test_signatures_of_any_hash_sets_equal_datasketch_minhash(sets):
    hashes = [np.array(s, dtype=np.uint32) for s in sets]
    rows = signatures(hashes, CONFIG)
    assert rows.shape == (len(sets), CONFIG.num_perm) and rows.dtype == np.uint32
    for row, h in zip(rows, hashes):
        expected = _reference(h.tolist())
        assert np.array_equal(row, expected) and np.array_equal(minhash_of(h, CONFIG).hashvalues, expected)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2**32 - 1), st.booleans()), max_size=90), st.integers(1, 40))
def test_block_minima_equal_datasketch_minhash_of_each_block(shingles, stride):
    hashes = np.array([h for h, _ in shingles], dtype=np.uint32)
    skip = np.array([s for _, s in shingles], dtype=bool)
    a, b = permutations(CONFIG.num_perm, CONFIG.seed, CONFIG.scheme)
    blocks, kept = kernels.block_min_hashes(hashes, skip, stride, a, b)
    assert len(blocks) == len(kept) == -(-len(hashes) // stride)
    for k, (row, count) in enumerate(zip(blocks, kept)):
        block = [h for h, s in shingles[k * stride : (k + 1) * stride] if not s]
        assert count == len(block) and np.array_equal(row, _reference(block))
