"""Detection quality on a corpus with a truth file (the bundled corpus/ by default).

    python benchmarks/corpus_quality.py [CORPUS_DIR] [--json]

Document level: recall and precision of exact/near-duplicate pairs (a pair
counts when found with a relation of that group) and recall of partial pairs.
Passage level: PAN macro precision, recall, granularity and plagdet over the
truth passages, overall and per kind of planted case.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

import dedup
from pan_measures import Span, pan_scores

DEFAULT = Path(__file__).resolve().parents[1] / "corpus"
DUPLICATE = {"exact", "near_duplicate"}


LANGS = ("zh", "en")
SITE_LANG = {"fanwen": "zh", "gongwen": "zh", "speechdocs": "en", "wenku": "zh"}


def document_languages(truth: dict) -> dict[str, str]:
    """Language of every document the truth names (cases; negatives by their id prefix)."""
    langs = {}
    for c in truth["cases"]:
        langs.setdefault(c["a"], c["lang"])
        langs.setdefault(c["b"], c["lang"])
    for n in truth.get("negatives", []):
        lang = n.get("lang") or n["id"].split("-")[0]
        if lang in LANGS:
            langs.setdefault(n["a"], lang)
            langs.setdefault(n["b"], lang)
    return langs


def language_of(path: str, known: dict[str, str]) -> str:
    if path in known:
        return known[path]
    parts = path.split("/")
    if parts[0] in LANGS:
        return parts[0]
    if parts[0] == "site" and len(parts) > 2 and parts[1] in SITE_LANG:
        return SITE_LANG[parts[1]]
    name = parts[-1]
    for lang in LANGS:
        if name.startswith(lang):
            return lang
    return "?"


def score(truth: dict, report, lang: str | None = None) -> dict:  # noqa: ANN001 (dedup.Report)
    """Document- and passage-level figures of a report against a truth file, for one language or all."""
    known_langs = document_languages(truth)

    def pair_lang(a: str, b: str) -> str:
        la, lb = language_of(a, known_langs), language_of(b, known_langs)
        return la if la == lb else "mixed"

    all_cases = truth["cases"]
    cases = [c for c in all_cases if lang is None or c["lang"] == lang]
    negatives = [n for n in truth.get("negatives", []) if lang is None or pair_lang(n["a"], n["b"]) == lang]
    pairs = [p for p in report.pairs if lang is None or pair_lang(p.a, p.b) == lang]
    found = {frozenset((p.a, p.b)): p for p in report.pairs}
    known = {frozenset((c["a"], c["b"])) for c in all_cases}

    dup_truth = [c for c in cases if c["relation"] in DUPLICATE]
    dup_found = [c for c in dup_truth if (p := found.get(frozenset((c["a"], c["b"])))) and p.relation in DUPLICATE]
    dup_reported = [p for p in pairs if p.relation in DUPLICATE]
    dup_correct = [p for p in dup_reported if frozenset((p.a, p.b)) in known]
    partial_truth = [c for c in cases if c["relation"] == "partial"]
    partial_found = [c for c in partial_truth if frozenset((c["a"], c["b"])) in found]
    negatives_found = [n for n in negatives if frozenset((n["a"], n["b"])) in found]
    unlisted = [p for p in pairs if frozenset((p.a, p.b)) not in known]

    detections = []
    for p in report.pairs:
        for x in p.passages:
            if not x.boilerplate:
                detections.append(Span(p.a, p.b, x.a_start, x.a_end, x.b_start, x.b_end))
                detections.append(Span(p.b, p.a, x.b_start, x.b_end, x.a_start, x.a_end))

    def score(selected: list[dict]) -> dict:
        spans = [Span(c["a"], c["b"], t["a_start"], t["a_end"], t["b_start"], t["b_end"])
                 for c in selected for t in c["passages"]]
        in_pairs = {(s.a, s.b) for s in spans}
        return vars(pan_scores(spans, [d for d in detections if (d.a, d.b) in in_pairs]))

    agree = sum(1 for c in cases if (p := found.get(frozenset((c["a"], c["b"])))) and p.relation == c["relation"])
    return {
        "cases": len(cases),
        "duplicate_cases": len(dup_truth),
        "partial_cases": len(partial_truth),
        "duplicate_recall": len(dup_found) / len(dup_truth) if dup_truth else 1.0,
        "duplicate_precision": len(dup_correct) / len(dup_reported) if dup_reported else 1.0,
        "partial_recall": len(partial_found) / len(partial_truth) if partial_truth else 1.0,
        "negatives": len(negatives),
        "negatives_reported": len(negatives_found),
        "relation_agreement": agree / len(cases) if cases else 1.0,
        "unlisted_pairs": dict(Counter(p.relation for p in unlisted)),
        "unlisted_examples": [{"a": p.a, "b": p.b, "relation": p.relation} for p in unlisted[:10]],
        "missed": [{"id": c["id"], "relation": c["relation"],
                    "found": found[k].relation if (k := frozenset((c["a"], c["b"]))) in found else None}
                   for c in cases if not ((p := found.get(frozenset((c["a"], c["b"])))) and p.relation == c["relation"])],
        "passages": score(cases),
        "passages_by_kind": {kind: score([c for c in cases if c["kind"] == kind])
                             for kind in sorted({c["kind"] for c in cases})},
    }


def evaluate(folder: Path) -> dict:
    """Scan ``folder`` and score the report against ``folder/truth.json``."""
    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    started = time.perf_counter()
    report = dedup.scan(folder)
    seconds = time.perf_counter() - started
    return {"documents": report.scanned, "scan_seconds": round(seconds, 2), **score(truth, report)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = evaluate(args.corpus)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    for key in ("documents", "scan_seconds", "duplicate_recall", "duplicate_precision", "partial_recall", "negatives_reported", "relation_agreement"):
        value = result[key]
        print(f"{key:22} {value:.3f}" if isinstance(value, float) else f"{key:22} {value}")
    p = result["passages"]
    print(f"{'passages plagdet':22} {p['plagdet']:.3f} (precision {p['precision']:.3f}, recall {p['recall']:.3f}, granularity {p['granularity']:.3f})")
    for kind, s in result["passages_by_kind"].items():
        print(f"  {kind:20} {s['plagdet']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
