"""Normalize text for matching, keeping a map back to the original text.

Matching works on *tokens*: every CJK character (Han, kana, Hangul) is one
token and every run of other letters and digits is one word token. Whitespace
and punctuation are not tokens, so line re-wrapping, full-width/half-width
punctuation and quote styles never matter. Tokens are normalized (NFKC, case
folding, Traditional→Simplified) and each is stored as one code point of
``Normalized.tokens``: a CJK token as its (simplified) character, a word token
as a stable hash code in planes 4–15, which hold no assigned characters. Each
token keeps the code-point span it came from in the original text, so any
span of tokens maps back to an exact slice of the original.

Page markers (``—3—``, ``第3页 共8页``, ``Page 3 of 8``, a line holding only a
page number) produce no tokens.
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from dedup.config import WORD_WEIGHT, NormalizeConfig

_CJK_RANGES = (
    "\u2e80-\u2fdf"  # CJK and Kangxi radicals (NFKC maps them to ideographs)
    "\u3005\u3007"  # 々 〇
    "\u3040-\u30ff"  # kana
    "\u3400-\u4dbf"  # Ext A
    "\u4e00-\u9fff"  # unified ideographs
    "\uac00-\ud7af"  # Hangul syllables
    "\uf900-\ufaff"  # compatibility ideographs
    "\U00020000-\U0003134f"  # Ext B-H
)
_TOKEN_RE = re.compile(f"(?P<cjk>[{_CJK_RANGES}])|(?P<word>[^\\W_{_CJK_RANGES}]+)")
_NEEDS_NFKC = re.compile("[\u2e80-\u2fdf\uf900-\ufaff\U0002f800-\U0002fa1f]")

_DASH = "[\u2014\u2013\\-\uff0d\u2015\u2500]"
_PAGE_MARKER_RE = re.compile(
    "|".join(
        [
            rf"(?<![\d\w]){_DASH}{{1,2}}[ \t]*\d{{1,4}}[ \t]*{_DASH}{{1,2}}(?![\d])",  # —3—, - 3 -
            r"第[ \t]*\d{1,4}[ \t]*页[ \t]*[,，、/／]?[ \t]*共[ \t]*\d{1,4}[ \t]*页",  # 第3页 共8页
            r"共[ \t]*\d{1,4}[ \t]*页[ \t]*[,，、/／]?[ \t]*第[ \t]*\d{1,4}[ \t]*页",  # 共8页 第3页
            r"(?im:^[ \t]*第[ \t]*\d{1,4}[ \t]*页[ \t]*$)",  # a line 第3页
            r"(?i:\bpage[ \t]+\d{1,4}[ \t]*(?:of|/)[ \t]*\d{1,4}\b)",  # Page 3 of 8
            r"(?im:^[ \t]*(?:page[ \t]+)?\d{1,4}[ \t]*(?:/[ \t]*\d{1,4}[ \t]*)?$)",  # a line "3", "Page 3", "3/8"
        ]
    )
)

WORD_BASE = 0x40000
_WORD_SPAN = 0xC0000  # planes 4..15


def is_word_code(code: int) -> bool:
    return code >= WORD_BASE


@lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional→Simplified, character for character (same length as the input)."""
    if not text:
        return text
    converter = _t2s()
    out = converter.convert(text)
    if len(out) == len(text):
        return out
    return "".join(c if len(s := converter.convert(c)) != 1 else s for c in text)


def word_code(word: str) -> int:
    """The code point that stands for a normalized word token."""
    return WORD_BASE + zlib.crc32(word.encode("utf-8")) % _WORD_SPAN


def _normalize_word(word: str, casefold: bool) -> str:
    word = unicodedata.normalize("NFKC", word)
    return word.casefold() if casefold else word


def _word_parts(raw: str, casefold: bool, words: dict[str, None]) -> list[tuple[str, int]]:
    """Tokens of one word after NFKC: ``(cjk_char, 0)`` or ``(word, code)``.

    NFKC can split a word ("¼" → "1⁄4") or turn it into CJK ("㈱" → "(株)"),
    so the normalized word is tokenized again; all parts share its span.
    """
    norm = _normalize_word(raw, casefold)
    parts: list[tuple[str, int]] = []
    for m in _TOKEN_RE.finditer(norm):
        if m.group("cjk") is not None:
            parts.append((m.group("cjk"), 0))
        else:
            words[m.group("word")] = None
            parts.append((m.group("word"), word_code(m.group("word"))))
    return parts


def page_marker_spans(text: str) -> list[tuple[int, int]]:
    """Spans of page markers in ``text``."""
    return [m.span() for m in _PAGE_MARKER_RE.finditer(text)]


