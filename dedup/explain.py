"""Say in words what differs between two documents of a pair.

Works on aligned passages (token spans) and the original texts; used by the
pipeline for exact and near-duplicate pairs, where a reviewer wants to know
what was changed to disguise the copy.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from dedup.align import TokenSpan, opcodes
from dedup.models import Document
from dedup.normalize import Normalized, runs
from dedup.segment import Segmenter, load_segmenter

_DATE_RE = re.compile(
    r"\d{2,4}\s*年\s*\d{1,2}\s*月(\s*\d{1,2}\s*日)?|[一二〇○零]{4}年|"
    r"\b(19|20)\d{2}\b|\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{1,2}\b",
    re.IGNORECASE,
)
_MAX_HEADER_LINES = 5
_MIN_EXTRA = 5
_CONTEXT = 6  # CJK characters each side given to the word segmenter  # fewer unmatched tokens than this are not worth a note


def covered_mask(n: int, ranges: Sequence[tuple[int, int]]) -> np.ndarray:
    """Boolean mask of length ``n`` that is True inside any of ``ranges``."""
    if not len(ranges):
        return np.zeros(n, dtype=bool)
    r = np.asarray(ranges, dtype=np.int64).reshape(-1, 2)
    diff = np.bincount(r[:, 0], minlength=n + 1) - np.bincount(r[:, 1], minlength=n + 1)
    return np.cumsum(diff[:n]) > 0


_MAX_HEADER_LINE = 100  # a longer line is body text, not a title, byline or date


def _header_ranges(text: str) -> list[tuple[int, int, str]]:
    """``(start, end, line)`` of the header: the first short lines with text."""
    out: list[tuple[int, int, str]] = []
    pos = 0
    for line in text.splitlines(keepends=True):
        start, pos = pos, pos + len(line)
        stripped = line.strip()
        if not stripped:
            continue
        if len(stripped) > _MAX_HEADER_LINE or len(out) == _MAX_HEADER_LINES:
            break
        out.append((start, pos, stripped))
    return out


def _header_note(sides) -> tuple[str | None, list[np.ndarray]]:
    """Note on changed header lines, and for each side the changes outside the header.

    ``sides`` holds ``(document, normalized, changed-token mask)`` for a and b.
    """
    labels: list[str] = []
    n_lines = 0
    rest = []
    for doc, norm, changed in sides:
        ranges = _header_ranges(doc.text)
        in_header = np.zeros(len(norm), dtype=bool)
        for k, (start, end, line) in enumerate(ranges):
            here = (norm.starts >= start) & (norm.starts < end)
            in_header |= here
            if (here & changed).any():
                n_lines = max(n_lines, k + 1)
                if k == 0:
                    labels.append("title")
                if _DATE_RE.search(line):
                    labels.append("date")
                elif k and len(line) <= 30:
                    labels.append("speaker or byline")
        rest.append(changed & ~in_header)
    if not n_lines:
        return None, rest
    what = ", ".join(dict.fromkeys(sorted(labels, key=["title", "speaker or byline", "date"].index)))
    only = "only " if not any(m.any() for m in rest) else ""
    head = only + ("the first line differs" if n_lines == 1 else f"the first {n_lines} lines differ")
    return (f"{head}: {what}" if what else head), rest


def _extra_text_note(name: str, norm: Normalized, miss: np.ndarray, boiler: np.ndarray) -> str | None:
    """Where the text of one side that the other lacks sits: before, after, or inside."""
    starts, ends = runs(miss)
    gaps = list(zip(starts.tolist(), ends.tolist()))
    if not gaps:
        return None

    def chars(run):
        return int(norm.ends[run[1] - 1] - norm.starts[run[0]])

    parts = []
    if gaps[0][0] == 0:
        parts.append(f"{chars(gaps[0])} before the shared text")
        gaps = gaps[1:]
    tail = None
    if gaps and gaps[-1][1] == len(norm):
        tail = f"{chars(gaps[-1])} after it"
        gaps = gaps[:-1]
    if gaps:
        parts.append(f"{sum(chars(r) for r in gaps)} inside it in {len(gaps)} place{'s' if len(gaps) > 1 else ''}")
    if tail:
        parts.append(tail)
    total = int(miss.sum())
    if total < _MIN_EXTRA:
        return None
    note = f"{name} has text the other lacks ({total / max(1, len(norm)):.0%} of {name}): characters " + ", ".join(parts)
    if int((miss & boiler).sum()) >= total // 2:
        note += "; mostly page furniture that recurs in other documents"
    return note


def _word(doc: Document, norm: Normalized, lo: int, hi: int) -> str:
    return doc.text[norm.starts[lo] : norm.ends[hi - 1]]


def _edits(na: Normalized, nb: Normalized, spans: Sequence[TokenSpan]):
    """Non-equal opcodes of the passages (bounded work on very long passages)."""
    budget = 400_000
    for span in spans:
        size = (span.a1 - span.a0) + (span.b1 - span.b0)
        if size > budget:
            return
        budget -= size
        for op in opcodes(na, nb, span):
            if op[0] != "equal":
                yield op


@lru_cache(maxsize=1)
def _segmenter() -> Segmenter:
    return load_segmenter()


def warm_up() -> None:
    """Load the word segmenter that the differences of Chinese pairs use (jieba's dictionary in the compact form
    of ``dedup.segment``: ~15 ms from this user's cache, ~1.5 s the first time, when it is built): a process about
    to fork the ones that describe pairs loads it once for all of them."""
    _segmenter()


def _word_extension(norm: Normalized, lo: int, hi: int) -> tuple[int, int]:
    """How many CJK characters to add left and right so that tokens ``lo:hi`` become whole words."""
    start, stop = lo, hi
    while start > 0 and lo - start < _CONTEXT and norm.cjk[start - 1]:
        start -= 1
    while stop < len(norm) and stop - hi < _CONTEXT and norm.cjk[stop]:
        stop += 1
    left = right = 0
    pos = start
    for word in _segmenter().cut(norm.tokens[start:stop]):  # (the words of jieba's cut(..., HMM=False))
        w0, w1 = pos, pos + len(word)
        pos = w1
        if w1 > lo and w0 < hi:  # a word overlapping the change
            left, right = max(left, lo - w0), max(right, w1 - hi)
    return left, right


def _substitution(doc_a, na, doc_b, nb, op) -> tuple[str, str] | None:
    """A short replacement as readable words: CJK characters are widened to whole words."""
    _, a0, a1, b0, b1 = op
    if a1 - a0 > 3 or b1 - b0 > 3:
        return None
    if na.cjk[a0:a1].all() and nb.cjk[b0:b1].all():
        la, ra = _word_extension(na, a0, a1)
        lb, rb = _word_extension(nb, b0, b1)
        left, right = min(la, lb), min(ra, rb)
        if left == right == 0 and min(a1 - a0, b1 - b0) == 1:  # no word found: show one neighbour
            left, right = max(la, lb) and 1, 0 if max(la, lb) else 1
        left = min(left, a0, b0)
        right = min(right, len(na) - a1, len(nb) - b1)
        a0, a1, b0, b1 = a0 - left, a1 + right, b0 - left, b1 + right
    return _word(doc_a, na, a0, a1), _word(doc_b, nb, b0, b1)


def describe(
    doc_a: Document,
    na: Normalized,
    doc_b: Document,
    nb: Normalized,
    spans: Sequence[TokenSpan],
    *,
    relation: str,
    boiler_a: np.ndarray,
    boiler_b: np.ndarray,
) -> tuple[str, ...]:
    """Human-readable notes on what differs between the two documents."""
    notes: list[str] = []
    if relation == "exact":
        notes.append("same text after normalization")
        if doc_a.text == doc_b.text:
            notes.append("the decoded texts are identical")
        if doc_a.encoding != doc_b.encoding and doc_a.encoding and doc_b.encoding:
            notes.append(f"encoded differently: {doc_a.encoding} vs {doc_b.encoding}")
        if doc_a.format != doc_b.format:
            notes.append(f"different file formats: {doc_a.format} vs {doc_b.format}")
        if ("\r\n" in doc_a.text) != ("\r\n" in doc_b.text):
            notes.append("line endings differ")
        return tuple(notes)

    miss_a = ~covered_mask(len(na), [(s.a0, s.a1) for s in spans])
    miss_b = ~covered_mask(len(nb), [(s.b0, s.b1) for s in spans])
    changed_a, changed_b = miss_a.copy(), miss_b.copy()
    edits = list(_edits(na, nb, spans))
    for _, a0, a1, b0, b1 in edits:
        changed_a[a0:a1] = True
        changed_b[b0:b1] = True
    header, (rest_a, rest_b) = _header_note(((doc_a, na, changed_a), (doc_b, nb, changed_b)))
    if header:
        notes.append(header)
    for name, norm, miss, rest, boiler in (("a", na, miss_a, rest_a, boiler_a), ("b", nb, miss_b, rest_b, boiler_b)):
        note = _extra_text_note(name, norm, miss & rest, boiler)
        if note:
            notes.append(note)

    order = [s.b0 for s in sorted(spans, key=lambda s: s.a0)]
    moved = sum(1 for x, y in zip(order, order[1:]) if y < x) + sum(s.moved for s in spans)
    if moved:
        notes.append(f"text reordered: {moved} block{'s' if moved > 1 else ''} moved")

    for name, doc, norm in (("a", doc_a, na), ("b", doc_b, nb)):
        cjk = int(norm.cjk.sum())
        if cjk and norm.converted > 0.02 * cjk:
            notes.append(f"{name} is written in Traditional characters")
        if norm.page_markers:
            notes.append(f"{name} has {norm.page_markers} page markers (ignored)")

    subs: Counter = Counter()
    for op in edits:
        if op[0] == "replace" and rest_a[op[1]:op[2]].any():
            sub = _substitution(doc_a, na, doc_b, nb, op)
            if sub:
                subs[sub] += 1
    if subs:
        total = sum(subs.values())
        top = ", ".join(f"{o}→{n} ×{c}" if c > 1 else f"{o}→{n}" for (o, n), c in subs.most_common(6))
        notes.append(f"{total} substituted word{'s' if total > 1 else ''}, e.g. {top}")
    if doc_a.format != doc_b.format:
        notes.append(f"different file formats: {doc_a.format} vs {doc_b.format}")
    return tuple(notes)
