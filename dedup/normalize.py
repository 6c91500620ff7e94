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
from functools import cached_property, lru_cache

import numpy as np

from dedup import normalize_kernels as _k
from dedup import t2s
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
_PAGE_MARKER_RES = [
    # one pattern each (a single alternation is tried at every position and is slow); each starts
    # with a character or class where it can (the look-behind after the first dash says what a
    # look-behind before it would: the regex engine then skips to candidate characters)
    re.compile(rf"{_DASH}(?<![\d\w]{_DASH}){_DASH}?[ \t]*\d{{1,4}}[ \t]*{_DASH}{{1,2}}(?![\d])"),  # —3—, - 3 -
    re.compile(r"第[ \t]*\d{1,4}[ \t]*页[ \t]*[,，、/／]?[ \t]*共[ \t]*\d{1,4}[ \t]*页"),  # 第3页 共8页
    re.compile(r"^[ \t]*第[ \t]*\d{1,4}[ \t]*页[ \t\r]*$", re.M),  # a line 第3页
    re.compile(r"共[ \t]*\d{1,4}[ \t]*页[ \t]*[,，、/／]?[ \t]*第[ \t]*\d{1,4}[ \t]*页"),  # 共8页 第3页
    re.compile(r"\bpage[ \t]+\d{1,4}[ \t]*(?:of|/)[ \t]*\d{1,4}\b", re.I),  # Page 3 of 8
    re.compile(r"^[ \t]*(?:page[ \t]+)?\d{1,4}[ \t]*(?:/[ \t]*\d{1,4}[ \t]*)?\r?$", re.I | re.M),  # a line "3", "Page 3", "3/8"
]

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


@lru_cache(maxsize=1 << 17)
def _word_parts(raw: str, casefold: bool) -> tuple[tuple[str, int, bool], ...]:
    """Tokens of one word after NFKC: ``(text, code, heavy)``; code 0 for a CJK character.

    NFKC can split a word ("¼" → "1⁄4") or turn it into CJK ("㈱" → "(株)"),
    so the normalized word is tokenized again; all parts share its span.
    ``heavy``: a word of letters (weighs WORD_WEIGHT), not a number or a code.
    (A pure function of its arguments, cached because words repeat.)
    """
    norm = _normalize_word(raw, casefold)
    parts: list[tuple[str, int, bool]] = []
    for m in _TOKEN_RE.finditer(norm):
        if m.group("cjk") is not None:
            parts.append((m.group("cjk"), 0, False))
        else:
            word = m.group("word")
            parts.append((word, word_code(word), not any(c.isdigit() for c in word)))
    return tuple(parts)


def page_marker_spans(text: str) -> list[tuple[int, int]]:
    """Spans of page markers in ``text``, sorted and not overlapping."""
    return _page_marker_spans(text, _codes(text))


def _page_marker_spans(text: str, cps: np.ndarray) -> list[tuple[int, int]]:
    """``page_marker_spans`` given the code points of ``text``: the patterns run only on the lines where they could
    match (``normalize_kernels.page_lines``; no match spans a line end)."""
    found = []
    for start, end, flags in _k.page_lines(cps, _char_classes()).tolist():
        line = text[start:end]
        for rx, flag in zip(_PAGE_MARKER_RES, _PAGE_FLAGS):
            if flags & flag:
                found += [(start + m.start(), start + m.end()) for m in rx.finditer(line)]
    found.sort()
    spans: list[tuple[int, int]] = []
    for start, end in found:
        if spans and start < spans[-1][1]:
            spans[-1] = (spans[-1][0], max(end, spans[-1][1]))
        else:
            spans.append((start, end))
    return spans


_PAGE_FLAGS = (_k.PAGE_DASH, _k.PAGE_YE, _k.PAGE_YE, _k.PAGE_YE, _k.PAGE_WORD, _k.PAGE_NUMBER_LINE)  # (of each pattern)


