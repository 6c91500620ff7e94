"""Verify a candidate pair on the text and align it into passages.

Seed and extend: shingles the two documents share are *seeds*; seeds on the
same diagonal that overlap form exact *fragments*; fragments close to each
other on both sides (gaps up to ``max_gap``, so substituted words, small
edits and removed page markers do not break a passage) are chained into
*passages*, and passages joined across what breaks them (``dedup.join``). Each
passage is verified with rapidfuzz (Indel similarity of the two token strings)
and kept only if it is long and similar enough.

All spans here are in token coordinates (see ``dedup.normalize``); the
pipeline maps them to original-text offsets with ``Normalized.span``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np
from rapidfuzz.distance import Indel, Levenshtein

from dedup.align_kernels import by_start
from dedup.config import AlignConfig
from dedup.join import EDITED, Chain, bridged, chain, cover, islands_beside, matched_weight, merge_neighbours
from dedup.normalize import Normalized
from dedup.seed import ShingleIndex, bag_similarity, fragments, gap_similarity, seeds, sentence_seeds, shingle_index
from dedup.sign import Signed


@dataclass(frozen=True)
class TokenSpan:
    """Tokens ``a0:a1`` of document a match tokens ``b0:b1`` of document b."""

    a0: int
    a1: int
    b0: int
    b1: int
    similarity: float
    moved: int = 0  # blocks inside the passage that appear in another order in b


def similarity(
    na: Normalized, nb: Normalized, span: TokenSpan | tuple[int, int, int, int], *, score_cutoff: float = 0.0
) -> float:
    """Indel similarity of the two sides of a span (0 when below ``score_cutoff``)."""
    a0, a1, b0, b1 = span[:4] if isinstance(span, tuple) else (span.a0, span.a1, span.b0, span.b1)
    return float(Indel.normalized_similarity(na.tokens[a0:a1], nb.tokens[b0:b1], score_cutoff=score_cutoff))


def align(
    sa: Signed,
    sb: Signed,
    *,
    config: AlignConfig,
    min_passage: float,
    index_a: ShingleIndex | None = None,
    index_b: ShingleIndex | None = None,
) -> list[TokenSpan]:
    """Passages shared by two signed documents, verified, in token coordinates.

    ``index_a``/``index_b`` (from ``shingle_index``) can be passed to reuse
    the per-document work across many pairs.
    """
    index_a = index_a or shingle_index(sa)
    index_b = index_b or shingle_index(sb)
    frags = fragments(seeds(index_a, index_b))
    if config.sentence_seeds:
        extra = sentence_seeds(index_a, index_b)
        if len(extra):
            frags = by_start(np.concatenate([frags, extra]))
    if len(frags) == 0:
        return []
    wa, wb = index_a.weights, index_b.weights
    if float((wa[frags[:, 1]] - wa[frags[:, 0]]).sum()) < min_passage:
        return []  # not enough matching text for one passage: most candidate pairs end here

    scores: dict[tuple[int, int, int, int], float] = {}  # (joining chains asks for the same spans again)

    def score(span: tuple[int, int, int, int]) -> float:
        """Indel similarity, or the bag-of-words one where word order was shuffled."""
        sim = scores.get(span)
        if sim is None:
            sim = similarity(sa.norm, sb.norm, span, score_cutoff=config.min_similarity)
            if sim < config.min_similarity and config.sentence_seeds:
                sim = max(sim, bag_similarity(index_a, index_b, span))
            scores[span] = sim
        return sim

    spans = []
    chains = chain(frags, wa, wb, config.max_gap, min_size=min_passage)
    merged = merge_neighbours(chains, wa, wb, score, config, min_passage=min_passage)
    islands = islands_beside(merged, frags, wa, wb, config.max_gap, min_passage=min_passage)
    gap_dice = partial(gap_similarity, index_a, index_b)
    breaks = [index_a.breaks, index_b.breaks]
    for c in bridged(merged, islands, wa, wb, gap_dice, score, breaks, min_passage=min_passage, min_similarity=config.min_similarity):
        if cover(c, wa) < min_passage:  # (trimming only takes from the ends)
            continue
        pieces = c.pieces
        c = _trim_edges(sa.norm, sb.norm, c)
        if c is None or min(wa[c.a1] - wa[c.a0], wb[c.b1] - wb[c.b0]) < min_passage:
            continue
        if matched_weight(c, wa) < min_passage:  # chance matches of stock phrases strung together
            continue
        sim = max(score((c.a0, c.a1, c.b0, c.b1)), pieces)  # (moved pieces: the less similar of them)
        if sim >= config.min_similarity:
            spans.append(TokenSpan(c.a0, c.a1, c.b0, c.b1, round(sim, 4), _moved(c.parts, min_passage, wa)))
    spans = _drop_dominated(spans)
    # in documents that share most of their text, short verbatim blocks count too (moved short paragraphs)
    if spans and config.min_block < min_passage and _shares_most(spans, wa, wb):
        blocks = []
        for c in chain(frags, wa, wb, config.max_gap, min_size=config.min_block):
            c = _trim_edges(sa.norm, sb.norm, c)
            if c is None or min(wa[c.a1] - wa[c.a0], wb[c.b1] - wb[c.b0]) < config.min_block:
                continue
            sim = similarity(sa.norm, sb.norm, (c.a0, c.a1, c.b0, c.b1))
            if sim >= EDITED:
                blocks.append(TokenSpan(c.a0, c.a1, c.b0, c.b1, round(sim, 4)))
        spans = _drop_dominated(spans + blocks)
    spans.sort(key=lambda s: (s.a0, s.b0))
    return spans


def _shares_most(spans: list[TokenSpan], wa: np.ndarray, wb: np.ndarray) -> bool:
    """Whether passages cover at least half of either document."""
    cover_a = sum(wa[s.a1] - wa[s.a0] for s in spans) / max(wa[-1], 1e-9)
    cover_b = sum(wb[s.b1] - wb[s.b0] for s in spans) / max(wb[-1], 1e-9)
    return max(cover_a, cover_b) >= 0.5


_EDGE = 200  # tokens looked at when trimming a passage's ends
_MIN_BLOCK = 2  # a passage starts and ends with at least this many tokens in common


def _trim_edges(na: Normalized, nb: Normalized, c: Chain) -> Chain | None:
    """Move a passage's ends inward to the first and last run of matching tokens (``trim_edges``).

    Sentence seeds cover whole sentences, of which only a part may be copied. A passage made of blocks that come in
    another order in b (sentences moved; a block: pieces that overlap on either side) has each end trimmed on the
    block that holds it: the text at the start of a is not the text at the start of b there, and an edit script of
    the two would match neither.
    """
    blocks = _blocks(c.parts)
    if all(x[2] < y[2] for x, y in zip(blocks, blocks[1:])):  # (by a0: in order in b too)
        span = trim_edges(na.tokens, nb.tokens, (c.a0, c.a1, c.b0, c.b1))
        return Chain(*span, c.parts) if span is not None else None
    ends = []
    for k, pick in ((0, min), (2, min), (1, max), (3, max)):
        block = pick(blocks, key=lambda x: x[k])
        trimmed = trim_edges(na.tokens, nb.tokens, block)
        ends.append((trimmed or block)[k])
    a0, b0, a1, b1 = ends
    if a1 <= a0 or b1 <= b0:
        return None
    return Chain(a0, a1, b0, b1, c.parts)


def _blocks(parts: list) -> list[tuple[int, int, int, int]]:
    """The bounds of the blocks of a passage's pieces, sorted by ``a0``: pieces that overlap on either side, joined."""
    blocks: list[list[int]] = []
    for p in sorted(parts):
        p = list(p)
        while True:  # (a block grown by one may overlap another)
            x = next((x for x in blocks if min(x[1], p[1]) > max(x[0], p[0]) or min(x[3], p[3]) > max(x[2], p[2])), None)
            if x is None:
                break
            blocks.remove(x)
            p = [min(x[0], p[0]), max(x[1], p[1]), min(x[2], p[2]), max(x[3], p[3])]
        blocks.append(p)
    return sorted(tuple(x) for x in blocks)  # type: ignore[misc]


