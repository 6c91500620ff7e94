"""Compiled loops (numba) of an alignment: the seeds two documents share, their exact fragments, similar
sentences, and the chaining of fragments into passages.

Most candidate pairs share only stock phrases and are settled here, in microseconds, without a Python object
per seed; ``dedup.seed`` and ``dedup.align`` call them on the arrays of a document's ``ShingleIndex``.
``tests/reference.py`` has a plain-Python reference of each, and the tests compare them on random inputs.
"""

from __future__ import annotations

import numpy as np

from dedup.compiled import njit
from dedup.sort_kernels import radix_order


@njit(cache=True, nogil=True)
def shared_shingles(va, sta, ca, oa, pos_a, len_a, vb, stb, cb, ob, pos_b):
    """Shingles two documents share, as an ``(m, 3)`` array of (token in a, token in b, length in tokens).

    Each document's shingles come grouped by hash: the distinct hashes ``v`` (sorted), where each one's group
    starts (``st``) in ``o`` (shingle numbers sorted by hash) and its size (``c``); ``pos``/``len_a``: where each
    shingle starts and its length. Every shingle of a group in a meets every one of the same hash in b: a merge
    of the two sorted hash lists, in the order of the hashes, then of a's and b's shingles in their groups.
    """
    ma, mb = _matching(va, vb)
    total = 0
    for t in range(len(ma)):
        total += ca[ma[t]] * cb[mb[t]]
    out = np.empty((total, 3), dtype=np.int64)
    k = 0
    for t in range(len(ma)):
        i, j = ma[t], mb[t]
        for x in range(sta[i], sta[i] + ca[i]):
            sa = oa[x]
            for y in range(stb[j], stb[j] + cb[j]):
                out[k, 0] = pos_a[sa]
                out[k, 1] = pos_b[ob[y]]
                out[k, 2] = len_a[sa]
                k += 1
    return out


@njit(cache=True, nogil=True)
def _matching(va, vb):
    """Where two sorted arrays of distinct values hold the same value: its index in each (a merge whose steps do
    not branch on the comparison, which random hashes make unpredictable)."""
    ma = np.empty(min(len(va), len(vb)), dtype=np.int64)
    mb = np.empty_like(ma)
    i, j, n = 0, 0, 0
    while i < len(va) and j < len(vb):
        x, y = va[i], vb[j]
        ma[n], mb[n] = i, j
        n += x == y
        i += x <= y
        j += y <= x
    return ma[:n], mb[:n]


@njit(cache=True, nogil=True)
def diagonal_runs(seeds):
    """Exact fragments: seeds on one diagonal (token in a minus token in b) that overlap or touch, joined; as
    ``(a0, a1, b0, b1)`` rows sorted by ``a0``, and by diagonal where ``a0`` is the same."""
    m = len(seeds)
    if m == 0:
        return np.zeros((0, 4), dtype=np.int64)
    low, high, top = seeds[0, 0] - seeds[0, 1], seeds[0, 0] - seeds[0, 1], 0
    for s in range(m):
        low = min(low, seeds[s, 0] - seeds[s, 1])
        high = max(high, seeds[s, 0] - seeds[s, 1])
        top = max(top, seeds[s, 0])
    keys = np.empty(m, dtype=np.uint64)  # (diagonal, token in a): one key each, a seed per pair of tokens
    for s in range(m):
        keys[s] = (seeds[s, 0] - seeds[s, 1] - low) * (top + 1) + seeds[s, 0]
    order = radix_order(keys)
    runs = np.empty((m, 4), dtype=np.int64)
    r = -1
    diag, end = 0, 0
    for t in range(m):
        s = order[t]
        pa, d, e = seeds[s, 0], seeds[s, 0] - seeds[s, 1], seeds[s, 0] + seeds[s, 2]
        if r < 0 or d != diag or pa > end:
            r += 1
            runs[r, 0], runs[r, 1] = pa, e
            diag, end = d, e
        elif e > end:
            end = e
            runs[r, 1] = e
        runs[r, 2], runs[r, 3] = runs[r, 0] - diag, runs[r, 1] - diag
    runs = runs[: r + 1]
    return runs[radix_order(runs[:, 0].astype(np.uint64))]  # (stable: by diagonal where a0 is the same)


