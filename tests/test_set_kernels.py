"""Compiled loops against their definitions in numpy."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup import set_kernels as kernels


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 3000), st.sampled_from([64 - 4, 64 - 12, 64 - 20, 64 - 24, 40, 1]))
def test_group_by_prefix_is_a_stable_sort_by_prefix_keeping_low_bits(seed, n, shift):
    rng = np.random.default_rng(seed)
    keys = rng.integers(0, 2**64, n, dtype=np.uint64)
    if n and seed % 3 == 0:  # few distinct prefixes: long runs
        keys = keys[rng.integers(0, max(1, n // 50), n)]
    ids = np.arange(n, dtype=np.uint32)
    suffixes, out_ids, prefixes, bounds = kernels.group_by_prefix(keys, ids, np.uint64(shift))
    order = np.argsort(keys >> np.uint64(shift), kind="stable")
    assert suffixes.dtype == np.uint32 and np.array_equal(suffixes, (keys[order] & np.uint64(0xFFFFFFFF)).astype(np.uint32))
    assert np.array_equal(out_ids, ids[order])
    expected = np.unique(keys >> np.uint64(shift))
    assert prefixes.tolist() == expected.astype(np.int64).tolist()
    assert bounds.tolist() == [*np.searchsorted(keys[order] >> np.uint64(shift), expected).tolist(), n]


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 40), st.integers(1, 16))
def test_group_parts_groups_each_documents_values_by_part(seed, docs, parts):
    rng = np.random.default_rng(seed)
    sizes = rng.integers(0, 30, docs)
    values = rng.integers(0, 2**63, int(sizes.sum()), dtype=np.uint64)
    part_of = rng.integers(0, parts, len(values)).astype(np.uint8)
    grouped, counts = kernels.group_parts(values, part_of, sizes, parts)
    owner = np.repeat(np.arange(docs), sizes)
    order = np.lexsort((np.arange(len(values)), part_of))  # by part, in order within a part
    assert np.array_equal(grouped, values[order])
    assert counts.shape == (docs, parts)
    assert all(counts[d, p] == np.sum((owner == d) & (part_of == p)) for d in range(docs) for p in range(parts))


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
    for s in range(len(sizes)):
        segment = values[offsets[s] : offsets[s + 1]].tolist()
        assert out[ends[s] - counts[s] : ends[s]].tolist() == list(dict.fromkeys(segment))
