"""End to end: scan the bundled corpus and check every planted case against its truth file."""

from __future__ import annotations

import json

import pytest

import dedup
from dedup.models import Pair

from conftest import CORPUS

TRUTH = json.loads((CORPUS / "truth.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def report():
    return dedup.scan(CORPUS)


def _find(report, a: str, b: str) -> tuple[Pair | None, bool]:
    """The reported pair of a and b, and whether it is reported as (b, a)."""
    for p in report.pairs:
        if (p.a, p.b) == (a, b):
            return p, False
        if (p.a, p.b) == (b, a):
            return p, True
    return None, False


def _covered(start: int, end: int, ranges) -> float:
    covered = 0
    for lo, hi in sorted(ranges):
        covered += max(0, min(hi, end) - max(lo, start, start))
        start = max(start, min(hi, end))
    return covered / max(1, end - start + covered) if end > start else 1.0


def _share(start: int, end: int, ranges) -> float:
    mask = bytearray(end - start)
    for lo, hi in ranges:
        for k in range(max(lo, start), min(hi, end)):
            mask[k - start] = 1
    return sum(mask) / max(1, end - start)


def truth_groups(truth: dict):
    """The group of each document: documents the truth's cases connect (copies of one original) share one."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            x = parent[x]
        return x

    for c in truth["cases"]:
        parent[find(c["a"])] = find(c["b"])
    return find


@pytest.mark.parametrize("case", TRUTH["cases"], ids=[c["id"] for c in TRUTH["cases"]])
def test_planted_case_is_found_with_its_relation_and_passages(report, case):
    pair, swapped = _find(report, case["a"], case["b"])
    assert pair is not None, f"{case['id']}: pair not reported"
    assert pair.relation == case["relation"], f"{case['id']}: {pair.relation} != {case['relation']}"
    passages = [x for x in pair.passages if not x.boilerplate]
    a_ranges = [(x.b_start, x.b_end) if swapped else (x.a_start, x.a_end) for x in passages]
    b_ranges = [(x.a_start, x.a_end) if swapped else (x.b_start, x.b_end) for x in passages]
    for t in case["passages"]:
        assert _share(t["a_start"], t["a_end"], a_ranges) >= 0.9, f"{case['id']}: a side {t}"
        assert _share(t["b_start"], t["b_end"], b_ranges) >= 0.9, f"{case['id']}: b side {t}"
    # and the reported passages are (mostly) inside the true ones: precision
    true_a = [(t["a_start"], t["a_end"]) for t in case["passages"]]
    for lo, hi in a_ranges:
        assert _share(lo, hi, true_a) >= 0.8, f"{case['id']}: reported a-side passage {lo}:{hi} is not copied text"


@pytest.mark.parametrize("neg", TRUTH["negatives"], ids=[n["id"] for n in TRUTH["negatives"]])
def test_unrelated_pages_of_one_site_are_not_pairs(report, neg):
    pair, _ = _find(report, neg["a"], neg["b"])
    assert pair is None, f"{neg['id']}: reported as {pair.relation}"


def test_bad_files_are_skipped_with_a_reason(report):
    skipped = {d.path: d.reason for d in report.documents if d.status == "skipped"}
    unsupported = {p for p, reason in skipped.items() if reason.startswith("unsupported file type")}
    assert set(skipped) - unsupported == set(TRUTH["skipped"])
    assert unsupported == {"make_benchmark.py", "make_corpus.py", "truth.json"}  # the generators, listed, not read
    assert all(skipped.values())


def test_no_pair_outside_the_planted_groups(report):
    """Every reported pair links documents that the truth file connects (copies of one original)."""
    group = truth_groups(TRUTH)
    stray = [(p.a, p.b, p.relation) for p in report.pairs if group(p.a) != group(p.b)]
    assert stray == []