@dataclass(frozen=True, eq=False)
class Normalized:
    """Tokens of one text, with their spans in the original text."""

    tokens: str  # one code point per token
    starts: np.ndarray  # int64, original start offset of each token
    ends: np.ndarray  # int64, original end offset of each token
    cjk: np.ndarray  # bool, token is a CJK character
    words: tuple[str, ...] = ()  # distinct normalized words, for display
    breaks: np.ndarray | None = None  # bool, a sentence ends after this token
    page_markers: int = 0  # page markers left out
    converted: int = 0  # CJK tokens changed by Traditional→Simplified
    sizes: np.ndarray | None = None  # weight of each token (see ``weights``)

    def __len__(self) -> int:
        return len(self.tokens)

    @property
    def weights(self) -> np.ndarray:
        """Size of each token in CJK-character units.

        A CJK character counts 1, a word WORD_WEIGHT (so 12 words weigh like
        50 characters), a number or code with digits 1 (dates, URLs, ids).
        """
        if self.sizes is not None:
            return self.sizes
        return np.where(self.cjk, 1.0, WORD_WEIGHT)

    @property
    def mostly_cjk(self) -> bool:
        if not len(self):
            return False
        return float(self.cjk.sum()) >= float((~self.cjk).sum()) * WORD_WEIGHT

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original-text span of tokens ``start:end`` (end exclusive, non-empty)."""
        return int(self.starts[start]), int(self.ends[end - 1])

    def readable(self) -> str:
        """The normalized text as a person can read it: CJK joined, words spaced."""
        lookup = {word_code(w): w for w in self.words}
        parts: list[str] = []
        prev_word = False
        for ch in self.tokens:
            code = ord(ch)
            if is_word_code(code):
                if parts:
                    parts.append(" ")
                parts.append(lookup.get(code, "?"))
                prev_word = True
            else:
                if prev_word:
                    parts.append(" ")
                parts.append(ch)
                prev_word = False
        return "".join(parts)


def normalize(text: str, config: NormalizeConfig | None = None) -> Normalized:
    """Tokenize and normalize ``text`` for matching."""
    config = config or NormalizeConfig()
    markers = page_marker_spans(text) if config.drop_page_markers else []
    marker_iter = iter(markers)
    marker = next(marker_iter, None)

    starts: list[int] = []
    ends: list[int] = []
    codes: list[int] = []
    cjk_flags: list[bool] = []
    sizes: list[float] = []
    cjk_chars: list[str] = []
    cjk_slots: list[int] = []
    word_cache: dict[str, list[tuple[str, int]]] = {}
    words: dict[str, None] = {}

    for m in _TOKEN_RE.finditer(text):
        s, e = m.span()
        while marker is not None and marker[1] <= s:
            marker = next(marker_iter, None)
        if marker is not None and marker[0] <= s < marker[1]:
            continue
        ch = m.group("cjk")
        if ch is not None:
            if _NEEDS_NFKC.match(ch):
                ch = unicodedata.normalize("NFKC", ch)[:1] or ch
            parts: list[tuple[str, int]] = [(ch, 0)]
        else:
            raw = m.group("word")
            parts = word_cache.get(raw)  # type: ignore[assignment]
            if parts is None:
                parts = word_cache[raw] = _word_parts(raw, config.casefold, words)
        for ch, code in parts:
            starts.append(s)
            ends.append(e)
            if code:
                codes.append(code)
                cjk_flags.append(False)
                sizes.append(1.0 if any(c.isdigit() for c in ch) else WORD_WEIGHT)
            else:
                sizes.append(1.0)
                cjk_slots.append(len(codes))
                cjk_chars.append(ch)
                codes.append(0)
                cjk_flags.append(True)

    converted = 0
    if cjk_chars:
        original = "".join(cjk_chars)
        simplified = to_simplified(original) if config.traditional_to_simplified else original
        converted = sum(1 for x, y in zip(original, simplified) if x != y)
        for slot, ch in zip(cjk_slots, simplified):
            codes[slot] = ord(ch)

    arr = np.array(codes, dtype="<u4")
    starts_arr = np.array(starts, dtype=np.int64)
    ends_arr = np.array(ends, dtype=np.int64)
    return Normalized(
        tokens=arr.tobytes().decode("utf-32-le"),
        starts=starts_arr,
        ends=ends_arr,
        breaks=sentence_breaks(text, starts_arr, ends_arr),
        cjk=np.array(cjk_flags, dtype=bool),
        words=tuple(words),
        page_markers=len(markers),
        converted=converted,
        sizes=np.array(sizes, dtype=np.float64),
    )


_SENTENCE_END_RE = re.compile(r"[。！？!?；;.…]|\n[ \t\r\u3000]*\n")
MAX_SENTENCE = 80  # tokens; longer runs without punctuation are cut


def sentence_breaks(text: str, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """For each token, whether a sentence ends after it (punctuation or a blank line in the gap)."""
    n = len(starts)
    breaks = np.zeros(n, dtype=bool)
    if n == 0:
        return breaks
    marks = np.fromiter((m.start() for m in _SENTENCE_END_RE.finditer(text)), dtype=np.int64)
    if len(marks):
        token = np.searchsorted(starts, marks, side="right") - 1
        ok = (token >= 0) & (ends[np.maximum(token, 0)] <= marks)
        breaks[token[ok]] = True
    breaks[-1] = True
    # cut very long sentences
    sentence = np.concatenate([[0], np.cumsum(breaks[:-1])])
    first = np.concatenate([[0], np.nonzero(breaks[:-1])[0] + 1])
    offset = np.arange(n) - first[sentence]
    breaks |= (offset % MAX_SENTENCE) == MAX_SENTENCE - 1
    return breaks


def normalize_text(text: str, config: NormalizeConfig | None = None) -> str:
    """Readable normalized form of ``text`` (for display and tests)."""
    return normalize(text, config).readable()
