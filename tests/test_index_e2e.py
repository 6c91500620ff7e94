"""End to end: index the bundled corpus, check the planted copies against it, compare with the truth file and with scan."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import dedup
from dedup.ingest import read_document
from dedup.pipeline import archive_texts, build_index, check

from conftest import CORPUS
from test_corpus_e2e import _share, truth_groups

TRUTH = json.loads((CORPUS / "truth.json").read_text(encoding="utf-8"))
CHECKED = sorted({c["b"] for c in TRUTH["cases"]} | {n["b"] for n in TRUTH["negatives"]})


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    location = tmp_path_factory.mktemp("index") / "corpus.dedup"
    update = build_index(CORPUS, location)
    assert update.documents == len([d for d in update.added])
    assert {s.path for s in update.skipped} == set(TRUTH["skipped"])
    return location


@pytest.fixture(scope="module")
def report(index):
    return check([CORPUS / b for b in CHECKED], index)


def _sources(report, b: str) -> dict:
    """The sources of checked document ``b`` (itself, archived too, left out)."""
    (doc,) = [c for c in report.checked if c.path == str(CORPUS / b)]
    return {p.b: p for p in doc.sources if p.b != b}


@pytest.mark.parametrize("case", TRUTH["cases"], ids=[c["id"] for c in TRUTH["cases"]])
def test_planted_copy_finds_its_source_with_relation_and_passages(report, case):
    pair = _sources(report, case["b"]).get(case["a"])
    assert pair is not None, f"{case['id']}: source not found"
    assert pair.relation == case["relation"]
    passages = [x for x in pair.passages if not x.boilerplate]
    for t in case["passages"]:  # a = the checked copy (truth's b), b = the archived source (truth's a)
        assert _share(t["b_start"], t["b_end"], [(x.a_start, x.a_end) for x in passages]) >= 0.9, t
        assert _share(t["a_start"], t["a_end"], [(x.b_start, x.b_end) for x in passages]) >= 0.9, t


@pytest.mark.parametrize("neg", TRUTH["negatives"], ids=[n["id"] for n in TRUTH["negatives"]])
def test_unrelated_pages_of_one_site_are_not_sources(report, neg):
    assert neg["a"] not in _sources(report, neg["b"])


def test_no_source_outside_the_planted_groups(report):
    group = truth_groups(TRUTH)
    stray = [(b, a) for b in CHECKED for a in _sources(report, b) if group(a) != group(b)]
    assert stray == []


def test_same_relations_as_scan(report):
    scanned = {frozenset((p.a, p.b)): p.relation for p in dedup.scan(CORPUS).pairs}
    checked = {frozenset((b, a)): p.relation for b in CHECKED for a, p in _sources(report, b).items()}
    assert checked == {k: v for k, v in scanned.items() if k & set(CHECKED)}


def test_ratios_are_those_of_the_sources(report):
    for c in report.checked:
        assert c.largest_source_ratio == max(p.a_coverage for p in c.sources)
        assert c.largest_source_ratio <= c.copy_ratio <= 1.0
        assert [p.a_coverage for p in c.sources] == sorted((p.a_coverage for p in c.sources), reverse=True)


def test_passage_offsets_fall_inside_both_texts(report, index):
    archived = archive_texts(index, [p.b for p in report.pairs])
    for c in report.checked:
        mine = read_document(Path(c.path)).text
        for p in c.sources:
            assert archived[p.b]
            for x in p.passages:
                assert 0 <= x.a_start < x.a_end <= len(mine)
                assert 0 <= x.b_start < x.b_end <= len(archived[p.b])


def test_scan_with_an_index_of_the_same_folder_finds_every_pair_in_the_archive_too(index):
    """Each pair of ``scan`` is found again between a document and the other's archived copy, with the
    same relation; a document and its own archived copy are one (not a pair, not "unrelated" for
    boilerplate)."""
    from dedup.pipeline import ARCHIVE_PREFIX

    plain = {frozenset((p.a, p.b)): p.relation for p in dedup.scan(CORPUS).pairs}
    both = dedup.scan(CORPUS, index=index)
    within, across = {}, {}
    for p in both.pairs:
        archived = [x.startswith(ARCHIVE_PREFIX) for x in (p.a, p.b)]
        if not any(archived):
            within[frozenset((p.a, p.b))] = p.relation
        elif not all(archived):
            across.setdefault(frozenset(x.removeprefix(ARCHIVE_PREFIX) for x in (p.a, p.b)), set()).add(p.relation)
    assert within == plain
    assert across == {k: {v} for k, v in plain.items()}
