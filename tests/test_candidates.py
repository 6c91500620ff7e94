import numpy as np
from datasketch import MinHashLSH
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup.candidates import (
    SET_PART_BITS,
    HashSets,
    band_keys,
    banded_candidates,
    document_candidates,
    hash_frequencies,
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


def test_document_frequency():
    sets = [np.array([1, 2, 2, 3], dtype=np.uint32), np.array([2, 3], dtype=np.uint32), np.array([3], dtype=np.uint32)]
    values, counts = shingle_document_frequency(sets)
    assert dict(zip(values.tolist(), counts.tolist())) == {1: 1, 2: 2, 3: 3}


def _frequencies_by_hand(sets, flags, groups, min_docs):
    """What ``hash_frequencies`` counts, one hash at a time."""
    out = {}
    for h in sorted({int(h) for s in sets for h in s}):
        holders = [k for k, s in enumerate(sets) if h in s.tolist()]
        if len(holders) >= min_docs:
            flagged = sum(bool(flags[k][sets[k].tolist().index(h)]) for k in holders)
            out[h] = (len(holders), flagged, len({groups[k] for k in holders}))
    return out


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 4), st.integers(1, 3))
def test_hash_frequencies_count_documents_flags_and_groups(seed, min_docs, chunks):
    rng = np.random.default_rng(seed)
    pool = rng.integers(0, 2**32, 60, dtype=np.uint64).astype(np.uint32)  # spread over every part
    sets = [np.unique(rng.choice(pool, rng.integers(0, 25))) for _ in range(12)]
    flags = [rng.random(len(s)) < 0.3 for s in sets]
    groups = rng.integers(0, 6, len(sets)).tolist()
    cuts = sorted(rng.choice(np.arange(1, len(sets)), chunks - 1, replace=False).tolist()) if chunks > 1 else []
    bounds = [0, *cuts, len(sets)]
    parts = [HashSets.of(sets[a:b], flags[a:b]) for a, b in zip(bounds, bounds[1:])]
    hashes, docs, flagged, distinct_groups = hash_frequencies(parts, groups, min_docs=min_docs)
    got = {h: (d, f, g) for h, d, f, g in zip(*(x.tolist() for x in (hashes, docs, flagged, distinct_groups)))}
    assert hashes.tolist() == sorted(got) and got == _frequencies_by_hand(sets, flags, groups, min_docs)


def test_hash_sets_of_no_documents_and_of_empty_ones():
    assert hash_frequencies([], [], min_docs=2)[0].tolist() == []
    empty = HashSets.of([np.zeros(0, np.uint32)] * 3)
    assert empty.counts.shape == (3, 1 << SET_PART_BITS) and not empty.counts.any()
    assert HashSets.of([]).counts.shape == (0, 1 << SET_PART_BITS)


def test_shared_buckets_grow_by_one_for_each_tenfold_beyond_the_base_corpus():
    from dedup.config import SHARED_BUCKETS_CORPUS, CandidateConfig

    config = CandidateConfig()
    assert config.shared_buckets(1) == config.shared_buckets(SHARED_BUCKETS_CORPUS) == config.min_shared_buckets
    assert config.shared_buckets(10 * SHARED_BUCKETS_CORPUS) == config.min_shared_buckets + 1
    assert config.shared_buckets(100 * SHARED_BUCKETS_CORPUS) == config.min_shared_buckets + 2
