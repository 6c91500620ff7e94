"""Compiled loops (numba) over sets and groups of hashes and keys: distinct values per document, documents'
long-shingle sets flagged at their edges (boilerplate), hash frequencies, and the grouping of an index's
bucket entries into rows and their lookup.

Tests compare each with its plain definition (numpy sorts, Python sets).
"""

from __future__ import annotations

import numpy as np

from dedup.compiled import njit
from dedup.sign_kernels import shingles


#: ``group_by_prefix`` counts entries per prefix in one array when the prefixes span up to this many values.
_COUNTED_SPAN = 1 << 22


@njit(cache=True, nogil=True)
def group_by_prefix(keys, ids, shift):
    """Bucket entries ``(keys, ids)`` grouped by key prefix (``key >> shift``), in prefix order (stable), each
    key cut to its low 32 bits (what a bucket row keeps of it).

    One counting pass when the prefixes span up to ``_COUNTED_SPAN`` values (the counts give the rows;
    2 million entries over 8,192 prefixes: 21 ms, where radix passes that carried the whole keys took 55
    ms), else a stable sort of the prefixes. Returns the reordered keys' low 32 bits and ids, the
    prefixes present and where each one's entries start (one bound more, at the end).
    """
    n = len(keys)
    if n == 0:
        return np.zeros(0, dtype=np.uint32), ids.copy(), np.zeros(0, dtype=np.int64), np.zeros(1, dtype=np.int64)
    low = keys[0] >> shift
    high = low
    for k in keys:
        p = k >> shift
        low = min(low, p)
        high = max(high, p)
    suffixes = np.empty(n, dtype=np.uint32)
    out_ids = np.empty_like(ids)
    if high - low >= _COUNTED_SPAN:  # few entries a prefix, spread wide
        order = np.argsort(keys >> shift, kind="mergesort")
        present = 0
        for i in range(n):
            k = keys[order[i]]
            suffixes[i] = np.uint32(k & np.uint64(0xFFFFFFFF))
            out_ids[i] = ids[order[i]]
            if i == 0 or (k >> shift) != (keys[order[i - 1]] >> shift):
                present += 1
        prefixes = np.empty(present, dtype=np.int64)
        bounds = np.empty(present + 1, dtype=np.int64)
        r = 0
        for i in range(n):
            p = keys[order[i]] >> shift
            if i == 0 or p != (keys[order[i - 1]] >> shift):
                prefixes[r] = np.int64(p)
                bounds[r] = i
                r += 1
        bounds[present] = n
        return suffixes, out_ids, prefixes, bounds
    span = np.int64(high - low) + 1
    starts = np.zeros(span + 1, dtype=np.int64)
    for k in keys:
        starts[np.int64((k >> shift) - low) + 1] += 1
    present = 0
    for c in range(span):
        present += starts[c + 1] > 0
        starts[c + 1] += starts[c]
    prefixes = np.empty(present, dtype=np.int64)
    bounds = np.empty(present + 1, dtype=np.int64)
    r = 0
    for c in range(span):
        if starts[c + 1] > starts[c]:
            prefixes[r] = np.int64(low) + c
            bounds[r] = starts[c]
            r += 1
    bounds[present] = n
    for i in range(n):
        k = keys[i]
        c = np.int64((k >> shift) - low)
        j = starts[c]
        suffixes[j] = np.uint32(k & np.uint64(0xFFFFFFFF))
        out_ids[j] = ids[i]
        starts[c] = j + 1
    return suffixes, out_ids, prefixes, bounds


@njit(cache=True, inline="always")
def _longest(offsets):
    """The length of the longest segment ``offsets[s]:offsets[s + 1]`` (at least 1)."""
    longest = 1
    for s in range(len(offsets) - 1):
        longest = max(longest, offsets[s + 1] - offsets[s])
    return longest


@njit(cache=True, inline="always")
def _slots_for(n):
    """The slots of a hash table for ``n`` values: the power of two at least twice ``n``."""
    size = 1
    while size < 2 * n:
        size *= 2
    return size


@njit(cache=True, inline="always")
def _slot(table, stamp, mark, value, mask):
    """Where ``value`` is in an open-addressing hash table (its slots whose ``stamp`` is ``mark`` are in use),
    else the free slot it goes in: the value's low bits (``mask``) pick the first slot looked at."""
    slot = np.int64(np.uint64(value) & np.uint64(mask))
    while stamp[slot] == mark and table[slot] != value:
        slot = np.int64((np.uint64(slot) + np.uint64(1)) & np.uint64(mask))
    return slot


