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
