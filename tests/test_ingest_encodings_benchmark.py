"""benchmarks/encoding_detection.py (issue 14, item 12) on its built-in texts: dedup's detection is right on every case, and
at least as often as the libraries measured against it."""

import importlib.util

from conftest import ROOT


def test_dedup_detection_beats_the_libraries_on_the_built_in_cases(tmp_path):
    # (loaded by path: on sys.path, benchmarks/encoding_detection.py would stand for the standard library's package)
    spec = importlib.util.spec_from_file_location("encodings_benchmark", ROOT / "benchmarks" / "encoding_detection.py")
    benchmark = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(benchmark)
    result = benchmark.measure(tmp_path / "no data")  # the built-in texts
    assert result["cases"] >= 70
    assert result["right"]["dedup"] == result["cases"]
    assert result["right"]["dedup"] >= max(result["right"].values())
