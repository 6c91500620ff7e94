"""Speed of `dedup` on real related speeches (``../shared/data``), as ratios measured in the same run.

    python benchmarks/real_speed.py [--repeat 3] [--folders NAME,...] [--skip-startup] [--skip-signatures] [--json]

The machine is shared and noisy, so every figure that has a target is a ratio of two timings taken in
this run. Folders (``--folders``): the five of ``SOURCES`` and ``all`` (all their files together, as a
temporary folder of symbolic links, a subfolder per source; the PAN and seed folders are left out).

1. whole scan, per folder: ``dedup scan FOLDER --format json -o OUT`` (the CLI, default workers: one per
   core) in a child process: wall time, CPU time and peak RSS (``os.wait4``'s rusage of that child);
   the naive documents-only baseline in another child (read the same files as UTF-8,
   ``naive.naive_signatures`` + ``naive.naive_candidates``, no alignment): its process wall time.
   ``--repeat N`` runs of each (default 3), alternating, medians. Ratio = naive wall / dedup wall, both
   whole processes (start-up and imports included). Target: ≥ 10× for folders of 3 MB or more and for
   ``all``, ≥ 5× for smaller ones.
2. stages, per folder: ``dedup.scan(folder, config=ScanConfig(workers=1), executor=LocalExecutor(1))`` in a
   child process (one process, one core) with a ``progress`` callback: seconds from the first to the
   last call of each stage name, the gaps "between X and Y", what came before the first call and after
   the last. Pairs aligned = the ``total`` of the "align" progress; pairs/s/core = pairs / align-stage
   seconds (target ≥ 5,000). The align stage's first call comes after its first batch, so also: 'steady',
   the pairs aligned between its first and last call / that time, and 'lower', pairs / (align stage +
   the gap before it). Up to 250 files, read and sign report once, at the end: 'before read' holds them.
3. signature stage against a floor, in this process, best of 5 taken in turn: the floor (``floor_hashes``: read +
   decode UTF-8 + numpy 5-gram hashes of the code points) and dedup's read + normalize + sign
   (``dedup.sign.sign_files``; also ``dedup.pipeline.scan_files``, what the scan's jobs run: that plus
   the sketches: MinHash rows, long-shingle sets, window keys), in MB/s, ratio dedup/floor (target ≥ 0.5), on large Chinese files (the work
   reports; the xwlb transcripts concatenated into 3 files of ~3 MB) and many small files (the 365
   xwlb transcripts).
4. start-up: median wall time of 5 runs of ``python -c pass``, ``python -c "import dedup"``,
   ``dedup --help`` and ``dedup check ONE --index IDX`` (a 3-document index built once).

First, one untimed scan of the smallest folder fills numba's on-disk cache of compiled kernels (a kernel
whose source changed is compiled again on first use: that would land in one timed run). Nothing asserts timings. ``--json`` prints the figures as JSON instead of the table, ``--save FILE``
also writes them to FILE. Without ``../shared/data`` (or ``--data``) it says so and exits 0.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from speed import MAX_MEMORY_GB, ChildFailed, _load, machine  # noqa: E402

DATA = HERE.parent.parent / "shared" / "data"
SOURCES = (
    "zh_gov_work_reports_central/reports",
    "zh_gov_work_reports_central/npc_resolutions",
    "zh_cctv_xwlb_transcripts_2023",
    "en_us_state_of_the_union_nltk",
    "en_us_inaugural_nltk",
)
NAMES = (*SOURCES, "all")
SUFFIXES = {".txt", ".md", ".docx", ".pdf", ".html", ".htm"}
PAIRS_TARGET = 5000
SIGN_TARGET = 0.5
_dedup_bin = Path(sys.executable).parent / "dedup"
DEDUP = [str(_dedup_bin)] if _dedup_bin.exists() else [sys.executable, "-m", "dedup.cli"]


def list_files(folder: Path) -> list[Path]:
    """The files ``dedup scan`` reads below ``folder`` (symbolic links followed, hidden ones left out), sorted."""
    out = []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=True):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        out += [Path(dirpath, f) for f in filenames if not f.startswith(".") and Path(f).suffix.lower() in SUFFIXES]
    return sorted(out)


def all_folder(data: Path, tmp: Path) -> Path:
    """A folder of symbolic links to every file of ``SOURCES``, a subfolder per source (names do not clash)."""
    root = tmp / "all"
    for source in SOURCES:
        sub = root / source.replace("/", "__")
        sub.mkdir(parents=True)
        for f in list_files(data / source):
            (sub / f.relative_to(data / source).as_posix().replace("/", "__")).symlink_to(f)
    return root


def _mb(files: list[Path]) -> float:
    return sum(f.stat().st_size for f in files) / 1e6


# --------------------------------------------------------------------------- child processes


def _spawn(cmd: list[str]) -> tuple[float, float, int]:
    """Run ``cmd``; its (wall seconds, CPU seconds, peak RSS KiB) from ``os.wait4`` of that one child."""
    limit = int(MAX_MEMORY_GB * 2**30)  # the child's address space, as speed.py caps it
    cap = lambda: resource.setrlimit(resource.RLIMIT_AS, (limit, limit))  # noqa: E731
    with tempfile.TemporaryFile() as err:
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err, preexec_fn=cap)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        if code != 0:
            err.seek(0)
            tail = err.read().decode("utf-8", "replace").strip().splitlines()[-1:] or ["(no output)"]
            raise ChildFailed(f"{' '.join(cmd[:3])}…: exit code {code} after {wall:.1f} s: {tail[0]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss


def _child(mode: str, *args: str) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), mode, *args]


def _child_naive(files_json: str, out: str) -> None:
    """The naive documents-only baseline on the files listed in ``files_json``: read, signatures, LSH candidates."""
    from naive import naive_candidates, naive_signatures

    t0 = time.perf_counter()
    texts = [Path(f).read_text(encoding="utf-8") for f in json.loads(Path(files_json).read_text(encoding="utf-8"))]
    pairs = naive_candidates(naive_signatures(texts))
    result = {"seconds": time.perf_counter() - t0, "candidates": len(pairs)}
    Path(out).write_text(json.dumps(result), encoding="utf-8")


def _child_stages(folder: str, out: str) -> None:
    """``dedup.scan`` in this one process with every progress call recorded: [(seconds, stage, done, total)]."""
    import dedup
    from dedup import LocalExecutor, ScanConfig

    calls: list = []
    t0 = time.perf_counter()
    report = dedup.scan(
        folder, config=ScanConfig(workers=1), executor=LocalExecutor(1),
        progress=lambda stage, done, total: calls.append((time.perf_counter() - t0, stage, done, total)),
    )
    seconds = time.perf_counter() - t0
    result = {"seconds": seconds, "calls": calls, "documents": sum(d.status == "ok" for d in report.documents),
              "pairs_reported": len(report.pairs)}
    Path(out).write_text(json.dumps(result), encoding="utf-8")


# --------------------------------------------------------------------------- 1. whole scan


def whole_scan(name: str, folder: Path, *, repeat: int = 3, log=print) -> dict:
    """dedup's CLI scan against the naive documents-only baseline, each in a child, alternating; medians."""
    files = list_files(folder)
    mb = _mb(files)
    dedup_runs, naive_runs, summary = [], [], None
    load_before = _load()
    with tempfile.TemporaryDirectory() as tmp:
        files_json, out, naive_out = Path(tmp, "files.json"), Path(tmp, "report.json"), Path(tmp, "naive.json")
        files_json.write_text(json.dumps([str(f) for f in files]), encoding="utf-8")
        for k in range(repeat):
            log(f"[{name}] run {k + 1}/{repeat}: dedup scan, then naive ...")
            dedup_runs.append(_spawn([*DEDUP, "scan", str(folder), "--format", "json", "-o", str(out)]))
            summary = json.loads(out.read_text(encoding="utf-8"))["summary"]
            wall, cpu, rss = _spawn(_child("--child-naive", str(files_json), str(naive_out)))
            naive_runs.append((wall, cpu, rss, json.loads(naive_out.read_text(encoding="utf-8"))))
    med = lambda runs, k, scale=1.0: round(statistics.median(r[k] for r in runs) / scale, 3)  # noqa: E731
    ratio, target = med(naive_runs, 0) / med(dedup_runs, 0), (10.0 if name == "all" or mb >= 3.0 else 5.0)
    return {
        "files": len(files), "mb": round(mb, 3), "repeat": repeat,
        "dedup": {"wall_s": med(dedup_runs, 0), "cpu_s": med(dedup_runs, 1), "peak_rss_mb": med(dedup_runs, 2, 1024),
                  "summary": summary},
        "naive": {"wall_s": med(naive_runs, 0), "cpu_s": med(naive_runs, 1), "peak_rss_mb": med(naive_runs, 2, 1024),
                  "inner_s": round(statistics.median(r[3]["seconds"] for r in naive_runs), 3),
                  "candidates": naive_runs[-1][3]["candidates"]},
        "ratio": round(ratio, 2), "target": target, "met": ratio >= target, "load_before_after": [load_before, _load()],
    }


