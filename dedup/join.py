"""Chains of seeds, and passages joined across what breaks them (``dedup.align`` verifies and trims them).

Fragments close to each other on both sides are chained (``chain``); chains close on both sides are merged
when the joined passage stays similar, or when two passages side by side in a are swapped in b
(``merge_neighbours``); passages in the same order are bridged across a paraphrased sentence, a clause left out
on one side, or the sentences a condensed copy leaves out, and a sentence or two copied beside a passage is
bridged to it (``bridged``). All spans are in token coordinates; ``wa``/``wb`` are cumulative token weights.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dedup.align_kernels import chain_fragments, covered_weight
from dedup.config import AlignConfig


@dataclass
class Chain:
    """A passage in the making: tokens ``a0:a1`` of a and ``b0:b1`` of b, and the fragments it was made of."""

    a0: int
    a1: int
    b0: int
    b1: int
    parts: list  # fragments (a0, a1, b0, b1)
    matched: float | None = None  # ``matched_weight`` of the chain, where known
    pieces: float = 0.0  # two passages joined whole: the similarity of the less similar (``piece_similarity``)


def chain(frags: np.ndarray, wa: np.ndarray, wb: np.ndarray, max_gap: float, *, min_size: float = 0) -> list[Chain]:
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
        Chain(a0, a1, b0, b1, parts[first[k] : first[k + 1]], m)
        for k, ((a0, a1, b0, b1), m) in enumerate(zip(bounds.tolist(), matched.tolist()))
    ]


def piece_similarity(p: Chain, c: Chain, wa: np.ndarray, score, min_passage: float) -> float:
    """Two passages joined whole (swapped in b: sentences moved; or a condensed copy's, across what it left out): the
    similarity of the less similar one, when each is a passage (its seeds cover ``min_passage``); else 0."""
    if min(cover(p, wa), cover(c, wa)) < min_passage:
        return 0.0
    return min(score((x.a0, x.a1, x.b0, x.b1)) for x in (p, c))


def cover(c: Chain, wa: np.ndarray) -> float:
    """``matched_weight`` of a chain, made once: kept in the chain (``Chain.matched``)."""
    if c.matched is None:
        c.matched = matched_weight(c, wa)
    return c.matched


def matched_weight(c: Chain, wa: np.ndarray) -> float:
    """Weighted size of the text of a that its seeds (exact fragments, similar sentences) cover."""
    return covered_weight(np.array(c.parts, dtype=np.int64).reshape(-1, 4), c.a0, c.a1, wa)


#: Below this similarity a piece of text counts as edited (not copied verbatim).
EDITED = 0.9


def merge_neighbours(chains, wa, wb, score, config: AlignConfig, *, min_passage: float) -> list[Chain]:
    """Join chains that are close on both sides when the joined passage stays similar.

    Heavier editing than ``max_gap`` allows, or sentences shuffled inside a
    passage, break one copied passage into pieces; joining them keeps one
    passage per copied block. Pieces close in a but in either order in b are
    joined; blocks moved far apart (reordered paragraphs) stay separate. Two
    passages side by side in a and swapped in b (reworded sentences moved) join
    even where the two as one compare worse than each (``piece_similarity``).
    """
    limit = 3 * config.max_gap
    # the weights at the chains' ends (joined chains end where one of them does), as Python floats: the same
    # numbers, read many times here (numpy's scalars are slow to index and to subtract)
    ends_a = sorted({x for c in chains for x in (c.a0, c.a1)})
    ends_b = sorted({x for c in chains for x in (c.b0, c.b1)})
    at_a, at_b = dict(zip(ends_a, wa[ends_a].tolist())), dict(zip(ends_b, wb[ends_b].tolist()))

    def joinable(p: Chain, c: Chain) -> bool:
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

    out: list[Chain] = []
    for c in sorted(chains, key=lambda c: c.a0):
        for k in range(len(out) - 1, max(-1, len(out) - 9), -1):  # the last few passages, nearest first
            p = out[k]
            # (a token weighs at least 1: more tokens than ``limit`` between them on a side is a gap too wide)
            if c.a0 - p.a1 > limit or c.b0 - p.b1 > limit or p.b0 - c.b1 > limit:
                continue
            if joinable(p, c):
                joined = (min(p.a0, c.a0), max(p.a1, c.a1), min(p.b0, c.b0), max(p.b1, c.b1))
                if score(joined) >= config.min_similarity:
                    out[k] = Chain(*joined, p.parts + c.parts)
                    break
                pieces = piece_similarity(p, c, wa, score, min_passage) if c.b1 <= p.b0 else 0.0
                if pieces >= config.min_similarity:  # two passages, in another order in b
                    out[k] = Chain(*joined, p.parts + c.parts, pieces=pieces)
                    break
        else:
            out.append(c)
    return out


#: ``bridged``: the words of a gap between two passages, on its two sides, alike at least this much (Dice of their
#: bag-of-words features); the gap at most as large as the larger of the two passages, and at most ``BRIDGE_GAP``
#: (a long sentence: 200 CJK characters, 48 words).
BRIDGE_DICE = 0.2
BRIDGE_GAP = 200.0
#: ``bridged``: a piece of copied text whose seeds cover this share of ``min_passage`` or more (an island: a sentence
#: or two copied before or after a paraphrased one) is bridged to a passage beside it, across a gap that is whole
#: sentences on both sides (ending within ``_SLACK`` tokens of the gap's ends: a word kept at the start of the
#: paraphrased sentence extends the island).
ISLAND = 0.5
#: ``bridged``: what a condensed copy leaves out between two reworded passages, at most this many times the larger of
#: them (on the side it is left out of) and ``BRIDGE_GAP``.
CONDENSED = 3.0
_SLACK = 2


def islands_beside(
    passages: list[Chain], frags: np.ndarray, wa: np.ndarray, wb: np.ndarray, max_gap: float, *, min_passage: float
) -> list[Chain]:
    """The chains too small to be passages (seeds covering ``ISLAND`` of ``min_passage`` or more, less than all of it)
    within ``BRIDGE_GAP`` of one of ``passages`` (those whose seeds cover ``min_passage``), for ``bridged``; looked
    for only where that much matched text lies beside a passage, outside it."""
    near, inside = np.zeros(len(frags), dtype=bool), np.zeros(len(frags), dtype=bool)
    f0, f1 = wa[frags[:, 0]], wa[frags[:, 1]]
    for c in (c for c in passages if cover(c, wa) >= min_passage):
        near |= (f1 >= wa[c.a0] - BRIDGE_GAP) & (f0 <= wa[c.a1] + BRIDGE_GAP)
        inside |= (frags[:, 0] >= c.a0) & (frags[:, 1] <= c.a1)
    if (f1 - f0)[near & ~inside].sum() < ISLAND * min_passage:
        return []
    return [c for c in chain(frags[near], wa, wb, max_gap, min_size=ISLAND * min_passage) if c.matched < min_passage]


def bridged(
    chains: list[Chain], islands: list[Chain], wa: np.ndarray, wb: np.ndarray, gap_dice, score, breaks: list, *,
    min_passage: float, min_similarity: float,
) -> list[Chain]:
    """Join two passages in the same order on both sides across the gap between them, when the gap is short beside
    them and its words on the two sides still overlap (``gap_dice``, the bag-of-words similarity of a span: at least
    ``BRIDGE_DICE``), and the joined passage is still similar (``score``): a sentence paraphrased between copied ones
    (a clause dropped, half the words changed). A gap with text on one side only is bridged when it is a clause,
    not a sentence (no sentence ends in it: ``breaks``, the two sides' ``Normalized.breaks``): a clause dropped from
    a sentence copied, where a sentence left out is reported as left out. A passage is joined to another or to an
    ``islands`` chain (``ISLAND``) beside it, never two islands; unrelated text between them is never bridged."""
    kept = [c for c in chains if cover(c, wa) >= min_passage]
    if not kept or len(kept) + len(islands) < 2:
        return chains
    out: list[Chain] = []
    for c in sorted(kept + islands, key=lambda c: (c.a0, c.b0)):
        p = out[-1] if out else None
        if p is not None and c.a0 >= p.a1 and c.b0 >= p.b1 and max(cover(p, wa), cover(c, wa)) >= min_passage:
            ga, gb = float(wa[c.a0] - wa[p.a1]), float(wb[c.b0] - wb[p.b1])
            size = min(max(wa[p.a1] - wa[p.a0], wa[c.a1] - wa[c.a0]), max(wb[p.b1] - wb[p.b0], wb[c.b1] - wb[c.b0]))
            if 0 < ga and 0 < gb:  # text in the gap on both sides: alike enough (and whole sentences beside an island)
                bridge = max(ga, gb) <= min(size, BRIDGE_GAP) and gap_dice((p.a1, c.a0, p.b1, c.b0)) >= BRIDGE_DICE
                if bridge and min(cover(p, wa), cover(c, wa)) < min_passage:
                    bridge = all(
                        ends[max(0, x - 1 - _SLACK) : x + _SLACK].any()
                        for ends, xs in zip(breaks, ((p.a1, c.a0), (p.b1, c.b0))) for x in xs
                    )
            else:  # a clause left out on one side (not a sentence: it does not end in the gap)
                x0, x1, ends = (p.a1, c.a0, breaks[0]) if ga > 0 else (p.b1, c.b0, breaks[1])
                bridge = max(ga, gb) <= min(size, BRIDGE_GAP) and not ends[x0:x1].any()
            if bridge and score((p.a0, c.a1, p.b0, c.b1)) >= min_similarity:
                out[-1] = Chain(p.a0, c.a1, p.b0, c.b1, p.parts + c.parts)
                continue
            if not bridge and min(ga, gb) == 0:  # sentences left out between two reworded passages: condensed
                long = max(wa[p.a1] - wa[p.a0], wa[c.a1] - wa[c.a0]) if ga > 0 else max(wb[p.b1] - wb[p.b0], wb[c.b1] - wb[c.b0])
                pieces = piece_similarity(p, c, wa, score, min_passage)  # (the less similar: at least one reworded)
                if max(ga, gb) <= min(CONDENSED * long, CONDENSED * BRIDGE_GAP) and min_similarity <= pieces < EDITED:
                    out[-1] = Chain(p.a0, c.a1, p.b0, c.b1, p.parts + c.parts, pieces=pieces)
                    continue
        out.append(c)
    return out + [c for c in chains if c.matched < min_passage]  # (``cover`` has set it on each)
