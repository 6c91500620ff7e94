"""Speed of `dedup` against the naive baseline, measured in the same run, on the scale corpus.

    python benchmarks/speed.py --sizes 1000,10000 [--with-100k] [--json]

For each size N the scale corpus (``make_scale_corpus.py``) is generated, or reused, in
``benchmarks/_work/scale_N``; then, in this run:

1. signature stage: dedup's shingle hashing + MinHash as the scan does it
   (``dedup.sign.sign_documents``, then ``dedup.sign.signatures`` of the batch: a
   ``docs × num_perm`` matrix, no ``MinHash`` object per document) against the naive
   ``MinHash.update`` per shingle (``naive.py``), on the same documents (a sample: the naive one
   is slow), plus dedup on all N;
2. whole scan: ``dedup.scan`` of the folder in a child process (wall time, docs/s, MB/s, peak
   RSS from ``os.wait4``'s rusage of that child), and the naive whole scan (read, naive
   signatures, MinHashLSH, ``partial_ratio_alignment`` of each candidate) in another child, on
   a sample of the folder with the corpus's share of planted pairs, extrapolated linearly to N;
3. recall of the planted pairs by dedup's scan (and by the naive scan on its sample);
4. growth of dedup's scan time with N: t(N2)/t(N1) against (N2/N1)·log(N2)/log(N1).

Nothing asserts timings. ``--json`` prints the figures as JSON instead of the table, ``--save
FILE`` also writes them to FILE; ``--work DIR`` keeps the corpora elsewhere; ``--max-memory-gb``
caps each child's address space (default 70% of RAM), so a scan too big for the machine is
reported as failed. Wall-clock figures suffer from other work on the machine: the 1-minute load
average before and after each part, and the CPU time of each child, are reported next to them.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import signal
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
REPEATS = 3  # sample timings of the signature stage: best of this many
# Address space a child scan may use (70% of RAM): a scan too big for the machine then fails with
# MemoryError, reported as such, instead of waking the OOM killer on a machine shared with others.
try:
    MAX_MEMORY_GB = round(0.7 * os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
except (ValueError, OSError, AttributeError):
    MAX_MEMORY_GB = 16.0


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
    """What ``dedup.scan`` does to sign documents: ``sign_documents``, then ``signatures`` of the batch."""
    from dedup.config import ScanConfig
    from dedup.models import Document
    from dedup.sign import sign_documents, signatures

    config = ScanConfig()
    signed = sign_documents([Document(path=str(i), text=t) for i, t in enumerate(texts)], config=config)
    signatures([s.signed.hashes for s in signed], config.sign)


def _normalize_only(texts: list[str]) -> None:
    from dedup.normalize import normalize

    for t in texts:
        normalize(t)


def _dedup_sign_tokens(norms: list) -> None:
    """dedup's shingles + MinHash of already normalized texts (``sign``, then ``signatures`` of the batch)."""
    from dedup.config import SignConfig
    from dedup.sign import sign, signatures

    config = SignConfig()
    signatures([sign(norm, config).hashes for norm in norms], config)


def _naive_sign_tokens(norms: list) -> None:
    from naive import naive_token_signature

    for norm in norms:
        naive_token_signature(norm)


def _naive_sign_batch(texts: list[str]) -> None:
    """The docs' other way: ``MinHash.update_batch`` with all shingles at once (same hash, same result)."""
    from datasketch import MinHash

    from naive import NUM_PERM, shingles

    for t in texts:
        m = MinHash(num_perm=NUM_PERM)
        m.update_batch([s.encode("utf8") for s in shingles(t)])


def _load() -> float | None:
    """1-minute load average: other work on the machine slows the wall-clock figures."""
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def _rate(seconds: float, docs: int, nbytes: int) -> dict:
    return {
        "docs": docs,
        "mb": round(nbytes / 1e6, 3),
        "seconds": round(seconds, 3),
        "docs_per_s": round(docs / seconds, 1) if seconds else None,
        "mb_per_s": round(nbytes / 1e6 / seconds, 3) if seconds else None,
    }