@njit(cache=True, nogil=True)
def similar_sentences(
    sent_a, fv_a, fs_a, size_a, starts_a, sent_b, fv_b, fs_b, size_b, starts_b, min_dice, min_features, max_per_feature,
    dense_cells,
):
    """Sentence pairs whose feature sets have a Dice coefficient of at least ``min_dice`` (each with at least
    ``min_features`` features), as ``(a0, a1, b0, b1)`` token ranges, sorted by sentence in a, then in b.

    Each document's distinct (sentence, feature) rows come grouped by feature: the distinct features ``fv``
    (sorted), and where each one's rows start in ``sent`` (their sentences; ``fs``, one bound more at the
    end); ``size``: distinct features per sentence; ``starts``: each sentence's first token, and the number of
    tokens at the end. A feature found in more than ``max_per_feature`` sentences of b is left out (it says
    little). The features the sentence pairs share are counted in a table of sentences of a by sentences of b
    when it has up to ``dense_cells`` cells, else by sorting.
    """
    na, nb = len(starts_a) - 1, len(starts_b) - 1
    ma, mb = _matching(fv_a, fv_b)
    total = 0
    for t in range(len(ma)):
        rows_b = fs_b[mb[t] + 1] - fs_b[mb[t]]
        if rows_b <= max_per_feature:
            total += (fs_a[ma[t] + 1] - fs_a[ma[t]]) * rows_b
    # each sentence pair that shares a feature: its sentences, and how many features it shares
    rows, cols, counts = np.empty(total, dtype=np.int64), np.empty(total, dtype=np.int64), np.empty(total, dtype=np.int64)
    n = 0
    if na * nb <= dense_cells:  # counted in a table as they are met (no list of every shared feature, no division)
        table = np.zeros(na * nb, dtype=np.int32)
        for t in range(len(ma)):
            i, j = ma[t], mb[t]
            if fs_b[j + 1] - fs_b[j] <= max_per_feature:
                for x in range(fs_a[i], fs_a[i + 1]):
                    r = sent_a[x]
                    for y in range(fs_b[j], fs_b[j + 1]):
                        cell = r * nb + sent_b[y]
                        if table[cell] == 0:
                            rows[n], cols[n] = r, sent_b[y]
                            n += 1
                        table[cell] += 1
        for t in range(n):
            counts[t] = table[rows[t] * nb + cols[t]]
    else:  # or sorted
        every = np.empty(total, dtype=np.int64)  # a key for each feature a sentence pair shares: a's * nb + b's
        k = 0
        for t in range(len(ma)):
            i, j = ma[t], mb[t]
            if fs_b[j + 1] - fs_b[j] <= max_per_feature:
                for x in range(fs_a[i], fs_a[i + 1]):
                    for y in range(fs_b[j], fs_b[j + 1]):
                        every[k] = sent_a[x] * nb + sent_b[y]
                        k += 1
        every.sort()
        t = 0
        while t < total:
            u = t
            while u < total and every[u] == every[t]:
                u += 1
            rows[n], cols[n], counts[n] = every[t] // nb, every[t] % nb, u - t
            n += 1
            t = u
    similar = np.empty(n, dtype=np.int64)
    m = 0
    for t in range(n):
        r, c = rows[t], cols[t]
        if size_a[r] >= min_features and size_b[c] >= min_features:
            if 2 * counts[t] / max(size_a[r] + size_b[c], 1) >= min_dice:
                similar[m] = r * nb + c
                m += 1
    similar = np.sort(similar[:m])
    out = np.empty((m, 4), dtype=np.int64)
    for t in range(m):
        r, c = similar[t] // nb, similar[t] % nb
        out[t, 0], out[t, 1], out[t, 2], out[t, 3] = starts_a[r], starts_a[r + 1], starts_b[c], starts_b[c + 1]
    return out


@njit(cache=True, nogil=True)
def by_start(frags):
    """Fragments sorted by ``a0``, the longer first where ``a0`` is the same, else in their order (stable)."""
    m = len(frags)
    top = 0
    for f in range(m):
        top = max(top, frags[f, 1])
    keys = np.empty(m, dtype=np.uint64)
    for f in range(m):
        keys[f] = frags[f, 0] * (top + 1) + (top - frags[f, 1])
    return frags[radix_order(keys)]  # (stable)


