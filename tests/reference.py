"""Reference implementations that the tests check the compiled/vectorized code against.

Each reference is written from the specification (the docstrings of the module it checks,
restated here), in plain Python: slow, loop by loop, and easy to check by reading. A
reference never imports the code it checks, so a bug there cannot hide in the reference too.
It may use the shared configuration (``dedup.config``) and the libraries the specification
names (``unicodedata``, ``zlib``, OpenCC).

``normalize`` and ``page_marker_spans`` here are the references of ``dedup.normalize``'s
(tests/test_normalize.py compares them field by field).
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from dedup.config import WORD_WEIGHT, NormalizeConfig

# =========================================================================== dedup.normalize
#
# Specification (dedup/normalize.py):
#
# * Tokens. Every character in CJK_RANGES is one CJK token. Every maximal run of the other
#   characters that ``str.isalnum`` accepts is one word token (``[^\W_]`` in Python's re is
#   exactly ``str.isalnum``). Nothing else is a token. A token keeps its span in the text.
# * Page markers (when ``drop_page_markers``): the matches of PAGE_MARKER_PATTERNS, sorted,
#   and merged where one starts before the previous one ends. A token that *starts* inside a
#   marker is left out (it is found on the whole text first, so a word is never cut by one).
#   ``page_markers`` is the number of merged spans.
# * CJK tokens: a compatibility form (COMPAT_RANGES) becomes the first character of its NFKC
#   form. Then, with ``traditional_to_simplified``, all the CJK tokens of the text, joined
#   into one string (whatever stands between them), are converted by OpenCC's ``t2s``
#   character for character (``to_simplified``); ``converted`` counts the tokens it changed.
# * Word tokens: the word is NFKC-normalized, then case folded (``casefold``), and tokenized
#   again as above, since NFKC can split a word ("¼" → "1⁄4") or make CJK of it ("㈱" →
#   "(株)"). Each part is a token with the span of the whole word: a CJK part is its
#   character (not converted by t2s), a word part the code ``word_code(part)`` and is
#   ``heavy`` when it holds no digit (``str.isdigit``). ``words``: the distinct word parts.
# * Sentence breaks: a sentence ends after a token when the gap between it and the next
#   token holds a sentence mark (SENTENCE_END_RE: punctuation or a blank line); the last
#   token always ends one; a sentence longer than MAX_SENTENCE tokens is cut after every
#   MAX_SENTENCE-th token.

#: Code-point ranges (inclusive) of the characters that are CJK tokens.
CJK_RANGES = (
    (0x2E80, 0x2FDF),  # CJK and Kangxi radicals
    (0x3005, 0x3005),  # 々
    (0x3007, 0x3007),  # 〇
    (0x3040, 0x30FF),  # hiragana, katakana
    (0x3400, 0x4DBF),  # Ext A
    (0x4E00, 0x9FFF),  # unified ideographs
    (0xAC00, 0xD7AF),  # Hangul syllables
    (0xF900, 0xFAFF),  # compatibility ideographs
    (0x20000, 0x3134F),  # Ext B-H (and the compatibility supplement)
)
#: CJK compatibility forms, which NFKC maps to ideographs: radicals, compatibility ideographs
#: and their supplement.
COMPAT_RANGES = ((0x2E80, 0x2FDF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F))

_DASH = "[\u2014\u2013\\-\uff0d\u2015\u2500]"  # — – - － ― ─
#: The page markers, one pattern each (Python's re: \d, \w, \b are Unicode-aware).
PAGE_MARKER_PATTERNS = (
    # —3—, - 3 -: one or two dashes not after a letter or digit, 1-4 digits, one or two dashes, no digit after
    re.compile(rf"(?<!\w){_DASH}{{1,2}}[ \t]*\d{{1,4}}[ \t]*{_DASH}{{1,2}}(?!\d)"),
    # 第3页 共8页 (with an optional separator between)
    re.compile(r"第[ \t]*\d{1,4}[ \t]*页[ \t]*[,，、/／]?[ \t]*共[ \t]*\d{1,4}[ \t]*页"),
    # a line holding only 第3页
    re.compile(r"^[ \t]*第[ \t]*\d{1,4}[ \t]*页[ \t\r]*$", re.MULTILINE),
    # 共8页 第3页
    re.compile(r"共[ \t]*\d{1,4}[ \t]*页[ \t]*[,，、/／]?[ \t]*第[ \t]*\d{1,4}[ \t]*页"),
    # Page 3 of 8, page 3/8 (any case)
    re.compile(r"\bpage[ \t]+\d{1,4}[ \t]*(?:of|/)[ \t]*\d{1,4}\b", re.IGNORECASE),
    # a line holding only a page number: "3", "Page 3", "3/8" (any case)
    re.compile(r"^[ \t]*(?:page[ \t]+)?\d{1,4}[ \t]*(?:/[ \t]*\d{1,4}[ \t]*)?\r?$", re.IGNORECASE | re.MULTILINE),
)

#: A sentence mark: end punctuation, or a blank line (two newlines with only blanks between).
SENTENCE_END_RE = re.compile(r"[。！？!?；;.…]|\n[ \t\r\u3000]*\n")
#: Tokens at most in one sentence: longer runs without a mark are cut.
MAX_SENTENCE = 80

#: Word codes are ``WORD_BASE + crc32(utf-8 of the word) % WORD_SPAN``: planes 4-15.
WORD_BASE = 0x40000
WORD_SPAN = 0xC0000


def is_cjk(ch: str) -> bool:
    """Whether ``ch`` is a CJK token (a character in CJK_RANGES)."""
    return any(lo <= ord(ch) <= hi for lo, hi in CJK_RANGES)


def is_word_char(ch: str) -> bool:
    """Whether ``ch`` belongs to word tokens: a letter or digit (``str.isalnum``), not CJK."""
    return ch.isalnum() and not is_cjk(ch)


def token_spans(text: str) -> list[tuple[int, int, bool]]:
    """The tokens of ``text``: ``(start, end, is_cjk)``, in order."""
    spans: list[tuple[int, int, bool]] = []
    i = 0
    while i < len(text):
        if is_cjk(text[i]):
            spans.append((i, i + 1, True))
            i += 1
        elif is_word_char(text[i]):
            j = i + 1
            while j < len(text) and is_word_char(text[j]):
                j += 1
            spans.append((i, j, False))
            i = j
        else:
            i += 1
    return spans


def page_marker_spans(text: str) -> list[tuple[int, int]]:
    """Spans of the page markers in ``text``: every pattern's matches, sorted, overlapping ones merged."""
    found = sorted(m.span() for pattern in PAGE_MARKER_PATTERNS for m in pattern.finditer(text))
    merged: list[tuple[int, int]] = []
    for start, end in found:
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


