"""Compiled loops (numba) over the code points of a text, for ``dedup.normalize``.

Each kernel gives exactly what the plain definitions in ``dedup.normalize`` give (its token and
sentence-mark regular expressions, ``word_code``; tests check them against ``tests/reference.py``),
one pass over the code points instead of a regex match, a Python object or a numpy call per token.
Words of ASCII letters and digits are normalized here (NFKC leaves them as they are,
case folding lowers A-Z); any other word is flagged for ``_word_parts``.
"""

from __future__ import annotations

import numpy as np

from dedup.compiled import njit

WORD, CJK, MARK = 1, 2, 3  # classes of code points (``dedup.normalize``'s table; 0: other)
KIND_CJK, KIND_WORD, KIND_SLOW = 0, 1, 2  # a CJK token, an ASCII word, another word (done in Python)
WORD_BASE = 0x40000
WORD_SPAN = 0xC0000


def _crc_table() -> np.ndarray:
    """The byte table of CRC-32 (``zlib.crc32``: reflected, polynomial 0xEDB88320)."""
    table = np.zeros(256, dtype=np.uint32)
    for b in range(256):
        c = b
        for _ in range(8):
            c = (c >> 1) ^ 0xEDB88320 if c & 1 else c >> 1
        table[b] = c
    return table


CRC_TABLE = _crc_table()


@njit(cache=True)
def tokenize(cps, classes, inside, casefold):
    """Tokens of a text: ``(count, starts, ends, codes, kinds, heavy, marks, ended, words)`` (arrays longer than ``count``).

    A CJK character is one token, a run of word characters one word token (``_TOKEN_RE``
    on the original text); tokens starting inside a page marker (``inside``) are left out.
    An ASCII word gets ``word_code`` of the word (lowered with ``casefold``) and ``heavy`` when
    it has no digit; another word is marked KIND_SLOW, its code and flags left for Python.
    ``words``: the ASCII words (lowered with ``casefold``) in order, a NUL byte between two.
    ``marks`` are the sentence marks (matches of ``dedup.normalize._SENTENCE_END_RE``), ``ended`` whether one follows a token
    before the next token (a sentence ends there, before long sentences are cut): a mark starts on a
    character of class MARK, which is no word or CJK character, so the marks are found between
    the tokens.
    """
    n = len(cps)
    starts = np.empty(n, dtype=np.int32)
    ends = np.empty(n, dtype=np.int32)
    codes = np.zeros(n, dtype=np.uint32)
    kinds = np.empty(n, dtype=np.uint8)
    heavy = np.zeros(n, dtype=np.bool_)
    marks = np.empty(n, dtype=np.int64)
    ended = np.zeros(n, dtype=np.bool_)
    words = np.empty(n + 1, dtype=np.uint8)  # each word is followed by a character that is not its (or the end)
    m = 0
    nmarks = 0
    nbytes = 0
    i = 0
    while i < n:
        k = classes[cps[i]]
        if k == CJK:
            if not inside[i]:
                starts[m] = i
                ends[m] = i + 1
                codes[m] = cps[i]
                kinds[m] = KIND_CJK
                m += 1
            i += 1
        elif k == WORD:
            j = i
            ascii_only = True
            digit = False
            crc = np.uint32(0xFFFFFFFF)
            while j < n and classes[cps[j]] == WORD:
                ch = cps[j]
                if ch >= 128:
                    ascii_only = False
                else:
                    if 48 <= ch <= 57:
                        digit = True
                    if casefold and 65 <= ch <= 90:
                        ch += 32
                    crc = CRC_TABLE[(crc ^ np.uint32(ch)) & np.uint32(0xFF)] ^ (crc >> np.uint32(8))
                    words[nbytes + j - i] = ch  # kept below if the word is an ASCII token
                j += 1
            if not inside[i]:
                starts[m] = i
                ends[m] = j
                if ascii_only:
                    crc ^= np.uint32(0xFFFFFFFF)
                    codes[m] = np.uint32(WORD_BASE + np.int64(crc) % WORD_SPAN)
                    kinds[m] = KIND_WORD
                    heavy[m] = not digit
                    nbytes += j - i
                    words[nbytes] = 0
                    nbytes += 1
                else:
                    kinds[m] = KIND_SLOW
                m += 1
            i = j
        elif k == MARK:
            j = _sentence_mark_end(cps, i)
            if j > i:
                marks[nmarks] = i
                nmarks += 1
                if m:
                    ended[m - 1] = True
                i = j
            else:
                i += 1
        else:
            i += 1
    return m, starts, ends, codes, kinds, heavy, marks[:nmarks], ended, words[: max(nbytes - 1, 0)]


