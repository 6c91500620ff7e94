"""Sorting kernels shared by the stages (numba): a stable counting sort by a small part number, a stable radix
argsort of unsigned keys, and the grouping of many records by key that the LSH band shuffle asks of the local
executor (``sorted_groups``)."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from dedup.compiled import njit

#: ``sorted_groups`` of many 64-bit keys sorts them a part of the key space at a time (by these top bits): many sorts
#: that fit in the processor's caches, about twice as fast as one sort of millions of records.
KEY_PART_BITS = 8


def sorted_groups(keys: np.ndarray, values: np.ndarray, *, threads: int = 1) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Records ``(keys[i], values[i])`` grouped by key in one process, as shards sorted by key, then value, all of a
    key's records in one (``group_by_key`` of the local executor; see ``dedup.executors``): one shard, or for many
    unsigned 64-bit keys one per value of their top ``KEY_PART_BITS`` bits, gathered a part at a time (the records
    are not copied whole: beside them, 4 bytes and 1 a record while it runs). With ``threads`` above 1, that many
    parts are sorted at once, ahead of the one handed on (the compiled sort runs without the GIL)."""
    if len(keys) < 1 << 16 or keys.dtype != np.uint64:
        order = np.lexsort((values, keys))
        yield keys[order], values[order]
        return
    top = (keys >> np.uint64(64 - KEY_PART_BITS)).astype(np.uint8)
    order = np.empty(len(keys), dtype=np.int32 if len(keys) < 1 << 31 else np.int64)
    bounds = part_order(top, 1 << KEY_PART_BITS, order).tolist()
    del top
    ascending = bool(np.all(values[1:] >= values[:-1]))  # (as a scan's records come: then a stable sort by key will do)

    def part(at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if ascending:
            return gathered_by_key(keys, values, at)
        k, v = keys[at], values[at]
        by_key = np.lexsort((v, k))
        return k[by_key], v[by_key]

    parts = [order[a:b] for a, b in zip(bounds, bounds[1:]) if b > a]
    if threads <= 1:
        yield from map(part, parts)
        return
    with ThreadPoolExecutor(threads) as pool:
        ahead: deque = deque()
        for at in parts:
            ahead.append(pool.submit(part, at))
            if len(ahead) > threads:
                yield ahead.popleft().result()
        while ahead:
            yield ahead.popleft().result()


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
def radix_order(keys):
    """The order that sorts ``keys`` (unsigned integers), stable (``gathered_by_key`` of the places: much faster
    than numpy's stable argsort of 32- and 64-bit keys)."""
    places = np.arange(len(keys))
    return gathered_by_key(keys, places, places)[1]


@njit(cache=True, nogil=True)
def bucket_pair_codes(keys, owners, span, limit):
    """The owner pairs of buckets, coded ``i * span + j`` (``i < j``), one per bucket they share, in bucket order: of
    records sorted by key, then owner. A bucket is a run of one key; its owners are counted once each, and a bucket
    of fewer than 2 or more than ``limit`` owners makes none."""
    n = len(keys)
    total, i = 0, 0
    while i < n:
        j, distinct = _bucket(keys, owners, i)
        if 2 <= distinct <= limit:
            total += distinct * (distinct - 1) // 2
        i = j
    out = np.empty(total, dtype=np.int64)
    members = np.empty(max(1, min(limit, n)), dtype=np.int64)
    k, i = 0, 0
    while i < n:
        j, distinct = _bucket(keys, owners, i)
        if 2 <= distinct <= limit:
            m = 0
            for t in range(i, j):
                if t == i or owners[t] != owners[t - 1]:
                    members[m] = owners[t]
                    m += 1
            for x in range(m):
                for y in range(x + 1, m):
                    out[k] = members[x] * span + members[y]
                    k += 1
        i = j
    return out


@njit(cache=True, nogil=True)
def _bucket(keys, owners, i):
    """Where the run of ``keys[i]`` ends, and how many distinct owners it holds (owners sorted within it)."""
    j, distinct = i + 1, 1
    while j < len(keys) and keys[j] == keys[i]:
        if owners[j] != owners[j - 1]:
            distinct += 1
        j += 1
    return j, distinct


@njit(cache=True, nogil=True)
def gathered_by_key(keys, values, at):
    """``(keys[at], values[at])`` sorted by key, stably (``radix_order``'s sort: a byte a pass, least significant
    first, bytes where all keys are alike skipped), the records moved with their keys."""
    n = len(at)
    cur_k, cur_v = np.empty(n, dtype=keys.dtype), np.empty(n, dtype=values.dtype)
    for t in range(n):
        cur_k[t], cur_v[t] = keys[at[t]], values[at[t]]
    other_k, other_v = np.empty_like(cur_k), np.empty_like(cur_v)
    bytes_ = keys.itemsize
    counts = np.zeros((bytes_, 256), dtype=np.int64)
    for t in range(n):
        k = cur_k[t]
        for p in range(bytes_):
            counts[p, (k >> (8 * p)) & 0xFF] += 1
    for p in range(bytes_):
        if counts[p].max() == n:
            continue
        start, total = np.empty(256, dtype=np.int64), 0
        for b in range(256):
            start[b] = total
            total += counts[p, b]
        for t in range(n):
            b = (cur_k[t] >> (8 * p)) & 0xFF
            other_k[start[b]], other_v[start[b]] = cur_k[t], cur_v[t]
            start[b] += 1
        cur_k, other_k = other_k, cur_k
        cur_v, other_v = other_v, cur_v
    return cur_k, cur_v
