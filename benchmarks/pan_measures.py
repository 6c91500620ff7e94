"""Scoring detections against annotated cases with the PAN text-alignment measures.

Potthast et al., "An Evaluation Framework for Plagiarism Detection" (PAN
2009–2015): for each annotated case, recall is the share of its characters
(suspicious side plus source side) covered by detections that overlap it on
both sides; macro recall averages over cases; macro precision is the same
with cases and detections swapped; granularity is the mean number of
detections per detected case; plagdet = F1 / log2(1 + granularity).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Span:
    """A copied passage: ``[a_start, a_end)`` of document ``a`` and ``[b_start, b_end)`` of ``b``.

    For PAN, ``a`` is the suspicious and ``b`` the source document.
    """

    a: str
    b: str
    a_start: int
    a_end: int
    b_start: int
    b_end: int

    @property
    def size(self) -> int:
        return (self.a_end - self.a_start) + (self.b_end - self.b_start)


@dataclass(frozen=True)
class Scores:
    precision: float
    recall: float
    granularity: float
    plagdet: float
    cases: int
    detections: int


def _overlap(x0: int, x1: int, y0: int, y1: int) -> tuple[int, int] | None:
    lo, hi = max(x0, y0), min(x1, y1)
    return (lo, hi) if hi > lo else None


def _union_length(ranges: Iterable[tuple[int, int]]) -> int:
    total, end = 0, None
    for lo, hi in sorted(ranges):
        if end is None or lo > end:
            total += hi - lo
            end = hi
        elif hi > end:
            total += hi - end
            end = hi
    return total


def _detects(case: Span, det: Span) -> bool:
    return (
        case.a == det.a
        and case.b == det.b
        and _overlap(case.a_start, case.a_end, det.a_start, det.a_end) is not None
        and _overlap(case.b_start, case.b_end, det.b_start, det.b_end) is not None
    )


def _covered_share(target: Span, others: Sequence[Span]) -> float:
    """Share of ``target``'s characters (both sides) inside the overlaps with ``others``."""
    a_parts = [o for x in others if (o := _overlap(target.a_start, target.a_end, x.a_start, x.a_end))]
    b_parts = [o for x in others if (o := _overlap(target.b_start, target.b_end, x.b_start, x.b_end))]
    return (_union_length(a_parts) + _union_length(b_parts)) / target.size if target.size else 0.0


def pan_scores(cases: Sequence[Span], detections: Sequence[Span]) -> Scores:
    """Macro precision, recall, granularity and plagdet of ``detections`` against ``cases``."""
    by_pair: dict[tuple[str, str], list[Span]] = defaultdict(list)
    for d in detections:
        by_pair[(d.a, d.b)].append(d)
    cases_by_pair: dict[tuple[str, str], list[Span]] = defaultdict(list)
    for c in cases:
        cases_by_pair[(c.a, c.b)].append(c)

    recall_sum, detected, detections_per_detected = 0.0, 0, 0
    for c in cases:
        hits = [d for d in by_pair[(c.a, c.b)] if _detects(c, d)]
        recall_sum += _covered_share(c, hits)
        if hits:
            detected += 1
            detections_per_detected += len(hits)
    precision_sum = 0.0
    for d in detections:
        hits = [c for c in cases_by_pair[(d.a, d.b)] if _detects(c, d)]
        precision_sum += _covered_share(d, hits)

    recall = recall_sum / len(cases) if cases else 1.0
    precision = precision_sum / len(detections) if detections else 1.0
    granularity = detections_per_detected / detected if detected else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Scores(
        precision=precision,
        recall=recall,
        granularity=granularity,
        plagdet=f1 / math.log2(1 + granularity),
        cases=len(cases),
        detections=len(detections),
    )
