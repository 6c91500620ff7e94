import numpy as np

from datasketch import MinHashLSH

from dedup.candidates import (
    band_keys,
    banded_candidates,
    common_hashes,
    document_candidates,
    group_frequency,
    shingle_document_frequency,
)
from dedup.config import SignConfig
from dedup.normalize import normalize
from dedup.sign import make_minhash, minhash_of, sign, signatures, window_minhashes

from texts import EN_SPEECH, ZH_SPEECH

CONFIG = SignConfig()


def _mh(text):
    return minhash_of(sign(normalize(text), CONFIG).hashes, CONFIG)


def test_near_duplicates_collide_and_unrelated_do_not():
    docs = [ZH_SPEECH, ZH_SPEECH.replace("2019年", "2023年"), EN_SPEECH]
    pairs = document_candidates([_mh(t) for t in docs] + [None], threshold=0.5, num_perm=CONFIG.num_perm)
    assert pairs == {(0, 1)}


def test_document_signatures_in_bands_give_the_pairs_of_datasketch_lsh():
    texts = [ZH_SPEECH, ZH_SPEECH.replace("2019年", "2023年"), EN_SPEECH, EN_SPEECH[: len(EN_SPEECH) // 2], "短"]
    hashes = [sign(normalize(t), CONFIG).hashes for t in texts]
    rows = signatures(hashes, CONFIG)
    assert all(np.array_equal(row, minhash_of(h, CONFIG).hashvalues) for row, h in zip(rows, hashes))
    expected = document_candidates([minhash_of(h, CONFIG) for h in hashes], threshold=0.4, num_perm=CONFIG.num_perm)
    assert banded_candidates(band_keys(rows, threshold=0.4), np.arange(len(texts))) == expected
    assert (0, 1) in expected


def _windows(texts):
    signatures, owners = [], []
    for i, text in enumerate(texts):
        signed = sign(normalize(text), CONFIG)
        for _, _, hv in window_minhashes(signed, CONFIG, window=100):
            signatures.append(hv)
            owners.append(i)
    return np.stack(signatures), np.array(owners)


def test_a_copied_passage_collides_at_window_level():
    passage = ZH_SPEECH[ZH_SPEECH.index("要围绕道路交通") : ZH_SPEECH.index("三、压紧压实")]
    host = "今天我们隆重召开全县教育工作大会，表彰先进，部署任务。" * 20 + passage + "近年来全县教育事业发展取得了显著成绩。" * 20
    signatures, owners = _windows([ZH_SPEECH, host, EN_SPEECH])
    keys = band_keys(signatures, threshold=0.3)
    assert banded_candidates(keys, owners) == {(0, 1)}
    assert banded_candidates(keys, owners, max_hits=0) == set()


def test_banded_candidates_equal_datasketch_lsh():
    rng = np.random.default_rng(1)
    base = rng.integers(0, 2**32, size=(40, CONFIG.num_perm), dtype=np.uint64).astype(np.uint32)
    # windows that are noisy copies of a few base signatures
    picks = rng.integers(0, 40, size=300)
    sigs = base[picks].copy()
    noise = rng.random(sigs.shape) < rng.random((300, 1))
    sigs[noise] = rng.integers(0, 2**32, size=int(noise.sum()), dtype=np.uint64).astype(np.uint32)
    owners = rng.integers(0, 120, size=300)
    lsh = MinHashLSH(threshold=0.4, num_perm=CONFIG.num_perm)
    for w, hv in enumerate(sigs):
        lsh.insert(w, make_minhash(hv, CONFIG))
    expected = set()
    for w, hv in enumerate(sigs):
        for other in lsh.query(make_minhash(hv, CONFIG)):
            if owners[other] != owners[w]:
                expected.add((min(owners[w], owners[other]), max(owners[w], owners[other])))
    assert banded_candidates(band_keys(sigs, threshold=0.4), owners) == expected
    assert len(expected) > 10


def test_document_and_group_frequency():
    sets = [np.array([1, 2, 2, 3], dtype=np.uint32), np.array([2, 3], dtype=np.uint32), np.array([3], dtype=np.uint32)]
    values, counts = shingle_document_frequency(sets)
    assert dict(zip(values.tolist(), counts.tolist())) == {1: 1, 2: 2, 3: 3}
    uniques = [np.unique(h) for h in sets]
    groups = group_frequency(uniques, [0, 0, 1], np.array([2, 3], dtype=np.uint32), np.array([2, 3]))
    assert groups.tolist() == [1, 2]


def test_common_hashes_are_the_frequent_ones_counted_slice_by_slice():
    rng = np.random.default_rng(3)
    pool = rng.integers(0, 2**32, 300, dtype=np.uint64).astype(np.uint32)
    sets = [np.unique(rng.choice(pool, 40)) for _ in range(50)] + [np.zeros(0, dtype=np.uint32)]
    flags = [rng.random(len(s)) < 0.3 for s in sets]
    values, counts = shingle_document_frequency(sets)
    flagged = shingle_document_frequency([s[f] for s, f in zip(sets, flags)])
    flagged = dict(zip(*(x.tolist() for x in flagged)))
    for min_docs, parts in ((1, 1), (3, 16), (5, 7)):
        common, df, _ = common_hashes(sets, min_docs=min_docs, parts=parts)
        assert common.tolist() == values[counts >= min_docs].tolist()
        assert df.tolist() == counts[counts >= min_docs].tolist()
        again, df_again, with_flag = common_hashes(sets, min_docs=min_docs, parts=parts, flags=flags)
        assert again.tolist() == common.tolist() and df_again.tolist() == df.tolist()
        assert with_flag.tolist() == [flagged.get(h, 0) for h in common.tolist()]


def test_shared_buckets_grow_by_one_for_each_tenfold_beyond_the_base_corpus():
    from dedup.config import SHARED_BUCKETS_CORPUS, CandidateConfig

    config = CandidateConfig()
    assert config.shared_buckets(1) == config.shared_buckets(SHARED_BUCKETS_CORPUS) == config.min_shared_buckets
    assert config.shared_buckets(10 * SHARED_BUCKETS_CORPUS) == config.min_shared_buckets + 1
    assert config.shared_buckets(100 * SHARED_BUCKETS_CORPUS) == config.min_shared_buckets + 2
