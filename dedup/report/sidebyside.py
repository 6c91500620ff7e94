"""Side-by-side view of one passage: hunks of aligned text with the differences marked.

Renderer-neutral: segments are ``(text, kind)`` with kind ``"same"`` (matched
tokens), ``"changed"`` (substituted, inserted or deleted tokens) or
``"gap"`` (punctuation, whitespace, page markers between tokens).
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein

from dedup.models import Passage
from dedup.normalize import Normalized, normalize

Segment = tuple[str, str]


@dataclass(frozen=True)
class Hunk:
    a: tuple[Segment, ...]
    b: tuple[Segment, ...]
    a_start: int  # offset of the hunk in document a
    b_start: int


def _segments(text: str, norm: Normalized, lo: int, hi: int, kind: str) -> list[Segment]:
    """Tokens lo:hi of ``norm`` (over ``text``) with the gaps after each, as segments."""
    out: list[Segment] = []
    for i in range(lo, hi):
        s, e = int(norm.starts[i]), int(norm.ends[i])
        out.append((text[s:e], kind))
        nxt = int(norm.starts[i + 1]) if i + 1 < len(norm) else len(text)
        if nxt > e:
            out.append((text[e:nxt], "gap"))
    return out


def _merge(segments: list[Segment]) -> tuple[Segment, ...]:
    out: list[Segment] = []
    for text, kind in segments:
        if out and out[-1][1] == kind:
            out[-1] = (out[-1][0] + text, kind)
        elif text:
            out.append((text, kind))
    return tuple(out)


def _align(a_text: str, b_text: str, passage: Passage):
    """The passage's two texts, their tokens and the token edit script from a to b."""
    sa = a_text[passage.a_start : passage.a_end]
    sb = b_text[passage.b_start : passage.b_end]
    na, nb = normalize(sa), normalize(sb)
    return sa, sb, na, nb, Levenshtein.opcodes(na.tokens, nb.tokens)


def passage_segments(a_text: str, b_text: str, passage: Passage) -> tuple[tuple[Segment, ...], tuple[Segment, ...]]:
    """The whole passage on both sides as segments; joined, they give exactly the passage's two texts."""
    sa, sb, na, nb, ops = _align(a_text, b_text, passage)
    a_seg = [(sa[: int(na.starts[0])] if len(na) else sa, "gap")]
    b_seg = [(sb[: int(nb.starts[0])] if len(nb) else sb, "gap")]
    for op in ops:
        kind = "same" if op.tag == "equal" else "changed"
        a_seg += _segments(sa, na, op.src_start, op.src_end, kind)
        b_seg += _segments(sb, nb, op.dest_start, op.dest_end, kind)
    return _merge(a_seg), _merge(b_seg)


def hunks(a_text: str, b_text: str, passage: Passage, *, context: int = 12, max_hunks: int = 6) -> list[Hunk]:
    """Up to ``max_hunks`` stretches of the passage around its differences (tokens of context each side).

    A passage without differences gives one hunk with its beginning.
    """
    sa, sb, na, nb, ops = _align(a_text, b_text, passage)
    changes = [op for op in ops if op.tag != "equal"]
    if not changes:
        n = min(len(na), 3 * context)
        return [Hunk(_merge(_segments(sa, na, 0, n, "same")), _merge(_segments(sb, nb, 0, min(len(nb), n), "same")), passage.a_start, passage.b_start)]
    # group changes that are close together
    groups: list[list] = []
    for op in changes:
        if groups and op.src_start - groups[-1][-1].src_end <= 2 * context:
            groups[-1].append(op)
        else:
            groups.append([op])
    out = []
    for group in groups[:max_hunks]:
        a_lo = max(0, group[0].src_start - context)
        b_lo = max(0, group[0].dest_start - (group[0].src_start - a_lo))
        a_hi = min(len(na), group[-1].src_end + context)
        b_hi = min(len(nb), group[-1].dest_end + (a_hi - group[-1].src_end))
        a_seg: list[Segment] = []
        b_seg: list[Segment] = []
        for op in ops:
            lo_a, hi_a = max(op.src_start, a_lo), min(op.src_end, a_hi)
            kind = "same" if op.tag == "equal" else "changed"
            if op.tag == "equal":
                if hi_a > lo_a:
                    shift = lo_a - op.src_start
                    a_seg += _segments(sa, na, lo_a, hi_a, kind)
                    b_seg += _segments(sb, nb, op.dest_start + shift, op.dest_start + shift + (hi_a - lo_a), kind)
            else:
                if op.src_end >= a_lo and op.src_start <= a_hi and op.dest_end >= b_lo and op.dest_start <= b_hi:
                    a_seg += _segments(sa, na, op.src_start, op.src_end, kind)
                    b_seg += _segments(sb, nb, op.dest_start, op.dest_end, kind)
        a_off = passage.a_start + (int(na.starts[a_lo]) if a_lo < len(na) else 0)
        b_off = passage.b_start + (int(nb.starts[b_lo]) if b_lo < len(nb) else 0)
        out.append(Hunk(_merge(a_seg), _merge(b_seg), a_off, b_off))
    return out
