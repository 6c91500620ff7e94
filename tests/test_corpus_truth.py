"""The bundled demo corpus (corpus/) agrees with its truth file, and its generator is deterministic."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import unicodedata
from functools import lru_cache
from itertools import combinations
from pathlib import Path

import pytest

opencc = pytest.importorskip("opencc")
fuzz = pytest.importorskip("rapidfuzz.fuzz")

from dedup.errors import IngestError  # noqa: E402
from dedup.ingest import read_document  # noqa: E402

from conftest import CORPUS  # noqa: E402

TRUTH = json.loads((CORPUS / "truth.json").read_text(encoding="utf-8"))
CASES = TRUTH["cases"]
GENERATED = ("planted", "site", "broken")


@lru_cache(maxsize=None)
def text_of(rel: str) -> str:
    return read_document(CORPUS / rel, relpath=rel).text


@lru_cache(maxsize=1)
def _t2s():  # noqa: ANN202
    return opencc.OpenCC("t2s")


def normalized(text: str) -> str:
    """Simplified characters, case-folded, letters and digits only (no whitespace, punctuation, symbols)."""
    text = _t2s().convert(text).casefold()
    return "".join(ch for ch in text if unicodedata.category(ch)[0] in "LN")


def min_ratio(case: dict) -> int:
    """Spinner substitutions and page markers make download-page passages differ more."""
    substituted = case["kind"] == "download_page" or any(case[s].startswith("site/") for s in ("a", "b"))
    return 70 if substituted else 95


def test_truth_shape() -> None:
    assert TRUTH["version"] == 1
    ids = [c["id"] for c in CASES] + [n["id"] for n in TRUTH["negatives"]]
    assert len(ids) == len(set(ids))
    for case in CASES:
        assert case["relation"] in ("exact", "near_duplicate", "partial")
        assert case["lang"] in ("zh", "en")
        assert case["passages"], case["id"]
        if case["kind"] != "implied":
            assert case["a"].startswith(("zh/", "en/")), "the a side of a planted case is the original"
    for rel in [c[s] for c in CASES for s in ("a", "b")] + [n[s] for n in TRUTH["negatives"] for s in ("a", "b")]:
        assert "\\" not in rel and not rel.startswith("/")


def test_every_path_exists() -> None:
    paths = {c[s] for c in CASES for s in ("a", "b")} | {n[s] for n in TRUTH["negatives"] for s in ("a", "b")}
    for rel in sorted(paths | set(TRUTH["skipped"])):
        assert (CORPUS / rel).is_file(), rel


def test_expected_kinds_are_planted() -> None:
    kinds = {(c["lang"], c["kind"]) for c in CASES}
    for kind in ("header_changed", "download_page", "reordered", "traditional", "passage_inserted",
                 "abridged", "exact_gb18030", "exact_utf16", "docx"):
        assert ("zh", kind) in kinds, kind
    for kind in ("header_changed", "passage_inserted", "reordered", "abridged", "exact_utf16", "pdf"):
        assert ("en", kind) in kinds, kind
    assert any(n["kind"] == "same_site_unrelated" for n in TRUTH["negatives"])


def test_skipped_files_cannot_be_read() -> None:
    assert TRUTH["skipped"]
    for rel in TRUTH["skipped"]:
        with pytest.raises(IngestError):
            read_document(CORPUS / rel, relpath=rel)


def test_no_scanned_notes_in_corpus() -> None:
    """Every scanned file is a corpus document: an original, a generated file or a skipped one."""
    scanned = {p.relative_to(CORPUS).as_posix() for p in CORPUS.rglob("*")
               if p.suffix.lower() in (".txt", ".md", ".docx", ".pdf", ".html", ".htm")}
    used = {c[s] for c in CASES for s in ("a", "b")} | {n[s] for n in TRUTH["negatives"] for s in ("a", "b")}
    originals = {p for p in scanned if p.startswith(("zh/", "en/"))}
    assert scanned == originals | used | set(TRUTH["skipped"])
    assert 30 <= len(scanned) <= 40
    assert not any(p.endswith(".md") for p in scanned)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_passages_match(case: dict) -> None:
    a, b = text_of(case["a"]), text_of(case["b"])
    for q in case["passages"]:
        assert 0 <= q["a_start"] < q["a_end"] <= len(a), q
        assert 0 <= q["b_start"] < q["b_end"] <= len(b), q
        left = normalized(a[q["a_start"] : q["a_end"]])
        right = normalized(b[q["b_start"] : q["b_end"]])
        assert left and right
        assert fuzz.ratio(left, right) >= min_ratio(case), (q, left[:60], right[:60])


def test_negatives_share_no_body_text() -> None:
    """Pages of the same site share furniture, but no stretch of 20 body characters outside it."""
    site_lines = set()
    for n in TRUTH["negatives"]:
        for side in ("a", "b"):
            site_lines.update(text_of(n[side]).splitlines())
    for n in TRUTH["negatives"]:
        a, b = text_of(n["a"]), text_of(n["b"])
        furniture = set(a.splitlines()) & set(b.splitlines())
        body_a = normalized("".join(line for line in a.splitlines() if line not in furniture))
        body_b = normalized("".join(line for line in b.splitlines() if line not in furniture))
        windows = {body_a[i : i + 20] for i in range(len(body_a) - 19)}
        assert not any(body_b[i : i + 20] in windows for i in range(len(body_b) - 19)), n["id"]
        assert furniture, "same-site pages share their furniture"


def test_originals_are_distinct() -> None:
    """No two originals share a long stretch (stock phrases are shorter)."""
    originals = sorted(p.relative_to(CORPUS).as_posix() for lang in ("zh", "en") for p in (CORPUS / lang).glob("*.txt"))
    assert len([p for p in originals if p.startswith("zh/")]) == 10
    assert len([p for p in originals if p.startswith("en/")]) == 7
    windows = {}
    for rel in originals:
        text = normalized(text_of(rel))
        size = 20 if rel.startswith("zh/") else 40
        windows[rel] = {text[i : i + size] for i in range(len(text) - size + 1)}
    for x, y in combinations(originals, 2):
        assert not windows[x] & windows[y], (x, y, sorted(windows[x] & windows[y])[:3])


def test_generator_is_deterministic(tmp_path: Path) -> None:
    out = tmp_path / "corpus"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(CORPUS.parent), os.environ.get("PYTHONPATH")])))
    run = subprocess.run([sys.executable, str(CORPUS / "make_corpus.py"), "--out", str(out)],
                         capture_output=True, text=True, env=env)
    assert run.returncode == 0, run.stderr
    assert json.loads((out / "truth.json").read_text(encoding="utf-8")) == TRUTH
    assert (out / "truth.json").read_bytes() == (CORPUS / "truth.json").read_bytes()
    for sub in GENERATED:
        mine = sorted(p.name for p in (CORPUS / sub).iterdir())
        theirs = sorted(p.name for p in (out / sub).iterdir())
        assert mine == theirs, sub
        for name in mine:
            assert (out / sub / name).read_bytes() == (CORPUS / sub / name).read_bytes(), f"{sub}/{name}"