@lru_cache(maxsize=1)
def _opencc():
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """OpenCC ``t2s`` of ``text``, character for character: where the converted text has another
    length, each character is converted alone and kept as it is unless that gives one character."""
    out = _opencc().convert(text)
    if len(out) == len(text):
        return out
    singles = [_opencc().convert(ch) for ch in text]
    return "".join(s if len(s) == 1 else ch for ch, s in zip(text, singles))


def word_code(word: str) -> int:
    """The code point standing for a normalized word."""
    return WORD_BASE + zlib.crc32(word.encode("utf-8")) % WORD_SPAN


def word_parts(word: str, casefold: bool) -> list[tuple[str, bool, bool]]:
    """The tokens one word token becomes: ``(text, is_cjk, heavy)`` for each part of its
    NFKC form (case folded with ``casefold``)."""
    norm = unicodedata.normalize("NFKC", word)
    if casefold:
        norm = norm.casefold()
    parts = []
    for start, end, cjk in token_spans(norm):
        part = norm[start:end]
        heavy = not cjk and not any(ch.isdigit() for ch in part)
        parts.append((part, cjk, heavy))
    return parts


def sentence_breaks(text: str, starts: list[int], ends: list[int]) -> list[bool]:
    """Whether a sentence ends after each token (tokens in order; parts of one word share a span)."""
    n = len(starts)
    breaks = []
    for k in range(n):
        gap_end = starts[k + 1] if k + 1 < n else len(text)
        marked = gap_end > ends[k] and SENTENCE_END_RE.search(text[ends[k] : gap_end]) is not None
        breaks.append(marked or k == n - 1)
    since_break = 0  # tokens since the last break
    for k in range(n):
        if breaks[k]:
            since_break = 0
        else:
            since_break += 1
            if since_break == MAX_SENTENCE:
                breaks[k] = True
                since_break = 0
    return breaks


@dataclass(frozen=True)
class Normalized:
    """What the reference ``normalize`` gives (the fields ``dedup.normalize.Normalized`` shares)."""

    tokens: str  # one code point per token
    starts: np.ndarray  # int32
    ends: np.ndarray  # int32
    cjk: np.ndarray  # bool
    breaks: np.ndarray  # bool
    heavy: np.ndarray  # bool
    words: frozenset[str]  # the distinct normalized words
    page_markers: int
    converted: int

    @property
    def weights(self) -> np.ndarray:
        """A word of letters weighs WORD_WEIGHT, any other token (CJK, a number or code) 1."""
        return np.array([WORD_WEIGHT if h else 1.0 for h in self.heavy.tolist()], dtype=np.float64)