@njit(cache=True)
def distinct_segments(values, offsets):
    """The distinct values of each segment ``values[offsets[s]:offsets[s + 1]]`` (in order of first
    occurrence), one segment after the other, and how many each has: a hash set per segment (the values
    are hashes: their low bits pick the slot), instead of a sort of each."""
    out = np.empty(len(values), dtype=values.dtype)
    counts = np.zeros(len(offsets) - 1, dtype=np.int64)
    size = _slots_for(_longest(offsets))
    table = np.empty(size, dtype=values.dtype)
    stamp = np.zeros(size, dtype=np.int64)  # slot in use by segment ``stamp - 1``
    m = 0
    for s in range(len(offsets) - 1):
        mask = _slots_for(offsets[s + 1] - offsets[s]) - 1  # the start of the table: it stays in cache
        for i in range(offsets[s], offsets[s + 1]):
            v = values[i]
            slot = _slot(table, stamp, s + 1, v, mask)
            if stamp[slot] != s + 1:
                stamp[slot] = s + 1
                table[slot] = v
                out[m] = v
                m += 1
                counts[s] += 1
    return out[:m], counts


@njit(cache=True)
def grouped_coded(values, counts, groups):
    """``HashSets`` values of one part (``low bits << 1 | flag``; ``counts[d]`` of document ``d``, one after the
    other) coded for ``run_frequencies`` with each document's group: ``low bits << 33 | group << 1 | flag``."""
    out = np.empty(len(values), dtype=np.uint64)
    i = 0
    for d in range(len(counts)):
        group = np.uint64(groups[d]) << np.uint64(1)
        for _ in range(counts[d]):
            v = np.uint64(values[i])
            out[i] = ((v >> np.uint64(1)) << np.uint64(33)) | group | (v & np.uint64(1))
            i += 1
    return out


@njit(cache=True)
def run_frequencies(coded, min_docs):
    """Per run of ``coded`` (sorted ``hash << 33 | group << 1 | flag``, one per document holding the hash)
    of at least ``min_docs``: the hash, the run's length, how many are flagged, how many distinct groups."""
    n = len(coded)
    most = n // min_docs + 1
    hashes = np.empty(most, dtype=np.uint64)
    docs = np.empty(most, dtype=np.int64)
    flagged = np.empty(most, dtype=np.int64)
    groups = np.empty(most, dtype=np.int64)
    m = 0
    i = 0
    while i < n:
        h = coded[i] >> np.uint64(33)
        f = 0
        g = 1
        j = i
        while j < n and (coded[j] >> np.uint64(33)) == h:
            f += np.int64(coded[j] & np.uint64(1))
            if j > i and (coded[j] >> np.uint64(1)) != (coded[j - 1] >> np.uint64(1)):
                g += 1
            j += 1
        if j - i >= min_docs:
            hashes[m] = h
            docs[m] = j - i
            flagged[m] = f
            groups[m] = g
            m += 1
        i = j
    return hashes[:m], docs[:m], flagged[:m], groups[:m]


@njit(cache=True, nogil=True)
def hash_filter(hashes, bits):
    """A bit table of ``2**bits`` bits with the bit of each hash's top ``bits`` bits set (uint64 words)."""
    table = np.zeros(max(1, (1 << bits) >> 6), dtype=np.uint64)
    shift = np.uint32(32 - bits)
    for h in hashes:
        slot = np.uint64(np.uint32(h) >> shift)
        table[slot >> np.uint64(6)] |= np.uint64(1) << (slot & np.uint64(63))
    return table


@njit(cache=True, nogil=True)
def filter_part(values, counts, table, bits, low_bits, part):
    """One part's ``HashSets`` values (``part``; ``counts[d]`` of document ``d``, one after the other) whose hash has
    its bit set in ``table`` (``hash_filter`` of ``bits``): the values kept and how many each document keeps."""
    out = np.empty_like(values)
    kept = np.zeros_like(counts)
    shift = np.uint32(32 - bits)
    top = np.uint32(part) << np.uint32(low_bits)
    i = 0
    m = 0
    for d in range(len(counts)):
        for _ in range(counts[d]):
            v = values[i]
            i += 1
            slot = np.uint64((top | (v >> np.uint32(1))) >> shift)
            if table[slot >> np.uint64(6)] & (np.uint64(1) << (slot & np.uint64(63))):
                out[m] = v
                m += 1
                kept[d] += 1
    return out[:m].copy(), kept


@njit(cache=True)
def group_parts(values, part_of, sizes, parts):
    """Documents' values (``sizes[d]`` of document ``d``, one after the other) grouped by their part
    (``part_of``, below ``parts``), in document order within a part; and how many each document has in each
    part (``documents × parts``). A counting sort."""
    counts = np.zeros((len(sizes), parts), dtype=np.int64)
    i = 0
    for d in range(len(sizes)):
        for _ in range(sizes[d]):
            counts[d, part_of[i]] += 1
            i += 1
    fill = np.zeros(parts, dtype=np.int64)
    for p in range(1, parts):
        fill[p] = fill[p - 1] + counts[:, p - 1].sum()
    out = np.empty_like(values)
    for i in range(len(values)):
        p = part_of[i]
        out[fill[p]] = values[i]
        fill[p] += 1
    return out, counts