@njit(cache=True, inline="always")
def _sentence_mark_end(cps, i):
    """End of the match of ``_SENTENCE_END_RE`` at ``i``, or ``i`` if none."""
    c = cps[i]
    if c == 0x3002 or c == 0xFF01 or c == 0xFF1F or c == 33 or c == 63 or c == 0xFF1B or c == 59 or c == 46 or c == 0x2026:
        return i + 1
    if c == 10:
        n = len(cps)
        j = i + 1
        while j < n and (cps[j] == 32 or cps[j] == 9 or cps[j] == 13 or cps[j] == 0x3000):
            j += 1
        if j < n and cps[j] == 10:
            return j + 1
    return i


@njit(cache=True)
def breaks_of(starts, ends, marks, max_sentence):
    """For each token, whether a sentence ends after it: a sentence mark in the gap after it (``marks``), the last
    token, and every ``max_sentence``-th token of a longer sentence."""
    n = len(starts)
    breaks = np.zeros(n, dtype=np.bool_)
    if n == 0:
        return breaks
    token = np.searchsorted(starts, marks, side="right") - 1
    for k in range(len(marks)):
        t = token[k]
        if t >= 0 and ends[t] <= marks[k]:
            breaks[t] = True
    return cut_long_sentences(breaks, max_sentence)


@njit(cache=True)
def cut_long_sentences(breaks, max_sentence):
    """Set a break on the last token and after every ``max_sentence`` tokens without one (in place)."""
    n = len(breaks)
    if n == 0:
        return breaks
    breaks[n - 1] = True
    phase = 0  # tokens since the last break, modulo max_sentence (no division per token)
    for i in range(n):
        if breaks[i]:
            phase = 0
        elif phase == max_sentence - 1:
            breaks[i] = True
            phase = 0
        else:
            phase += 1
    return breaks


@njit(cache=True, inline="always")
def _is_dash(c):
    return c == 0x2014 or c == 0x2013 or c == 45 or c == 0xFF0D or c == 0x2015 or c == 0x2500


@njit(cache=True, inline="always")
def _may_be_digit(c, classes):
    """ASCII digit, or a non-ASCII character of class WORD (every decimal digit ``\\d`` is one)."""
    return (48 <= c <= 57) or (c >= 128 and classes[c] == WORD)


@njit(cache=True, inline="always")
def _lower_ascii(c):
    return c + 32 if 65 <= c <= 90 else c


#: ``page_lines``' flags: which patterns of ``dedup.normalize._PAGE_MARKER_RES`` could match on a line.
PAGE_DASH, PAGE_YE, PAGE_WORD, PAGE_NUMBER_LINE = 1, 2, 4, 8


@njit(cache=True)
def page_lines(cps, classes):
    """The lines where a pattern of ``dedup.normalize._PAGE_MARKER_RES`` could match (necessary conditions only;
    none of them matches across a line end): ``(start, end, flags)`` rows, ``end`` at the line's "\\n" or the end.

    Flags: ``PAGE_DASH``, a dash not after a letter or digit, spaces or tabs, 1-4 possible digits, spaces or tabs
    and a dash (the dash pattern); ``PAGE_YE``, a 页 (the three 页 patterns); ``PAGE_WORD``, "page" in any case
    (under re.I no other character matches p, a, g or e); ``PAGE_NUMBER_LINE``, a line that could be a page
    number line (the last pattern): only spaces, tabs, carriage returns, "/", the letters of "page" in any case and
    digits (``\\d``: any decimal digit, all of class WORD), at most 12 and at least one of these two; a non-ASCII
    character of class WORD is counted as a possible digit here.
    """
    n = len(cps)
    out = np.empty((16, 3), dtype=np.int64)
    found = 0
    start, flags, alnum, plain = 0, 0, 0, True
    for i in range(n + 1):
        if i == n or cps[i] == 10:
            if plain and 1 <= alnum <= 12:
                flags |= PAGE_NUMBER_LINE
            if flags:
                if found == len(out):
                    out = np.concatenate((out, np.empty_like(out)))
                out[found, 0], out[found, 1], out[found, 2] = start, i, flags
                found += 1
            start, flags, alnum, plain = i + 1, 0, 0, True
            continue
        c = cps[i]
        if plain:  # (a page number line so far)
            if c == 32 or c == 9 or c == 13 or c == 47:
                pass
            elif (48 <= c <= 57) or c == 112 or c == 97 or c == 103 or c == 101 or c == 80 or c == 65 or c == 71 or c == 69 or (c >= 128 and classes[c] == WORD):
                alnum += 1
                plain = alnum <= 12
            else:
                plain = False
        if c >= 0x3000 and c != 0x9875 and c != 0xFF0D:  # most of a CJK text: none of these characters
            continue
        if c == 0x9875:
            flags |= PAGE_YE
        elif (c == 112 or c == 80) and i + 3 < n:
            if _lower_ascii(cps[i + 1]) == 97 and _lower_ascii(cps[i + 2]) == 103 and _lower_ascii(cps[i + 3]) == 101:
                flags |= PAGE_WORD
        elif not flags & PAGE_DASH and _is_dash(c) and (i == 0 or (classes[cps[i - 1]] != WORD and cps[i - 1] != 95)):
            # (the pattern's look-behind: no word character or digit before the first dash; "_" is one)
            j = i + 1
            while j < n and (cps[j] == 32 or cps[j] == 9):
                j += 1
            d = j
            while j < n and j - d < 5 and _may_be_digit(cps[j], classes):
                j += 1
            if 1 <= j - d <= 4:
                while j < n and (cps[j] == 32 or cps[j] == 9):
                    j += 1
                if j < n and _is_dash(cps[j]):
                    flags |= PAGE_DASH
    return out[:found]


