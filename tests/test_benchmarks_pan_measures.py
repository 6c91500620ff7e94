"""The PAN text-alignment measures of benchmarks/pan_measures.py."""

import math
import sys

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))

from pan_measures import Span, pan_scores  # noqa: E402


def S(a0, a1, b0, b1, a="s", b="r"):
    return Span(a, b, a0, a1, b0, b1)


def test_perfect_detection():
    s = pan_scores([S(0, 100, 0, 100)], [S(0, 100, 0, 100)])
    assert (s.precision, s.recall, s.granularity, s.plagdet) == (1.0, 1.0, 1.0, 1.0)


def test_half_detected_case():
    s = pan_scores([S(0, 100, 0, 100)], [S(0, 50, 0, 50)])
    assert s.recall == pytest.approx(0.5)
    assert s.precision == pytest.approx(1.0)
    assert s.plagdet == pytest.approx(2 * 0.5 / 1.5)


def test_detection_twice_as_long():
    s = pan_scores([S(0, 100, 0, 100)], [S(0, 200, 0, 200)])
    assert s.recall == 1.0 and s.precision == pytest.approx(0.5)


def test_split_detection_costs_granularity():
    s = pan_scores([S(0, 100, 0, 100)], [S(0, 50, 0, 50), S(50, 100, 50, 100)])
    assert s.recall == 1.0 and s.precision == 1.0
    assert s.granularity == 2.0
    assert s.plagdet == pytest.approx(1 / math.log2(3))


def test_detection_must_overlap_on_both_sides_and_same_pair():
    case = S(0, 100, 0, 100)
    assert pan_scores([case], [S(0, 100, 500, 600)]).recall == 0.0
    assert pan_scores([case], [S(0, 100, 0, 100, b="other")]).recall == 0.0


def test_macro_averages_over_cases_and_detections():
    cases = [S(0, 100, 0, 100), S(1000, 1010, 1000, 1010)]
    dets = [S(0, 100, 0, 100), S(5000, 5100, 5000, 5100)]
    s = pan_scores(cases, dets)
    assert s.recall == pytest.approx(0.5)  # one of two cases found
    assert s.precision == pytest.approx(0.5)  # one of two detections right


def test_no_cases_no_detections():
    s = pan_scores([], [])
    assert s.plagdet == 1.0
