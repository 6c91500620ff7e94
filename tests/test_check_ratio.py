"""The copy ratio of ``check``: a document made of 30% copied passages and 70% new text reads 30% ± 3%."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from dedup.ingest import read_document
from dedup.normalize import normalize
from dedup.pipeline import build_index, check

from conftest import CORPUS

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