# --------------------------------------------------------------------------- 2. stages


def stages_from_calls(calls: list, seconds: float) -> dict:
    """Seconds per stage (first to last progress call of each name, in order of first call) and the gaps around them."""
    first: dict[str, float] = {}
    last: dict[str, float] = {}  # in order of first call: dicts keep their insertion order
    for t, stage, _, _ in calls:
        first.setdefault(stage, t)
        last[stage] = t
    order, segments, prev = list(first), [], None
    for stage in order:
        segments.append((f"before {stage}" if prev is None else f"between {prev} and {stage}", first[stage] - last.get(prev, 0.0)))
        segments.append((stage, last[stage] - first[stage]))
        prev = stage
    segments.append((f"after {prev}" if prev else "whole scan", seconds - (last[prev] if prev else 0.0)))
    return {"segments": [[s, round(v, 4)] for s, v in segments], "stages": order}


def stage_times(folder: Path, *, log=print) -> dict:
    """Per-stage seconds of ``dedup.scan`` with one worker in one child process, and alignment throughput."""
    log(f"[stages] {folder.name} ...")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp, "stages.json")
        wall, cpu, rss = _spawn(_child("--child-stages", str(folder), str(out)))
        child = json.loads(out.read_text(encoding="utf-8"))
    result = stages_from_calls(child["calls"], child["seconds"])
    labels, align = [s for s, _ in result["segments"]], [c for c in child["calls"] if c[1] == "align"]
    at = labels.index("align") if align else None
    pairs, first_done = (align[-1][3], align[0][2]) if align else (0, 0)
    align_s, gap = (result["segments"][at][1], result["segments"][at - 1][1]) if align else (0.0, 0.0)  # gap: before 1st call
    result.update(
        scan_s=round(child["seconds"], 3), process_wall_s=round(wall, 3), process_cpu_s=round(cpu, 3),
        peak_rss_mb=round(rss / 1024, 1), documents=child["documents"], pairs_reported=child["pairs_reported"],
        align_calls=len(align), pairs_aligned=pairs, align_s=round(align_s, 4),
        pairs_per_s=round(pairs / align_s, 1) if align_s > 0 else None,
        pairs_per_s_steady=round((pairs - first_done) / align_s, 1) if align_s > 0 else None,  # pairs done in between
        pairs_per_s_lower=round(pairs / (align_s + gap), 1) if align_s + gap > 0 else None,
        target=PAIRS_TARGET,
    )
    result["met"] = result["pairs_per_s"] is not None and result["pairs_per_s"] >= PAIRS_TARGET
    return result


