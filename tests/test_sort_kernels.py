"""The sorting kernels against numpy's sorts."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import reference
from dedup import sort_kernels
from dedup.sort_kernels import radix_order


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 2**64 - 1), max_size=300), st.sampled_from([8, 32, 64]), st.integers(0, 2**32 - 1))
def test_radix_order_is_a_stable_argsort(values, bits, few):
    keys = np.array(values, dtype=np.uint64) >> np.uint64(64 - bits)
    if few % 2:  # many equal keys, which only a stable sort keeps in order
        keys = keys % np.uint64(few % 7 + 1)
    if bits == 32:
        keys = keys.astype(np.uint32)
    assert radix_order(keys).tolist() == np.argsort(keys, kind="stable").tolist()


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 3000), st.integers(1, 300))
def test_part_order_is_a_stable_argsort(seed, n, count):
    parts = np.random.default_rng(seed).integers(0, count, n).astype(np.uint8 if count <= 256 else np.int64)
    order = np.empty(n, dtype=np.int32)
    bounds = sort_kernels.part_order(parts, count, order)
    assert order.tolist() == np.argsort(parts, kind="stable").tolist()
    assert bounds.tolist() == [0, *np.cumsum(np.bincount(parts, minlength=count)).tolist()]


@pytest.mark.parametrize("threads", [1, 3])
def test_sorted_groups_of_many_keys_are_all_the_records_sorted_with_each_key_in_one_shard(threads):
    rng = np.random.default_rng(7)
    keys = rng.integers(0, 2**64, 200_000, dtype=np.uint64, endpoint=False)
    keys[::3] = keys[1::3][: len(keys[::3])]  # keys shared by several records
    values = rng.integers(0, 1000, len(keys)).astype(np.int32)
    shards = list(sort_kernels.sorted_groups(keys, values, threads=threads))
    assert len(shards) > 1
    order = np.lexsort((values, keys))
    assert np.concatenate([k for k, _ in shards]).tolist() == keys[order].tolist()
    assert np.concatenate([v for _, v in shards]).tolist() == values[order].tolist()
    assert sum(len(set(k.tolist())) for k, _ in shards) == len(set(keys.tolist()))


@pytest.mark.parametrize("threads", [1, 2])
def test_sorted_groups_of_ascending_values_are_sorted_by_key_then_value(threads):
    rng = np.random.default_rng(11)  # (values ascending, as a scan's records come: sorted by key alone, stably)
    keys = rng.integers(0, 2**64, 150_000, dtype=np.uint64, endpoint=False)
    keys[1::2] = keys[::2][: len(keys[1::2])][::-1]
    values = np.sort(rng.integers(0, 5000, len(keys))).astype(np.int32)
    shards = list(sort_kernels.sorted_groups(keys, values, threads=threads))
    order = np.lexsort((values, keys))
    assert np.concatenate([k for k, _ in shards]).tolist() == keys[order].tolist()
    assert np.concatenate([v for _, v in shards]).tolist() == values[order].tolist()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 12), st.integers(0, 9)), max_size=120), st.integers(1, 12))
def test_bucket_pair_codes_are_their_definition(records, limit):
    records.sort()
    keys = np.array([k for k, _ in records], dtype=np.uint64)
    owners = np.array([o for _, o in records], dtype=np.int64)
    codes = sort_kernels.bucket_pair_codes(keys, owners, 10, limit)
    assert sorted(codes.tolist()) == reference.bucket_pairs(keys, owners, 10, limit)