@njit(cache=True)
def edge_flagged(hashes, shingle_lengths, edge):
    """Each shingle's hash ``<< 1``, bit 0 set when the shingle reaches into the first or last ``edge``
    (a share) of the tokens; ``shingle_lengths`` has one entry per token (0: no shingle starts there)."""
    n = len(shingle_lengths)
    out = np.empty(len(hashes), dtype=np.uint64)
    k = 0
    for i in range(n):
        length = shingle_lengths[i]
        if length:
            at = i < edge * n or i + length > (1 - edge) * n
            out[k] = (np.uint64(hashes[k]) << np.uint64(1)) | np.uint64(at)
            k += 1
    return out


@njit(cache=True)
def edge_flagged_shingles(codes, cjk, cjk_ngram, word_ngram, edge):
    """``edge_flagged`` of the ``shingles`` of a token string, in one call."""
    lengths, hashes = shingles(codes, cjk, cjk_ngram, word_ngram)
    return edge_flagged(hashes, lengths, edge)


@njit(cache=True)
def long_shingle_sets(codes, cjk, offsets, cjk_ngram, word_ngram, edge, low_bits, parts):
    """``HashSets`` arrays of documents' shingles, flagged at an edge, in one call: per document (tokens
    ``offsets[d]:offsets[d + 1]`` of ``codes`` and ``cjk``), its distinct shingle hashes (``shingles``, in order
    of first occurrence), each flagged if any of its occurrences is at an edge (``edge_flagged``), coded as
    ``low bits << 1 | flag`` and grouped by part (the hash's bits above ``low_bits``; ``group_parts``).

    A hash set per document (the hashes pick their slot) instead of a sort of each."""
    n = len(codes)
    coded = np.empty(n, dtype=np.uint32)
    part_of = np.empty(n, dtype=np.uint8)
    sizes = np.zeros(len(offsets) - 1, dtype=np.int64)
    size = _slots_for(_longest(offsets))
    table = np.empty(size, dtype=np.uint32)
    at = np.empty(size, dtype=np.int64)  # where the slot's hash is in ``coded``
    stamp = np.zeros(size, dtype=np.int64)  # slot in use by document ``stamp - 1``
    low = np.uint32((1 << low_bits) - 1)
    m = 0
    for d in range(len(offsets) - 1):
        a, b = offsets[d], offsets[d + 1]
        flagged = edge_flagged_shingles(codes[a:b], cjk[a:b], cjk_ngram, word_ngram, edge)
        mask = _slots_for(len(flagged)) - 1  # the start of the table: it stays in cache
        for f in flagged:
            h = np.uint32(f >> np.uint64(1))
            slot = _slot(table, stamp, d + 1, h, mask)
            if stamp[slot] == d + 1:
                coded[at[slot]] |= np.uint32(f & np.uint64(1))
            else:
                stamp[slot] = d + 1
                table[slot] = h
                at[slot] = m
                coded[m] = ((h & low) << np.uint32(1)) | np.uint32(f & np.uint64(1))
                part_of[m] = np.uint8(h >> np.uint32(low_bits))
                m += 1
                sizes[d] += 1
    return group_parts(coded[:m], part_of[:m], sizes, parts)


@njit(cache=True)
def flagged_runs(flagged):
    """Of sorted ``hash << 1 | flag`` values: each hash once, and whether any of its values is flagged."""
    n = len(flagged)
    hashes = np.empty(n, dtype=np.uint32)
    flags = np.empty(n, dtype=np.bool_)
    m = 0
    for i in range(n):
        if i + 1 == n or (flagged[i + 1] >> np.uint64(1)) != (flagged[i] >> np.uint64(1)):
            hashes[m] = np.uint32(flagged[i] >> np.uint64(1))
            flags[m] = (flagged[i] & np.uint64(1)) == np.uint64(1)
            m += 1
    return hashes[:m], flags[:m]


@njit(cache=True)
def match_rows(cut, prefixes, bounds, suffixes, ids):
    """Bucket row entries whose key is one of ``cut`` (sorted ``prefix << 32 | low 32 bits`` of the keys
    looked up): for each, where its key is in ``cut``, and its id. Row ``r`` has prefix ``prefixes[r]`` and
    the entries ``bounds[r]:bounds[r + 1]`` of ``suffixes`` (low 32 bits of their keys) and ``ids``."""
    at = np.empty(len(suffixes), dtype=np.int64)
    found = np.empty(len(suffixes), dtype=np.uint32)
    m = 0
    for r in range(len(prefixes)):
        lo = np.searchsorted(cut, prefixes[r] << np.uint64(32))
        hi = lo
        while hi < len(cut) and (cut[hi] >> np.uint64(32)) == prefixes[r]:
            hi += 1
        for e in range(bounds[r], bounds[r + 1]):
            s = np.uint64(suffixes[e])
            for q in range(lo, hi):
                if (cut[q] & np.uint64(0xFFFFFFFF)) == s:
                    at[m] = q
                    found[m] = ids[e]
                    m += 1
    return at[:m], found[:m]