@dataclass(frozen=True, eq=False)
class Normalized:
    """Tokens of one text, with their spans in the original text."""

    tokens: str  # one code point per token
    starts: np.ndarray  # int32, original start offset of each token
    ends: np.ndarray  # int32, original end offset of each token
    cjk: np.ndarray  # bool, token is a CJK character
    all_words: str = ""  # the normalized words in order, repeats too, a NUL character between two (see ``words``)
    breaks: np.ndarray | None = None  # bool, a sentence ends after this token
    page_markers: int = 0  # page markers left out
    converted: int = 0  # CJK tokens changed by Traditional→Simplified
    heavy: np.ndarray | None = None  # bool, the token weighs WORD_WEIGHT (see ``weights``)

    def __len__(self) -> int:
        return len(self.tokens)

    @cached_property
    def words(self) -> tuple[str, ...]:
        """The distinct normalized words, for display (in no particular order).

        Made from ``all_words`` when first asked for: most documents are never displayed.
        """
        return tuple(dict.fromkeys(self.all_words.split("\0"))) if self.all_words else ()

    @property
    def weights(self) -> np.ndarray:
        """Size of each token in CJK-character units.

        A CJK character counts 1, a word WORD_WEIGHT (so 12 words weigh like
        50 characters), a number or code with digits 1 (dates, URLs, ids).
        """
        return np.where(self.cjk if self.heavy is None else ~self.heavy, 1.0, WORD_WEIGHT)

    @cached_property
    def codes(self) -> np.ndarray:
        """The tokens' code points (``<u4``), computed once: shingles, features and digests read them."""
        return _codes(self.tokens)

    @cached_property
    def mostly_cjk(self) -> bool:
        """Whether CJK characters outweigh words (see ``weights``): the document is matched as CJK text."""
        cjk = int(np.count_nonzero(self.cjk))
        return bool(len(self)) and cjk >= (len(self) - cjk) * WORD_WEIGHT

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


_OTHER, _WORD, _CJK, _MARK = 0, 1, 2, 3
_NO_SPANS = np.zeros((0, 2), dtype=np.int64)
_MARK_STARTS = "。！？!?；;.…\n"  # the characters a match of ``_SENTENCE_END_RE`` can start with


@lru_cache(maxsize=1)
def _char_classes() -> np.ndarray:
    """Class of every code point: CJK character, word character (letter or digit), other or mark.

    The same classes as ``_TOKEN_RE``: word characters are those ``str.isalnum``
    accepts, CJK characters those of ``_CJK_RANGES``; a mark is another character a
    sentence mark can start with (``_MARK_STARTS``).
    """
    table = np.zeros(0x110000, dtype=np.uint8)
    table[[ord(c) for c in _MARK_STARTS]] = _MARK
    codes = np.concatenate([np.arange(0xD800), np.arange(0xE000, 0x110000)]).astype("<u4")  # no surrogates
    everything = codes.tobytes().decode("utf-32-le")
    for m in re.finditer(r"[^\W_]+", everything):  # runs of what ``str.isalnum`` accepts (4x faster than asking it)
        table[codes[m.start() : m.end()]] = _WORD
    for m in re.finditer(r"(.)-(.)|(.)", _CJK_RANGES, re.S):
        lo, hi = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(3))
        table[ord(lo) : ord(hi) + 1] = _CJK
    return table


def runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Starts and ends (exclusive) of the runs of True in a boolean array."""
    edges = np.diff(np.concatenate([[0], mask.view(np.int8), [0]]))
    return np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0]


def normalize(text: str, config: NormalizeConfig | None = None) -> Normalized:
    """Tokenize and normalize ``text`` for matching (compiled loops over the code points)."""
    config = config or NormalizeConfig()
    cps = _codes(text)
    markers = _page_marker_spans(text, cps) if config.drop_page_markers else []
    spans = np.array(markers, dtype=np.int64).reshape(-1, 2) if markers else _NO_SPANS
    flags = _char_flags() if config.traditional_to_simplified else _compat_flags()
    starts, ends, codes, is_cjk, heavy, marks, breaks, slow, wbytes, counts = _k.scan(
        cps, _char_classes(), spans, config.casefold, flags, MAX_SENTENCE
    )
    n_converts, n_in_phrase, n_compat = counts.tolist()

    # CJK tokens: NFKC for compatibility forms, then Traditional→Simplified
    if n_compat:
        for k in np.nonzero(is_cjk & (flags[codes] & 4).astype(bool))[0]:
            codes[k] = ord(unicodedata.normalize("NFKC", chr(codes[k]))[:1] or chr(codes[k]))
        n_converts = n_in_phrase = 1  # (not counted again: convert as before)
    converted = 0
    if config.traditional_to_simplified and (n_converts or (n_in_phrase and t2s.phrase_found(codes[is_cjk]))):
        cjk_codes = codes[is_cjk]
        by_char = None if n_compat else t2s.char_map(_t2s().convert)
        if by_char is not None:
            new_codes = by_char[cjk_codes]  # what OpenCC gives without a phrase (``t2s.char_map``)
            for start, end in _k.key_regions(cjk_codes, *t2s.key_table()).tolist():  # ... and OpenCC's own there
                new_codes[start:end] = _codes(to_simplified(_chars(cjk_codes[start:end])))
            converted = int((new_codes != cjk_codes).sum())
            codes[is_cjk] = new_codes
        else:
            original = _chars(cjk_codes)
            simplified = to_simplified(original)
            if simplified != original:
                new_codes = _codes(simplified)
                converted = int((new_codes != cjk_codes).sum())
                codes[is_cjk] = new_codes

    # word tokens: ASCII words are done; others by NFKC and case folding (one may become several tokens)
    fast_words = wbytes.tobytes().decode("ascii")  # in order, NUL between
    if not len(slow):
        return Normalized(_chars(codes), starts, ends, is_cjk, fast_words, breaks, len(markers), converted, heavy)
    slow_parts = [_word_parts(text[s_:e_], config.casefold) for s_, e_ in zip(starts[slow].tolist(), ends[slow].tolist())]
    slow_words = [part[0] for parts in slow_parts for part in parts if part[1]]
    words = "\0".join(([fast_words] if fast_words else []) + slow_words)
    flat = [part for parts in slow_parts for part in parts]
    slot, cjk = slow, is_cjk  # (each stays one token, as most do: the arrays keep their size and breaks)
    if not all(len(parts) == 1 for parts in slow_parts):
        counts = np.ones(len(codes), dtype=np.int64)
        counts[slow] = [len(p) for p in slow_parts]
        at = np.repeat(np.arange(len(codes)), counts)
        is_slow = np.zeros(len(codes), dtype=bool)
        is_slow[slow] = True
        slot = np.nonzero(np.repeat(is_slow, counts))[0]
        starts, ends, codes, cjk, heavy = starts[at], ends[at], codes[at], is_cjk[at], heavy[at]
        breaks = _k.breaks_of(starts, ends, marks, MAX_SENTENCE)
    codes[slot] = [code or ord(text_) for text_, code, _ in flat]
    cjk[slot] = [not code for _, code, _ in flat]
    heavy[slot] = [h for _, _, h in flat]
    return Normalized(_chars(codes), starts, ends, cjk, words, breaks, len(markers), converted, heavy)


def _chars(codes: np.ndarray) -> str:
    return codes.astype("<u4").tobytes().decode("utf-32-le")


def _codes(text: str) -> np.ndarray:
    """The code points of ``text`` (``<u4``; read-only, a view of its UTF-32 bytes)."""
    return np.frombuffer(text.encode("utf-32-le"), dtype="<u4")


@lru_cache(maxsize=1)
def _compat_flags() -> np.ndarray:
    """Bit 2 (4) set on the CJK compatibility forms (radicals, compatibility ideographs), which NFKC changes."""
    table = np.zeros(0x110000, dtype=np.uint8)
    for lo, hi in ((0x2E80, 0x2FDF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F)):
        table[lo : hi + 1] = 4
    return table


@lru_cache(maxsize=1)
def _char_flags() -> np.ndarray:
    """``_compat_flags`` with bit 0 on characters Traditional→Simplified may change, bit 1 on those
    it changes inside a phrase only (``dedup.t2s``): where neither is set on any CJK token,
    conversion is skipped (the same result)."""
    return _compat_flags() | t2s.char_table(_t2s().convert)


_SENTENCE_END_RE = re.compile(r"[。！？!?；;.…]|\n[ \t\r\u3000]*\n")
MAX_SENTENCE = 80  # tokens; longer runs without punctuation are cut


def sentences(breaks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sentence number of each token, and the first token of each sentence plus ``len(breaks)`` at the end."""
    n = len(breaks)
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(1, dtype=np.int64)
    number = np.concatenate([[0], np.cumsum(breaks[:-1])]).astype(np.int64)
    first = np.concatenate([[0], np.nonzero(breaks[:-1])[0] + 1, [n]]).astype(np.int64)
    return number, first


def normalize_text(text: str, config: NormalizeConfig | None = None) -> str:
    """Readable normalized form of ``text`` (for display and tests)."""
    return normalize(text, config).readable()