# --------------------------------------------------------------------------- 3. signature stage vs a floor

_P = np.uint64(0x100000001B3)
_MIX = np.uint64(0x9E3779B97F4A7C15)


def floor_hashes(path: Path) -> np.ndarray:
    """The floor of the signature stage for one file: read its bytes, decode UTF-8, and hash every 5-gram of code points.

    The code points (UTF-32) as uint64; ``h = ((((c[i]·P + c[i+1])·P + c[i+2])·P + c[i+3])·P + c[i+4]`` modulo
    2**64 over 5 shifted slices, then a multiply-xorshift mix; all numpy-vectorized, no normalization, no
    tokens, no MinHash, no distinct set: the least any signing of the same text must do.
    """
    text = Path(path).read_bytes().decode("utf-8")
    codes = np.frombuffer(text.encode("utf-32-le"), "<u4").astype(np.uint64)
    n = max(len(codes) - 4, 0)
    h = codes[:n].copy()
    for k in range(1, 5):
        h *= _P
        h += codes[k : k + n]
    h ^= h >> np.uint64(33)
    h *= _MIX
    h ^= h >> np.uint64(29)
    return h


def _dedup_job(job):
    """``job`` (``sign_files`` or ``scan_files``) of the files, in this process, as a function of a list of files."""
    from dedup.config import ScanConfig

    return lambda files: job(ScanConfig(), [(f.name, str(f)) for f in files])


