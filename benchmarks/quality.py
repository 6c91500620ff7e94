"""All detection-quality figures in one command.

    python benchmarks/quality.py [--json] [--out DIR] [--regenerate] [--seed N] [--scale N] [--data DIR]

1. the benchmark corpus of real speeches (corpus/make_benchmark.py; generated into
   benchmarks/_work/bench unless it is there already with the same seed and scale):
   corpus_quality.evaluate, and the same figures per language (zh, en), plus the pairs
   reported that the truth does not list (the truth lists every pair that shares
   copied material, so these are false positives or real text reuse between bases);
2. corpus_quality.evaluate on the bundled demo corpus (corpus/);
3. the PAN 2013 text-alignment sample (benchmarks/pan.py);
4. the NPC resolutions on the government work reports (20 documents, 190 pairs): the
   pairs reported, by relation, and how many of the successive-year pairs are found.

Sections that need ../shared/data are skipped when it is absent. Exit code 0.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter
from itertools import combinations
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for _p in (HERE, ROOT / "corpus"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

import corpus_quality  # noqa: E402
import dedup  # noqa: E402
import pan  # noqa: E402
from pan_measures import pan_scores  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
BENCH = HERE / "_work" / "bench"
LANGS = corpus_quality.LANGS


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- 1. benchmark corpus


def ensure_benchmark(out: Path, *, data: Path, seed: int, scale: int, regenerate: bool) -> bool:
    """Generate the benchmark corpus into ``out`` unless it is there with the same parameters; True if generated."""
    import make_benchmark

    stamp = out.parent / f"{out.name}.params.json"
    params = {"seed": seed, "scale": scale, "data": str(data.resolve())}
    current = json.loads(stamp.read_text()) if stamp.is_file() else None
    if not regenerate and (out / "truth.json").is_file() and current == params:
        return False
    log(f"generating the benchmark corpus into {out} (seed {seed}, scale {scale}) ...")
    out.mkdir(parents=True, exist_ok=True)
    make_benchmark.build(out, data=data, seed=seed, scale=scale)
    stamp.write_text(json.dumps(params) + "\n")
    return True


def corpus_section(folder: Path) -> dict:
    """corpus_quality figures of one scan, overall and per language."""
    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    started = time.perf_counter()
    report = dedup.scan(folder)
    result = {"documents": report.scanned, "scan_seconds": round(time.perf_counter() - started, 2)}
    result["all"] = corpus_quality.score(truth, report)
    for lang in LANGS:
        if any(c["lang"] == lang for c in truth["cases"]):
            result[lang] = corpus_quality.score(truth, report, lang)
    return result


def print_corpus(title: str, result: dict) -> None:
    cols = ["all"] + [lang for lang in LANGS if lang in result]
    print(f"\n## {title}")
    print(f"documents {result['documents']}, scan {result['scan_seconds']:.1f} s")
    head = f"{'measure':28}" + "".join(f"{c:>9}" for c in cols)
    print(head)
    print("-" * len(head))

    def row(label: str, values: list[str]) -> None:
        print(f"{label:28}" + "".join(f"{v:>9}" for v in values))

    def val(col: str, key: str) -> float:
        return result[col][key]

    row("cases (dup / partial)", [f"{result[c]['duplicate_cases']}/{result[c]['partial_cases']}" for c in cols])
    for key, label in (("duplicate_recall", "exact+near-dup recall"), ("duplicate_precision", "exact+near-dup precision"),
                       ("partial_recall", "partial recall"), ("relation_agreement", "relation agreement")):
        row(label, [f"{val(c, key):.3f}" for c in cols])
    row("negatives reported", [f"{val(c, 'negatives_reported')}/{result[c]['negatives']}" for c in cols])
    row("unlisted pairs reported", [str(sum(result[c]["unlisted_pairs"].values())) for c in cols])
    for key, label in (("plagdet", "passage plagdet"), ("precision", "  precision"), ("recall", "  recall"),
                       ("granularity", "  granularity")):
        row(label, [f"{result[c]['passages'][key]:.3f}" for c in cols])
    kinds = sorted({k for c in cols for k in result[c]["passages_by_kind"]})
    print(f"{'plagdet by kind':28}" + "".join(f"{c:>9}" for c in cols))
    for kind in kinds:
        values = []
        for c in cols:
            s = result[c]["passages_by_kind"].get(kind)
            values.append(f"{s['plagdet']:.3f}" if s else "-")
        row(f"  {kind}", values)
    missed = result["all"]["missed"]
    if missed:
        shown = ", ".join(f"{m['id']} ({m['relation']}→{m['found'] or 'not found'})" for m in missed[:8])
        print(f"cases missed or with another relation ({len(missed)}): {shown}{' ...' if len(missed) > 8 else ''}")
    unlisted = result["all"]["unlisted_examples"]
    if unlisted:
        print("pairs reported that the truth does not list: "
              + ", ".join(f"{u['a']} ~ {u['b']} ({u['relation']})" for u in unlisted[:5]))


# --------------------------------------------------------------------------- 3. PAN 2013


def pan_section(data: Path) -> dict:
    started = time.perf_counter()
    report = dedup.scan(data)
    seconds = time.perf_counter() - started
    return {"documents": report.scanned, "scan_seconds": round(seconds, 2), "categories": pan_rows(data, report)}


def pan_rows(data: Path, report) -> dict:  # noqa: ANN001 (anything with .pairs, as pan.detections takes)
    """PAN scores per obfuscation category and overall of a report's passages."""
    dets = pan.detections(report)
    rows = {}
    all_pairs, all_cases = set(), []
    for name, (pairs, cases) in pan.load_truth(data).items():
        listed = set(pairs)
        all_pairs |= listed
        all_cases += cases
        rows[name] = vars(pan_scores(cases, [d for d in dets if (d.a, d.b) in listed]))
    rows["overall"] = vars(pan_scores(all_cases, [d for d in dets if (d.a, d.b) in all_pairs]))
    return rows


