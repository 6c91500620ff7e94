"""Set operations on numpy arrays of hashes and keys, shared by the stages (sorting, not hashing)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np


def member(values: np.ndarray, sorted_set: np.ndarray) -> np.ndarray:
    """``np.isin(values, sorted_set)`` for a sorted array, without re-sorting it on every call."""
    if len(sorted_set) == 0:
        return np.zeros(len(values), dtype=bool)
    idx = np.searchsorted(sorted_set, values)
    idx[idx == len(sorted_set)] = 0
    return sorted_set[idx] == values


def run_starts(values: np.ndarray) -> np.ndarray:
    """True where a run of equal values starts (on sorted values: the first of each distinct value)."""
    first = np.ones(len(values), dtype=bool)
    first[1:] = values[1:] != values[:-1]
    return first


def distinct(values: np.ndarray) -> np.ndarray:
    """``np.unique(values)`` by sorting: many times faster than numpy 2's hashing ``unique`` on small arrays."""
    out = np.sort(values)
    return out[run_starts(out)]


#: ``sorted_groups`` of many 64-bit keys sorts them a part of the key space at a time (by these top bits): many sorts
#: that fit in the processor's caches, about twice as fast as one sort of millions of records.
KEY_PART_BITS = 8


def sorted_groups(keys: np.ndarray, values: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Records ``(keys[i], values[i])`` grouped by key in one process, as shards sorted by key, then value, all of a
    key's records in one (``group_by_key`` of the local executor; see ``dedup.executors``): one shard, or for many
    unsigned 64-bit keys one per value of their top ``KEY_PART_BITS`` bits."""
    if len(keys) < 1 << 16 or keys.dtype != np.uint64:
        order = np.lexsort((values, keys))
        yield keys[order], values[order]
        return
    top = (keys >> np.uint64(64 - KEY_PART_BITS)).astype(np.uint8)
    bounds = np.concatenate([[0], np.cumsum(np.bincount(top, minlength=1 << KEY_PART_BITS))]).tolist()
    order = np.argsort(top, kind="stable")  # (a counting sort of bytes)
    del top
    keys, values = keys[order], values[order]
    del order
    for a, b in zip(bounds, bounds[1:]):
        if b > a:
            part = np.lexsort((values[a:b], keys[a:b]))
            yield keys[a:b][part], values[a:b][part]