def normalize(text: str, config: NormalizeConfig | None = None) -> Normalized:
    """Reference of ``dedup.normalize.normalize`` (see the specification above)."""
    config = config or NormalizeConfig()
    markers = page_marker_spans(text) if config.drop_page_markers else []
    kept = [(s, e, cjk) for s, e, cjk in token_spans(text) if not any(ms <= s < me for ms, me in markers)]

    # CJK tokens: compatibility forms by NFKC, then all of them together Traditional→Simplified
    cjk_chars = []
    for s, _, cjk in kept:
        if cjk:
            ch = text[s]
            if any(lo <= ord(ch) <= hi for lo, hi in COMPAT_RANGES):
                ch = unicodedata.normalize("NFKC", ch)[:1] or ch
            cjk_chars.append(ch)
    before = "".join(cjk_chars)
    after = to_simplified(before) if config.traditional_to_simplified and before else before
    assert len(after) == len(before)
    converted = sum(a != b for a, b in zip(before, after))
    simplified = iter(after)

    tokens: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    cjk_flags: list[bool] = []
    heavy: list[bool] = []
    words: set[str] = set()
    for s, e, cjk in kept:
        if cjk:
            parts = [(next(simplified), True, False)]
        else:
            parts = word_parts(text[s:e], config.casefold)
        for part, part_cjk, part_heavy in parts:
            if part_cjk:
                tokens.append(part)
            else:
                tokens.append(chr(word_code(part)))
                words.add(part)
            starts.append(s)
            ends.append(e)
            cjk_flags.append(part_cjk)
            heavy.append(part_heavy)

    return Normalized(
        tokens="".join(tokens),
        starts=np.array(starts, dtype=np.int32),
        ends=np.array(ends, dtype=np.int32),
        cjk=np.array(cjk_flags, dtype=bool),
        breaks=np.array(sentence_breaks(text, starts, ends), dtype=bool),
        heavy=np.array(heavy, dtype=bool),
        words=frozenset(words),
        page_markers=len(markers),
        converted=converted,
    )


# --------------------------------------------------------------------------- shingles, MinHash and LSH
# The shingle hash, bag-of-words features and LSH pairs as the specification gives them, one shingle, token or
# window at a time; signatures and LSH pairs from datasketch itself (``MinHash``, ``MinHashLSH``).


def shingle_hash(shingle: str) -> int:
    """32-bit hash of one shingle (its token code points): ``h = h * 0x100000001B3 + code`` modulo 2**64, folded."""
    h = 0
    for ch in shingle:
        h = (h * 0x100000001B3 + ord(ch)) & 0xFFFFFFFFFFFFFFFF
    return (h ^ (h >> 32)) & 0xFFFFFFFF


def shingle_strings(tokens: str, cjk: list[bool], cjk_ngram: int = 5, word_ngram: int = 3) -> list[tuple[int, str]]:
    """Every shingle ``(start, tokens)``: ``cjk_ngram`` tokens where it starts on a CJK token, else ``word_ngram``;
    none that would run past the end; a text shorter than any shingle is one shingle."""
    out = []
    for i in range(len(tokens)):
        n = cjk_ngram if cjk[i] else word_ngram
        if i + n <= len(tokens):
            out.append((i, tokens[i : i + n]))
    return out or ([(0, tokens)] if tokens else [])


def minhash_values(hashes, num_perm: int = 128, seed: int = 1) -> np.ndarray:
    """datasketch's MinHash of a set of 32-bit hashes, fed as they are."""
    from datasketch import MinHash

    m = MinHash(num_perm=num_perm, seed=seed, hashfunc=int)
    values = [int(h) for h in hashes]
    if values:
        m.update_batch(values)
    return m.hashvalues


def lsh_pairs(signatures: np.ndarray, owners, *, threshold: float, num_perm: int = 128, seed: int = 1) -> set[tuple[int, int]]:
    """Pairs of owners whose signatures collide in datasketch's ``MinHashLSH`` (every row inserted, every row
    queried), ``(i, j)`` with ``i < j``."""
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    made = [MinHash(num_perm=num_perm, seed=seed, scheme="affine32", hashvalues=row) for row in signatures]
    for w, m in enumerate(made):
        lsh.insert(w, m)
    out = set()
    for w, m in enumerate(made):
        for other in lsh.query(m):
            a, b = int(owners[w]), int(owners[other])
            if a != b:
                out.add((min(a, b), max(a, b)))
    return out




def bag_features(tokens: str, cjk: list[bool], stopword_codes: set[int]) -> list[int]:
    """A feature per token (0: none): a Latin word not a stopword is its own code; a CJK character followed by two
    more CJK characters gives the trigram ``c0 << 36 | c1 << 18 | c2 | 1 << 63`` (18 bits a character)."""
    codes, out = [ord(c) for c in tokens], []
    for i, code in enumerate(codes):
        if not cjk[i]:
            out.append(0 if code in stopword_codes else code)
        elif i + 2 < len(codes) and cjk[i + 1] and cjk[i + 2]:
            c0, c1, c2 = (x & 0x3FFFF for x in codes[i : i + 3])
            out.append(c0 << 36 | c1 << 18 | c2 | 1 << 63)
        else:
            out.append(0)
    return out


