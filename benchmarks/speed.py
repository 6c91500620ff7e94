"""Speed of `dedup` against the naive baseline, measured in the same run, on the scale corpus.

    python benchmarks/speed.py --sizes 1000,10000 [--with-100k] [--json]

For each size N the scale corpus (``make_scale_corpus.py``) is generated, or reused, in
``benchmarks/_work/scale_N``; then, in this run:

1. signature stage: dedup's shingle hashing + MinHash (``dedup.pipeline.sign_documents`` and
   ``dedup.sign.minhash_of`` per document) against the naive ``MinHash.update`` per shingle
   (``naive.py``), on the same documents (a sample: the naive one is slow), plus dedup on all N;
2. whole scan: ``dedup.scan`` of the folder in a child process (wall time, docs/s, MB/s, peak
   RSS from ``os.wait4``'s rusage of that child), and the naive whole scan (read, naive
   signatures, MinHashLSH, ``partial_ratio_alignment`` of each candidate) in another child, on
   a sample of the folder with the corpus's share of planted pairs, extrapolated linearly to N;
3. recall of the planted pairs by dedup's scan (and by the naive scan on its sample);
4. growth of dedup's scan time with N: t(N2)/t(N1) against (N2/N1)·log(N2)/log(N1).

Nothing asserts timings. ``--json`` prints the figures as JSON instead of the table.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import make_scale_corpus  # noqa: E402

WORK = HERE / "_work"
SIGN_SAMPLE = 300
NAIVE_SAMPLE = 1000
SIGN_BATCH = 1000  # dedup's signature stage over all N runs in batches (memory)


# --------------------------------------------------------------------------- corpus


def corpus(n: int, *, seed: int = 1, data: Path | None = None, work: Path = WORK, log=print) -> Path:
    """The scale corpus of ``n`` documents in ``work/scale_n``, generated unless already there."""
    out = work / f"scale_{n}"
    truth = make_scale_corpus.truth_path(out)
    want = {"script": "make_scale_corpus.py", "version": make_scale_corpus.VERSION, "n": n, "seed": seed}
    if out.is_dir() and truth.exists():
        try:
            if json.loads(truth.read_text(encoding="utf-8")).get("generator") == want:
                return out
        except ValueError:
            pass
    log(f"generating {n:,} documents in {out} ...")
    make_scale_corpus.generate(n, out, seed=seed, data=data or make_scale_corpus.DEFAULT_DATA)
    return out


def load_truth(folder: Path) -> dict:
    return json.loads(make_scale_corpus.truth_path(folder).read_text(encoding="utf-8"))


def list_docs(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.txt"))


def sample(folder: Path, truth: dict, k: int, *, seed: int = 0) -> list[str]:
    """``k`` documents of the folder with its share of planted pairs (both sides of each)."""
    docs = list_docs(folder)
    if k >= len(docs):
        return docs
    rng = random.Random(seed)
    pairs = truth["pairs"]
    n_pairs = min(len(pairs), round(k * len(pairs) / len(docs)))
    chosen = [x for p in rng.sample(pairs, n_pairs) for x in (p["a"], p["b"])]
    planted = {x for p in pairs for x in (p["a"], p["b"])}
    others = [d for d in docs if d not in planted]
    chosen += rng.sample(others, min(len(others), k - len(chosen)))
    return sorted(set(chosen))


def read_texts(folder: Path, rels: list[str]) -> list[str]:
    return [(folder / r).read_text(encoding="utf-8") for r in rels]


# --------------------------------------------------------------------------- signature stage


def _dedup_sign(texts: list[str]) -> None:
    from dedup.config import ScanConfig
    from dedup.models import Document
    from dedup.pipeline import sign_documents
    from dedup.sign import minhash_of

    config = ScanConfig()
    signed = sign_documents([Document(path=str(i), text=t) for i, t in enumerate(texts)], config=config)
    for s in signed:
        minhash_of(s.hashes, config.sign)


def _normalize_only(texts: list[str]) -> None:
    from dedup.normalize import normalize

    for t in texts:
        normalize(t)


def _naive_sign_batch(texts: list[str]) -> None:
    """The docs' other way: ``MinHash.update_batch`` with all shingles at once (same hash, same result)."""
    from datasketch import MinHash

    from naive import NUM_PERM, shingles

    for t in texts:
        m = MinHash(num_perm=NUM_PERM)
        m.update_batch([s.encode("utf8") for s in shingles(t)])


