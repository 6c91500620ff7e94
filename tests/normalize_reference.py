"""The normalizer as it was before the compiled version (NORMALIZER_VERSION 1): the reference
that ``dedup.normalize.normalize`` must give exactly (tests/test_normalize.py)."""

from __future__ import annotations

import re
import unicodedata

import numpy as np

from dedup.config import NormalizeConfig
from dedup.normalize import _CJK, _WORD, Normalized, _char_classes, _word_parts, runs, sentence_breaks, to_simplified  # sentence_breaks: the regex one

_DASH = "[\u2014\u2013\\-\uff0d\u2015\u2500]"
_PAGE_MARKER_RES = [
    re.compile(rf"(?<![\d\w]){_DASH}{{1,2}}[ \t]*\d{{1,4}}[ \t]*{_DASH}{{1,2}}(?![\d])"),  # —3—, - 3 -
    re.compile(r"第[ \t]*\d{1,4}[ \t]*页[ \t]*[,，、/／]?[ \t]*共[ \t]*\d{1,4}[ \t]*页"),  # 第3页 共8页
    re.compile(r"^[ \t]*第[ \t]*\d{1,4}[ \t]*页[ \t\r]*$", re.M),  # a line 第3页
    re.compile(r"共[ \t]*\d{1,4}[ \t]*页[ \t]*[,，、/／]?[ \t]*第[ \t]*\d{1,4}[ \t]*页"),  # 共8页 第3页
    re.compile(r"\bpage[ \t]+\d{1,4}[ \t]*(?:of|/)[ \t]*\d{1,4}\b", re.I),  # Page 3 of 8
    re.compile(r"^[ \t]*(?:page[ \t]+)?\d{1,4}[ \t]*(?:/[ \t]*\d{1,4}[ \t]*)?\r?$", re.I | re.M),  # a line "3", "Page 3", "3/8"
]


def page_marker_spans(text: str) -> list[tuple[int, int]]:
    """``dedup.normalize.page_marker_spans`` as it was: every pattern run on every text."""
    found = sorted(m.span() for rx in _PAGE_MARKER_RES for m in rx.finditer(text))
    spans: list[tuple[int, int]] = []
    for start, end in found:
        if spans and start < spans[-1][1]:
            spans[-1] = (spans[-1][0], max(end, spans[-1][1]))
        else:
            spans.append((start, end))
    return spans


def normalize(text: str, config: NormalizeConfig | None = None) -> Normalized:
    """``dedup.normalize.normalize`` as it was (numpy over the code points, regular expressions)."""
    config = config or NormalizeConfig()
    markers = page_marker_spans(text) if config.drop_page_markers else []
    cps = np.frombuffer(text.encode("utf-32-le"), dtype="<u4")
    classes = _char_classes()[cps] if len(cps) else np.zeros(0, dtype=np.uint8)

    cjk_pos = np.nonzero(classes == _CJK)[0]
    word_starts, word_ends = runs(classes == _WORD)
    if markers:
        inside = np.zeros(len(cps) + 1, dtype=np.int64)
        for ms, me in markers:
            inside[ms] += 1
            inside[me] -= 1
        inside = np.cumsum(inside)[:-1] > 0
        cjk_pos = cjk_pos[~inside[cjk_pos]]
        keep = ~inside[word_starts]
        word_starts, word_ends = word_starts[keep], word_ends[keep]

    # CJK tokens: NFKC for compatibility forms, then Traditional→Simplified
    cjk_codes = cps[cjk_pos].astype(np.uint32)
    compat = np.nonzero(((cjk_codes >= 0x2E80) & (cjk_codes <= 0x2FDF)) | ((cjk_codes >= 0xF900) & (cjk_codes <= 0xFAFF)) | ((cjk_codes >= 0x2F800) & (cjk_codes <= 0x2FA1F)))[0]
    for k in compat:
        cjk_codes[k] = ord(unicodedata.normalize("NFKC", chr(cjk_codes[k]))[:1] or chr(cjk_codes[k]))
    converted = 0
    if len(cjk_codes) and config.traditional_to_simplified:
        original = cjk_codes.astype("<u4").tobytes().decode("utf-32-le")
        simplified = to_simplified(original)
        if simplified != original:
            new_codes = np.frombuffer(simplified.encode("utf-32-le"), dtype="<u4")
            converted = int((new_codes != cjk_codes).sum())
            cjk_codes = new_codes.astype(np.uint32)

    # word tokens: NFKC and case folding per distinct word (a word may become several tokens)
    raws = [text[s_:e_] for s_, e_ in zip(word_starts.tolist(), word_ends.tolist())]
    parts_of = [_word_parts(raw, config.casefold) for raw in raws]
    counts = np.fromiter((len(p) for p in parts_of), dtype=np.int64, count=len(parts_of))
    flat = [part for parts in parts_of for part in parts]
    words = {part[0]: None for parts in {p for p in parts_of} for part in parts if part[1]}
    w_starts = np.repeat(word_starts, counts)
    w_ends = np.repeat(word_ends, counts)
    w_codes = [code or ord(text_) for text_, code, _ in flat]
    w_cjk = [not code for _, code, _ in flat]
    w_heavy = [heavy for _, _, heavy in flat]

    starts = np.concatenate([cjk_pos.astype(np.int32), np.array(w_starts, dtype=np.int32)])
    ends = np.concatenate([cjk_pos.astype(np.int32) + 1, np.array(w_ends, dtype=np.int32)])
    codes = np.concatenate([cjk_codes, np.array(w_codes, dtype=np.uint32)])
    cjk = np.concatenate([np.ones(len(cjk_pos), dtype=bool), np.array(w_cjk, dtype=bool)])
    heavy = np.concatenate([np.zeros(len(cjk_pos), dtype=bool), np.array(w_heavy, dtype=bool)])
    order = np.argsort(starts, kind="stable")
    starts, ends, codes, cjk, heavy = starts[order], ends[order], codes[order], cjk[order], heavy[order]
    return Normalized(
        tokens=codes.astype("<u4").tobytes().decode("utf-32-le"),
        starts=starts,
        ends=ends,
        breaks=sentence_breaks(text, starts, ends),
        cjk=cjk,
        all_words="\0".join(words),
        page_markers=len(markers),
        converted=converted,
        heavy=heavy,
    )