def signature_speed(inputs: dict[str, list[Path]], *, repeats: int = 5, log=print) -> dict:
    """MB/s of the floor and of dedup's read + normalize + sign on each input (best of ``repeats``), and their ratio."""
    from dedup.pipeline import scan_files
    from dedup.sign import sign_files

    fns = {"floor": lambda files: [floor_hashes(f) for f in files], "sign_files": _dedup_job(sign_files),
           "scan_files": _dedup_job(scan_files)}
    out = {}
    for label, files in inputs.items():
        log(f"[signatures] {label} ...")
        mb = _mb(files)
        row: dict = {"files": len(files), "mb": round(mb, 3)}
        best = {name: float("inf") for name in fns}
        for fn in fns.values():
            fn(files[:2])  # warm-up: imports, compiled kernels
        for _ in range(repeats):  # (in turn: a machine that slows down meanwhile slows all of them)
            for name, fn in fns.items():
                t = time.perf_counter()
                fn(files)
                best[name] = min(best[name], time.perf_counter() - t)
        for name, seconds in best.items():
            row[name] = {"seconds": round(seconds, 4), "mb_per_s": round(mb / seconds, 2)}
        row["ratio"] = round(best["floor"] / best["sign_files"], 3)  # = dedup MB/s / floor MB/s
        row["scan_files_ratio"] = round(best["floor"] / best["scan_files"], 3)
        row["target"], row["met"] = SIGN_TARGET, row["ratio"] >= SIGN_TARGET
        out[label] = row
    return out


def concatenated(files: list[Path], parts: int, tmp: Path) -> list[Path]:
    """``files``' texts joined into ``parts`` files of about equal size (in ``tmp``)."""
    k = -(-len(files) // parts)
    for i in range(0, len(files), k):
        Path(tmp, f"joined_{i // k + 1}.txt").write_text("\n\n".join(f.read_text(encoding="utf-8") for f in files[i : i + k]),
                                                        encoding="utf-8")
    return sorted(Path(tmp).glob("joined_*.txt"))


# --------------------------------------------------------------------------- 4. start-up


def startup(files: list[Path], *, repeat: int = 5, log=print) -> dict:
    """Median wall time of start-up commands; ``dedup check`` of ``files[3]`` against an index of ``files[:3]``."""
    with tempfile.TemporaryDirectory() as tmp:
        src, index = Path(tmp, "indexed"), Path(tmp, "index.sqlite")
        src.mkdir()
        for f in files[:3]:
            (src / f.name).symlink_to(f.resolve())
        _spawn([*DEDUP, "index", "build", str(src), "--index", str(index)])
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            'python -c "import dedup"': [sys.executable, "-c", "import dedup"],
            "dedup --help": [*DEDUP, "--help"],
            "dedup check ONE --index IDX": [*DEDUP, "check", str(files[3]), "--index", str(index), "--format", "json"],
        }
        out = {}
        for label, cmd in commands.items():
            log(f"[start-up] {label} ...")
            out[label] = round(statistics.median(_spawn(cmd)[0] for _ in range(repeat)), 3)
    return out


