"""Archive index speed: build throughput against scan's signature stage, and the time to check one speech.

    python benchmarks/index_speed.py --sizes 10000 [--work DIR] [--queries 20] [--redis redis://localhost:6379/0]

For each size N of the scale corpus (``make_scale_corpus.py``, as ``speed.py``):

- **signature stage** of ``scan`` on a sample of 2,000 documents (best of 3 runs), timed before the
  first build and after each: normalize + shingle MinHash (what ``speed.py`` calls the signature
  stage), and normalize + every signature ``scan`` computes (the document MinHash and the window
  MinHashes of the candidate stage);
- **index build** of the whole folder (``dedup.build_index``, in a child process: wall time, peak
  RSS of that process and of the largest of its worker processes, index size), ``--builds`` times (2 by default), docs/s, and its ratio to the signature
  stage's docs/s timed just before and after it (their mean: this machine's speed drifts by 20%
  over minutes); the table shows the build with the best ratio, the JSON all of them;
- **check**: ``dedup.check`` of one ~5,000-character speech at a time against the index, timed in
  this process after three untimed checks of other speeches and loading the word segmenter (no
  process start-up or first-use costs):
  median and 95th percentile of the whole check
  (read, sign, LSH lookup, load and align the candidates, boilerplate, report) and of the LSH lookup
  alone. Each query speech is a planted copy from the corpus extended with passages of other
  archived speeches, so it has several sources to find.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from speed import WORK, _load, _rate, corpus, list_docs, load_truth, machine, read_texts  # noqa: E402

SIGN_SAMPLE = 2000
QUERY_CHARS = 5000
WARM_UP = 3  # query speeches checked first, untimed


def signature_stage(texts: list[str], *, repeats: int = 3) -> dict:
    """docs/s of scan's signature stage on ``texts``: shingle MinHash only, and every signature scan computes."""
    from dedup import index as index_stage
    from dedup.config import ScanConfig
    from dedup.models import Document
    from dedup.sign import bag_signed, sign_documents, signatures, window_signatures, window_size

    config = ScanConfig()
    docs = [Document(path=str(i), text=t) for i, t in enumerate(texts)]
    nbytes = sum(len(t.encode("utf-8")) for t in texts)

    def shingle_minhash() -> None:  # as speed.py times it: what the scan computes for its document LSH
        signatures([s.signed.hashes for s in sign_documents(docs, config=config)], config.sign)

    def all_signatures() -> None:  # and the window signatures of its passage LSH
        signed = [s.signed for s in sign_documents(docs, config=config)]
        signatures([s.hashes for s in signed], config.sign)
        for s in signed:
            window_signatures(bag_signed(s), config.sign, window=window_size(s.norm, config.candidates.window))

    def index_entries() -> None:
        index_stage.entries([s.signed for s in sign_documents(docs, config=config)], config)

    out = {}
    for name, fn in (("minhash", shingle_minhash), ("all_signatures", all_signatures), ("index_entries", index_entries)):
        fn() if name == "minhash" else None  # warm-up: imports, OpenCC, permutation caches
        best = math.inf
        for _ in range(repeats):
            t = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - t)
        out[name] = _rate(best, len(texts), nbytes)
    return out


def _child_build(folder: str, location: str, out: str) -> None:
    from dedup import build_index

    import resource

    t = time.perf_counter()
    update = build_index(folder, location)
    seconds = time.perf_counter() - t
    largest_child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # its worker processes
    Path(out).write_text(json.dumps({"seconds": seconds, "documents": update.documents, "child_rss_mb": largest_child}))


