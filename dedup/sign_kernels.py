"""Compiled loops (numba) of the sign stage: shingle hashing, MinHash minima, LSH band keys and
bag-of-words features.

Each kernel gives exactly what the plain definitions give (tests compare the hashes with the reference
shingle hash of ``tests/reference.py`` and the signatures with datasketch's ``MinHash``), without the
``num_perm × shingles`` matrix of permuted values that numpy would need: one pass over the
shingles to pre-mix them, then one per permutation keeping its minimum. Arithmetic is done on
uint64 and masked or cut to 32 bits where datasketch's affine32 scheme works modulo 2**32.
"""

from __future__ import annotations

import numpy as np

from dedup.compiled import njit

_P = np.uint64(0x100000001B3)  # polynomial base (FNV-64 prime), the shingle hash
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
    over the code points folded to 32 bits (see ``dedup.sign``), taken as the
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
def digest(codes):
    """Two 64-bit hashes of a token string (``uint64[2]``): FNV-1a and a multiplicative polynomial over its code
    points, each with its own start, then mixed with the length. The same strings give the same; two others almost
    never (and what uses them checks the strings)."""
    a = np.uint64(0xCBF29CE484222325)
    b = np.uint64(0x243F6A8885A308D3)
    for c in codes:
        a = (a ^ np.uint64(c)) * np.uint64(0x100000001B3)
        b = b * _MIX + np.uint64(c) + np.uint64(1)
    out = np.empty(2, dtype=np.uint64)
    n = np.uint64(len(codes))
    out[0] = (a ^ (a >> np.uint64(29)) ^ n) * np.uint64(0xBF58476D1CE4E5B9)
    out[1] = (b ^ (b >> np.uint64(31)) ^ n) * np.uint64(0x94D049BB133111EB)
    return out


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
def many_min_hashes(hashes, offsets, a, b):
    """MinHash values of the sets of shingle hashes ``hashes[offsets[r]:offsets[r + 1]]``, one row each: per
    permutation, the least ``a·fmix32(h) + b`` mod 2**32."""
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
