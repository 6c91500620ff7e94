"""Smoke run of the scale-corpus generator and the speed benchmark (no timing assertions)."""

import json
import sys

from conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))

import make_scale_corpus  # noqa: E402
import speed  # noqa: E402


def _files(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*.txt"))}


def test_generator_is_deterministic_and_plants_its_pairs(shared_data, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    truth = make_scale_corpus.generate(60, a, seed=3, data=shared_data)
    make_scale_corpus.generate(60, b, seed=3, data=shared_data)
    files = _files(a)
    assert len(files) == 60 and files == _files(b)
    assert all(3000 < len(text) < 9000 for text in files.values())  # ~5 KB of UTF-8 each
    saved = json.loads(make_scale_corpus.truth_path(a).read_text(encoding="utf-8"))
    assert saved["pairs"] == truth["pairs"]
    relations = [p["relation"] for p in truth["pairs"]]
    assert relations.count("near_duplicate") == 3 and relations.count("partial") == 3
    for p in truth["pairs"]:
        if p["relation"] == "partial":
            src = files[p["a"]].decode("utf-8")
            dst = files[p["b"]].decode("utf-8")
            assert src[slice(*p["a_span"])] == dst[slice(*p["b_span"])]
            assert 200 <= len(src[slice(*p["a_span"])]) <= 600
    make_scale_corpus.generate(60, tmp_path / "c", seed=4, data=shared_data)
    assert _files(tmp_path / "c") != files


def test_speed_measures_a_tiny_corpus_end_to_end(shared_data, tmp_path):
    folder = tmp_path / "scale_60"
    make_scale_corpus.generate(60, folder, data=shared_data)
    result = speed.measure(folder, sign_sample=10, naive_sample=20, repeats=1, log=lambda msg: None)

    assert result["n"] == 60
    sig = result["signature"]
    assert sig["sample_docs"] == 10 and sig["dedup_all"]["docs"] == 60
    assert sig["dedup"]["docs"] == sig["naive_update"]["docs"] == 10 and sig["dedup"]["mb"] == sig["naive_update"]["mb"]
    scan = result["dedup_scan"]
    assert scan["docs"] == 60 and scan["skipped"] == 0 and scan["peak_rss_mb"] > 0
    naive = result["naive_scan"]
    assert naive["docs"] == 20 and naive["sampled"]
    recall = result["recall"]
    assert recall["near_duplicate"]["planted"] == 3 and recall["partial"]["planted"] == 3
    assert recall["near_duplicate"]["found"] == recall["near_duplicate"]["as_near_duplicate"] == 3
    assert recall["partial"]["found"] == recall["partial"]["as_partial"] == 3 and recall["unplanted_pairs"] == 0
    assert recall["pairs_reported"] == 6 and recall["partial"]["mean_passage_coverage"] > 0.9

    report = {"machine": speed.machine(), "sizes": [result], "growth": speed.growth([result, result])}
    text = speed.table(report)
    assert "signature stage" in text and "recall of the planted pairs" in text
    json.dumps(report)


def test_a_scan_that_runs_out_of_memory_is_reported_not_raised(shared_data, tmp_path):
    folder = tmp_path / "scale_20"
    make_scale_corpus.generate(20, folder, data=shared_data)
    result = speed.measure(folder, sign_sample=5, naive_sample=5, repeats=1, max_memory_gb=0.05, log=lambda msg: None)
    assert "failed" in result["dedup_scan"] and "failed" in result["naive_scan"]
    assert result["recall"] is None and result["scan_speedup"] is None
    text = speed.table({"machine": speed.machine(), "sizes": [result], "growth": speed.growth([result])})
    assert "failed: exit code" in text


def test_index_speed_measures_a_tiny_corpus_end_to_end(shared_data, tmp_path):
    import index_speed

    result = index_speed.measure(60, work=tmp_path, queries_n=2, location=None, builds_n=1)
    assert result["n"] == 60 and result["build"]["docs"] == 60 and result["build"]["index_mb"] > 0
    assert result["signature_stage"]["minhash"]["docs"] == 60
    check = result["check"]
    assert check["queries"] == 2 and check["with_a_true_source"] == 2 and check["check"]["median_ms"] > 0
    assert "| 60 |" in index_speed.table([result])