def signature_stage(folder: Path, sample_docs: list[str], all_docs: list[str], *, repeats: int = REPEATS) -> dict:
    """Signature-stage timings: dedup and naive on the same sample (best of ``repeats``), dedup on all."""
    from naive import naive_signatures

    texts = read_texts(folder, sample_docs)
    nbytes = sum(len(t.encode("utf-8")) for t in texts)
    _dedup_sign(texts[:5])  # warm-up: imports, OpenCC, permutation caches
    naive_signatures(texts[:5])

    cpu = {}
    load_before = _load()

    def timed(name, fn):
        best, best_cpu = math.inf, math.inf
        for _ in range(repeats):
            t, c = time.perf_counter(), time.process_time()
            fn(texts)
            best, best_cpu = min(best, time.perf_counter() - t), min(best_cpu, time.process_time() - c)
        cpu[name] = round(best_cpu, 3)
        return best

    dedup_s = timed("dedup", _dedup_sign)
    naive_s = timed("naive_update", naive_signatures)
    batch_s = timed("naive_update_batch", _naive_sign_batch)
    norm_s = timed("normalize", _normalize_only)
    from dedup.normalize import normalize

    texts = [normalize(t) for t in texts]  # the same tokens for both: hashing + MinHash alone
    dedup_tokens_s = timed("dedup_without_normalize", _dedup_sign_tokens)
    naive_tokens_s = timed("naive_update_without_normalize", _naive_sign_tokens)

    total_s, total_bytes = 0.0, 0
    for i in range(0, len(all_docs), SIGN_BATCH):
        batch = read_texts(folder, all_docs[i : i + SIGN_BATCH])
        total_bytes += sum(len(x.encode("utf-8")) for x in batch)
        t = time.perf_counter()
        _dedup_sign(batch)
        total_s += time.perf_counter() - t
    return {
        "sample_docs": len(texts),
        "repeats": repeats,
        "dedup": _rate(dedup_s, len(texts), nbytes),
        "naive_update": _rate(naive_s, len(texts), nbytes),
        "naive_update_batch": _rate(batch_s, len(texts), nbytes),
        "speedup": round(naive_s / dedup_s, 1) if dedup_s else None,
        "speedup_vs_update_batch": round(batch_s / dedup_s, 1) if dedup_s else None,
        # both include dedup.normalize (the same tokens); without it, hashing + MinHash alone,
        # timed on the normalized texts:
        "normalize_seconds": round(norm_s, 3),
        "dedup_without_normalize_seconds": round(dedup_tokens_s, 4),
        "naive_without_normalize_seconds": round(naive_tokens_s, 4),
        "speedup_without_normalize": round(naive_tokens_s / dedup_tokens_s, 1) if dedup_tokens_s else None,
        "cpu_seconds": cpu,
        "speedup_cpu": round(cpu["naive_update"] / cpu["dedup"], 1) if cpu["dedup"] else None,
        "load_before_after": [load_before, _load()],
        "dedup_all": _rate(total_s, len(all_docs), total_bytes),
    }


# --------------------------------------------------------------------------- child processes


class ChildFailed(RuntimeError):
    pass


SAMPLE_EVERY = 1.0  # seconds between samples of a child's memory (with its worker processes)