def trim_edges(ta: str, tb: str, span: tuple[int, int, int, int]) -> tuple[int, int, int, int] | None:
    """The span ``(a0, a1, b0, b1)`` of tokens ``ta``/``tb`` with its ends moved inward to the first and the last
    run of at least ``_MIN_BLOCK`` matching tokens (rapidfuzz's Indel edit script of the first and the last
    ``_EDGE`` tokens of each side), or None when there is none or nothing is left."""
    a0, a1, b0, b1 = span
    # Ends that already match (most chains start and end with an exact fragment) stay: rapidfuzz takes the two
    # strings' common prefix first, so an edit script of strings that begin alike begins with that prefix as one
    # "equal" block; and their common suffix next, so one of strings that end alike (and do not begin alike)
    # ends with it.
    if a1 - a0 < _MIN_BLOCK or b1 - b0 < _MIN_BLOCK or ta[a0 : a0 + _MIN_BLOCK] != tb[b0 : b0 + _MIN_BLOCK]:
        head = Indel.opcodes(ta[a0 : min(a1, a0 + _EDGE)], tb[b0 : min(b1, b0 + _EDGE)])
        first = next((op for op in head if op.tag == "equal" and op.src_end - op.src_start >= _MIN_BLOCK), None)
        if first is None:
            return None
        a0, b0 = a0 + first.src_start, b0 + first.dest_start
    ea, eb = max(a0, a1 - _EDGE), max(b0, b1 - _EDGE)
    if a1 - ea < _MIN_BLOCK or b1 - eb < _MIN_BLOCK or ta[a1 - _MIN_BLOCK : a1] != tb[b1 - _MIN_BLOCK : b1] or ta[ea] == tb[eb]:
        tail = Indel.opcodes(ta[ea:a1], tb[eb:b1])
        last = next((op for op in reversed(tail) if op.tag == "equal" and op.src_end - op.src_start >= _MIN_BLOCK), None)
        if last is None:
            return None
        a1, b1 = ea + last.src_end, eb + last.dest_end
    if a1 <= a0 or b1 <= b0:
        return None
    return a0, a1, b0, b1


