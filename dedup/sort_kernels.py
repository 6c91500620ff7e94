"""Sorting kernels shared by the stages (numba): a stable counting sort by a small part number, a stable radix
argsort of unsigned keys, and the grouping of many records by key that the LSH band shuffle asks of the local
executor (``sorted_groups``)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from dedup.compiled import njit

#: ``sorted_groups`` of many 64-bit keys sorts them a part of the key space at a time (by these top bits): many sorts
#: that fit in the processor's caches, about twice as fast as one sort of millions of records.
KEY_PART_BITS = 8


def sorted_groups(keys: np.ndarray, values: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Records ``(keys[i], values[i])`` grouped by key in one process, as shards sorted by key, then value, all of a
    key's records in one (``group_by_key`` of the local executor; see ``dedup.executors``): one shard, or for many
    unsigned 64-bit keys one per value of their top ``KEY_PART_BITS`` bits, gathered a part at a time (the records
    are not copied whole: beside them, 4 bytes and 1 a record while it runs)."""
    if len(keys) < 1 << 16 or keys.dtype != np.uint64:
        order = np.lexsort((values, keys))
        yield keys[order], values[order]
        return
    top = (keys >> np.uint64(64 - KEY_PART_BITS)).astype(np.uint8)
    order = np.empty(len(keys), dtype=np.int32 if len(keys) < 1 << 31 else np.int64)
    bounds = part_order(top, 1 << KEY_PART_BITS, order).tolist()
    del top
    ascending = bool(np.all(values[1:] >= values[:-1]))  # (as a scan's records come: then a stable sort by key will do)
    for a, b in zip(bounds, bounds[1:]):
        if b > a:
            at = order[a:b]
            k, v = keys[at], values[at]
            part = radix_order(k, 64) if ascending else np.lexsort((v, k))
            yield k[part], v[part]


@njit(cache=True, nogil=True)
def part_order(parts, count, order):
    """Fill ``order`` with the positions of ``parts`` (values below ``count``) grouped by value, each group in
    position order (a stable counting sort); returns where each value's group starts, and one bound more."""
    bounds = np.zeros(count + 1, dtype=np.int64)
    for p in parts:
        bounds[p + 1] += 1
    for k in range(count):
        bounds[k + 1] += bounds[k]
    at = bounds[:-1].copy()
    for i in range(len(parts)):
        p = parts[i]
        order[at[p]] = i
        at[p] += 1
    return bounds


@njit(cache=True, nogil=True)
def radix_order(keys, bits):
    """The order that sorts ``keys`` (unsigned, below ``2**bits``), stable: least significant byte first, one
    counting pass a byte, the keys moved with their places (much faster than numpy's stable argsort of 32- and
    64-bit keys)."""
    n = len(keys)
    order, spare = np.arange(n), np.empty(n, dtype=np.int64)
    cur, other = keys.copy(), np.empty_like(keys)
    counts = np.empty((bits + 7) // 8 * 256, dtype=np.int64).reshape(-1, 256)
    counts[:] = 0
    for t in range(n):  # every byte's histogram in one pass
        k = cur[t]
        for p in range(counts.shape[0]):
            counts[p, (k >> (8 * p)) & 0xFF] += 1
    for p in range(counts.shape[0]):
        if counts[p].max() == n:  # (all keys alike in this byte: nothing to move)
            continue
        start, total = np.empty(256, dtype=np.int64), 0
        for b in range(256):
            start[b] = total
            total += counts[p, b]
        for t in range(n):
            b = (cur[t] >> (8 * p)) & 0xFF
            other[start[b]] = cur[t]
            spare[start[b]] = order[t]
            start[b] += 1
        order, spare = spare, order
        cur, other = other, cur
    return order