def _rate(seconds: float, docs: int, nbytes: int) -> dict:
    return {
        "docs": docs,
        "mb": round(nbytes / 1e6, 3),
        "seconds": round(seconds, 3),
        "docs_per_s": round(docs / seconds, 1) if seconds else None,
        "mb_per_s": round(nbytes / 1e6 / seconds, 3) if seconds else None,
    }


def signature_stage(folder: Path, sample_docs: list[str], all_docs: list[str]) -> dict:
    from naive import naive_signatures

    texts = read_texts(folder, sample_docs)
    nbytes = sum(len(t.encode("utf-8")) for t in texts)
    _dedup_sign(texts[:5])  # warm-up: imports, OpenCC, permutation caches
    naive_signatures(texts[:5])

    t = time.perf_counter()
    _dedup_sign(texts)
    dedup_s = time.perf_counter() - t
    t = time.perf_counter()
    naive_signatures(texts)
    naive_s = time.perf_counter() - t
    t = time.perf_counter()
    _naive_sign_batch(texts)
    batch_s = time.perf_counter() - t
    t = time.perf_counter()
    _normalize_only(texts)
    norm_s = time.perf_counter() - t

    total_s, total_bytes = 0.0, 0
    for i in range(0, len(all_docs), SIGN_BATCH):
        batch = read_texts(folder, all_docs[i : i + SIGN_BATCH])
        total_bytes += sum(len(x.encode("utf-8")) for x in batch)
        t = time.perf_counter()
        _dedup_sign(batch)
        total_s += time.perf_counter() - t
    return {
        "sample_docs": len(texts),
        "dedup": _rate(dedup_s, len(texts), nbytes),
        "naive_update": _rate(naive_s, len(texts), nbytes),
        "naive_update_batch": _rate(batch_s, len(texts), nbytes),
        "speedup": round(naive_s / dedup_s, 1) if dedup_s else None,
        "speedup_vs_update_batch": round(batch_s / dedup_s, 1) if dedup_s else None,
        # both include dedup.normalize (the same tokens); without it, hashing + MinHash alone:
        "normalize_seconds": round(norm_s, 3),
        "speedup_without_normalize": round((naive_s - norm_s) / (dedup_s - norm_s), 1) if dedup_s > norm_s else None,
        "dedup_all": _rate(total_s, len(all_docs), total_bytes),
    }


# --------------------------------------------------------------------------- child processes