def print_pan(result: dict, title: str = "3. PAN 2013 text-alignment sample", action: str = "scan") -> None:
    print(f"\n## {title} ({result['documents']} documents, {action} {result['scan_seconds']:.1f} s)")
    head = f"{'category':28} {'plagdet':>8} {'prec':>6} {'rec':>6} {'gran':>6} {'cases':>6} {'dets':>6}"
    print(head)
    print("-" * len(head))
    for name, s in result["categories"].items():
        print(f"{name:28} {s['plagdet']:8.3f} {s['precision']:6.3f} {s['recall']:6.3f} {s['granularity']:6.3f} "
              f"{s['cases']:6d} {s['detections']:6d}")


# --------------------------------------------------------------------------- 4. NPC resolutions

_NUMERALS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
#: first year of each National People's Congress
_NPC_START = {1: 1954, 2: 1959, 3: 1964, 4: 1975, 5: 1978}


def chinese_number(text: str) -> int:
    """一 .. 九十九."""
    if "十" in text:
        tens, _, ones = text.partition("十")
        return (_NUMERALS[tens] if tens else 1) * 10 + (_NUMERALS[ones] if ones else 0)
    return _NUMERALS[text]


def session_year(name: str) -> tuple[int, int, int]:
    """(year, congress, session) of 第十二届全国人民代表大会第三次会议....txt."""
    m = re.match(r"第(.+?)届全国人民代表大会第(.+?)次会议", name)
    if not m:
        raise ValueError(f"not an NPC session: {name}")
    congress, session = chinese_number(m.group(1)), chinese_number(m.group(2))
    if (congress, session) == (2, 3):
        return 1962, congress, session  # no session in 1961
    start = _NPC_START.get(congress, 1983 + 5 * (congress - 6))
    return start + session - 1, congress, session


