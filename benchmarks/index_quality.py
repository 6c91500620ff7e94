"""Detection quality through an archive index, against the same cases as ``scan``.

    python benchmarks/index_quality.py [--json] [--out DIR] [--data DIR]

1. the benchmark corpus of real speeches (as benchmarks/quality.py makes it): the folder is
   indexed, then scanned against its own index (``dedup.scan(folder, index=...)``); the pairs of a
   document with another one's archived copy are scored against the truth file like a scan
   (each document's own archived copy is never compared with it);
2. the PAN 2013 text-alignment sample: ``src/`` is indexed and every ``susp/`` document is
   checked against it (``dedup.check``), scored per obfuscation category as benchmarks/pan.py
   scores a scan.

Sections that need ../shared/data are skipped when it is absent. Exit code 0.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import quality  # noqa: I001 (puts benchmarks/ and corpus/ on the path)
import corpus_quality
import dedup


def corpus_through_index(folder: Path, work: Path) -> dict:
    """corpus_quality figures of the pairs found between the folder and an index of it."""
    location = work / "corpus.dedup"
    started = time.perf_counter()
    dedup.build_index(folder, location)
    built = time.perf_counter() - started
    report = dedup.scan(folder, index=location)
    across: dict[frozenset, object] = {}
    for p in sorted(report.pairs, key=lambda p: p.names()):
        if p.a_origin != p.b_origin:  # one side each: found through the index
            across.setdefault(frozenset((p.a, p.b)), p)
    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    through = SimpleNamespace(pairs=list(across.values()))
    result = {"documents": report.scanned, "scan_seconds": round(time.perf_counter() - started - built, 2)}
    result["all"] = corpus_quality.score(truth, through)
    for lang in quality.LANGS:
        if any(c["lang"] == lang for c in truth["cases"]):
            result[lang] = corpus_quality.score(truth, through, lang)
    return result


def pan_through_index(data: Path, work: Path) -> dict:
    """PAN scores of checking susp/ against an index of src/."""
    location = work / "pan_src.dedup"
    dedup.build_index(data / "src", location)
    started = time.perf_counter()
    checked = dedup.check(sorted((data / "susp").glob("*.txt")), location)
    seconds = time.perf_counter() - started
    pairs = [
        SimpleNamespace(a=f"susp/{Path(c.path).name}", b=f"src/{p.b}", passages=p.passages)
        for c in checked.checked
        for p in c.sources
    ]
    return {"documents": len(checked.checked), "scan_seconds": round(seconds, 2),
            "categories": quality.pan_rows(data, SimpleNamespace(pairs=pairs))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print all figures as JSON")
    parser.add_argument("--out", type=Path, default=quality.BENCH, help="benchmark corpus folder (default: %(default)s)")
    parser.add_argument("--data", type=Path, default=quality.DATA, help="the real texts (default: %(default)s)")
    args = parser.parse_args(argv)
    result: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        if args.data.is_dir():
            quality.ensure_benchmark(args.out, data=args.data, seed=1, scale=4, regenerate=False)
            quality.log(f"indexing and scanning {args.out} against its index ...")
            result["benchmark"] = corpus_through_index(args.out, Path(tmp))
        pan_data = args.data / "en_pan13_text_alignment_sample"
        if pan_data.is_dir():
            quality.log("indexing the PAN 2013 sources and checking the suspicious documents ...")
            result["pan13"] = pan_through_index(pan_data, Path(tmp))
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
        return 0
    if not result:
        print(f"skipped: {args.data} not found")
        return 0
    if "benchmark" in result:
        quality.print_corpus(f"1. Benchmark corpus scanned against an index of itself ({args.out})", result["benchmark"])
    if "pan13" in result:
        quality.print_pan(result["pan13"], "2. PAN 2013: susp/ checked against an index of src/", "check")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
