"""PAN 2013 text-alignment sample: scan susp/ and src/ together and score the passages.

    python benchmarks/pan.py [--data ../shared/data/en_pan13_text_alignment_sample] [--json]

Per obfuscation category and overall: PAN macro precision, recall,
granularity and plagdet (benchmarks/pan_measures.py), counting only detections on the
document pairs the category lists (as PAN does).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import dedup
from pan_measures import Span, pan_scores

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "en_pan13_text_alignment_sample"


def load_truth(data: Path) -> dict[str, tuple[list[tuple[str, str]], list[Span]]]:
    """Per category: the document pairs it lists and the annotated cases."""
    out = {}
    for category in sorted(p for p in data.iterdir() if p.is_dir() and p.name[:2].isdigit()):
        pairs, cases = [], []
        for line in (category / "pairs").read_text().split("\n"):
            if line.strip():
                susp, src = line.split()
                pairs.append((f"susp/{susp}", f"src/{src}"))
                xml = category / f"{Path(susp).stem}-{Path(src).stem}.xml"
                for feature in ET.parse(xml).getroot().iter("feature"):
                    if feature.get("name") != "plagiarism":
                        continue
                    a0, b0 = int(feature.get("this_offset")), int(feature.get("source_offset"))
                    cases.append(
                        Span(f"susp/{susp}", f"src/{src}", a0, a0 + int(feature.get("this_length")), b0, b0 + int(feature.get("source_length")))
                    )
        out[category.name] = (pairs, cases)
    return out


def detections(report) -> list[Span]:
    """Reported passages oriented as (suspicious, source)."""
    out = []
    for p in report.pairs:
        for x in p.passages:
            if x.boilerplate:
                continue
            if p.a.startswith("susp/") and p.b.startswith("src/"):
                out.append(Span(p.a, p.b, x.a_start, x.a_end, x.b_start, x.b_end))
            elif p.b.startswith("susp/") and p.a.startswith("src/"):
                out.append(Span(p.b, p.a, x.b_start, x.b_end, x.a_start, x.a_end))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--json", action="store_true", help="print the scores as JSON")
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        print(f"PAN sample not found at {args.data}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    report = dedup.scan(args.data)
    seconds = time.perf_counter() - started
    dets = detections(report)
    truth = load_truth(args.data)
    rows = {}
    all_pairs, all_cases = set(), []
    for name, (pairs, cases) in truth.items():
        listed = set(pairs)
        all_pairs |= listed
        all_cases += cases
        rows[name] = pan_scores(cases, [d for d in dets if (d.a, d.b) in listed])
    rows["overall"] = pan_scores(all_cases, [d for d in dets if (d.a, d.b) in all_pairs])
    result = {name: vars(s) for name, s in rows.items()}
    result["scan_seconds"] = round(seconds, 2)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"{'category':28} {'plagdet':>8} {'prec':>6} {'rec':>6} {'gran':>6} {'cases':>6} {'dets':>6}")
        for name, s in rows.items():
            print(f"{name:28} {s.plagdet:8.3f} {s.precision:6.3f} {s.recall:6.3f} {s.granularity:6.3f} {s.cases:6d} {s.detections:6d}")
        print(f"scan: {seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
