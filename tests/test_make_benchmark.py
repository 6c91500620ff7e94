"""Smoke test of corpus/make_benchmark.py: a small benchmark corpus of real speeches (needs ../shared/data)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from functools import lru_cache
from itertools import combinations
from pathlib import Path

import pytest

from conftest import ROOT, SHARED_DATA

fuzz = pytest.importorskip("rapidfuzz.fuzz")
pytest.importorskip("opencc")

from dedup.ingest import read_document  # noqa: E402
from dedup.normalize import normalize_text  # noqa: E402

GENERATOR = ROOT / "corpus" / "make_benchmark.py"
SCALE = 1


def generate(out: Path, seed: int = 1) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    return subprocess.run(
        [sys.executable, str(GENERATOR), "--out", str(out), "--data", str(SHARED_DATA), "--scale", str(SCALE),
         "--seed", str(seed)],
        capture_output=True, text=True, env=env, timeout=300,
    )


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The same small corpus generated twice, in two processes (different str hash seeds)."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not available")
    outs = []
    for n in (1, 2):
        out = tmp_path_factory.mktemp(f"bench{n}") / "bench"
        run = generate(out)
        assert run.returncode == 0, run.stderr
        outs.append(out)
    return outs[0], outs[1]


@pytest.fixture(scope="module")
def bench(runs: tuple[Path, Path]) -> Path:
    return runs[0]


@pytest.fixture(scope="module")
def truth(bench: Path) -> dict:
    return json.loads((bench / "truth.json").read_text(encoding="utf-8"))


def files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_generator_is_deterministic(runs: tuple[Path, Path]) -> None:
    first, second = runs
    assert (first / "truth.json").read_bytes() == (second / "truth.json").read_bytes()
    a, b = files(first), files(second)
    assert sorted(a) == sorted(b)
    assert all(a[name] == b[name] for name in a), [name for name in a if a[name] != b[name]]


def test_truth_has_every_kind_in_both_languages(bench: Path, truth: dict) -> None:
    sys.path.insert(0, str(ROOT / "corpus"))
    import make_benchmark

    cases = truth["cases"]
    assert truth["version"] == 1
    ids = [c["id"] for c in cases] + [n["id"] for n in truth["negatives"]]
    assert len(ids) == len(set(ids))
    kinds = {(c["lang"], c["kind"]) for c in cases}
    for lang, planted in make_benchmark.KINDS.items():
        for kind in planted:
            assert (lang, kind) in kinds, (lang, kind)
        assert (lang, "insertion_host") in kinds
    for case in cases:
        assert case["relation"] in ("exact", "near_duplicate", "partial")
        assert case["passages"], case["id"]
        if case["kind"] != "implied":
            assert case["a"].startswith(("zh/", "en/")), "the a side of a planted case is the base"
    relations = {c["kind"]: c["relation"] for c in cases if c["kind"] != "implied"}
    assert relations["passage_inserted"] == "partial" and relations["exact_utf16"] == "exact"
    assert relations["download_page"] == relations["header_changed"] == "near_duplicate"
    # negatives: at least 6 pages of one site, and a second site
    sites = {}
    for n in truth["negatives"]:
        assert n["kind"] == "same_site_unrelated"
        for side in ("a", "b"):
            sites.setdefault(n[side].split("/")[1], set()).add(n[side])
    assert len(sites) >= 2 and max(len(pages) for pages in sites.values()) >= 6
    # every named file exists; distractors: at least as many untouched bases as planted copies
    named = {c[s] for c in cases for s in ("a", "b")} | {n[s] for n in truth["negatives"] for s in ("a", "b")}
    for rel in sorted(named | set(truth["skipped"])):
        assert (bench / rel).is_file(), rel
    bases = {p.relative_to(bench).as_posix() for lang in ("zh", "en") for p in (bench / lang).glob("*.txt")}
    copies = {c["b"] for c in cases if c["kind"] != "implied"}
    untouched = bases - named
    assert len(untouched) >= len(copies)


@lru_cache(maxsize=None)
def text_of(folder: Path, rel: str) -> str:
    return read_document(folder / rel, relpath=rel).text


def test_every_passage_slices_to_similar_text(bench: Path, truth: dict) -> None:
    for case in truth["cases"]:
        a, b = text_of(bench, case["a"]), text_of(bench, case["b"])
        changed = any(case[s].startswith("site/") or "_spun" in case[s] for s in ("a", "b"))
        for q in case["passages"]:
            assert 0 <= q["a_start"] < q["a_end"] <= len(a), (case["id"], q)
            assert 0 <= q["b_start"] < q["b_end"] <= len(b), (case["id"], q)
            left = normalize_text(a[q["a_start"] : q["a_end"]])
            right = normalize_text(b[q["b_start"] : q["b_end"]])
            assert left and right, (case["id"], q)
            assert fuzz.ratio(left, right) >= (70 if changed else 95), (case["id"], q, left[:60], right[:60])


def test_bases_share_no_run(bench: Path) -> None:
    """No two bases share a run of 16 characters (zh) or 6 words (en)."""
    sys.path.insert(0, str(ROOT / "corpus"))
    import make_benchmark

    for lang in ("zh", "en"):
        bases = sorted((bench / lang).glob("*.txt"))
        assert len(bases) >= 10
        windows = {}
        for path in bases:
            body = path.read_text(encoding="utf-8").split("\n\n", 1)[1]  # without the synthetic header
            windows[path.name] = make_benchmark.window_hashes(body, lang)
        for x, y in combinations(windows, 2):
            assert not windows[x] & windows[y], (x, y)


def test_corpus_quality_runs_on_it(bench: Path, truth: dict) -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import corpus_quality

    result = corpus_quality.evaluate(bench)
    readable = [p for p in bench.rglob("*") if p.suffix in (".txt", ".html", ".docx", ".pdf")]
    assert result["documents"] == len(readable) - len(truth["skipped"])
    for key in ("duplicate_recall", "duplicate_precision", "partial_recall", "relation_agreement"):
        assert 0.0 <= result[key] <= 1.0
    assert 0.0 <= result["passages"]["plagdet"] <= 1.0
    assert set(result["passages_by_kind"]) >= {"header_changed", "download_page", "passage_inserted"}