def npc_section(folder: Path) -> dict:
    started = time.perf_counter()
    report = dedup.scan(folder)
    seconds = time.perf_counter() - started
    docs = sorted((d.path for d in report.documents if d.status == "ok"), key=lambda p: session_year(Path(p).name))
    years = {p: session_year(Path(p).name)[0] for p in docs}
    found = {frozenset((p.a, p.b)): p.relation for p in report.pairs}
    successive = [(a, b) for a, b in zip(docs, docs[1:]) if years[b] - years[a] == 1]
    succ_found = {f"{years[a]}-{years[b]}": found.get(frozenset((a, b))) for a, b in successive}
    return {
        "documents": len(docs),
        "pairs": len(list(combinations(docs, 2))),
        "scan_seconds": round(seconds, 2),
        "reported": dict(Counter(found.values())),
        "successive_pairs": len(successive),
        "successive_found": dict(Counter(r for r in succ_found.values() if r)),
        "successive_missed": [k for k, r in succ_found.items() if not r],
        "successive": succ_found,
        "years": sorted(years.values()),
    }


def print_npc(result: dict) -> None:
    print(f"\n## 4. NPC resolutions on the government work reports ({result['documents']} documents, "
          f"{result['pairs']} pairs, scan {result['scan_seconds']:.1f} s)")
    head = f"{'pairs':34} {'total':>6} {'exact':>6} {'near':>6} {'partial':>8}"
    print(head)
    print("-" * len(head))
    rep = result["reported"]
    print(f"{'all pairs (reported)':34} {sum(rep.values()):6d} {rep.get('exact', 0):6d} "
          f"{rep.get('near_duplicate', 0):6d} {rep.get('partial', 0):8d}")
    sf = result["successive_found"]
    print(f"{'successive-year pairs found':34} {sum(sf.values()):6d} {sf.get('exact', 0):6d} "
          f"{sf.get('near_duplicate', 0):6d} {sf.get('partial', 0):8d}   of {result['successive_pairs']}")
    if result["successive_missed"]:
        print(f"successive-year pairs not reported: {', '.join(result['successive_missed'])}")


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print all figures as JSON")
    parser.add_argument("--out", type=Path, default=BENCH, help="benchmark corpus folder (default: %(default)s)")
    parser.add_argument("--regenerate", action="store_true", help="generate the benchmark corpus even if it is there")
    parser.add_argument("--seed", type=int, default=1, help="seed of the benchmark corpus (default: %(default)s)")
    parser.add_argument("--scale", type=int, default=4, help="scale of the benchmark corpus (default: %(default)s)")
    parser.add_argument("--data", type=Path, default=DATA, help="the real texts (default: %(default)s)")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    result: dict = {}
    have_data = args.data.is_dir()
    if have_data:
        ensure_benchmark(args.out, data=args.data, seed=args.seed, scale=args.scale, regenerate=args.regenerate)
        log(f"scanning {args.out} ...")
        result["benchmark"] = corpus_section(args.out)
        result["benchmark"]["params"] = {"seed": args.seed, "scale": args.scale}
    log("scanning corpus/ ...")
    result["bundled"] = corpus_section(ROOT / "corpus")
    pan_data = args.data / "en_pan13_text_alignment_sample"
    if pan_data.is_dir():
        log("scanning the PAN 2013 sample ...")
        result["pan13"] = pan_section(pan_data)
    npc = args.data / "zh_gov_work_reports_central" / "npc_resolutions"
    if npc.is_dir():
        log("scanning the NPC resolutions ...")
        result["npc_resolutions"] = npc_section(npc)
    result["seconds"] = round(time.perf_counter() - started, 1)

    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
        return 0
    if "benchmark" in result:
        print_corpus(f"1. Benchmark corpus of real speeches ({args.out}, seed {args.seed}, scale {args.scale})",
                     result["benchmark"])
    else:
        print(f"\n## 1. Benchmark corpus: skipped ({args.data} not found)")
    print_corpus("2. Bundled demo corpus (corpus/)", result["bundled"])
    if "pan13" in result:
        print_pan(result["pan13"])
    else:
        print("\n## 3. PAN 2013: skipped (sample not found)")
    if "npc_resolutions" in result:
        print_npc(result["npc_resolutions"])
    else:
        print("\n## 4. NPC resolutions: skipped (folder not found)")
    print(f"\ntotal {result['seconds']:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
