import numpy as np
import pytest
from datasketch import MinHashLSH
from hypothesis import given, settings
from hypothesis import strategies as st

import reference
from dedup.sort_kernels import sorted_groups
from dedup.candidates import (
    SET_PART_BITS,
    HashSets,
    band_keys,
    band_salts,
    banded_candidates,
    candidate_pairs,
    hash_frequencies,
    identical_pairs,
    lsh_params,
)
from dedup.config import SHARED_BUCKETS_CORPUS, CandidateConfig, ScanConfig, SignConfig
from dedup.models import Document
from dedup.normalize import normalize
from dedup.sign import sign, sign_documents, signatures, window_signatures

from texts import EN_SPEECH, ZH_SPEECH

CONFIG = SignConfig()


@pytest.mark.parametrize("num_perm", [16, 64, 128, 256])
@pytest.mark.parametrize("threshold", [round(0.05 * k, 2) for k in range(1, 20)])
def test_lsh_params_are_those_datasketch_picks(threshold, num_perm):
    params = lsh_params(threshold, num_perm)
    if params[0] >= 2:  # (datasketch's MinHashLSH refuses a single band)
        lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
        assert params == (lsh.b, lsh.r)
    if num_perm <= 128:
        assert params == reference.lsh_params(threshold, num_perm)


def test_document_signatures_in_bands_give_the_pairs_of_datasketch_lsh():
    texts = [ZH_SPEECH, ZH_SPEECH.replace("2019年", "2023年"), EN_SPEECH, EN_SPEECH[: len(EN_SPEECH) // 2], "短"]
    rows = signatures([sign(normalize(t), CONFIG).hashes for t in texts], CONFIG)
    expected = reference.lsh_pairs(rows, np.arange(len(texts)), threshold=0.4)
    assert banded_candidates(band_keys(rows, threshold=0.4), np.arange(len(texts))) == expected
    assert (0, 1) in expected and (0, 2) not in expected


def _windows(texts):
    values, owners = [], []
    for i, text in enumerate(texts):
        rows = window_signatures(sign(normalize(text), CONFIG), CONFIG, window=100)[1]
        values.append(rows)
        owners += [i] * len(rows)
    return np.concatenate(values), np.array(owners)


def test_a_copied_passage_collides_at_window_level():
    passage = ZH_SPEECH[ZH_SPEECH.index("要围绕道路交通") : ZH_SPEECH.index("三、压紧压实")]
    host = "今天我们隆重召开全县教育工作大会，表彰先进，部署任务。" * 20 + passage + "近年来全县教育事业发展取得了显著成绩。" * 20
    values, owners = _windows([ZH_SPEECH, host, EN_SPEECH])
    keys = band_keys(values, threshold=0.3)
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
    expected = reference.lsh_pairs(sigs, owners, threshold=0.4)
    assert banded_candidates(band_keys(sigs, threshold=0.4), owners) == expected
    assert len(expected) > 10


def _sharded(shards: int):
    """A ``group_by_key`` that splits the records into shards by key, as a distributed shuffle does."""

    def group_by_key(keys, values):
        for s in range(shards):
            at = keys % np.uint64(shards) == s
            yield from sorted_groups(keys[at], values[at])

    return group_by_key


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 5), st.integers(1, 3))
def test_banded_candidates_are_the_same_however_the_keys_are_sharded(seed, shards, min_shared):
    rng = np.random.default_rng(seed)
    keys = rng.integers(0, 40, size=(200, 4), dtype=np.uint64)
    owners = rng.integers(0, 60, size=200)
    one = banded_candidates(keys, owners, max_hits=5, min_shared=min_shared)
    assert banded_candidates(keys, owners, max_hits=5, min_shared=min_shared, group_by_key=_sharded(shards)) == one


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 800), st.integers(1, 3), st.booleans())
def test_banded_candidates_are_the_same_however_many_bands_are_grouped_at_once(seed, records, min_shared, salted):
    rng = np.random.default_rng(seed)
    keys = rng.integers(0, 40, size=(200, 5), dtype=np.uint64)  # (few values: many buckets shared)
    keys = keys ^ band_salts(5) if salted else keys  # (salted: as ``window_records`` gives them)
    owners = np.sort(rng.integers(0, 60, size=200))
    one = banded_candidates(keys, owners, max_hits=5, min_shared=min_shared, salted=salted)
    assert banded_candidates(keys, owners, max_hits=5, min_shared=min_shared, salted=salted, grouped_records=records) == one


def test_shared_buckets_and_stock_buckets():
    keys = np.array([[1, 7], [1, 7], [1, 8], [2, 9], [2, 9]], dtype=np.uint64)  # windows × bands
    owners = np.array([0, 1, 2, 3, 4])
    assert banded_candidates(keys, owners) == {(0, 1), (0, 2), (1, 2), (3, 4)}
    assert banded_candidates(keys, owners, min_shared=2) == {(0, 1), (3, 4)}
    assert banded_candidates(keys, owners, max_hits=1) == {(0, 1), (3, 4)}  # bucket 1 holds 3 documents: stock
    assert banded_candidates(keys.astype(np.int64), owners) == {(0, 1), (0, 2), (1, 2), (3, 4)}  # (signed keys too)
    assert banded_candidates(keys.astype(np.int64), owners, grouped_records=5) == {(0, 1), (0, 2), (1, 2), (3, 4)}


def test_candidate_pairs_of_a_batch():
    texts = [ZH_SPEECH, EN_SPEECH, ZH_SPEECH.replace("安全生产", "生产安全"), "短", ZH_SPEECH]
    docs = sign_documents([Document(path=str(k), text=t) for k, t in enumerate(texts)], config=ScanConfig())
    pairs = candidate_pairs(docs, ScanConfig())
    assert pairs == sorted(pairs) and {(0, 2), (0, 4), (2, 4)} <= set(pairs)
    assert all(1 not in p and 3 not in p for p in pairs)
    assert identical_pairs(docs) == {(0, 4)}
    assert candidate_pairs(docs, ScanConfig(), group_by_key=_sharded(3)) == pairs


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
    assert hashes.tolist() == sorted(got) and got == reference.hash_frequencies(sets, flags, groups, min_docs)


def test_hash_sets_of_no_documents_and_of_empty_ones():
    assert hash_frequencies([], [], min_docs=2)[0].tolist() == []
    empty = HashSets.of([np.zeros(0, np.uint32)] * 3)
    assert empty.counts.shape == (3, 1 << SET_PART_BITS) and not empty.counts.any()
    assert HashSets.of([]).counts.shape == (0, 1 << SET_PART_BITS)


def test_shared_buckets_grow_by_one_for_each_tenfold_beyond_the_base_corpus():
    config = CandidateConfig()
    assert config.shared_buckets(1) == config.shared_buckets(SHARED_BUCKETS_CORPUS) == config.min_shared_buckets
    assert config.shared_buckets(10 * SHARED_BUCKETS_CORPUS) == config.min_shared_buckets + 1
    assert config.shared_buckets(100 * SHARED_BUCKETS_CORPUS) == config.min_shared_buckets + 2
