"""Say in words what differs between two documents of a pair.

Works on aligned passages (token spans) and the original texts; used by the
pipeline for exact and near-duplicate pairs, where a reviewer wants to know
what was changed to disguise the copy.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

import numpy as np

from dedup.align import TokenSpan, opcodes
from dedup.models import Document
from dedup.normalize import Normalized

_DATE_RE = re.compile(
    r"\d{2,4}\s*年\s*\d{1,2}\s*月(\s*\d{1,2}\s*日)?|[一二〇○零]{4}年|"
    r"\b(19|20)\d{2}\b|\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{1,2}\b",
    re.IGNORECASE,
)
_MAX_HEADER_LINES = 5


def covered_mask(n: int, ranges: Sequence[tuple[int, int]]) -> np.ndarray:
    """Boolean mask of length ``n`` that is True inside any of ``ranges``."""
    diff = np.zeros(n + 1, dtype=np.int64)
    for s, e in ranges:
        diff[s] += 1
        diff[e] -= 1
    return np.cumsum(diff[:-1]) > 0


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset)


def _header_note(doc_a: Document, na: Normalized, miss_a: np.ndarray, doc_b: Document, nb: Normalized, miss_b: np.ndarray) -> str | None:
    """"only the first N lines differ: ..." when every unmatched token is in the first lines."""
    lines: set[int] = set()
    labels: list[str] = []
    for doc, norm, miss in ((doc_a, na, miss_a), (doc_b, nb, miss_b)):
        idx = np.nonzero(miss)[0]
        if len(idx) == 0:
            continue
        line_nos = {_line_of(doc.text, int(norm.starts[i])) for i in (idx[0], idx[-1])}
        first_line = _first_text_line(doc.text)
        last = max(line_nos)
        if last - first_line >= _MAX_HEADER_LINES:
            return None
        if any(_line_of(doc.text, int(norm.starts[i])) - first_line >= _MAX_HEADER_LINES for i in idx):
            return None
        text_lines = doc.text.splitlines()
        for ln in range(first_line, last + 1):
            lines.add(ln - first_line)
            if ln >= len(text_lines):
                continue
            line = text_lines[ln].strip()
            if _DATE_RE.search(line):
                labels.append("date")
            if ln == first_line:
                labels.append("title")
            elif line and len(line) <= 30 and not _DATE_RE.search(line):
                labels.append("speaker or byline")
    if not lines:
        return None
    n = max(lines) + 1
    what = ", ".join(dict.fromkeys(sorted(labels, key=["title", "speaker or byline", "date"].index)))
    head = "only the first line differs" if n == 1 else f"only the first {n} lines differ"
    return f"{head}: {what}" if what else head


def _first_text_line(text: str) -> int:
    for i, line in enumerate(text.splitlines()):
        if line.strip():
            return i
    return 0


def _extra_text_note(name: str, doc: Document, norm: Normalized, miss: np.ndarray, boiler: np.ndarray) -> str | None:
    idx = np.nonzero(miss)[0]
    if len(idx) == 0:
        return None
    chars = int(sum(norm.ends[i] - norm.starts[i] for i in idx))
    share = len(idx) / max(1, len(norm))
    where = []
    if miss[: max(1, len(norm) // 10)].any():
        where.append("at the start")
    if miss[len(norm) - max(1, len(norm) // 10) :].any():
        where.append("at the end")
    if miss[len(norm) // 10 : len(norm) - len(norm) // 10].any():
        where.append("in the body")
    bp = int((miss & boiler).sum())
    note = f"{name} has {chars} characters ({share:.0%}) not found in the other, {' and '.join(where)}"
    if bp and bp >= len(idx) // 2:
        note += " — mostly page furniture that recurs in other documents"
    return note


def _substitutions(doc_a: Document, na: Normalized, doc_b: Document, nb: Normalized, spans: Sequence[TokenSpan]) -> Counter:
    subs: Counter = Counter()
    budget = 200_000
    for span in spans:
        size = (span.a1 - span.a0) + (span.b1 - span.b0)
        if size > budget:
            break
        budget -= size
        for tag, a0, a1, b0, b1 in opcodes(na, nb, span):
            if tag == "replace" and a1 - a0 <= 3 and b1 - b0 <= 3:
                old = doc_a.text[na.starts[a0] : na.ends[a1 - 1]]
                new = doc_b.text[nb.starts[b0] : nb.ends[b1 - 1]]
                subs[(old, new)] += 1
    return subs


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
    header = _header_note(doc_a, na, miss_a, doc_b, nb, miss_b)
    if header:
        notes.append(header)
    else:
        for name, doc, norm, miss, boiler in (("a", doc_a, na, miss_a, boiler_a), ("b", doc_b, nb, miss_b, boiler_b)):
            note = _extra_text_note(name, doc, norm, miss, boiler)
            if note:
                notes.append(note)

    order = [s.b0 for s in sorted(spans, key=lambda s: s.a0)]
    moved = sum(1 for x, y in zip(order, order[1:]) if y < x)
    if moved:
        notes.append(f"text reordered: {len(spans)} blocks, {moved} out of order")

    for name, doc, norm in (("a", doc_a, na), ("b", doc_b, nb)):
        cjk = int(norm.cjk.sum())
        if cjk and norm.converted > 0.02 * cjk:
            notes.append(f"{name} is written in Traditional characters")
        if norm.page_markers:
            notes.append(f"{name} has {norm.page_markers} page markers (ignored)")

    subs = _substitutions(doc_a, na, doc_b, nb, spans)
    if subs:
        total = sum(subs.values())
        top = ", ".join(f"{o}→{n} ×{c}" if c > 1 else f"{o}→{n}" for (o, n), c in subs.most_common(6))
        notes.append(f"{total} substituted words, e.g. {top}")
    if doc_a.format != doc_b.format:
        notes.append(f"different file formats: {doc_a.format} vs {doc_b.format}")
    return tuple(notes)