def _overlap(x0: int, x1: int, y0: int, y1: int) -> float:
    """Share of the shorter of two ranges covered by their intersection."""
    inter = min(x1, y1) - max(x0, y0)
    return max(0, inter) / max(1, min(x1 - x0, y1 - y0))


def _drop_dominated(spans: list[TokenSpan]) -> list[TokenSpan]:
    """Of passages that cover mostly the same text on either side, keep the best.

    Repetitive text (a phrase used many times) can chain chance seeds into a
    shifted copy of a real passage, and text repeated in one document matches
    the other document's copy several times: one match per passage is kept,
    the longest and most similar.
    """
    ranked = sorted(spans, key=lambda s: -s.similarity * ((s.a1 - s.a0) + (s.b1 - s.b0)))
    kept: list[TokenSpan] = []
    for s in ranked:
        if all(
            _overlap(s.a0, s.a1, k.a0, k.a1) <= 0.5 and _overlap(s.b0, s.b1, k.b0, k.b1) <= 0.5 for k in kept
        ):
            kept.append(s)
    return kept


def _moved(parts, min_size: float, wa: np.ndarray) -> int:
    """How many sizeable pieces of a passage come earlier in b than the piece before them in a."""
    big = sorted((p for p in parts if wa[p[1]] - wa[p[0]] >= min_size / 2), key=lambda p: p[0])
    return sum(1 for x, y in zip(big, big[1:]) if y[3] <= x[2])


def opcodes(na: Normalized, nb: Normalized, span: TokenSpan) -> list[tuple[str, int, int, int, int]]:
    """Token-level edit script of a passage (rapidfuzz Levenshtein opcodes, absolute token indices)."""
    ops = Levenshtein.opcodes(na.tokens[span.a0 : span.a1], nb.tokens[span.b0 : span.b1])
    return [
        (op.tag, span.a0 + op.src_start, span.a0 + op.src_end, span.b0 + op.dest_start, span.b0 + op.dest_end)
        for op in ops
    ]
