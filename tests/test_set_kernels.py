"""The compiled set kernels against their definitions (``tests/reference.py``)."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import reference
from dedup import set_kernels as kernels
from dedup.candidates import HashSets, hash_frequencies


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 3000), st.sampled_from([64 - 4, 64 - 12, 64 - 20, 64 - 24, 40, 1]))
def test_group_by_prefix_is_a_stable_sort_by_prefix_keeping_low_bits(seed, n, shift):
    rng = np.random.default_rng(seed)
    keys = rng.integers(0, 2**64, n, dtype=np.uint64)
    if n and seed % 3 == 0:  # few distinct prefixes: long runs
        keys = keys[rng.integers(0, max(1, n // 50), n)]
    ids = np.arange(n, dtype=np.uint32)
    suffixes, out_ids, prefixes, bounds = kernels.group_by_prefix(keys, ids, np.uint64(shift))
    want_suffixes, want_ids, want_prefixes, want_bounds = reference.group_by_prefix(keys, ids, shift)
    assert suffixes.dtype == np.uint32 and np.array_equal(suffixes, want_suffixes)
    assert np.array_equal(out_ids, want_ids)
    assert prefixes.tolist() == want_prefixes and bounds.tolist() == want_bounds


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 40), st.integers(1, 16))
def test_group_parts_groups_each_documents_values_by_part(seed, docs, parts):
    rng = np.random.default_rng(seed)
    sizes = rng.integers(0, 30, docs)
    values = rng.integers(0, 2**63, int(sizes.sum()), dtype=np.uint64)
    part_of = rng.integers(0, parts, len(values)).astype(np.uint8)
    grouped, counts = kernels.group_parts(values, part_of, sizes, parts)
    want, want_counts = reference.group_parts(values, part_of, sizes, parts)
    assert np.array_equal(grouped, want)
    assert counts.shape == (docs, parts) and np.array_equal(counts, want_counts)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.lists(st.integers(0, 60), max_size=12))
def test_distinct_segments_keeps_each_segments_first_occurrences(seed, sizes):
    rng = np.random.default_rng(seed)
    pool = rng.integers(0, 2**64, 40, dtype=np.uint64)
    pool[:4] = [0, 1, 2**32, 2**64 - 1]  # values alike in their low bits, and zero
    values = pool[rng.integers(0, len(pool), sum(sizes))]
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    out, counts = kernels.distinct_segments(values, offsets)
    assert counts.sum() == len(out)
    ends = np.cumsum(counts)
    assert [out[e - c : e].tolist() for e, c in zip(ends, counts)] == reference.distinct_segments(values, offsets)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 30), st.sampled_from([8, 12, 27]))
def test_frequencies_within_a_filter_are_those_of_the_hashes_kept(seed, docs, bits):
    """``hash_frequencies(within=hash_filter(hashes))``: the hashes asked for keep every value (the same frequencies,
    flags and groups); others may stay (a filter on the top bits), none is added."""
    rng = np.random.default_rng(seed)
    pool = rng.integers(0, 2**32, 200, dtype=np.uint32)  # shared hashes: frequencies above 1
    sets = [np.unique(rng.choice(pool, int(rng.integers(0, 60)))) for _ in range(docs)]
    flags = [rng.random(len(s)) < 0.3 for s in sets]
    labels = rng.integers(0, max(1, docs // 2), docs).tolist()
    full = HashSets.of(sets, flags)
    wanted = np.concatenate([np.zeros(0, np.uint32), *sets[: max(1, docs // 3)]])
    all_h, *all_rest = hash_frequencies([full], labels, min_docs=1)
    kept_h, *kept_rest = hash_frequencies([full], labels, min_docs=1, within=kernels.hash_filter(wanted, bits))
    assert set(kept_h.tolist()) <= set(all_h.tolist())
    at_all, at_kept = np.isin(all_h, wanted), np.isin(kept_h, wanted)
    assert np.array_equal(all_h[at_all], kept_h[at_kept])
    for a, k in zip(all_rest, kept_rest):
        assert np.array_equal(a[at_all], k[at_kept])
