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
