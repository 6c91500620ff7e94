"""Verify a candidate pair on the text and align it into passages.

Seed and extend: shingles the two documents share are *seeds*; seeds on the
same diagonal that overlap form exact *fragments*; fragments close to each
other on both sides (gaps up to ``max_gap``, so substituted words, small
edits and removed page markers do not break a passage) are chained into
*passages*. Each passage is verified with rapidfuzz (Indel similarity of the
two token strings) and kept only if it is long and similar enough.

All spans here are in token coordinates (see ``dedup.normalize``); the
pipeline maps them to original-text offsets with ``Normalized.span``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np
from rapidfuzz.distance import Indel, Levenshtein

from dedup.align_kernels import by_start, chain_fragments, covered_weight
from dedup.config import AlignConfig
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


@dataclass
class _Chain:
    a0: int
    a1: int
    b0: int
    b1: int
    parts: list  # fragments (a0, a1, b0, b1)
    matched: float | None = None  # ``_matched`` of the chain, where known
    pieces: float = 0.0  # two passages joined in another order in b: the similarity of the less similar (``_pieces``)


def chain(frags: np.ndarray, wa: np.ndarray, wb: np.ndarray, max_gap: float, *, min_size: float = 0) -> list[_Chain]:
    """Chain fragments whose gaps on both sides are at most ``max_gap`` (weighted).

    ``frags``: ``(a0, a1, b0, b1)`` rows sorted by ``a0``; ``wa``/``wb`` are cumulative token weights
    (length n+1) of the two documents. Each fragment joins the open chain (one whose end in a is at most
    ``max_gap`` before it) it continues with the smallest gap, forward on both sides and near the diagonal
    of the chain's last fragment, or starts a chain. Chains smaller than ``min_size`` on either side are
    dropped, and small fragments at either end that sit farther from the rest than their own size (chance
    matches) are cut off (``align_kernels.chain_fragments``).
    """
    bounds, first, parts, matched = chain_fragments(frags, wa, wb, float(max_gap), float(min_size))
    parts, first = [tuple(p) for p in parts.tolist()], first.tolist()
    return [
        _Chain(a0, a1, b0, b1, parts[first[k] : first[k + 1]], m)
        for k, ((a0, a1, b0, b1), m) in enumerate(zip(bounds.tolist(), matched.tolist()))
    ]


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
    merged = _merge_neighbours(chains, wa, wb, score, config, min_passage=min_passage)
    near = np.zeros(len(frags), dtype=bool)  # (islands are only bridged to a passage: looked for beside one)
    for c in (c for c in merged if _cover(c, wa) >= min_passage):
        near |= (wa[frags[:, 1]] >= wa[c.a0] - BRIDGE_GAP) & (wa[frags[:, 0]] <= wa[c.a1] + BRIDGE_GAP)
    islands = chain(frags[near], wa, wb, config.max_gap, min_size=ISLAND * min_passage) if near.any() else []
    gap_dice = partial(gap_similarity, index_a, index_b)
    breaks = [s.norm.breaks if s.norm.breaks is not None else np.zeros(len(s.norm), dtype=bool) for s in (sa, sb)]
    islands = [c for c in islands if c.matched < min_passage]
    for c in _bridged(merged, islands, wa, wb, gap_dice, score, breaks, min_passage=min_passage, min_similarity=config.min_similarity):
        if _cover(c, wa) < min_passage:  # (trimming only takes from the ends)
            continue
        pieces = c.pieces
        c = _trim_edges(sa.norm, sb.norm, c)
        if c is None or min(wa[c.a1] - wa[c.a0], wb[c.b1] - wb[c.b0]) < min_passage:
            continue
        if _matched(c, wa) < min_passage:  # chance matches of stock phrases strung together
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


def _trim_edges(na: Normalized, nb: Normalized, c: _Chain) -> _Chain | None:
    """Move a passage's ends inward to the first and last run of matching tokens (``trim_edges``).

    Sentence seeds cover whole sentences, of which only a part may be copied. A passage made of blocks that come in
    another order in b (sentences moved; a block: pieces that overlap on either side) has each end trimmed on the
    block that holds it: the text at the start of a is not the text at the start of b there, and an edit script of
    the two would match neither.
    """
    blocks = _blocks(c.parts)
    if all(x[2] < y[2] for x, y in zip(blocks, blocks[1:])):  # (by a0: in order in b too)
        span = trim_edges(na.tokens, nb.tokens, (c.a0, c.a1, c.b0, c.b1))
        return _Chain(*span, c.parts) if span is not None else None
    ends = []
    for k, pick in ((0, min), (2, min), (1, max), (3, max)):
        block = pick(blocks, key=lambda x: x[k])
        trimmed = trim_edges(na.tokens, nb.tokens, block)
        ends.append((trimmed or block)[k])
    a0, b0, a1, b1 = ends
    if a1 <= a0 or b1 <= b0:
        return None
    return _Chain(a0, a1, b0, b1, c.parts)


def _pieces(p: _Chain, c: _Chain, wa: np.ndarray, score, min_passage: float) -> float:
    """Two passages next to each other in a and in another order in b (sentences moved): the similarity of the less
    similar one, when each is a passage (its seeds cover ``min_passage``); else 0."""
    if min(_cover(p, wa), _cover(c, wa)) < min_passage:
        return 0.0
    return min(score((x.a0, x.a1, x.b0, x.b1)) for x in (p, c))


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


def _cover(c: _Chain, wa: np.ndarray) -> float:
    """``_matched`` of a chain, made once: kept in the chain (``_Chain.matched``)."""
    if c.matched is None:
        c.matched = _matched(c, wa)
    return c.matched


def _matched(c: _Chain, wa: np.ndarray) -> float:
    """Weighted size of the text of a that its seeds (exact fragments, similar sentences) cover."""
    return covered_weight(np.array(c.parts, dtype=np.int64).reshape(-1, 4), c.a0, c.a1, wa)


def _moved(parts, min_size: float, wa: np.ndarray) -> int:
    """How many sizeable pieces of a passage come earlier in b than the piece before them in a."""
    big = sorted((p for p in parts if wa[p[1]] - wa[p[0]] >= min_size / 2), key=lambda p: p[0])
    return sum(1 for x, y in zip(big, big[1:]) if y[3] <= x[2])


#: Below this similarity a piece of text counts as edited (not copied verbatim).
EDITED = 0.9


def _merge_neighbours(chains, wa, wb, score, config: AlignConfig, *, min_passage: float) -> list[_Chain]:
    """Join chains that are close on both sides when the joined passage stays similar.

    Heavier editing than ``max_gap`` allows, or sentences shuffled inside a
    passage, break one copied passage into pieces; joining them keeps one
    passage per copied block. Pieces close in a but in either order in b are
    joined; blocks moved far apart (reordered paragraphs) stay separate. Two
    passages side by side in a and swapped in b (reworded sentences moved) join
    even where the two as one compare worse than each (``_pieces``).
    """
    limit = 3 * config.max_gap
    # the weights at the chains' ends (joined chains end where one of them does), as Python floats: the same
    # numbers, read many times here (numpy's scalars are slow to index and to subtract)
    ends_a = sorted({x for c in chains for x in (c.a0, c.a1)})
    ends_b = sorted({x for c in chains for x in (c.b0, c.b1)})
    at_a, at_b = dict(zip(ends_a, wa[ends_a].tolist())), dict(zip(ends_b, wb[ends_b].tolist()))

    def joinable(p: _Chain, c: _Chain) -> bool:
        ga = at_a[c.a0] - at_a[p.a1] if c.a0 >= p.a1 else 0.0
        if c.b0 >= p.b1:
            gb, in_order = at_b[c.b0] - at_b[p.b1], True
        elif c.b1 <= p.b0:
            gb, in_order = at_b[p.b0] - at_b[c.b1], False
        else:  # overlapping in b: in order when c only starts a little before p ends
            gb, in_order = 0.0, c.b1 > p.b1 and at_b[p.b1] - at_b[c.b0] <= limit
        # both sides edited alike (not text left out on one side: that ends a passage);
        # verbatim blocks in another order are moved paragraphs, reported one by one
        if ga > limit or gb > limit:
            return False
        if in_order and abs(ga - gb) <= config.max_gap:
            return True
        # out of order, or unequal gaps: only pieces of edited text (obfuscated copies
        # drop, add and move words), not verbatim blocks moved or left out
        return min(score((p.a0, p.a1, p.b0, p.b1)), score((c.a0, c.a1, c.b0, c.b1))) < EDITED

    out: list[_Chain] = []
    for c in sorted(chains, key=lambda c: c.a0):
        for k in range(len(out) - 1, max(-1, len(out) - 9), -1):  # the last few passages, nearest first
            p = out[k]
            # (a token weighs at least 1: more tokens than ``limit`` between them on a side is a gap too wide)
            if c.a0 - p.a1 > limit or c.b0 - p.b1 > limit or p.b0 - c.b1 > limit:
                continue
            if joinable(p, c):
                joined = (min(p.a0, c.a0), max(p.a1, c.a1), min(p.b0, c.b0), max(p.b1, c.b1))
                if score(joined) >= config.min_similarity:
                    out[k] = _Chain(*joined, p.parts + c.parts)
                    break
                pieces = _pieces(p, c, wa, score, min_passage) if c.b1 <= p.b0 else 0.0
                if pieces >= config.min_similarity:  # two passages, in another order in b
                    out[k] = _Chain(*joined, p.parts + c.parts, pieces=pieces)
                    break
        else:
            out.append(c)
    return out


#: ``_bridged``: the words of a gap between two passages, on its two sides, alike at least this much (Dice of their
#: bag-of-words features); the gap at most as large as the larger of the two passages, and at most ``BRIDGE_GAP``
#: (a long sentence: 200 CJK characters, 48 words).
BRIDGE_DICE = 0.2
BRIDGE_GAP = 200.0
#: ``_bridged``: a piece of copied text whose seeds cover this share of ``min_passage`` or more (an island: a sentence
#: or two copied before or after a paraphrased one) is bridged to a passage beside it, across a gap that is whole
#: sentences on both sides (ending within ``_SLACK`` tokens of the gap's ends: a word kept at the start of the
#: paraphrased sentence extends the island).
ISLAND = 0.5
_SLACK = 2


def _bridged(
    chains: list[_Chain], islands: list[_Chain], wa: np.ndarray, wb: np.ndarray, gap_dice, score, breaks: list, *,
    min_passage: float, min_similarity: float,
) -> list[_Chain]:
    """Join two passages in the same order on both sides across the gap between them, when the gap is short beside
    them and its words on the two sides still overlap (``gap_dice``, the bag-of-words similarity of a span: at least
    ``BRIDGE_DICE``), and the joined passage is still similar (``score``): a sentence paraphrased between copied ones
    (a clause dropped, half the words changed). A gap with text on one side only is bridged when it is a clause,
    not a sentence (no sentence ends in it: ``breaks``, the two sides' ``Normalized.breaks``): a clause dropped from
    a sentence copied, where a sentence left out is reported as left out. A passage is joined to another or to an
    ``islands`` chain (``ISLAND``) beside it, never two islands; unrelated text between them is never bridged."""
    kept = [c for c in chains if _cover(c, wa) >= min_passage]
    if not kept or len(kept) + len(islands) < 2:
        return chains
    out: list[_Chain] = []
    for c in sorted(kept + islands, key=lambda c: (c.a0, c.b0)):
        p = out[-1] if out else None
        if p is not None and c.a0 >= p.a1 and c.b0 >= p.b1 and max(_cover(p, wa), _cover(c, wa)) >= min_passage:
            ga, gb = float(wa[c.a0] - wa[p.a1]), float(wb[c.b0] - wb[p.b1])
            size = min(max(wa[p.a1] - wa[p.a0], wa[c.a1] - wa[c.a0]), max(wb[p.b1] - wb[p.b0], wb[c.b1] - wb[c.b0]))
            if 0 < ga and 0 < gb:  # text in the gap on both sides: alike enough (and whole sentences beside an island)
                bridge = max(ga, gb) <= min(size, BRIDGE_GAP) and gap_dice((p.a1, c.a0, p.b1, c.b0)) >= BRIDGE_DICE
                if bridge and min(_cover(p, wa), _cover(c, wa)) < min_passage:
                    bridge = all(
                        ends[max(0, x - 1 - _SLACK) : x + _SLACK].any()
                        for ends, xs in zip(breaks, ((p.a1, c.a0), (p.b1, c.b0))) for x in xs
                    )
            else:  # a clause left out on one side (not a sentence: it does not end in the gap)
                x0, x1, ends = (p.a1, c.a0, breaks[0]) if ga > 0 else (p.b1, c.b0, breaks[1])
                bridge = max(ga, gb) <= min(size, BRIDGE_GAP) and not ends[x0:x1].any()
            if bridge and score((p.a0, c.a1, p.b0, c.b1)) >= min_similarity:
                out[-1] = _Chain(p.a0, c.a1, p.b0, c.b1, p.parts + c.parts)
                continue
        out.append(c)
    return out + [c for c in chains if c.matched < min_passage]  # (``_cover`` has set it on each)


def opcodes(na: Normalized, nb: Normalized, span: TokenSpan) -> list[tuple[str, int, int, int, int]]:
    """Token-level edit script of a passage (rapidfuzz Levenshtein opcodes, absolute token indices)."""
    ops = Levenshtein.opcodes(na.tokens[span.a0 : span.a1], nb.tokens[span.b0 : span.b1])
    return [
        (op.tag, span.a0 + op.src_start, span.a0 + op.src_end, span.b0 + op.dest_start, span.b0 + op.dest_end)
        for op in ops
    ]