def _run_child(args: list[str]) -> tuple[dict, float, int]:
    """Run this script as a child; returns (its JSON result, outer wall seconds, peak RSS in KiB)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        t = time.perf_counter()
        proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), *args, str(out)], stdin=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            raise RuntimeError(f"child {' '.join(args)} exited with {proc.returncode}")
        return json.loads(out.read_text(encoding="utf-8")), wall, usage.ru_maxrss  # KiB on Linux


def _child_scan(folder: str, out: str) -> None:
    import dedup

    stages: dict[str, float] = {}
    t0 = time.perf_counter()

    def progress(stage: str, done: int, total: int) -> None:
        if stage not in stages:
            stages[stage] = time.perf_counter() - t0

    report = dedup.scan(folder, progress=progress)
    seconds = time.perf_counter() - t0
    ok = [d for d in report.documents if d.status == "ok"]
    result = {
        "seconds": seconds,
        "stage_starts": stages,
        "documents": len(ok),
        "skipped": len(report.documents) - len(ok),
        "pairs": [[p.a, p.b, p.relation, [[x.b_start, x.b_end, x.a_start, x.a_end] for x in p.passages if not x.boilerplate]] for p in report.pairs],
    }
    Path(out).write_text(json.dumps(result), encoding="utf-8")


def _child_naive(folder: str, docs_json: str, out: str) -> None:
    from naive import naive_scan

    rels = json.loads(Path(docs_json).read_text(encoding="utf-8"))
    t0 = time.perf_counter()
    texts = read_texts(Path(folder), rels)
    timings: dict = {"read": time.perf_counter() - t0}
    pairs = naive_scan(texts, timings=timings)
    seconds = time.perf_counter() - t0
    result = {
        "seconds": seconds,
        "timings": timings,
        "pairs": [[rels[p.i], rels[p.j], p.score] for p in pairs],
    }
    Path(out).write_text(json.dumps(result), encoding="utf-8")


# --------------------------------------------------------------------------- recall


def _covered(span: list[int], ranges: list[tuple[int, int]]) -> float:
    s, e = span
    covered = 0
    last = s
    for a, b in sorted(ranges):
        a, b = max(a, last), min(b, e)
        if b > a:
            covered += b - a
            last = b
    return covered / max(1, e - s)


def dedup_recall(truth: dict, pairs: list) -> dict:
    found = {}
    for a, b, relation, passages in pairs:
        found[(a, b)] = (relation, passages, False)
        found[(b, a)] = (relation, [[p[2], p[3], p[0], p[1]] for p in passages], True)
    near = [p for p in truth["pairs"] if p["relation"] == "near_duplicate"]
    part = [p for p in truth["pairs"] if p["relation"] == "partial"]
    near_found = [found.get((p["a"], p["b"])) for p in near]
    part_found = [(p, found.get((p["a"], p["b"]))) for p in part]
    planted = {(p["a"], p["b"]) for p in truth["pairs"]} | {(p["b"], p["a"]) for p in truth["pairs"]}
    coverage = [
        _covered(p["b_span"], [(x[0], x[1]) for x in f[1]]) if f else 0.0 for p, f in part_found
    ]
    return {
        "near_duplicate": {
            "planted": len(near),
            "found": sum(f is not None for f in near_found),
            "as_near_duplicate": sum(f is not None and f[0] in ("near_duplicate", "exact") for f in near_found),
        },
        "partial": {
            "planted": len(part),
            "found": sum(f is not None for _, f in part_found),
            "as_partial": sum(f is not None and f[0] == "partial" for _, f in part_found),
            "mean_passage_coverage": round(sum(coverage) / len(coverage), 4) if coverage else None,
        },
        "unplanted_pairs": sum(1 for a, b, _, _ in pairs if (a, b) not in planted),
        "pairs_reported": len(pairs),
    }


def naive_recall(truth: dict, docs: list[str], pairs: list) -> dict:
    inside = set(docs)
    found = {frozenset((a, b)): score for a, b, score in pairs}
    out = {}
    for relation in ("near_duplicate", "partial"):
        planted = [p for p in truth["pairs"] if p["relation"] == relation and p["a"] in inside and p["b"] in inside]
        out[relation] = {"planted": len(planted), "candidates": sum(frozenset((p["a"], p["b"])) in found for p in planted)}
    planted_keys = {frozenset((p["a"], p["b"])) for p in truth["pairs"]}
    out["unplanted_candidates"] = sum(1 for k in found if k not in planted_keys)
    return out


# --------------------------------------------------------------------------- one size


def measure(folder: Path, *, sign_sample: int = SIGN_SAMPLE, naive_sample: int = NAIVE_SAMPLE, log=print) -> dict:
    """All figures for one corpus folder (made by make_scale_corpus.py)."""
    folder = Path(folder)
    truth = load_truth(folder)
    all_docs = list_docs(folder)
    n = len(all_docs)
    nbytes = sum((folder / d).stat().st_size for d in all_docs)
    naive_docs = sample(folder, truth, naive_sample)
    sign_docs = naive_docs if len(naive_docs) <= sign_sample else sample(folder, truth, sign_sample, seed=1)

    log(f"[{n:,}] signature stage (naive on {len(sign_docs):,} documents) ...")
    sig = signature_stage(folder, sign_docs, all_docs)

    log(f"[{n:,}] dedup scan of {n:,} documents (child process) ...")
    scan, outer, rss = _run_child(["--child-scan", str(folder)])
    stages = scan["stage_starts"]
    order = sorted(stages, key=stages.get)
    stage_seconds = {s: round((stages[order[k + 1]] if k + 1 < len(order) else scan["seconds"]) - stages[s], 3) for k, s in enumerate(order)}
    dedup_scan = {
        **_rate(scan["seconds"], n, nbytes),
        "process_seconds": round(outer, 3),
        "peak_rss_mb": round(rss / 1024, 1),
        "stage_seconds": stage_seconds,  # "align" runs to the end: it includes boilerplate and classification
        "skipped": scan["skipped"],
    }

    log(f"[{n:,}] naive scan of {len(naive_docs):,} documents (child process) ...")
    with tempfile.TemporaryDirectory() as tmp:
        docs_json = Path(tmp) / "docs.json"
        docs_json.write_text(json.dumps(naive_docs), encoding="utf-8")
        naive, n_outer, n_rss = _run_child(["--child-naive", str(folder), str(docs_json)])
    naive_bytes = sum((folder / d).stat().st_size for d in naive_docs)
    k = len(naive_docs)
    naive_scan = {
        **_rate(naive["seconds"], k, naive_bytes),
        "sampled": k < n,
        "process_seconds": round(n_outer, 3),
        "peak_rss_mb": round(n_rss / 1024, 1),
        "stage_seconds": {s: round(v, 3) for s, v in naive["timings"].items() if s != "candidates"},
        "candidates": naive["timings"]["candidates"],
        "extrapolated_seconds": round(naive["seconds"] * n / k, 1),
        "recall": naive_recall(truth, naive_docs, naive["pairs"]),
    }
    return {
        "n": n,
        "mb": round(nbytes / 1e6, 2),
        "signature": sig,
        "dedup_scan": dedup_scan,
        "naive_scan": naive_scan,
        "scan_speedup": round(naive_scan["extrapolated_seconds"] / scan["seconds"], 1) if scan["seconds"] else None,
        "recall": dedup_recall(truth, scan["pairs"]),
    }


def growth(results: list[dict]) -> list[dict]:
    out = []
    for r1, r2 in zip(results, results[1:]):
        n1, n2 = r1["n"], r2["n"]
        t1, t2 = r1["dedup_scan"]["seconds"], r2["dedup_scan"]["seconds"]
        out.append(
            {
                "from": n1,
                "to": n2,
                "time_ratio": round(t2 / t1, 2),
                "linear": round(n2 / n1, 2),
                "n_log_n": round(n2 / n1 * math.log(n2) / math.log(n1), 2),
                "quadratic": round((n2 / n1) ** 2, 1),
            }
        )
    return out


def machine() -> dict:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = None
    try:
        mem = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError):
        pass
    import datasketch
    import numpy
    import rapidfuzz

    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "nproc": os.cpu_count(),
        "memory_gib": mem,
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "datasketch": getattr(datasketch, "__version__", "?"),
        "rapidfuzz": rapidfuzz.__version__,
    }


# --------------------------------------------------------------------------- table


def table(result: dict) -> str:
    m = result["machine"]
    lines = [
        f"machine: {m['cpu']}, nproc {m['nproc']}, {m['memory_gib']} GiB; Python {m['python']}, numpy {m['numpy']}, "
        f"datasketch {m['datasketch']}, rapidfuzz {m['rapidfuzz']}; {m['date']}",
        "",
        "signature stage: shingles + MinHash (num_perm 128), both from the same dedup.normalize tokens, same sample documents;",
        "  naive = MinHash.update per shingle (sha1); 'w/o norm.' leaves the shared normalize time out; 'vs batch' = naive update_batch",
        f"{'N':>8} {'sample':>7} | {'dedup docs/s':>12} {'MB/s':>6} | {'naive docs/s':>12} {'MB/s':>6} | {'speed-up':>8}"
        f" {'w/o norm.':>9} {'vs batch':>8} | {'dedup on all N: docs/s':>22} {'MB/s':>6}",
    ]
    for r in result["sizes"]:
        s = r["signature"]
        lines.append(
            f"{r['n']:>8,} {s['sample_docs']:>7,} | {s['dedup']['docs_per_s']:>12,.0f} {s['dedup']['mb_per_s']:>6.2f} |"
            f" {s['naive_update']['docs_per_s']:>12,.1f} {s['naive_update']['mb_per_s']:>6.3f} |"
            f" {str(s['speedup']) + '×':>8} {str(s['speedup_without_normalize']) + '×':>9} {str(s['speedup_vs_update_batch']) + '×':>8} |"
            f" {s['dedup_all']['docs_per_s']:>22,.0f} {s['dedup_all']['mb_per_s']:>6.2f}"
        )
    lines += [
        "",
        "whole scan (dedup: all N documents in a child process; naive: read + MinHash.update + MinHashLSH(0.4) +",
        "partial_ratio_alignment per candidate, on a sample with the corpus's share of planted pairs, extrapolated linearly)",
        f"{'N':>8} {'MB':>7} {'dedup s':>9} {'docs/s':>8} {'MB/s':>6} {'peak RSS':>9} | {'naive sample':>12} {'s':>7}"
        f" {'docs/s':>7} {'MB/s':>6} {'RSS':>6} {'cand.':>6} {'est. s @N':>10} | {'speed-up':>8}",
    ]
    for r in result["sizes"]:
        d, nv = r["dedup_scan"], r["naive_scan"]
        lines.append(
            f"{r['n']:>8,} {r['mb']:>7.1f} {d['seconds']:>9.1f} {d['docs_per_s']:>8.1f} {d['mb_per_s']:>6.3f}"
            f" {d['peak_rss_mb']:>6.0f} MB | {nv['docs']:>12,} {nv['seconds']:>7.1f} {nv['docs_per_s']:>7.2f}"
            f" {nv['mb_per_s']:>6.3f} {nv['peak_rss_mb']:>3.0f}MB {nv['candidates']:>6} {nv['extrapolated_seconds']:>10.1f}"
            f" | {r['scan_speedup']:>7}×"
        )
    lines += ["", "dedup scan stages (s): " + "; ".join(
        f"N={r['n']:,}: " + ", ".join(f"{k} {v:.1f}" for k, v in r["dedup_scan"]["stage_seconds"].items()) for r in result["sizes"]
    ) + "  (align includes boilerplate + classify)"]
    lines += ["naive scan stages (s): " + "; ".join(
        f"N={r['n']:,} (sample {r['naive_scan']['docs']:,}): " + ", ".join(f"{k} {v:.1f}" for k, v in r["naive_scan"]["stage_seconds"].items())
        for r in result["sizes"]
    )]
    lines += [
        "",
        "recall of the planted pairs",
        f"{'N':>8} {'near-dup found':>15} {'as near-dup':>12} {'partial found':>14} {'as partial':>11} {'passage cov.':>13}"
        f" {'unplanted pairs':>16} | {'naive: near-dup cand.':>21} {'partial cand.':>14} {'unplanted cand.':>16}",
    ]
    for r in result["sizes"]:
        rc, nr = r["recall"], r["naive_scan"]["recall"]
        nd, pa = rc["near_duplicate"], rc["partial"]
        lines.append(
            f"{r['n']:>8,} {nd['found']:>7}/{nd['planted']:<7} {nd['as_near_duplicate']:>12} {pa['found']:>6}/{pa['planted']:<7}"
            f" {pa['as_partial']:>11} {pa['mean_passage_coverage'] or 0:>13.3f} {rc['unplanted_pairs']:>16} |"
            f" {nr['near_duplicate']['candidates']:>12}/{nr['near_duplicate']['planted']:<8}"
            f" {nr['partial']['candidates']:>6}/{nr['partial']['planted']:<7} {nr['unplanted_candidates']:>16}"
        )
    if result["growth"]:
        lines += ["", "growth of dedup's scan time"]
        for g in result["growth"]:
            lines.append(
                f"  {g['from']:,} → {g['to']:,}: t ratio {g['time_ratio']}  (linear {g['linear']}, N·log N {g['n_log_n']},"
                f" quadratic {g['quadratic']})"
            )
    return "\n".join(lines)


def run(sizes: list[int], *, seed: int = 1, data: Path | None = None, work: Path = WORK, sign_sample: int = SIGN_SAMPLE,
        naive_sample: int = NAIVE_SAMPLE, log=print) -> dict:
    results = []
    for n in sizes:
        folder = corpus(n, seed=seed, data=data, work=work, log=log)
        results.append(measure(folder, sign_sample=sign_sample, naive_sample=naive_sample, log=log))
    return {"machine": machine(), "sizes": results, "growth": growth(results)}


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child-scan"]:
        return _child_scan(*argv[1:])
    if argv[:1] == ["--child-naive"]:
        return _child_naive(*argv[1:])
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1000,10000", help="comma-separated corpus sizes (default 1000,10000)")
    ap.add_argument("--with-100k", action="store_true", help="also measure 100,000 documents")
    ap.add_argument("--json", action="store_true", help="print JSON instead of the table")
    ap.add_argument("--save", type=Path, default=None, help="also write the JSON figures to this file")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--data", type=Path, default=None, help="shared data folder (default ../shared/data)")
    ap.add_argument("--sign-sample", type=int, default=SIGN_SAMPLE, help=f"documents for the naive signature timing ({SIGN_SAMPLE})")
    ap.add_argument("--naive-sample", type=int, default=NAIVE_SAMPLE, help=f"documents for the naive whole scan ({NAIVE_SAMPLE})")
    args = ap.parse_args(argv)
    sizes = sorted({int(x.replace("_", "")) for x in args.sizes.split(",") if x.strip()})
    if args.with_100k and 100_000 not in sizes:
        sizes.append(100_000)
    log = (lambda msg: print(msg, file=sys.stderr, flush=True))
    result = run(sizes, seed=args.seed, data=args.data, sign_sample=args.sign_sample, naive_sample=args.naive_sample, log=log)
    if args.save:
        args.save.write_text(json.dumps(result, indent=1), encoding="utf-8")
    print(json.dumps(result, indent=1) if args.json else table(result))


if __name__ == "__main__":
    main()
