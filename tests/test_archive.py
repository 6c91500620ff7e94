"""The archive index through the library: check, add, remove, info, the texts a report shows.

End to end: index the bundled corpus, check the planted copies against it, compare with the truth file and
with scan; the copy ratio of ``check`` (a document made of 30% copied passages and 70% new text reads
30% ± 3%).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

import dedup
from dedup import MemoryStore, archive_text_loader, archive_texts, build_index, check, read_document
from dedup.normalize import normalize

from conftest import CORPUS
from test_corpus_e2e import _share, truth_groups
from texts import ZH_SPEECH

SOURCES = {"zh": ["zh/01_work_meeting_linjiang_2016.txt", "zh/03_government_work_report_nanxi_2020.txt"],
           "en": ["en/02_state_of_the_city_port_calder_2018.txt", "en/07_town_hall_infrastructure_fairhaven_2022.txt"]}
NEW = {"zh": ["zh/08_work_safety_baisha_2018.txt", "zh/10_science_innovation_songling_2021.txt"],
       "en": ["en/04_memorial_day_elm_hollow_2017.txt", "en/06_school_opening_cedar_ridge_2020.txt"]}


def _paragraphs(text: str) -> list[str]:
    return [p.strip() for p in text.split("\n") if len(p.strip()) > 40]


def _alternate(lists: list[list[str]]) -> list[str]:
    """Items taken from each list in turn."""
    return [x for group in zip(*lists) for x in group]


def _weight(text: str) -> float:
    return float(normalize(text).weights.sum())


def compose(copied: list[str], new: list[str], share: float) -> tuple[str, float]:
    """Paragraphs of ``new`` with paragraphs of ``copied`` spread among them, about ``share`` of the weight copied.

    Returns the text and its exact copied share.
    """
    total_new = sum(map(_weight, new))
    want = share / (1 - share) * total_new
    picked, got = [], 0.0
    for p in copied:
        if got >= want:
            break
        w = _weight(p)
        if got + w > want * 1.05:
            continue
        picked.append(p)
        got += w
    out = list(new)
    step = max(1, len(out) // (len(picked) + 1))
    for k, p in enumerate(picked):
        out.insert((k + 1) * step + k, p)
    return "\n\n".join(out), got / (got + total_new)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_thirty_percent_copied_reads_thirty_percent(tmp_path, lang):
    archive = tmp_path / "archive"
    for rel in SOURCES[lang]:
        (archive / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(CORPUS / rel, archive / rel)
    build_index(archive, tmp_path / "a.dedup")
    copied = _alternate([_paragraphs(read_document(CORPUS / rel).text)[1:] for rel in SOURCES[lang]])
    new = [p for rel in NEW[lang] for p in _paragraphs(read_document(CORPUS / rel).text)[1:]]
    text, share = compose(copied, new, 0.30)
    assert abs(share - 0.30) < 0.02  # the composition itself
    draft = tmp_path / "draft.txt"
    draft.write_text(text, encoding="utf-8")
    (doc,) = check([draft], tmp_path / "a.dedup").checked
    assert abs(doc.copy_ratio - share) <= 0.03, (doc.copy_ratio, share)
    assert doc.largest_source_ratio < doc.copy_ratio  # copied from two speeches
    assert {p.b for p in doc.sources} == set(SOURCES[lang])


def test_real_speeches_thirty_percent(tmp_path, shared_data):
    """The same on real government work reports: 30% from two archived reports, 70% from a third."""
    folder = shared_data / "zh_gov_work_reports_central" / "reports"
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in (".txt", ".md"))
    if len(files) < 3:
        pytest.skip("not enough work reports")
    archive = tmp_path / "archive"
    archive.mkdir()
    for f in files[:2]:
        shutil.copy(f, archive / f.name)
    build_index(archive, tmp_path / "a.dedup")
    rng = np.random.default_rng(7)
    copied = [[ps[i] for i in rng.permutation(len(ps))] for ps in (_paragraphs(read_document(f).text)[1:] for f in files[:2])]
    copied = _alternate(copied)
    new = _paragraphs(read_document(files[-1]).text)[1:40]
    text, share = compose(copied, new, 0.30)
    draft = tmp_path / "draft.txt"
    draft.write_text(text, encoding="utf-8")
    (doc,) = check([draft], tmp_path / "a.dedup").checked
    assert abs(doc.copy_ratio - share) <= 0.03, (doc.copy_ratio, share)


TRUTH = json.loads((CORPUS / "truth.json").read_text(encoding="utf-8"))
CHECKED = sorted({c["b"] for c in TRUTH["cases"]} | {n["b"] for n in TRUTH["negatives"]})


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    location = tmp_path_factory.mktemp("index") / "corpus.dedup"
    update = build_index(CORPUS, location)
    assert update.documents == len([d for d in update.added])
    # (files of no document type, e.g. the corpus's scripts, are listed as skipped too, as scan lists them)
    assert {s.path for s in update.skipped if not s.reason.startswith("unsupported file type")} == set(TRUTH["skipped"])
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
    plain = {frozenset((p.a, p.b)): p.relation for p in dedup.scan(CORPUS).pairs}
    both = dedup.scan(CORPUS, index=index)
    within, across = {}, {}
    for p in both.pairs:
        if p.b_origin == "scanned":
            within[frozenset((p.a, p.b))] = p.relation
        else:
            assert p.a_origin == "scanned"
            across.setdefault(frozenset((p.a, p.b)), set()).add(p.relation)
    assert within == plain
    assert across == {k: {v} for k, v in plain.items()}


class _CountingStore(MemoryStore):
    """A store that counts how often documents are loaded from it."""

    loads = 0

    def load(self, ids):
        self.loads += 1
        return super().load(ids)


def test_a_report_reads_the_archive_texts_it_shows_from_one_opening_of_the_index():
    store = _CountingStore()
    build_index(CORPUS / "zh", store)
    paths = store.paths()[:3]
    texts = archive_text_loader(store, paths)
    assert store.loads == 0  # nothing read until a text is shown (a JSON report shows none)
    assert texts(paths[1]) == read_document(CORPUS / "zh" / paths[1]).text
    assert [texts(p) for p in paths] == [read_document(CORPUS / "zh" / p).text for p in paths]
    assert store.loads == 1
    assert texts("not/stored.txt") == "" and store.loads == 2
    assert archive_text_loader(None, paths)(paths[0]) == ""


# --- removing by path ---


@pytest.fixture
def zh_index(tmp_path, zh_archive):
    location = tmp_path / "a.dedup"
    build_index(zh_archive, location)
    return location


@pytest.mark.parametrize("pattern", ["", "   ", "/", "//", "\\", " / "])
def test_a_path_that_names_nothing_is_refused_and_nothing_is_removed(zh_index, pattern):
    """``dedup index remove ""`` (an unset shell variable) or ``"$DIR/"`` once matched every stored path: refused,
    with the index named, before anything is removed (even with good paths given alongside)."""
    before = dedup.index_info(zh_index, paths=True).paths
    with pytest.raises(dedup.IndexStoreError, match=rf"a.dedup: {re.escape(repr(pattern))} names no document"):
        dedup.remove_from_index([before[0], pattern], zh_index)
    assert dedup.index_info(zh_index, paths=True).paths == before


def test_dot_is_the_folder_it_names_not_every_stored_path(zh_index, zh_archive):
    """``.`` is the current folder: here (the tests run outside the archive folder) it holds no archived document,
    so nothing is removed; the folder the index was built from, named on disk, holds them all."""
    assert not Path.cwd().resolve().is_relative_to(zh_archive.resolve())
    before = dedup.index_info(zh_index, paths=True).paths
    assert dedup.remove_from_index(["."], zh_index).removed == ()
    assert dedup.remove_from_index(["./"], zh_index).removed == ()
    assert dedup.index_info(zh_index, paths=True).paths == before
    assert dedup.remove_from_index([str(zh_archive)], zh_index).removed == before


def test_stored_paths_and_folders_are_still_removed(tmp_path):
    archive = tmp_path / "archive"
    for rel in ("2010/a.txt", "2010/b.txt", "2011/c.txt", "2012/d.txt"):
        (archive / rel).parent.mkdir(parents=True, exist_ok=True)
        (archive / rel).write_text(ZH_SPEECH + rel, encoding="utf-8")
    build_index(archive, tmp_path / "a.dedup")
    assert dedup.remove_from_index(["2010/"], tmp_path / "a.dedup").removed == ("2010/a.txt", "2010/b.txt")
    assert dedup.remove_from_index([str(archive / "2011")], tmp_path / "a.dedup").removed == ("2011/c.txt",)
    assert dedup.remove_from_index(["2012\\d.txt"], tmp_path / "a.dedup").removed == ("2012/d.txt",)
    assert dedup.index_info(tmp_path / "a.dedup").documents == 0