@njit(cache=True)
def scan(cps, classes, markers, casefold, flags, max_sentence):
    """``tokenize`` and the rest of the work on its tokens in one call.

    ``markers``: page-marker spans (k × 2); ``flags``: per code point, bit 0 = converts under
    Traditional→Simplified, bit 1 = changes inside a phrase, bit 2 = a CJK compatibility form.
    Returns ``(starts, ends, codes, cjk, heavy, marks, breaks, slow, words, counts)``:
    ``cjk`` whether each token is a CJK character, ``slow`` the tokens of KIND_SLOW, ``words``
    the ASCII words (``tokenize``), ``counts`` = (CJK tokens with bit 0, with bit 1, with bit 2);
    ``breaks`` holds only when no token is of KIND_SLOW (else the tokens change).
    """
    n = len(cps)
    inside = np.zeros(n, dtype=np.bool_)
    for k in range(markers.shape[0]):
        inside[markers[k, 0] : markers[k, 1]] = True
    m, starts, ends, codes, kinds, heavy, marks, ended, words = tokenize(cps, classes, inside, casefold)
    # copies: views would keep arrays as long as the text alive with each Normalized
    starts, ends, codes, heavy, kinds = starts[:m].copy(), ends[:m].copy(), codes[:m].copy(), heavy[:m].copy(), kinds[:m]
    cjk = np.empty(m, dtype=np.bool_)
    slow = np.empty(m, dtype=np.int64)
    n_slow = 0
    counts = np.zeros(3, dtype=np.int64)
    for t in range(m):
        cjk[t] = kinds[t] == KIND_CJK
        if cjk[t]:
            f = flags[codes[t]]
            if f & 1:
                counts[0] += 1
            if f & 2:
                counts[1] += 1
            if f & 4:
                counts[2] += 1
        elif kinds[t] == KIND_SLOW:
            slow[n_slow] = t
            n_slow += 1
    breaks = cut_long_sentences(ended[:m].copy(), max_sentence)
    return starts, ends, codes, cjk, heavy, marks, breaks, slow[:n_slow], words, counts


@njit(cache=True)
def holds_key(seq, first, firsts, offsets, flat):
    """Whether the code points ``seq`` hold one of the keys a table of ``dedup.t2s`` describes."""
    for i in range(len(seq)):
        if first[seq[i]] and _longest_key(seq, i, firsts, offsets, flat) > 0:
            return True
    return False


@njit(cache=True)
def key_regions(seq, first, firsts, offsets, flat):
    """The stretches of ``seq`` that keys of a table of ``dedup.t2s`` cover: each key found (the longest where
    several start at one place), those that overlap joined, as ``(start, end)`` rows in order. No key crosses
    the bounds of a stretch, so a longest-match segmentation cuts the text there whatever it does elsewhere."""
    out = np.empty((16, 2), dtype=np.int64)
    found = 0
    for i in range(len(seq)):
        if not first[seq[i]]:
            continue
        size = _longest_key(seq, i, firsts, offsets, flat)
        if size == 0:
            continue
        if found and i < out[found - 1, 1]:
            out[found - 1, 1] = max(out[found - 1, 1], i + size)
            continue
        if found == len(out):
            out = np.concatenate((out, np.empty_like(out)))
        out[found, 0], out[found, 1] = i, i + size
        found += 1
    return out[:found]


@njit(cache=True, inline="always")
def _longest_key(seq, i, firsts, offsets, flat):
    """The length of the longest key found at ``seq[i]`` (0: none)."""
    n, best = len(seq), 0
    k = np.searchsorted(firsts, seq[i])
    while k < len(firsts) and firsts[k] == seq[i]:
        a, b = offsets[k], offsets[k + 1]
        if b - a > best and i + b - a <= n:
            same = True
            for d in range(1, b - a):
                if seq[i + d] != flat[a + d]:
                    same = False
                    break
            if same:
                best = b - a
        k += 1
    return best