def hash_frequencies(sets, flags, groups, min_docs: int) -> dict[int, tuple[int, int, int]]:
    """For each hash held by at least ``min_docs`` of the sets: how many hold it, how many have it flagged, and in
    how many distinct groups it is — one hash at a time."""
    out = {}
    for h in sorted({int(h) for s in sets for h in s}):
        holders = [k for k, s in enumerate(sets) if h in s.tolist()]
        if len(holders) >= min_docs:
            flagged = sum(bool(flags[k][sets[k].tolist().index(h)]) for k in holders)
            out[h] = (len(holders), flagged, len({groups[k] for k in holders}))
    return out


def lsh_params(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows) minimizing the false positive plus false negative probability, weighed equally, integrated
    with ``scipy.integrate.quad`` (as datasketch's ``MinHashLSH`` does): the first best in the order of b, then r."""
    from scipy.integrate import quad

    best, choice = float("inf"), (0, 0)
    for b in range(1, num_perm + 1):
        for r in range(1, num_perm // b + 1):
            fp = quad(lambda s: 1 - (1 - s ** float(r)) ** float(b), 0.0, threshold)[0]
            fn = quad(lambda s: 1 - (1 - (1 - s ** float(r)) ** float(b)), threshold, 1.0)[0]
            if 0.5 * fp + 0.5 * fn < best:
                best, choice = 0.5 * fp + 0.5 * fn, (b, r)
    return choice


# =========================================================================== dedup.match
#
# Specification (dedup/match.py, dedup/models.py):
#
# * coverage: the share of a document's weight, its boilerplate tokens left out, that lies inside any of
#   the token ranges ``[start, end)`` (a token inside two ranges counts once); 0 without such weight.
# * A pair's name for a document: its path, or ``"index:" + path`` for an archive document. Of two
#   pairs the more severe is the one whose relation comes first in (exact, near_duplicate, partial),
#   then the one with the larger of its two coverages, then the larger similarity, then the smaller
#   name of ``a``, then of ``b``.
# * clusters: the connected components of a graph, each node labelled with the smallest node of its
#   component; duplicate clusters: the components (two documents or more) of the graph of the
#   documents' names linked by exact and near-duplicate pairs, each sorted, sorted.

SEVERITY_ORDER = ("exact", "near_duplicate", "partial")


def coverage(weights, boiler, ranges) -> float:
    """Share of the weight of the tokens not in ``boiler`` that lies inside any of ``ranges`` (token by token)."""
    total = inside = 0.0
    for t, w in enumerate(weights):
        if boiler[t]:
            continue
        total += float(w)
        if any(start <= t < end for start, end in ranges):
            inside += float(w)
    return inside / total if total else 0.0


def report_name(path: str, origin: str) -> str:
    """How a report names a document: ``index:<path>`` for an archive document."""
    return "index:" + path if origin == "archive" else path


def more_severe(p, q) -> bool:
    """Whether pair ``p`` comes strictly before pair ``q`` (see the specification above), by cascading comparisons."""
    rp, rq = SEVERITY_ORDER.index(p.relation), SEVERITY_ORDER.index(q.relation)
    if rp != rq:
        return rp < rq
    cp, cq = max(p.a_coverage, p.b_coverage), max(q.a_coverage, q.b_coverage)
    if cp != cq:
        return cp > cq
    if p.similarity != q.similarity:
        return p.similarity > q.similarity
    names_p = (report_name(p.a, p.a_origin), report_name(p.b, p.b_origin))
    names_q = (report_name(q.a, q.a_origin), report_name(q.b, q.b_origin))
    if names_p[0] != names_q[0]:
        return names_p[0] < names_q[0]
    return names_p[1] < names_q[1]


def components(nodes, edges) -> list[set]:
    """The connected components of the graph of ``nodes`` and ``edges``, by breadth-first search."""
    neighbours: dict = {x: set() for x in nodes}
    for x, y in edges:
        neighbours.setdefault(x, set()).add(y)
        neighbours.setdefault(y, set()).add(x)
    seen: set = set()
    out = []
    for start in neighbours:
        if start in seen:
            continue
        found, frontier = {start}, [start]
        while frontier:
            frontier = [y for x in frontier for y in neighbours[x] if y not in found]
            found.update(frontier)
        seen |= found
        out.append(found)
    return out


def component_labels(n: int, edges) -> list[int]:
    """Each of nodes ``0..n-1`` labelled with the smallest node of its connected component."""
    labels = list(range(n))
    for component in components(range(n), edges):
        for x in component:
            labels[x] = min(component)
    return labels


def duplicate_clusters(pairs) -> tuple[tuple[str, ...], ...]:
    """Sorted groups (two documents or more, each sorted) of report names linked by exact or near-duplicate pairs."""
    edges = [
        (report_name(p.a, p.a_origin), report_name(p.b, p.b_origin)) for p in pairs if p.relation in ("exact", "near_duplicate")
    ]
    nodes = {x for e in edges for x in e}
    return tuple(sorted(tuple(sorted(c)) for c in components(nodes, edges) if len(c) > 1))


# =========================================================================== dedup.boilerplate
#
# Specification (dedup/boilerplate.py):
#
# * A long-shingle hash is boilerplate when the documents holding it carry at least ``min_docs``
#   distinct group labels (related documents count once), and either those labels number at least
#   ``frequent * population`` (``population``: the number of distinct labels unless given), or it is
#   flagged (at an edge) in at least half of the documents that hold it.
# * Template slots: a run of unmarked tokens of at most ``slot`` tokens with marked tokens on both sides
#   is marked too; a run that reaches the start or the end is not.
# * Containment of two documents: the share of the smaller set of distinct shingles found in the other.


def boilerplate_hashes(sets, flags, labels, *, min_docs: int, frequent: float, population: int | None = None) -> list[int]:
    """The boilerplate hashes (sorted) of documents' hash sets with their edge flags, one hash at a time."""
    population = len(set(labels)) if population is None else population
    out = []
    for h in sorted({int(h) for s in sets for h in s}):
        holders = [k for k, s in enumerate(sets) if h in [int(x) for x in s]]
        groups = len({labels[k] for k in holders})
        at_edge = sum(bool(flags[k][[int(x) for x in sets[k]].index(h)]) for k in holders)
        if groups >= min_docs and (groups >= frequent * population or 2 * at_edge >= len(holders)):
            out.append(h)
    return out


def fill_slots(mask, slot: int) -> list[bool]:
    """``mask`` with each unmarked run of at most ``slot`` tokens between marked tokens marked, one run at a time."""
    out = [bool(x) for x in mask]
    t = 0
    while t < len(out):
        if out[t]:
            t += 1
            continue
        end = t
        while end < len(out) and not out[end]:
            end += 1
        if t > 0 and end < len(out) and end - t <= slot:
            for k in range(t, end):
                out[k] = True
        t = end
    return out


def containment(a, b) -> float:
    """Share of the smaller of two sets of shingle hashes found in the other (exact, on the distinct hashes)."""
    a, b = {int(x) for x in a}, {int(x) for x in b}
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


# =========================================================================== dedup.index
#
# Specification (dedup/index.py, ``candidates``): an archived document is a candidate of a query when it
# is stored under one of the query's document keys; or when it holds at least ``shared_buckets`` of the
# query's distinct window keys, counting only keys that at most ``max_window_hits`` stored documents
# hold (more: stock text); or when its digest is the query's.


def archive_candidates(stored, document_keys, window_keys, digest, *, max_window_hits: int, shared_buckets: int) -> set[int]:
    """Candidates of a query among ``stored`` (``{id: (keys, digest)}``), one stored document and key at a time."""
    out = set()
    windows = {int(k) for k in window_keys}
    holders = {k: {i for i, (keys, _) in stored.items() if k in {int(x) for x in keys}} for k in windows}
    for i, (keys, stored_digest) in stored.items():
        keys = {int(x) for x in keys}
        if keys & {int(k) for k in document_keys} or stored_digest == digest:
            out.add(i)
            continue
        shared = [k for k in windows if k in keys and len(holders[k]) <= max_window_hits]
        if len(shared) >= shared_buckets:
            out.add(i)
    return out


# --------------------------------------------------------------------------- grouping (the compiled set kernels)


def group_by_prefix(keys: np.ndarray, ids: np.ndarray, shift: int) -> tuple[np.ndarray, np.ndarray, list[int], list[int]]:
    """Entries stably sorted by key prefix (``key >> shift``): the keys' low 32 bits, the ids, the distinct
    prefixes, and where each prefix's entries start (one bound more, at the end)."""
    prefix = keys >> np.uint64(shift)
    order = np.argsort(prefix, kind="stable")
    distinct = np.unique(prefix)
    bounds = [*np.searchsorted(prefix[order], distinct).tolist(), len(keys)]
    return (keys[order] & np.uint64(0xFFFFFFFF)).astype(np.uint32), ids[order], distinct.astype(np.int64).tolist(), bounds


def group_parts(values: np.ndarray, part_of: np.ndarray, sizes: np.ndarray, parts: int) -> tuple[np.ndarray, np.ndarray]:
    """Values grouped by part, in their order within a part; and per document (``sizes`` values each, in order)
    how many values it has in each part."""
    order = np.lexsort((np.arange(len(values)), part_of))
    owner = np.repeat(np.arange(len(sizes)), sizes)
    counts = np.array([[np.sum((owner == d) & (part_of == p)) for p in range(parts)] for d in range(len(sizes))])
    return values[order], counts.reshape(len(sizes), parts)


def distinct_segments(values: np.ndarray, offsets: np.ndarray) -> list[list[int]]:
    """Each segment's distinct values, in order of first occurrence."""
    return [list(dict.fromkeys(values[offsets[s] : offsets[s + 1]].tolist())) for s in range(len(offsets) - 1)]


# =========================================================================== dedup.ingest
#
# Specification (dedup/ingest/files.py, dedup/ingest/formats.py):
#
# * display_name: a backslash, a lone surrogate (category Cs), a control character (Cc: C0, DEL,
#   C1), U+2028/U+2029 and the bidirectional controls U+061C, U+200E, U+200F, U+202A-202E,
#   U+2066-2069 are written as ``repr`` writes that one character; every other character stays.
# * html_text: the text BeautifulSoup's ``get_text`` gives of the page parsed by "html.parser"
#   once script/style/noscript/template/title elements are removed, comments, declarations,
#   doctypes and processing instructions removed, every other string outside <pre>/<textarea>
#   has its line breaks between two CJK characters removed and its whitespace runs made one
#   space, <br> is replaced by a line break, and a line break is put before and after every
#   block element; then each line is stripped, runs of 3 or more line breaks become 2, and line
#   breaks at both ends are removed. (This is dedup's walker before issue 14, which did just
#   that, mutating the tree, in time quadratic in the nesting depth.)

BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def display_name(name: str) -> str:
    """Each character that cannot be shown as it is, as ``repr`` writes it."""
    return "".join(
        repr(ch)[1:-1]
        if ch == "\\" or unicodedata.category(ch) in ("Cc", "Cs") or ch in "\u2028\u2029" or ch in BIDI_CONTROLS
        else ch
        for ch in name
    )


HTML_DROPPED_TAGS = ("script", "style", "noscript", "template", "title")
HTML_BLOCK_TAGS = (
    "address", "article", "aside", "blockquote", "dd", "details", "dialog", "div", "dl", "dt",
    "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6",
    "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "summary", "table",
    "td", "th", "tr", "ul", "caption", "body", "html",
)  # fmt: skip
_WIDE = "\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef"
_CJK_LINE_BREAK = re.compile(f"(?<=[{_WIDE}])[ \t\r\f]*\n[ \t\r\n\f]*(?=[{_WIDE}])")


def html_text(markup: str) -> str:
    """Visible text of an HTML page, by editing the parsed tree and calling ``get_text``."""
    from bs4 import BeautifulSoup, NavigableString
    from bs4.element import Comment, Declaration, Doctype, ProcessingInstruction

    soup = BeautifulSoup(markup, "html.parser")
    for tag in soup.find_all(HTML_DROPPED_TAGS):
        tag.decompose()
    for node in soup.find_all(string=True):
        if isinstance(node, (Comment, Declaration, Doctype, ProcessingInstruction)):
            node.extract()
        elif not node.find_parent(("pre", "textarea")):
            text = _CJK_LINE_BREAK.sub("", str(node))
            node.replace_with(NavigableString(re.sub(r"[ \t\r\n\f]+", " ", text)))
    for br in soup.find_all("br"):
        br.replace_with(NavigableString("\n"))
    for tag in soup.find_all(HTML_BLOCK_TAGS):
        tag.insert_before(NavigableString("\n"))
        tag.insert_after(NavigableString("\n"))
    lines = [line.strip() for line in soup.get_text().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")


# =========================================================================== dedup.ingest.word
#
# Specification (dedup/ingest/word.py): the text of a .docx body is that of its paragraphs in document order, one a
# line: a paragraph's text is python-docx's ``Paragraph.text``; a table gives its rows in order, and each row the
# cells python-docx's ``_Row.cells`` gives, each once (a cell merged across grid columns is given for each of them
# there; a vertically merged cell is given by each row it spans, as the cell above); a content control (``w:sdt``)
# of the body gives what its ``w:sdtContent`` holds.


def docx_text(data: bytes) -> str:
    """Text of a .docx body through python-docx's rows and cells, as dedup read it until it walked tables itself.
    (A content control inside a cell is not followed here: python-docx has no public way to a cell's XML.)"""
    import io

    import docx
    from docx.oxml.ns import qn
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    def table(t: Table):  # noqa: ANN202
        for row in t.rows:
            cells = row.cells  # (one object per cell: a merged one repeats, the same object)
            seen: set[int] = set()
            for cell in cells:
                if id(cell) not in seen:
                    seen.add(id(cell))
                    for item in cell.iter_inner_content():
                        if isinstance(item, Paragraph):
                            yield item.text
                        else:
                            yield from table(item)

    def blocks(element, parent):  # noqa: ANN001, ANN202
        for child in element.iterchildren():
            if child.tag == qn("w:p"):
                yield Paragraph(child, parent).text
            elif child.tag == qn("w:tbl"):
                yield from table(Table(child, parent))
            elif child.tag == qn("w:sdt"):
                content = child.find(qn("w:sdtContent"))
                if content is not None:
                    yield from blocks(content, parent)

    document = docx.Document(io.BytesIO(data))
    return "\n".join(blocks(document.element.body, document))


# =========================================================================== dedup.align_kernels
#
# Specification (dedup/seed.py, dedup/align.py):
#
# * Seeds: every pair (shingle of a, shingle of b) with the same hash, where neither hash occurs
#   more than ``max_repeats`` times in its own document, as (start in a, start in b, length).
# * Fragments: seeds on one diagonal (start in a minus start in b), sorted by start in a, joined
#   while the next one starts at or before the furthest end reached; rows (a0, a1, b0, b1) sorted
#   by a0, then by diagonal.
# * Sentence seeds: sentences i of a and j of b, each with at least ``min_features`` distinct
#   features, whose feature sets have a Dice coefficient of at least ``min_dice``, counting only
#   the features found in at most ``max_per_feature`` sentences of b; rows (a0, a1, b0, b1) of the
#   sentences' token ranges, sorted by (i, j).
# * Chains: fragments taken in order (sorted by a0, the longer first); a fragment joins the open
#   chain (end in a at most ``max_gap`` weighted tokens before the fragment's start; chains close
#   for good once they are farther) it continues with the smallest gap, or none if it lies inside
#   one already; it may continue a chain when both gaps are at most ``max_gap``, it goes forward
#   on b (ends after the chain's end, starts after its start), overlaps the chain by no more than
#   its own size on either side, and its diagonal is within ``max_gap`` of the chain's last
#   fragment's. Otherwise it starts a chain. Chains under ``min_size`` (weighted) on either side
#   are dropped; then small fragments at either end (smaller than their distance to the next
#   fragment in a) are cut off, and the chain's bounds are those of the fragments left. A chain's
#   ``matched`` weight: the weight of the text of a within its bounds that its fragments cover,
#   added up over the fragments sorted by (a0, a1).


def shared_seeds(hashes_a, positions_a, lengths_a, hashes_b, positions_b, max_repeats: int = 8) -> list[tuple[int, int, int]]:
    count_a, count_b = {}, {}
    for h in hashes_a:
        count_a[h] = count_a.get(h, 0) + 1
    for h in hashes_b:
        count_b[h] = count_b.get(h, 0) + 1
    out = []
    for x, h in enumerate(hashes_a):
        if count_a[h] > max_repeats or count_b.get(h, max_repeats + 1) > max_repeats:
            continue
        for y, g in enumerate(hashes_b):
            if g == h:
                out.append((int(positions_a[x]), int(positions_b[y]), int(lengths_a[x])))
    return sorted(out)


def diagonal_fragments(seeds) -> list[tuple[int, int, int, int]]:
    by_diagonal: dict[int, list[tuple[int, int]]] = {}
    for pa, pb, k in seeds:
        by_diagonal.setdefault(pa - pb, []).append((pa, pa + k))
    out = []
    for d in sorted(by_diagonal):
        runs: list[list[int]] = []
        for start, end in sorted(by_diagonal[d]):
            if runs and start <= runs[-1][1]:
                runs[-1][1] = max(runs[-1][1], end)
            else:
                runs.append([start, end])
        out += [(s, e, s - d, e - d) for s, e in runs]
    return sorted(out, key=lambda r: r[0])  # (stable: by diagonal where a0 is the same)


def similar_sentence_pairs(sets_a, sets_b, starts_a, starts_b, *, min_dice: float = 0.4, min_features: int = 4,
                           max_per_feature: int = 30) -> list[tuple[int, int, int, int]]:
    """``sets_a``/``sets_b``: the feature set of each sentence; ``starts``: sentence starts plus the end."""
    in_b: dict[int, int] = {}
    for features in sets_b:
        for f in features:
            in_b[f] = in_b.get(f, 0) + 1
    out = []
    for i, fa in enumerate(sets_a):
        for j, fb in enumerate(sets_b):
            shared = sum(1 for f in fa & fb if in_b[f] <= max_per_feature)
            if shared and len(fa) >= min_features and len(fb) >= min_features:
                if 2 * shared / max(len(fa) + len(fb), 1) >= min_dice:
                    out.append((starts_a[i], starts_a[i + 1], starts_b[j], starts_b[j + 1]))
    return out


def chains(frags, wa, wb, max_gap: float, min_size: float = 0) -> list[tuple[tuple[int, int, int, int], list, float]]:
    """Each chain as ((a0, a1, b0, b1), its fragments in the order they joined, its matched weight)."""
    made: list[dict] = []
    open_: list[dict] = []
    for a0, a1, b0, b1 in frags:
        open_ = [c for c in open_ if wa[a0] - wa[c["a1"]] <= max_gap]
        best, best_gap = None, None
        for c in open_:
            if a1 <= c["a1"] and c["b0"] <= b0 and b1 <= c["b1"]:
                best, best_gap = c, -1.0
                break
            ga = wa[a0] - wa[c["a1"]]
            gb = wb[b0] - wb[c["b1"]] if b0 >= c["b1"] else -(wb[c["b1"]] - wb[b0])
            if ga > max_gap or gb > max_gap or b1 <= c["b1"] or b0 < c["b0"]:
                continue
            if max(0.0, -ga) > wa[a1] - wa[a0] or max(0.0, -gb) > wb[b1] - wb[b0]:
                continue
            last = c["parts"][-1]
            if abs((a0 - b0) - (last[0] - last[2])) > max_gap:
                continue
            if best is None or max(ga, gb) < best_gap:
                best, best_gap = c, max(ga, gb)
        if best is None:
            c = {"a0": a0, "a1": a1, "b0": b0, "b1": b1, "parts": [(a0, a1, b0, b1)]}
            made.append(c)
            open_.append(c)
        elif best_gap >= 0 or a1 > best["a1"] or b1 > best["b1"]:
            best["a1"], best["b1"] = max(best["a1"], a1), max(best["b1"], b1)
            best["parts"].append((a0, a1, b0, b1))
    out = []
    for c in made:
        if min(wa[c["a1"]] - wa[c["a0"]], wb[c["b1"]] - wb[c["b0"]]) < min_size:
            continue
        parts = c["parts"]
        while len(parts) > 1 and wa[parts[0][1]] - wa[parts[0][0]] < wa[parts[1][0]] - wa[parts[0][1]]:
            parts = parts[1:]
        while len(parts) > 1 and wa[parts[-1][1]] - wa[parts[-1][0]] < wa[parts[-1][0]] - wa[parts[-2][1]]:
            parts = parts[:-1]
        bounds = (min(p[0] for p in parts), max(p[1] for p in parts), min(p[2] for p in parts), max(p[3] for p in parts))
        out.append((bounds, parts, covered(parts, bounds[0], bounds[1], wa)))
    return out


def covered(parts, a0: int, a1: int, wa) -> float:
    """The weight of the text of a from ``a0`` to ``a1`` that ``parts`` cover, added up over them sorted."""
    total, end = 0.0, a0
    for p0, p1, _, _ in sorted(parts):
        lo, hi = max(p0, end, a0), min(p1, a1)
        if hi > lo:
            total += wa[hi] - wa[lo]
            end = hi
    return total


# =========================================================================== dedup.align
#
# Specification (dedup/align.py, ``trim_edges``): a span's ends move inward to the first and the last run of at
# least 2 matching tokens of rapidfuzz's Indel edit script (``opcodes``) of the first and the last 200 tokens of
# each side; None when either has none, or when nothing is left.


def trimmed_edges(ta: str, tb: str, span: tuple[int, int, int, int], edge: int = 200, block: int = 2):
    from rapidfuzz.distance import Indel

    a0, a1, b0, b1 = span
    head = [op for op in Indel.opcodes(ta[a0 : min(a1, a0 + edge)], tb[b0 : min(b1, b0 + edge)])]
    first = [op for op in head if op.tag == "equal" and op.src_end - op.src_start >= block]
    if not first:
        return None
    a0, b0 = a0 + first[0].src_start, b0 + first[0].dest_start
    ea, eb = max(a0, a1 - edge), max(b0, b1 - edge)
    tail = [op for op in Indel.opcodes(ta[ea:a1], tb[eb:b1])]
    last = [op for op in tail if op.tag == "equal" and op.src_end - op.src_start >= block]
    if not last:
        return None
    a1, b1 = ea + last[-1].src_end, eb + last[-1].dest_end
    if a1 <= a0 or b1 <= b0:
        return None
    return a0, a1, b0, b1


def bag_dice(fa, fb) -> float:
    """Dice similarity of two bags of features (0: none): 2 · Σ min(count in a, count in b) / (size a + size b)."""
    from collections import Counter

    ca, cb = Counter(int(x) for x in fa if x), Counter(int(x) for x in fb if x)
    size = sum(ca.values()) + sum(cb.values())
    return 2 * sum(min(n, cb[x]) for x, n in ca.items()) / size if size else 0.0


def bucket_pairs(keys, owners, span: int, limit: int) -> list[int]:
    """Per bucket (a key), its distinct owners; a bucket of 2 to ``limit`` of them gives each pair of them (i < j)
    once, as ``i * span + j``."""
    buckets: dict[int, set[int]] = {}
    for k, o in zip(keys, owners):
        buckets.setdefault(int(k), set()).add(int(o))
    return sorted(
        x * span + y for members in buckets.values() if 2 <= len(members) <= limit
        for x in members for y in members if x < y
    )