def build(folder: Path, location: str) -> dict:
    """Build the index in a child process: its wall time, peak RSS and the index size."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "build.json"
        t = time.perf_counter()
        proc = subprocess.Popen([sys.executable, __file__, "--child-build", str(folder), location, str(out)])
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t
        if os.waitstatus_to_exitcode(status) != 0:
            raise RuntimeError(f"index build failed after {wall:.0f} s")
        result = json.loads(out.read_text())
    from dedup import index_info

    nbytes = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file() and f.suffix == ".txt")
    return {
        **_rate(result["seconds"], result["documents"], nbytes),
        "wall_with_startup": round(wall, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "largest_worker_rss_mb": round(result["child_rss_mb"], 1),
        "index_mb": round(index_info(location).size_bytes / 1e6, 1),
    }


def query_speeches(folder: Path, truth: dict, docs: list[str], k: int, *, seed: int = 5) -> list[tuple[str, set[str]]]:
    """~5,000-character speeches: a planted copy extended with paragraphs of other archived speeches.

    Returns each text with the archive documents it was made from.
    """
    rng = random.Random(seed)
    planted = [p for p in truth["pairs"] if p["relation"] in ("near_duplicate", "partial")]
    out = []
    for pair in rng.sample(planted, k):
        text = (folder / pair["a"]).read_text(encoding="utf-8")
        sources = {pair["a"], pair["b"]}
        while len(text) < QUERY_CHARS:
            other = rng.choice(docs)
            paragraphs = [p for p in (folder / other).read_text(encoding="utf-8").split("\n") if len(p) > 150]
            if paragraphs:
                text += "\n" + rng.choice(paragraphs)
                sources.add(other)
        out.append((text, sources))
    return out


def queries(location: str, speeches: list[tuple[str, set[str]]]) -> dict:
    """Time ``check`` of one speech at a time, and the LSH lookup alone."""
    from dedup import check
    from dedup import index as index_stage
    from dedup.archive import open_index
    from dedup.config import ScanConfig
    from dedup.normalize import normalize
    from dedup.sign import sign

    config = ScanConfig(workers=1)
    checks, lookups, found, sources_found = [], [], 0, []
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for k, (text, _) in enumerate(speeches):
            p = Path(tmp) / f"q{k}.txt"
            p.write_text(text, encoding="utf-8")
            paths.append(p)
        from dedup.explain import warm_up

        warm_up()  # the word segmenter, loaded on first use by the explanations of near-duplicates
        for p in paths[:WARM_UP]:  # other one-time costs: imports, compiled kernels, LSH parameters
            check([p], location, config=config)
        with open_index(location, config=config) as (store, _):
            for p, (text, sources) in zip(paths[WARM_UP:], speeches[WARM_UP:]):
                t = time.perf_counter()
                (doc,) = check([p], location, config=config).checked
                checks.append(time.perf_counter() - t)
                got = {s.b for s in doc.sources}
                found += bool(got & sources)
                sources_found.append(len(got))
                signed = sign(normalize(text, config.normalize), config.sign)
                (entry,) = index_stage.entries([signed], config)
                t = time.perf_counter()
                index_stage.candidates(store, entry, config, documents=store.count())
                lookups.append(time.perf_counter() - t)

    def ms(values: list[float]) -> dict:
        values = sorted(values)
        return {
            "median_ms": round(1000 * statistics.median(values), 1),
            "p95_ms": round(1000 * values[min(len(values) - 1, int(0.95 * len(values)))], 1),
            "max_ms": round(1000 * values[-1], 1),
        }

    return {
        "queries": len(checks),
        "chars": round(statistics.mean(len(t) for t, _ in speeches[WARM_UP:])),
        "check": ms(checks),
        "lookup": ms(lookups),
        "with_a_true_source": found,
        "sources_per_query": round(statistics.mean(sources_found), 1),
    }


def measure(n: int, *, work: Path, queries_n: int, location: str | None, builds_n: int = 2) -> dict:
    folder = corpus(n, work=work)
    truth = load_truth(folder)
    docs = list_docs(folder)
    sample = random.Random(1).sample(docs, min(SIGN_SAMPLE, len(docs)))
    load = _load()
    texts = read_texts(folder, sample)
    refs = [signature_stage(texts)]
    with tempfile.TemporaryDirectory(dir=work) as tmp:
        where = location or str(Path(tmp) / f"scale_{n}.dedup")
        builds = []
        for _ in range(max(1, builds_n)):
            if location is None:  # each build makes a new file: deleting the last one (~0.4 s) is not building
                for leftover in Path(tmp).glob(f"scale_{n}.dedup*"):
                    leftover.unlink()
            builds.append(build(folder, where))
            refs.append(signature_stage(texts))
        query = queries(where, query_speeches(folder, truth, docs, queries_n + WARM_UP))
    # each build against the signature stage timed just before and just after it (this machine's speed drifts)
    around = [
        {kind: round((refs[k][kind]["docs_per_s"] + refs[k + 1][kind]["docs_per_s"]) / 2, 1) for kind in refs[k]}
        for k in range(len(builds))
    ]
    ratios = [
        {kind: round(b["docs_per_s"] / a[kind], 2) for kind in ("minhash", "all_signatures")} for b, a in zip(builds, around)
    ]
    best = max(range(len(builds)), key=lambda k: ratios[k]["all_signatures"])
    return {
        "n": n,
        "load_before_after": [load, _load()],
        "signature_stage": refs[best],  # the one timed before the build shown
        "signature_docs_per_s_around_build": around[best],
        "signature_stage_runs": [{k: r[k]["docs_per_s"] for k in r} for r in refs],
        "build": builds[best],
        "builds": [{"docs_per_s": b["docs_per_s"], "vs_signatures": r} for b, r in zip(builds, ratios)],
        "build_vs_minhash": ratios[best]["minhash"],
        "build_vs_all_signatures": ratios[best]["all_signatures"],
        "check": query,
    }


def table(results: list[dict]) -> str:
    lines = [
        "| N | sign docs/s (MinHash) | sign docs/s (all scan signatures) | build docs/s | build ÷ MinHash | build ÷ all | "
        "build s | peak RSS MB | index MB | check median / p95 ms | lookup median ms | queries with a true source |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        s, b, c = r["signature_docs_per_s_around_build"], r["build"], r["check"]
        lines.append(
            f"| {r['n']:,} | {s['minhash']:,} | {s['all_signatures']:,} | {b['docs_per_s']:,} | "
            f"{r['build_vs_minhash']} | {r['build_vs_all_signatures']} | {b['seconds']:,} | {b['peak_rss_mb']:,} | "
            f"{b['index_mb']:,} | {c['check']['median_ms']} / {c['check']['p95_ms']} | {c['lookup']['median_ms']} | "
            f"{c['with_a_true_source']}/{c['queries']} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child-build"]:
        _child_build(*argv[1:])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000", help="comma-separated corpus sizes (default 10000)")
    parser.add_argument("--work", type=Path, default=WORK, help="where scale corpora are kept")
    parser.add_argument("--queries", type=int, default=20)
    parser.add_argument("--builds", type=int, default=2, help="builds of each size; the best counts (default 2)")
    parser.add_argument("--redis", help="build into this Redis index instead of a temporary SQLite file")
    parser.add_argument("--save", type=Path, help="also write the results as JSON here")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    results = [
        measure(int(n), work=args.work, queries_n=args.queries, location=args.redis, builds_n=args.builds)
        for n in args.sizes.split(",")
    ]
    print(json.dumps({"machine": machine(), "results": results}, indent=2))
    print(table(results))
    if args.save:
        args.save.write_text(json.dumps({"machine": machine(), "results": results}, indent=2))


if __name__ == "__main__":
    main()