@njit(cache=True, nogil=True)
def chain_fragments(frags, wa, wb, max_gap, min_size):
    """Fragments (sorted by ``a0``) chained into passages; see ``dedup.align.chain``.

    ``wa``/``wb``: cumulative token weights of the two documents. Returns the chains at least ``min_size`` on
    both sides, in the order they were started, each with the small fragments that sat far from the rest at
    its ends left out: their ``(a0, a1, b0, b1)`` bounds, their fragments (``parts``, each chain's in the
    order they joined it, the chains' one after another, chain ``k``'s from ``first[k]`` to ``first[k + 1]``),
    and the weight of the text of a inside its bounds that they cover (``matched``, ``covered_weight``).
    """
    m = len(frags)
    ca0, ca1 = np.empty(m, dtype=np.int64), np.empty(m, dtype=np.int64)
    cb0, cb1 = np.empty(m, dtype=np.int64), np.empty(m, dtype=np.int64)
    diagonal = np.empty(m, dtype=np.int64)  # of each chain's last fragment
    chain_of = np.full(m, -1, dtype=np.int64)  # the chain each fragment joined (-1: none)
    open_ = np.empty(m, dtype=np.int64)  # chains that may still grow, oldest first
    n_open, n = 0, 0
    for f in range(m):
        a0, a1, b0, b1 = frags[f, 0], frags[f, 1], frags[f, 2], frags[f, 3]
        kept = 0
        for t in range(n_open):
            c = open_[t]
            if wa[a0] - wa[ca1[c]] <= max_gap:
                open_[kept] = c
                kept += 1
        n_open = kept
        best, best_gap = -1, 0.0
        for t in range(n_open):
            c = open_[t]
            if a1 <= ca1[c] and cb0[c] <= b0 and b1 <= cb1[c]:
                best, best_gap = c, -1.0  # already inside
                break
            ga = wa[a0] - wa[ca1[c]]
            gb = wb[b0] - wb[cb1[c]] if b0 >= cb1[c] else -(wb[cb1[c]] - wb[b0])
            if ga > max_gap or gb > max_gap:
                continue
            if b1 <= cb1[c] or b0 < cb0[c]:  # going backwards on b: a different passage
                continue
            if max(0.0, -ga) > wa[a1] - wa[a0] or max(0.0, -gb) > wb[b1] - wb[b0]:
                continue
            if abs((a0 - b0) - diagonal[c]) > max_gap:  # a jump to another alignment
                continue
            gap = max(ga, gb)
            if best < 0 or gap < best_gap:
                best, best_gap = c, gap
        if best < 0:
            ca0[n], ca1[n], cb0[n], cb1[n], diagonal[n] = a0, a1, b0, b1, a0 - b0
            chain_of[f] = n
            open_[n_open] = n
            n_open += 1
            n += 1
        elif best_gap >= 0 or a1 > ca1[best] or b1 > cb1[best]:
            ca1[best], cb1[best] = max(ca1[best], a1), max(cb1[best], b1)
            diagonal[best] = a0 - b0
            chain_of[f] = best
    # each chain's fragments, in order
    sizes = np.zeros(n + 1, dtype=np.int64)
    for f in range(m):
        if chain_of[f] >= 0:
            sizes[chain_of[f] + 1] += 1
    place = np.cumsum(sizes)
    members = np.empty(place[n], dtype=np.int64)
    filled = place[:n].copy()
    for f in range(m):
        c = chain_of[f]
        if c >= 0:
            members[filled[c]] = f
            filled[c] += 1
    bounds = np.empty((n, 4), dtype=np.int64)
    matched = np.empty(n, dtype=np.float64)
    first = np.zeros(n + 1, dtype=np.int64)
    parts = np.empty((len(members), 4), dtype=np.int64)
    k, p = 0, 0
    for c in range(n):
        if min(wa[ca1[c]] - wa[ca0[c]], wb[cb1[c]] - wb[cb0[c]]) < min_size:
            continue
        lo, hi = place[c], place[c + 1]  # trim: a small fragment farther from the next one than its size
        while hi - lo > 1:
            x, y = members[lo], members[lo + 1]
            if wa[frags[x, 1]] - wa[frags[x, 0]] < wa[frags[y, 0]] - wa[frags[x, 1]]:
                lo += 1
            else:
                break
        while hi - lo > 1:
            x, y = members[hi - 1], members[hi - 2]
            if wa[frags[x, 1]] - wa[frags[x, 0]] < wa[frags[x, 0]] - wa[frags[y, 1]]:
                hi -= 1
            else:
                break
        f = members[lo]
        bounds[k, 0], bounds[k, 1], bounds[k, 2], bounds[k, 3] = frags[f, 0], frags[f, 1], frags[f, 2], frags[f, 3]
        for t in range(lo, hi):
            f = members[t]
            bounds[k, 0], bounds[k, 1] = min(bounds[k, 0], frags[f, 0]), max(bounds[k, 1], frags[f, 1])
            bounds[k, 2], bounds[k, 3] = min(bounds[k, 2], frags[f, 2]), max(bounds[k, 3], frags[f, 3])
            parts[p] = frags[f]
            p += 1
        matched[k] = covered_weight(parts[first[k] : p], bounds[k, 0], bounds[k, 1], wa)
        k += 1
        first[k] = p
    return bounds[:k], first[: k + 1], parts[:p], matched[:k]


@njit(cache=True, nogil=True)
def covered_weight(parts, a0, a1, wa):
    """Weight (``wa``: cumulative) of the text of a from ``a0`` to ``a1`` that ``parts`` (``(a0, a1, b0, b1)`` rows)
    cover, each stretch counted once: the parts taken in order of ``(a0, a1)``, what each adds beyond the last end."""
    if len(parts) == 0:
        return 0.0
    top = parts[:, 1].max() + 1
    order = np.argsort(parts[:, 0] * top + parts[:, 1], kind="mergesort")
    total, end = 0.0, a0
    for x in order:
        lo, hi = max(parts[x, 0], end, a0), min(parts[x, 1], a1)
        if hi > lo:
            total += wa[hi] - wa[lo]
            end = hi
    return total


@njit(cache=True, nogil=True)
def bag_dice(fa, fb):
    """Dice similarity of two bags of features (0: none): twice the features they share, each as many times as
    the bag that holds it fewer times, over the features of both; 0 when both are empty."""
    a, b = np.sort(fa[fa != 0]), np.sort(fb[fb != 0])
    if len(a) + len(b) == 0:
        return 0.0
    i, j, shared = 0, 0, 0
    while i < len(a) and j < len(b):
        if a[i] == b[j]:
            shared += 1
            i += 1
            j += 1
        elif a[i] < b[j]:
            i += 1
        else:
            j += 1
    return 2 * shared / (len(a) + len(b))