def _tree_pss_kib(root: int) -> tuple[int, int]:
    """Summed PSS (KiB) of process ``root`` and its descendants, and how many there are (Linux /proc).

    ``ru_maxrss`` is the peak of the largest single process; a scan that forks workers holds
    more than that in all, and their RSS would count pages they share once per process: PSS
    splits shared pages among the processes that share them, so the sum is the real footprint.
    """
    children: dict[int, list[int]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return 0, 0
    for entry in entries:
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as f:
                    ppid = int(f.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    total, count, stack = 0, 0, [root]
    while stack:
        pid = stack.pop()
        stack += children.get(pid, [])
        try:
            with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
                for line in f:
                    if line.startswith(b"Pss:"):
                        total += int(line.split()[1])
                        count += 1
                        break
        except (OSError, ValueError):
            continue
    return total, count


def _run_child(
    args: list[str], *, max_memory_gb: float | None = None, timeout: float | None = None
) -> tuple[dict, float, int, float]:
    """Run this script as a child; returns (its JSON result, outer wall seconds, peak RSS in KiB, CPU seconds).

    The rusage is that of this one child (``os.wait4``), not the running maximum over all
    children that ``getrusage(RUSAGE_CHILDREN)`` gives. ``max_memory_gb`` caps the child's
    address space (RLIMIT_AS): past it the child fails with MemoryError. A child still running
    after ``timeout`` seconds is stopped. Any failure raises ``ChildFailed`` saying what happened.
    """
    limit = int((max_memory_gb or MAX_MEMORY_GB) * 2**30)

    def cap() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        err = Path(tmp) / "stderr.txt"
        t = time.perf_counter()
        timed_out = False
        with open(err, "wb") as err_file:
            proc = subprocess.Popen(
                [sys.executable, str(Path(__file__).resolve()), *args, str(out)],
                stdin=subprocess.DEVNULL, stderr=err_file, preexec_fn=cap,
            )
            peak_pss, peak_procs, next_sample = 0, 0, 0.0
            while True:
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    break
                now = time.perf_counter() - t
                if timeout and now > timeout:
                    timed_out = True
                    proc.kill()
                    _, status, usage = os.wait4(proc.pid, 0)
                    break
                if now >= next_sample:
                    pss, procs = _tree_pss_kib(proc.pid)
                    peak_pss, peak_procs = max(peak_pss, pss), max(peak_procs, procs)
                    next_sample = now + SAMPLE_EVERY
                time.sleep(0.05)
        wall = time.perf_counter() - t
        tree = {"peak_tree_pss_mb": round(peak_pss / 1024, 1) if peak_pss else None, "max_processes": peak_procs}
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        if code != 0 or not out.exists():
            tail = err.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-1:] or ["(no output)"]
            stages = Path(str(out) + ".stages")
            where = ""
            if stages.exists():
                stage, started = max(json.loads(stages.read_text(encoding="utf-8")).items(), key=lambda kv: kv[1])
                where = f" in stage {stage} (from {started:.0f} s)"
            if timed_out:
                how = f"stopped at the {timeout:.0f} s timeout"
            elif code < 0:
                how = f"killed by {signal.Signals(-code).name} from outside this run after {wall:.0f} s"
            else:
                how = f"exit code {code} after {wall:.0f} s"
            pss = f", its processes' PSS {peak_pss / 1024:,.0f} MB" if peak_pss else ""
            raise ChildFailed(
                f"{how}{where}, peak RSS {usage.ru_maxrss / 1024:,.0f} MB{pss} (memory cap {limit / 2**30:.3g} GiB)"
                + ("" if timed_out or code < 0 else f": {tail[0]}")
            )
        cpu = usage.ru_utime + usage.ru_stime
        result = json.loads(out.read_text(encoding="utf-8"))
        result["_tree"] = tree
        return result, wall, usage.ru_maxrss, cpu  # ru_maxrss: KiB on Linux


def _child_scan(folder: str, out: str) -> None:
    import dedup

    stages: dict[str, float] = {}
    t0 = time.perf_counter()

    progress_file = Path(out + ".stages")

    def progress(stage: str, done: int, total: int) -> None:
        if stage not in stages:
            stages[stage] = time.perf_counter() - t0
            progress_file.write_text(json.dumps(stages), encoding="utf-8")  # read if the scan fails

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


def _by_language(pairs) -> dict[str, int]:
    out: dict[str, int] = {}
    for p in pairs:
        out[p.get("lang", "?")] = out.get(p.get("lang", "?"), 0) + 1
    return out


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
            "missed_by_language": _by_language(p for p, f in zip(near, near_found) if f is None),
        },
        "partial": {
            "planted": len(part),
            "found": sum(f is not None for _, f in part_found),
            "as_partial": sum(f is not None and f[0] == "partial" for _, f in part_found),
            "mean_passage_coverage": round(sum(coverage) / len(coverage), 4) if coverage else None,
            "missed_by_language": _by_language(p for p, f in part_found if f is None),
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


def measure(
    folder: Path,
    *,
    sign_sample: int = SIGN_SAMPLE,
    naive_sample: int = NAIVE_SAMPLE,
    repeats: int = REPEATS,
    max_memory_gb: float | None = None,
    timeout: float | None = None,
    log=print,
) -> dict:
    """All figures for one corpus folder (made by make_scale_corpus.py).

    ``timeout`` stops dedup's scan after that many seconds (reported as failed).
    """
    folder = Path(folder)
    truth = load_truth(folder)
    all_docs = list_docs(folder)
    n = len(all_docs)
    nbytes = sum((folder / d).stat().st_size for d in all_docs)
    naive_docs = sample(folder, truth, naive_sample)
    sign_docs = naive_docs if len(naive_docs) <= sign_sample else sample(folder, truth, sign_sample, seed=1)
    result: dict = {"n": n, "mb": round(nbytes / 1e6, 2)}

    log(f"[{n:,}] signature stage (naive on {len(sign_docs):,} documents) ...")
    result["signature"] = signature_stage(folder, sign_docs, all_docs, repeats=repeats)

    log(f"[{n:,}] dedup scan of {n:,} documents (child process) ...")
    load_before = _load()
    try:
        scan, outer, rss, cpu = _run_child(["--child-scan", str(folder)], max_memory_gb=max_memory_gb, timeout=timeout)
    except ChildFailed as exc:
        log(f"[{n:,}] dedup scan failed: {exc}")
        result["dedup_scan"] = {"failed": str(exc), "docs": n, "load_before_after": [load_before, _load()]}
        scan = None
    else:
        stages = scan["stage_starts"]
        order = sorted(stages, key=stages.get)
        ends = [stages[s] for s in order[1:]] + [scan["seconds"]]
        result["dedup_scan"] = {
            **_rate(scan["seconds"], n, nbytes),
            "process_seconds": round(outer, 3),
            "process_cpu_seconds": round(cpu, 3),
            "load_before_after": [load_before, _load()],
            "peak_rss_mb": round(rss / 1024, 1),  # the largest single process (the scan or one of its workers)
            **scan["_tree"],  # summed PSS of the scan and its worker processes, sampled every second
            # time from each stage's first progress call to the next one's; "align" runs to the
            # end of the scan, so it includes boilerplate and classification
            "stage_seconds": {s: round(e - stages[s], 3) for s, e in zip(order, ends)},
            "skipped": scan["skipped"],
        }

    log(f"[{n:,}] naive scan of {len(naive_docs):,} documents (child process) ...")
    k = len(naive_docs)
    with tempfile.TemporaryDirectory() as tmp:
        docs_json = Path(tmp) / "docs.json"
        docs_json.write_text(json.dumps(naive_docs), encoding="utf-8")
        load_before = _load()
        try:
            naive, n_outer, n_rss, n_cpu = _run_child(["--child-naive", str(folder), str(docs_json)], max_memory_gb=max_memory_gb)
        except ChildFailed as exc:
            log(f"[{n:,}] naive scan failed: {exc}")
            result["naive_scan"] = {"failed": str(exc), "docs": k, "load_before_after": [load_before, _load()]}
            naive = None
    if naive is not None:
        naive_bytes = sum((folder / d).stat().st_size for d in naive_docs)
        result["naive_scan"] = {
            **_rate(naive["seconds"], k, naive_bytes),
            "sampled": k < n,
            "process_seconds": round(n_outer, 3),
            "process_cpu_seconds": round(n_cpu, 3),
            "load_before_after": [load_before, _load()],
            "peak_rss_mb": round(n_rss / 1024, 1),
            **naive["_tree"],
            "stage_seconds": {s: round(v, 3) for s, v in naive["timings"].items() if s != "candidates"},
            "candidates": naive["timings"]["candidates"],
            "extrapolated_seconds": round(naive["seconds"] * n / k, 1),
            "recall": naive_recall(truth, naive_docs, naive["pairs"]),
        }
    result["scan_speedup"] = (
        round(result["naive_scan"]["extrapolated_seconds"] / scan["seconds"], 1) if scan and naive and scan["seconds"] else None
    )
    result["recall"] = dedup_recall(truth, scan["pairs"]) if scan else None
    return result


def growth(results: list[dict]) -> list[dict]:
    """Scan time ratios between successive sizes, against linear, N·log N and quadratic growth."""
    out = []
    ok = [r for r in results if "failed" not in r["dedup_scan"]]
    for r1, r2 in zip(ok, ok[1:]):
        n1, n2 = r1["n"], r2["n"]
        t1, t2 = r1["dedup_scan"]["seconds"], r2["dedup_scan"]["seconds"]
        c1, c2 = r1["dedup_scan"]["process_cpu_seconds"], r2["dedup_scan"]["process_cpu_seconds"]
        out.append(
            {
                "from": n1,
                "to": n2,
                "time_ratio": round(t2 / t1, 2),
                "cpu_time_ratio": round(c2 / c1, 2) if c1 else None,
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


def _x(value) -> str:
    return "—" if value is None else f"{value}×"


def table(result: dict) -> str:
    """The figures as a plain-text table."""
    m = result["machine"]
    sizes = result["sizes"]
    lines = [
        f"machine: {m['cpu']}, nproc {m['nproc']}, {m['memory_gib']} GiB; Python {m['python']}, numpy {m['numpy']},"
        f" datasketch {m['datasketch']}, rapidfuzz {m['rapidfuzz']}; {m['date']}",
        "",
        "signature stage: shingles + MinHash (num_perm 128) from the same dedup.normalize tokens, on the same sample",
        "documents (best of repeats); dedup = sign_documents + the batch's signature matrix, as the scan does;",
        "naive = MinHash.update per shingle (SHA-1), a MinHash object per text; 'w/o norm.' times both on the",
        "already normalized texts (shingles + hashing + MinHash alone); 'vs batch' = against naive MinHash.update_batch",
        f"{'N':>8} {'sample':>6} | {'dedup docs/s':>12} {'MB/s':>6} | {'naive docs/s':>12} {'MB/s':>6} | {'speed-up':>8}"
        f" {'w/o norm.':>9} {'vs batch':>8} | {'dedup, all N: docs/s':>20} {'MB/s':>6}",
    ]
    for r in sizes:
        s = r["signature"]
        lines.append(
            f"{r['n']:>8,} {s['sample_docs']:>6,} | {s['dedup']['docs_per_s']:>12,.0f} {s['dedup']['mb_per_s']:>6.2f} |"
            f" {s['naive_update']['docs_per_s']:>12,.1f} {s['naive_update']['mb_per_s']:>6.3f} |"
            f" {_x(s['speedup']):>8} {_x(s['speedup_without_normalize']):>9} {_x(s['speedup_vs_update_batch']):>8} |"
            f" {s['dedup_all']['docs_per_s']:>20,.0f} {s['dedup_all']['mb_per_s']:>6.2f}"
        )

    lines += [
        "",
        "whole scan: dedup.scan of all N documents in a child process. CPU s includes its worker processes;",
        "peak RSS = ru_maxrss, the largest single process; PSS = peak of the summed PSS of the scan and its",
        "workers (sampled every second; shared pages counted once); procs = most processes seen at once",
        f"{'N':>8} {'MB':>6} | {'wall s':>8} {'CPU s':>8} {'docs/s':>8} {'MB/s':>6} {'peak RSS MB':>11} {'PSS MB':>7}"
        f" {'procs':>5} | {'read':>5} {'sign':>6} {'cand.':>6} {'align+':>7}  (stage s)",
    ]
    for r in sizes:
        d = r["dedup_scan"]
        if "failed" in d:
            lines.append(f"{r['n']:>8,} {r['mb']:>6.1f} | failed: {d['failed']}")
            continue
        st = d["stage_seconds"]
        lines.append(
            f"{r['n']:>8,} {r['mb']:>6.1f} | {d['seconds']:>8.1f} {d['process_cpu_seconds']:>8.1f} {d['docs_per_s']:>8.1f}"
            f" {d['mb_per_s']:>6.3f} {d['peak_rss_mb']:>11,.0f} {d.get('peak_tree_pss_mb') or 0:>7,.0f}"
            f" {d.get('max_processes', 0):>5} | {st.get('read', 0):>5.1f} {st.get('sign', 0):>6.1f}"
            f" {st.get('candidates', 0):>6.1f} {st.get('align', 0):>7.1f}"
        )
    lines += [
        "  (align+ runs from the first alignment to the end: it includes boilerplate and classification)",
        "",
        "naive whole scan: read + MinHash.update signatures + MinHashLSH(0.4) insert/query + partial_ratio_alignment",
        "per candidate, on a sample holding the corpus's share of planted pairs; 'est. s @N' = linear extrapolation",
        f"{'N':>8} {'sample':>6} | {'wall s':>7} {'docs/s':>7} {'MB/s':>6} {'RSS MB':>6} {'cand.':>5} |"
        f" {'sig.':>5} {'lsh':>5} {'align':>6} | {'est. s @N':>9} | {'dedup speed-up':>14}",
    ]
    for r in sizes:
        nv = r["naive_scan"]
        if "failed" in nv:
            lines.append(f"{r['n']:>8,} {nv['docs']:>6,} | failed: {nv['failed']}")
            continue
        st = nv["stage_seconds"]
        lines.append(
            f"{r['n']:>8,} {nv['docs']:>6,} | {nv['seconds']:>7.1f} {nv['docs_per_s']:>7.2f} {nv['mb_per_s']:>6.3f}"
            f" {nv['peak_rss_mb']:>6.0f} {nv['candidates']:>5} | {st['signatures']:>5.1f} {st['lsh']:>5.1f} {st['align']:>6.1f} |"
            f" {nv['extrapolated_seconds']:>9.1f} | {_x(r['scan_speedup']):>14}"
        )
    lines += ["", "1-min load average before/after each part (other work on the machine slows the wall-clock figures):"]
    for r in sizes:
        lines.append(
            f"  N={r['n']:,}: signature {r['signature']['load_before_after']}, dedup scan"
            f" {r['dedup_scan']['load_before_after']}, naive scan {r['naive_scan']['load_before_after']}"
        )

    lines += [
        "",
        "recall of the planted pairs (dedup on all N; naive: pairs that became LSH candidates, on its sample)",
        f"{'N':>8} | {'near-dup':>11} {'as near-dup':>11} | {'partial':>11} {'as partial':>10} {'span cov.':>9} |"
        f" {'unplanted':>9} | {'naive near-dup':>14} {'partial':>9} {'unplanted':>9}",
    ]
    for r in sizes:
        rc, nr = r["recall"], r["naive_scan"].get("recall")
        left = f"{r['n']:>8,} | "
        if rc is None:
            left += f"{'—':>11} {'—':>11} | {'—':>11} {'—':>10} {'—':>9} | {'—':>9} |"
        else:
            nd, pa = rc["near_duplicate"], rc["partial"]
            left += (
                f"{nd['found']:>5}/{nd['planted']:<5} {nd['as_near_duplicate']:>11} | {pa['found']:>5}/{pa['planted']:<5}"
                f" {pa['as_partial']:>10} {pa['mean_passage_coverage'] or 0:>9.3f} | {rc['unplanted_pairs']:>9} |"
            )
        if nr is None:
            left += f" {'—':>14} {'—':>9} {'—':>9}"
        else:
            left += (
                f" {nr['near_duplicate']['candidates']:>7}/{nr['near_duplicate']['planted']:<6}"
                f" {nr['partial']['candidates']:>4}/{nr['partial']['planted']:<4} {nr['unplanted_candidates']:>9}"
            )
        lines.append(left)
    lines.append("  (span cov.: mean share of each planted passage covered by dedup's passages)")
    missed = [
        f"N={r['n']:,}: near-dup {r['recall']['near_duplicate'].get('missed_by_language', {})},"
        f" partial {r['recall']['partial'].get('missed_by_language', {})}"
        for r in sizes if r["recall"] and "missed_by_language" in r["recall"]["partial"]
    ]
    if missed:
        lines.append("  missed by language: " + "; ".join(missed))
    if result["growth"]:
        lines += ["", "growth of dedup's scan time"]
        for g in result["growth"]:
            lines.append(
                f"  {g['from']:,} → {g['to']:,}: wall-time ratio {g['time_ratio']}, CPU-time ratio {g['cpu_time_ratio']};"
                f" linear {g['linear']}, N·log N {g['n_log_n']}, quadratic {g['quadratic']}"
            )
    return "\n".join(lines)


def run(
    sizes: list[int],
    *,
    seed: int = 1,
    data: Path | None = None,
    work: Path = WORK,
    sign_sample: int = SIGN_SAMPLE,
    naive_sample: int = NAIVE_SAMPLE,
    repeats: int = REPEATS,
    max_memory_gb: float | None = None,
    timeout: float | None = None,
    log=print,
) -> dict:
    results = []
    for n in sizes:
        folder = corpus(n, seed=seed, data=data, work=work, log=log)
        results.append(
            measure(folder, sign_sample=sign_sample, naive_sample=naive_sample, repeats=repeats, max_memory_gb=max_memory_gb,
                    timeout=timeout, log=log)
        )
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
    ap.add_argument("--work", type=Path, default=WORK, help="where the corpora are made or reused (default benchmarks/_work)")
    ap.add_argument("--save", type=Path, default=None, help="also write the JSON figures to this file")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--data", type=Path, default=None, help="shared data folder (default ../shared/data)")
    ap.add_argument("--sign-sample", type=int, default=SIGN_SAMPLE, help=f"documents for the naive signature timing ({SIGN_SAMPLE})")
    ap.add_argument("--naive-sample", type=int, default=NAIVE_SAMPLE, help=f"documents for the naive whole scan ({NAIVE_SAMPLE})")
    ap.add_argument("--repeats", type=int, default=REPEATS, help=f"signature-stage sample timings: best of ({REPEATS})")
    ap.add_argument("--max-memory-gb", type=float, default=MAX_MEMORY_GB,
                    help=f"address-space cap of the child scans (default {MAX_MEMORY_GB}, 70%% of RAM)")
    ap.add_argument("--timeout", type=float, default=None, help="stop dedup's scan of one size after this many seconds")
    args = ap.parse_args(argv)
    sizes = sorted({int(x.replace("_", "")) for x in args.sizes.split(",") if x.strip()})
    if args.with_100k and 100_000 not in sizes:
        sizes.append(100_000)
    log = (lambda msg: print(msg, file=sys.stderr, flush=True))
    result = run(sizes, seed=args.seed, data=args.data, work=args.work, sign_sample=args.sign_sample, naive_sample=args.naive_sample,
                 repeats=args.repeats, max_memory_gb=args.max_memory_gb, timeout=args.timeout, log=log)
    if args.save:
        args.save.write_text(json.dumps(result, indent=1), encoding="utf-8")
    print(json.dumps(result, indent=1) if args.json else table(result))


if __name__ == "__main__":
    main()