# --------------------------------------------------------------------------- table


def table(result: dict) -> str:
    m = result["machine"]
    lines = [f"machine: {m['cpu']}, nproc {m['nproc']}, {m['memory_gib']} GiB; Python {m['python']}; {m['date']}", ""]
    if result.get("scan"):
        lines += [
            "1. whole scan: `dedup scan F --format json -o OUT` (CLI, default workers) vs the naive documents-only baseline",
            "   (read + naive_signatures + naive_candidates, one process); process wall times, medians of"
            f" {result['repeat']} alternating runs",
            f"{'folder':<44} {'files':>5} {'MB':>6} | {'dedup s':>7} {'CPU s':>6} {'RSS MB':>6} | {'naive s':>7} {'inner':>6}"
            f" {'cand.':>5} | {'ratio':>6} {'target':>6} {'met':>3} | dedup pairs (exact/near/partial)",
        ]
        for name, r in result["scan"].items():
            if "failed" in r:
                lines.append(f"{name:<44} failed: {r['failed']}")
                continue
            d, n, p = r["dedup"], r["naive"], r["dedup"]["summary"]["pairs"]
            lines.append(
                f"{name:<44} {r['files']:>5} {r['mb']:>6.2f} | {d['wall_s']:>7.2f} {d['cpu_s']:>6.2f} {d['peak_rss_mb']:>6.0f} |"
                f" {n['wall_s']:>7.2f} {n['inner_s']:>6.2f} {n['candidates']:>5} | {r['ratio']:>5}× {r['target']:>5.0f}×"
                f" {'yes' if r['met'] else 'NO':>3} | {p['exact']}/{p['near_duplicate']}/{p['partial']}"
            )
        lines.append("   (inner: the naive child's own time without start-up; cand.: naive LSH candidate pairs)")
    if result.get("stages"):
        lines += ["", "2. stages of dedup.scan(workers=1, LocalExecutor(1)) in one child process, from its progress calls (s);",
                  f"   pairs/s/core = pairs aligned / align stage (target ≥ {PAIRS_TARGET:,}); 'steady' counts only the pairs",
                  "   aligned between the first and last align call, 'lower' adds the gap before align to the time. Up to 250",
                  "   files, read and sign report once, when both are done: 'before read' is reading + normalizing + signing;",
                  "   a negative gap means the two stages' calls interleave (more than 250 files: read and sign by batch)"]
        for name, r in result["stages"].items():
            if "failed" in r:
                lines.append(f"  {name}: failed: {r['failed']}")
                continue
            lines.append(
                f"  {name}: scan {r['scan_s']:.2f} s, {r['documents']} docs, {r['pairs_aligned']:,} pairs aligned"
                f" ({r['align_calls']} align calls): {r['pairs_per_s'] or 0:,.0f} pairs/s/core {'met' if r['met'] else 'NOT met'}"
                f" (steady {r['pairs_per_s_steady'] or 0:,.0f}, lower {r['pairs_per_s_lower'] or 0:,.0f})"
            )
            lines.append("      " + ", ".join(f"{s} {v:.3f}" for s, v in r["segments"]))
    if result.get("signatures"):
        lines += ["", "3. signature stage vs the floor (read + decode + numpy 5-gram hashes), one process, best of 5 in turn;",
                  "   ratio = dedup sign_files MB/s / floor MB/s (target ≥ 0.5); scan job = scan_files (+ sketches)",
                  f"{'input':<48} {'files':>5} {'MB':>6} | {'floor MB/s':>10} | {'sign_files':>10} {'ratio':>6} {'met':>3} |"
                  f" {'scan job':>8} {'ratio':>6}"]
        for label, r in result["signatures"].items():
            lines.append(
                f"{label:<48} {r['files']:>5} {r['mb']:>6.2f} | {r['floor']['mb_per_s']:>10.1f} | {r['sign_files']['mb_per_s']:>10.2f}"
                f" {r['ratio']:>6.3f} {'yes' if r['met'] else 'NO':>3} | {r['scan_files']['mb_per_s']:>8.2f} {r['scan_files_ratio']:>6.3f}"
            )
    if result.get("startup"):
        lines += ["", "4. start-up: median wall time of 5 runs (s)"]
        lines += [f"  {label:<32} {s:>6.3f}" for label, s in result["startup"].items()]
    return "\n".join(lines)


