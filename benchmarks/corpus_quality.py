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
from pathlib import Path

import dedup
from dedup.evaluate import Span, pan_scores

DEFAULT = Path(__file__).resolve().parents[1] / "corpus"
DUPLICATE = {"exact", "near_duplicate"}


def evaluate(folder: Path) -> dict:
    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    started = time.perf_counter()
    report = dedup.scan(folder)
    seconds = time.perf_counter() - started
    found = {frozenset((p.a, p.b)): p for p in report.pairs}
    cases = truth["cases"]

    dup_truth = [c for c in cases if c["relation"] in DUPLICATE]
    dup_found = [c for c in dup_truth if (p := found.get(frozenset((c["a"], c["b"])))) and p.relation in DUPLICATE]
    known = {frozenset((c["a"], c["b"])) for c in cases}
    dup_reported = [p for p in report.pairs if p.relation in DUPLICATE]
    dup_correct = [p for p in dup_reported if frozenset((p.a, p.b)) in known]
    partial_truth = [c for c in cases if c["relation"] == "partial"]
    partial_found = [c for c in partial_truth if frozenset((c["a"], c["b"])) in found]
    negatives = [n for n in truth.get("negatives", []) if frozenset((n["a"], n["b"])) in found]

    detections = []
    for p in report.pairs:
        for x in p.passages:
            if not x.boilerplate:
                detections.append(Span(p.a, p.b, x.a_start, x.a_end, x.b_start, x.b_end))
                detections.append(Span(p.b, p.a, x.b_start, x.b_end, x.a_start, x.a_end))

    def spans(selected):
        return [Span(c["a"], c["b"], t["a_start"], t["a_end"], t["b_start"], t["b_end"]) for c in selected for t in c["passages"]]

    def score(selected) -> dict:
        truth_spans = spans(selected)
        pairs = {(s.a, s.b) for s in truth_spans}
        return vars(pan_scores(truth_spans, [d for d in detections if (d.a, d.b) in pairs]))

    return {
        "documents": report.scanned,
        "scan_seconds": round(seconds, 2),
        "duplicate_recall": len(dup_found) / len(dup_truth) if dup_truth else 1.0,
        "duplicate_precision": len(dup_correct) / len(dup_reported) if dup_reported else 1.0,
        "partial_recall": len(partial_found) / len(partial_truth) if partial_truth else 1.0,
        "negatives_reported": len(negatives),
        "relation_agreement": sum(
            1 for c in cases if (p := found.get(frozenset((c["a"], c["b"])))) and p.relation == c["relation"]
        ) / len(cases),
        "passages": score(cases),
        "passages_by_kind": {kind: score([c for c in cases if c["kind"] == kind]) for kind in sorted({c["kind"] for c in cases})},
    }


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
