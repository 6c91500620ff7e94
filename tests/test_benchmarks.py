"""Smoke runs of the benchmark scripts (no timing assertions)."""

import sys

from conftest import CORPUS, ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))

import corpus_quality  # noqa: E402
import pan  # noqa: E402


def test_corpus_quality_meets_the_targets_on_the_bundled_corpus():
    result = corpus_quality.evaluate(CORPUS)
    assert result["duplicate_recall"] >= 0.95 and result["duplicate_precision"] >= 0.95
    assert result["partial_recall"] >= 0.9
    assert result["negatives_reported"] == 0
    assert result["passages"]["plagdet"] >= 0.85


def test_pan_truth_loads(shared_data):
    truth = pan.load_truth(shared_data / "en_pan13_text_alignment_sample")
    assert set(truth) == {
        "01-no-plagiarism", "02-no-obfuscation", "03-random-obfuscation",
        "04-translation-obfuscation", "05-summary-obfuscation",
    }
    pairs, cases = truth["02-no-obfuscation"]
    assert len(pairs) == 78 and all(c.a.startswith("susp/") for c in cases)


def test_index_quality_on_the_bundled_corpus_equals_scan(tmp_path):
    """benchmarks/index_quality.py's scoring of pairs found through an index, on corpus/."""
    import index_quality

    through = index_quality.corpus_through_index(CORPUS, tmp_path)["all"]
    scanned = corpus_quality.evaluate(CORPUS)
    for key in ("duplicate_recall", "duplicate_precision", "partial_recall", "relation_agreement", "negatives_reported"):
        assert through[key] == scanned[key], key
    assert abs(through["passages"]["plagdet"] - scanned["passages"]["plagdet"]) < 0.01


def test_pan_checked_against_an_index_of_its_sources(shared_data, tmp_path):
    import index_quality

    rows = index_quality.pan_through_index(shared_data / "en_pan13_text_alignment_sample", tmp_path)["categories"]
    assert rows["overall"]["plagdet"] >= 0.80 and rows["02-no-obfuscation"]["plagdet"] >= 0.95
    assert rows["03-random-obfuscation"]["plagdet"] >= 0.75