# --------------------------------------------------------------------------- main


def run(data: Path, names: list[str], *, repeat: int = 3, startup_runs: bool = True, signatures: bool = True, log=print) -> dict:
    result: dict = {"machine": machine(), "repeat": repeat, "data": str(data), "scan": {}, "stages": {}}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        log("warm-up: one untimed scan (fills numba's on-disk cache of compiled kernels) ...")
        _spawn([*DEDUP, "scan", str(data / SOURCES[1]), "--format", "json", "-o", str(tmp / "warm-up.json")])
        folders = {n: (all_folder(data, tmp) if n == "all" else data / n) for n in names}
        for name, folder in folders.items():
            for key, fn in (("scan", lambda: whole_scan(name, folder, repeat=repeat, log=log)),
                            ("stages", lambda: stage_times(folder, log=log))):
                try:
                    result[key][name] = fn()
                except ChildFailed as exc:
                    log(f"[{name}] {key} failed: {exc}")
                    result[key][name] = {"failed": str(exc)}
        if signatures:
            xwlb = list_files(data / "zh_cctv_xwlb_transcripts_2023")
            joined = tmp / "joined"
            joined.mkdir()
            result["signatures"] = signature_speed({
                "large zh: work reports (52 files)": list_files(data / "zh_gov_work_reports_central/reports"),
                "large zh: xwlb joined into 3 files": concatenated(xwlb, 3, joined),
                "many small: xwlb transcripts (365 files)": xwlb,
            }, log=log)
        if startup_runs:
            result["startup"] = startup(list_files(data / "zh_gov_work_reports_central/npc_resolutions")[:4], log=log)
    return result


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child-naive"]:
        return _child_naive(*argv[1:])
    if argv[:1] == ["--child-stages"]:
        return _child_stages(*argv[1:])
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3, help="runs of each whole-scan child, alternating (median; default 3)")
    ap.add_argument("--folders", default=",".join(NAMES), help="comma-separated subset of: " + ", ".join(NAMES))
    ap.add_argument("--skip-startup", action="store_true", help="do not measure start-up times")
    ap.add_argument("--skip-signatures", action="store_true", help="do not measure the signature stage against the floor")
    ap.add_argument("--json", action="store_true", help="print JSON instead of the table")
    ap.add_argument("--save", type=Path, default=None, help="also write the JSON figures to this file")
    ap.add_argument("--data", type=Path, default=DATA, help="shared data folder (default ../shared/data)")
    args = ap.parse_args(argv)
    names = [x.strip().rstrip("/") for x in args.folders.split(",") if x.strip()]
    unknown = [x for x in names if x not in NAMES]
    if unknown:
        ap.error(f"unknown folder(s) {', '.join(unknown)}; choose from {', '.join(NAMES)}")
    missing = [s for s in SOURCES if not (args.data / s).is_dir()]
    if missing:
        print(f"real_speed: {args.data} is not available (missing {', '.join(missing)}); nothing measured.")
        return None
    log = (lambda msg: print(msg, file=sys.stderr, flush=True))
    result = run(args.data, names, repeat=args.repeat, startup_runs=not args.skip_startup,
                 signatures=not args.skip_signatures, log=log)
    if args.save:
        args.save.write_text(json.dumps(result, indent=1, ensure_ascii=False), encoding="utf-8")
    print(json.dumps(result, indent=1, ensure_ascii=False) if args.json else table(result))


if __name__ == "__main__":
    main()
