"""Smoke runs of the benchmark scripts (no timing assertions)."""

import sys

from conftest import CORPUS, ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))

import bridge  # noqa: E402
import corpus_quality  # noqa: E402
import pan  # noqa: E402
import vs_textdedup  # noqa: E402
from texts import EN_SPEECH, ZH_SPEECH  # noqa: E402


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


def test_vs_textdedup_scores_planted_near_duplicates_and_checks_extra_pairs(tmp_path):
    for name, text in {"a.txt": ZH_SPEECH, "b.txt": ZH_SPEECH[5:], "c.txt": EN_SPEECH, "d.txt": EN_SPEECH[::-1]}.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    truth = {"pairs": [
        {"a": "b.txt", "b": "a.txt", "relation": "near_duplicate", "lang": "zh"},
        {"a": "c.txt", "b": "d.txt", "relation": "near_duplicate", "lang": "en"},
    ]}
    found = {("a.txt", "b.txt"), ("a.txt", "c.txt")}
    score = vs_textdedup.score(found, truth, tmp_path, check=10)
    assert (score["recall_all"], score["recall_zh"], score["recall_en"]) == ("1/2", "1/1", "0/1")
    assert score["extra_pairs"] == score["extra_unplanted"] == 1 and score["extra_unplanted_similar"] == 0
    assert score["false_positives_est"] == 1 and score["precision_est"] == 0.5
    assert vs_textdedup.containment(tmp_path, "a.txt", "b.txt") > 0.95


def test_real_speed_measures_a_tiny_folder(tmp_path):
    """benchmarks/real_speed.py's parts on 4 short files (no ../shared/data): the figures are there and positive."""
    import real_speed

    folder = tmp_path / "docs"
    folder.mkdir()
    texts = {"a.txt": ZH_SPEECH, "b.txt": "前言\n" + ZH_SPEECH[5:], "c.txt": EN_SPEECH, "d.txt": EN_SPEECH.replace("library", "museum")}
    for name, text in texts.items():
        (folder / name).write_text(text, encoding="utf-8")
    files = real_speed.list_files(folder)
    assert [f.name for f in files] == sorted(texts)

    scan = real_speed.whole_scan("tiny", folder, repeat=1, log=lambda _: None)
    assert scan["files"] == 4 and scan["mb"] > 0 and scan["ratio"] > 0 and scan["target"] == 5.0
    assert all(scan[side][k] > 0 for side in ("dedup", "naive") for k in ("wall_s", "cpu_s", "peak_rss_mb"))
    assert scan["dedup"]["summary"]["documents"] == 4

    stages = real_speed.stage_times(folder, log=lambda _: None)
    assert {"read", "sign", "align"} <= set(stages["stages"]) and stages["pairs_aligned"] >= 1
    assert stages["scan_s"] > 0 and abs(sum(v for _, v in stages["segments"]) - stages["scan_s"]) < 0.01
    assert stages["segments"][0][0] == "before read" and any(s.startswith("between ") for s, _ in stages["segments"])

    sig = real_speed.signature_speed({"tiny": files}, repeats=1, log=lambda _: None)["tiny"]
    assert sig["files"] == 4 and sig["ratio"] > 0
    assert all(sig[k]["mb_per_s"] > 0 for k in ("floor", "sign_files", "scan_files"))
    assert len(real_speed.floor_hashes(files[0])) == len(ZH_SPEECH) - 4

    start = real_speed.startup(files, repeat=1, log=lambda _: None)
    assert len(start) == 4 and all(v > 0 for v in start.values())
    text = real_speed.table({"machine": real_speed.machine(), "repeat": 1, "scan": {"tiny": scan},
                             "stages": {"tiny": stages}, "signatures": {"tiny": sig}, "startup": start})
    assert "tiny" in text and "start-up" in text


def test_bridge_paraphrases_a_sentence_and_scores_the_passage_over_the_stretch():
    import random

    sentence = "We will build new roads, repair the old bridges, and open clinics in every rural county of the state."
    vocabulary = {0: ["harbor", "garden", "letters"]}
    spun = bridge.paraphrase(sentence, "en", vocabulary, random.Random(1))
    assert spun != sentence and spun.count(",") < sentence.count(",")  # a clause dropped, words replaced
    assert any(w in spun for w in vocabulary[0])
    case = {"source": "s.txt", "copy": "c.txt", "source_span": [100, 200], "copy_span": [10, 110]}
    whole = {"a_start": 10, "a_end": 110, "b_start": 100, "b_end": 200, "boilerplate": False}
    half = {"a_start": 10, "a_end": 60, "b_start": 100, "b_end": 150, "boilerplate": False}
    report = {"pairs": [{"a": "c.txt", "b": "s.txt", "passages": [whole]}]}
    assert bridge.score([report], [case])["covered_90"] == 1
    report = {"pairs": [{"a": "c.txt", "b": "s.txt", "passages": [half, {**half, "a_start": 60, "a_end": 100, "b_start": 150, "b_end": 190}]}]}
    result = bridge.score([report], [case])
    assert result["covered_90"] == 0 and result["granularity"] == 2.0 and result["mean_covered"] == 0.5


def test_bridge_plants_stretches_in_real_speeches(shared_data, tmp_path):
    import random

    truth = bridge.plant("en", shared_data, tmp_path, 3, random.Random(1))
    assert len(truth) == 3
    for case in truth:
        source = (tmp_path / case["source"]).read_text(encoding="utf-8")
        copy = (tmp_path / case["copy"]).read_text(encoding="utf-8")
        s0, s1 = case["source_span"]
        c0, c1 = case["copy_span"]
        p0, p1 = case["paraphrased"]
        assert copy[c0 : c0 + p0] == source[s0 : s0 + p0]  # verbatim before and after the paraphrased sentence
        assert copy[c1 - (s1 - s0 - p1) : c1] == source[s0 + p1 : s1]

