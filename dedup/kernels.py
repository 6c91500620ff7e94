"""Compiled loops (numba) for the hot spots: shingle hashing, MinHash minima, LSH band keys,
bag-of-words features, and the grouping of bucket entries of an index.

Each kernel gives exactly what the plain definitions give (tests compare the hashes with
``dedup.sign.shingle_hash`` and the signatures with datasketch's ``MinHash``), without the
``num_perm × shingles`` matrix of permuted values that numpy would need: one pass over the
shingles to pre-mix them, then one per permutation keeping its minimum. Arithmetic is done on
uint64 and masked or cut to 32 bits where datasketch's affine32 scheme works modulo 2**32.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_P = np.uint64(0x100000001B3)  # polynomial base (FNV-64 prime), as in dedup.sign
_M32 = np.uint64(0xFFFFFFFF)
_CP18 = np.uint64(0x3FFFF)  # CJK code points fit in 18 bits
_TOP = np.uint64(1 << 63)
_MIX = np.uint64(0x9E3779B97F4A7C15)  # mixes the rows of an LSH band (golden-ratio constant)


@njit(cache=True, inline="always")
def _fmix32(h):
    """MurmurHash3's 32-bit finalizer on a uint64 holding 32 bits (datasketch's affine32 pre-mix)."""
    h ^= h >> np.uint64(16)
    h = (h * np.uint64(0x85EBCA6B)) & _M32
    h ^= h >> np.uint64(13)
    h = (h * np.uint64(0xC2B2AE35)) & _M32
    return h ^ (h >> np.uint64(16))


@njit(cache=True)
def shingles(codes, cjk, cjk_ngram, word_ngram):
    """The shingles of a token string: ``(tokens in the shingle starting at each token, or 0; hashes)``.

    A shingle starts at every token: ``cjk_ngram`` tokens on a CJK one, ``word_ngram`` otherwise,
    if they fit; a text shorter than one shingle is one shingle. Its hash is the polynomial
    over the code points folded to 32 bits (``dedup.sign.shingle_hash``), taken as the
    difference of two prefix polynomials (exact modulo 2**64): no loop over each shingle.
    """
    n = len(codes)
    prefix = np.empty(n + 1, dtype=np.uint64)  # prefix[i]: the polynomial of codes[:i]
    prefix[0] = 0
    for i in range(n):
        prefix[i + 1] = prefix[i] * _P + np.uint64(codes[i])
    shift_cjk, shift_word = np.uint64(1), np.uint64(1)  # _P ** cjk_ngram, _P ** word_ngram
    for _ in range(cjk_ngram):
        shift_cjk *= _P
    for _ in range(word_ngram):
        shift_word *= _P
    lengths = np.zeros(n, dtype=np.uint8)
    hashes = np.empty(n, dtype=np.uint32)
    m = 0
    for i in range(n):
        k = cjk_ngram if cjk[i] else word_ngram
        if i + k > n:
            continue
        h = prefix[i + k] - prefix[i] * (shift_cjk if cjk[i] else shift_word)
        lengths[i] = k
        hashes[m] = np.uint32((h ^ (h >> np.uint64(32))) & _M32)
        m += 1
    if n and m == 0:
        h = prefix[n]
        lengths[0] = n
        hashes[0] = np.uint32((h ^ (h >> np.uint64(32))) & _M32)
        m = 1
    return lengths, hashes[:m].copy()


@njit(cache=True)
def _premixed(hashes):
    """``fmix32`` of each shingle hash, as uint32 (datasketch's affine32 pre-mix, done once per hash)."""
    xs = np.empty(len(hashes), dtype=np.uint32)
    for i in range(len(hashes)):
        xs[i] = np.uint32(_fmix32(np.uint64(hashes[i])))
    return xs


@njit(cache=True)
def _lower_minima(mins, xs, a, b):
    """Lower ``mins[p]`` to the least ``a[p]·x + b[p]`` mod 2**32 over the pre-mixed hashes ``xs`` (in place).

    The permutations are the outer loop: the inner one, over the hashes, is a running minimum
    of 32-bit products that the compiler turns into vector instructions.
    """
    for p in range(len(a)):
        ap, bp = a[p], b[p]
        best = mins[p]
        for i in range(len(xs)):
            best = min(best, np.uint32(ap * xs[i] + bp))
        mins[p] = best


@njit(cache=True)
def min_hashes(hashes, a, b):
    """MinHash values of a set of shingle hashes: per permutation, the least ``a·fmix32(h) + b`` mod 2**32."""
    mins = np.full(len(a), np.uint32(0xFFFFFFFF), dtype=np.uint32)
    _lower_minima(mins, _premixed(hashes), a, b)
    return mins


@njit(cache=True)
def many_min_hashes(hashes, offsets, a, b):
    """``min_hashes`` of the sets ``hashes[offsets[r]:offsets[r + 1]]``, one row each."""
    mins = np.full((len(offsets) - 1, len(a)), np.uint32(0xFFFFFFFF), dtype=np.uint32)
    for r in range(len(offsets) - 1):
        _lower_minima(mins[r], _premixed(hashes[offsets[r] : offsets[r + 1]]), a, b)
    return mins


@njit(cache=True)
def block_min_hashes(hashes, skip, stride, a, b):
    """MinHash values of consecutive blocks of ``stride`` shingles, leaving out those flagged in ``skip``.

    Returns ``(blocks × num_perm`` minima, shingles kept per block). Blocks are short, so here the
    hashes are the outer loop and the permutations the inner, vectorized one.
    """
    n = len(hashes)
    nblocks = (n + stride - 1) // stride
    mins = np.full((nblocks, len(a)), np.uint32(0xFFFFFFFF), dtype=np.uint32)
    kept = np.zeros(nblocks, dtype=np.int64)
    xs = _premixed(hashes)
    for i in range(n):
        if skip[i]:
            continue
        k = i // stride
        kept[k] += 1
        row, x = mins[k], xs[i]
        for p in range(len(a)):
            row[p] = min(row[p], np.uint32(a[p] * x + b[p]))
    return mins, kept


@njit(cache=True)
def band_keys(signatures, bands, rows, salt):
    """LSH bucket keys (``windows × bands``): each band's ``rows`` values mixed into 64 bits, xor its salt.

    Band ``b`` holds the values ``b·rows … b·rows + rows - 1`` of a signature; per value,
    ``key = (key ^ value) · MIX`` (wrapping), from 0.
    """
    out = np.empty((signatures.shape[0], bands), dtype=np.uint64)
    for w in range(signatures.shape[0]):
        for band in range(bands):
            key = np.uint64(0)
            for r in range(rows):
                key = (key ^ np.uint64(signatures[w, band * rows + r])) * _MIX
            out[w, band] = key ^ salt[band]
    return out


@njit(cache=True)
def bag_features(codes, cjk, stopwords):
    """Order-free feature of each token, 0 where none (``dedup.sign.bag_features``).

    A word token not in ``stopwords`` (sorted word codes) is its own code; a CJK
    character followed by two more gives their trigram (18 bits each, top bit set).
    """
    n = len(codes)
    out = np.zeros(n, dtype=np.uint64)
    m = len(stopwords)
    for i in range(n):
        if cjk[i]:
            if i + 2 < n and cjk[i + 1] and cjk[i + 2]:
                out[i] = (
                    ((np.uint64(codes[i]) & _CP18) << np.uint64(36))
                    | ((np.uint64(codes[i + 1]) & _CP18) << np.uint64(18))
                    | (np.uint64(codes[i + 2]) & _CP18)
                    | _TOP
                )
        else:
            code = np.uint64(codes[i])
            k = np.searchsorted(stopwords, code)
            if k == m or stopwords[k] != code:
                out[i] = code
    return out


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
