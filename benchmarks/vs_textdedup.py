"""Documents-only de-duplication against text-dedup's MinHash, measured in the same run (issue 15).

    python benchmarks/vs_textdedup.py /tmp/scale/s10k [--truth FILE] [--full] [--repeat 3] [--json]
    python benchmarks/vs_textdedup.py --n 10000            # generate the corpus into a temporary folder
    nice python benchmarks/vs_textdedup.py DIR --textdedup-python /path/to/venv/bin/python

On a scale corpus (``make_scale_corpus.py``: a folder of .txt and its planted truth), in this run:

1. writes the folder as one parquet file (``id``: the relative path, ``text``) for text-dedup (not timed:
   it is text-dedup's input format; dedup reads the folder itself, decoding and all);
2. runs text-dedup 0.4.1's MinHash (``python -m text_dedup.minhash`` with a ``config.toml``: num_perm 128,
   ngram 5, threshold 0.7, num_proc 2, its defaults otherwise: no false-positive check) in its own virtualenv
   (``--textdedup-python``; skipped with a message when it is absent), with a fresh datasets cache, and reads
   its clusters (``clusters.pickle``: row → cluster);
3. runs ``dedup scan DIR --no-passages --format json`` (and with ``--full`` the full scan, passages and all);
4. for each: wall time, CPU time, peak memory of the whole process tree (the sum of the processes' PSS, polled
   every 200 ms from /proc: pages forked processes share count once; the sum of their RSS too, which counts
   them in each) and the peak RSS of its largest process (``getrusage``); ``--repeat`` runs each command
   that many times, alternating, and reports the median wall time, and the speed-up over text-dedup both of
   the medians and run by run (each run against the text-dedup run just before it: the median of those
   ratios holds better while the machine's load drifts);
5. scores each against the planted truth: recall of the planted near_duplicate pairs (all, Chinese,
   English; text-dedup finds a pair when both documents are in one cluster), and the pairs reported
   beyond them: planted partial pairs, and unplanted pairs checked on the text (containment of
   character 8-grams, whitespace removed, case folded: at least 0.5 looks like a real duplicate, below
   that it is a false positive; at most ``--check`` of them are checked, a random sample beyond).

The 1-minute load average before and after each command is reported: other work on the machine
slows the commands and the figures with them. ``--json`` prints the figures as JSON instead of the
table; ``--save FILE`` also writes them to FILE.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import make_scale_corpus  # noqa: E402

TEXTDEDUP_PYTHON = "/work/textdedup-venv/bin/python"
SETTINGS = {"num_perm": 128, "ngram_size": 5, "threshold": 0.7, "num_proc": 2}
CHECK_NGRAM = 8
SIMILAR = 0.5  # containment at which an unplanted pair counts as a real duplicate
POLL = 0.2  # a poll reads /proc: ~10 ms of CPU (at 20 ms it took a third of a core)
PAGE = os.sysconf("SC_PAGE_SIZE")


# --------------------------------------------------------------------------- running and measuring


def _tree_memory(root: int) -> tuple[int, int]:
    """Bytes of a process and all its descendants (from /proc): the sum of their proportional set sizes (PSS:
    pages shared by forked processes count once in all), and of their resident set sizes (RSS: shared pages
    count in each process)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2 :].split()
        pid = int(entry)
        children.setdefault(int(fields[1]), []).append(pid)
        rss[pid] = int(fields[21]) * PAGE
    pss_total = rss_total = 0
    todo = [root]
    while todo:
        pid = todo.pop()
        rss_total += rss.get(pid, 0)
        pss_total += _pss(pid, rss.get(pid, 0))
        todo += children.get(pid, [])
    return pss_total, rss_total


def _pss(pid: int, rss: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
            for line in f:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return rss


def measure(cmd: list[str], *, cwd: Path | None = None, env: dict | None = None, log: Path | None = None) -> dict:
    """Run a command; its wall time, CPU time, peak RSS of its process tree and of its largest process."""
    load = os.getloadavg()[0]
    out = open(log, "wb") if log else subprocess.DEVNULL
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
    peak = peak_rss = 0
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        pss, rss = _tree_memory(proc.pid)
        peak, peak_rss = max(peak, pss), max(peak_rss, rss)
        time.sleep(POLL)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if log:
        out.close()
    return {
        "ok": proc.returncode == 0,
        "exit": proc.returncode,
        "wall_s": round(wall, 2),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),  # the process and the children it waited for
        "peak_tree_mb": round(peak / 2**20),  # PSS
        "peak_tree_rss_mb": round(peak_rss / 2**20),
        "peak_process_mb": round(usage.ru_maxrss / 1024),
        "load_before": round(load, 2),
        "load_after": round(os.getloadavg()[0], 2),
    }


def write_parquet(folder: Path, path: Path) -> list[str]:
    """The folder's .txt files as a parquet file of ``id`` and ``text``; the ids in row order."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    files = sorted(folder.rglob("*.txt"))
    ids = [f.relative_to(folder).as_posix() for f in files]
    texts = [f.read_text(encoding="utf-8") for f in files]
    pq.write_table(pa.table({"id": ids, "text": texts}), path)
    return ids


TEXTDEDUP_CONFIG = """[input]
input_type = "local_files"
file_type = "parquet"

[input.read_arguments]
path = "parquet"
data_files = "{parquet}"
split = "train"

[algorithm]
algorithm_name = "minhash"
text_column = "text"
num_perm = {num_perm}
ngram_size = {ngram_size}
threshold = {threshold}
num_proc = {num_proc}

[output]
output_dir = "{out}"
save_clusters = true
clean_cache = true

[debug]
enable_profiling = false
"""


def run_textdedup(python: str, parquet: Path, ids: list[str], work: Path) -> tuple[dict, set[tuple[str, str]]]:
    """text-dedup's MinHash on the parquet file: measurements, and the pairs of documents it clusters together."""
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    (work / "config.toml").write_text(
        TEXTDEDUP_CONFIG.format(parquet=parquet, out=work / "out", **SETTINGS), encoding="utf-8"
    )
    env = {**os.environ, "HF_HOME": str(work / "hf"), "HF_DATASETS_CACHE": str(work / "hf" / "datasets")}
    result = measure([python, "-m", "text_dedup.minhash"], cwd=work, env=env, log=work / "log.txt")
    if not result["ok"]:
        result["log"] = (work / "log.txt").read_text(errors="replace")[-2000:]
        return result, set()
    with open(work / "out" / "clusters.pickle", "rb") as f:
        parents: dict[int, int] = pickle.load(f)
    groups: dict[int, list[str]] = {}
    for row, cluster in parents.items():
        groups.setdefault(cluster, []).append(ids[row])
    return result, {_pair(a, b) for g in groups.values() for k, a in enumerate(g) for b in g[k + 1 :]}


def run_dedup(folder: Path, out: Path, *, passages: bool, workers: int) -> tuple[dict, set[tuple[str, str]]]:
    """``dedup scan`` of the folder: measurements, and its exact and near-duplicate pairs."""
    cmd = [sys.executable, "-m", "dedup.cli", "scan", str(folder), "--format", "json", "--no-progress", "-o", str(out)]
    cmd += [] if passages else ["--no-passages"]
    cmd += ["--workers", str(workers)] if workers else []
    result = measure(cmd, log=out.with_suffix(".log"))
    if not result["ok"]:
        result["log"] = out.with_suffix(".log").read_text(errors="replace")[-2000:]
        return result, set()
    report = json.loads(out.read_text(encoding="utf-8"))
    result["partial_pairs"] = sum(p["relation"] == "partial" for p in report["pairs"])
    return result, {_pair(p["a"], p["b"]) for p in report["pairs"] if p["relation"] in ("exact", "near_duplicate")}


def _pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


# --------------------------------------------------------------------------- scoring


def _grams(text: str) -> set[str]:
    s = "".join(text.split()).casefold()
    return {s[k : k + CHECK_NGRAM] for k in range(max(1, len(s) - CHECK_NGRAM + 1))}


def containment(folder: Path, a: str, b: str) -> float:
    """Share of the smaller document's character 8-grams found in the other."""
    ga = _grams((folder / a).read_text(encoding="utf-8"))
    gb = _grams((folder / b).read_text(encoding="utf-8"))
    return len(ga & gb) / max(1, min(len(ga), len(gb)))


def score(found: set[tuple[str, str]], truth: dict, folder: Path, *, check: int, seed: int = 1) -> dict:
    """Recall of the planted near-duplicates (all, zh, en) and what else was reported."""
    near = {_pair(p["a"], p["b"]): p["lang"] for p in truth["pairs"] if p["relation"] == "near_duplicate"}
    partial = {_pair(p["a"], p["b"]) for p in truth["pairs"] if p["relation"] == "partial"}
    out: dict = {"reported_pairs": len(found)}
    for lang in ("all", "zh", "en"):
        planted = [p for p, lg in near.items() if lang in ("all", lg)]
        hit = sum(p in found for p in planted)
        out[f"recall_{lang}"] = f"{hit}/{len(planted)}"
    extra = sorted(found - set(near))
    unplanted = [p for p in extra if p not in partial]
    out["extra_pairs"] = len(extra)
    out["extra_planted_partial"] = len(extra) - len(unplanted)
    sample = unplanted if len(unplanted) <= check else random.Random(seed).sample(unplanted, check)
    similar = sum(containment(folder, a, b) >= SIMILAR for a, b in sample)
    out["extra_unplanted"] = len(unplanted)
    out["extra_unplanted_checked"] = len(sample)
    out["extra_unplanted_similar"] = similar  # of those checked: look like real duplicates
    out["false_positives_est"] = round((len(sample) - similar) * len(unplanted) / len(sample)) if sample else 0
    true = sum(p in found for p in near) + (similar * len(unplanted) / len(sample) if sample else 0)
    out["precision_est"] = round(true / len(found), 4) if found else None
    return out


# --------------------------------------------------------------------------- the run


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folder", nargs="?", type=Path, help="a generated corpus folder (make_scale_corpus.py)")
    ap.add_argument("--truth", type=Path, help="its truth file (default: FOLDER.truth.json)")
    ap.add_argument("--n", type=int, help="generate a corpus of N documents into a temporary folder instead")
    ap.add_argument("--data", type=Path, default=make_scale_corpus.DEFAULT_DATA, help="material for --n")
    ap.add_argument("--textdedup-python", default=TEXTDEDUP_PYTHON, help="python of text-dedup's virtualenv")
    ap.add_argument("--full", action="store_true", help="also time dedup's full scan (passages and all)")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each command, alternating (median wall time)")
    ap.add_argument("--workers", type=int, default=0, help="dedup --workers (default 0: one per core)")
    ap.add_argument("--check", type=int, default=2000, help="unplanted extra pairs checked on the text, at most")
    ap.add_argument("--work", type=Path, help="folder for the parquet file and outputs (default: a temporary one)")
    ap.add_argument("--json", action="store_true", help="print JSON instead of the table")
    ap.add_argument("--save", type=Path, help="also write the JSON figures to this file")
    args = ap.parse_args(argv)
    if (args.folder is None) == (args.n is None):
        ap.error("give a corpus folder or --n")
    log = (lambda *a: print(*a, file=sys.stderr)) if args.json else print
    with tempfile.TemporaryDirectory(prefix="vs-textdedup-") as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        folder = args.folder
        if folder is None:
            folder = work / f"scale_{args.n}"
            log(f"generating {args.n:,} documents in {folder} ...")
            make_scale_corpus.generate(args.n, folder, data=args.data)
        truth = json.loads((args.truth or make_scale_corpus.truth_path(folder)).read_text(encoding="utf-8"))
        results = run_all(folder, truth, work, args, log)
    if args.save:
        args.save.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=1) if args.json else table(results))
    return 0


def run_all(folder: Path, truth: dict, work: Path, args, log) -> dict:
    results: dict = {
        "corpus": str(folder), "documents": truth.get("documents"), "bytes": truth.get("bytes"),
        "cpus": os.cpu_count(), "textdedup_settings": SETTINGS, "tools": {},
    }
    commands = {}
    if Path(args.textdedup_python).exists():
        log("writing the parquet file for text-dedup ...")
        parquet = work / "corpus.parquet"
        ids = write_parquet(folder, parquet)
        commands["text-dedup"] = lambda: run_textdedup(args.textdedup_python, parquet, ids, work / "textdedup")
    else:
        log(f"text-dedup skipped: no python at {args.textdedup_python} (give --textdedup-python)")
        results["textdedup_skipped"] = f"no python at {args.textdedup_python}"
    commands["dedup --no-passages"] = lambda: run_dedup(folder, work / "docs.json", passages=False, workers=args.workers)
    if args.full:
        commands["dedup (full scan)"] = lambda: run_dedup(folder, work / "full.json", passages=True, workers=args.workers)
    runs: dict[str, list[dict]] = {name: [] for name in commands}
    found: dict[str, set] = {}
    for k in range(args.repeat):
        for name, run in commands.items():
            log(f"run {k + 1}/{args.repeat}: {name} ...")
            measured, pairs = run()
            runs[name].append(measured)
            found[name] = pairs
    for name, measured in runs.items():
        best = sorted(measured, key=lambda m: m["wall_s"])[len(measured) // 2]
        entry = {**best, "wall_s_runs": [m["wall_s"] for m in measured]}
        entry["wall_s"] = round(statistics.median(m["wall_s"] for m in measured), 2)
        if all(m["ok"] for m in measured):
            entry.update(score(found[name], truth, folder, check=args.check))
        results["tools"][name] = entry
    base = results["tools"].get("text-dedup")
    if base and base["ok"]:
        for entry in results["tools"].values():
            entry["speedup_vs_textdedup"] = round(base["wall_s"] / entry["wall_s"], 2)  # of the medians
            # run by run (each next to a text-dedup run, as the machine's load drifts), and their median
            paired = [b / w for b, w in zip(base["wall_s_runs"], entry["wall_s_runs"]) if w]
            entry["speedup_runs"] = [round(r, 2) for r in paired]
            entry["speedup_paired_median"] = round(statistics.median(paired), 2) if paired else None
            entry["memory_vs_textdedup"] = round(entry["peak_tree_mb"] / max(1, base["peak_tree_mb"]), 2)
    return results


def table(results: dict) -> str:
    cols = [
        ("tool", None), ("wall s", "wall_s"), ("× faster", "speedup_vs_textdedup"), ("× faster (paired)", "speedup_paired_median"), ("cpu s", "cpu_s"),
        ("peak MB (PSS)", "peak_tree_mb"), ("largest proc MB", "peak_process_mb"), ("× memory", "memory_vs_textdedup"), ("near-dup recall", "recall_all"),
        ("zh", "recall_zh"), ("en", "recall_en"), ("pairs", "reported_pairs"), ("extra", "extra_pairs"),
        ("extra planted partial", "extra_planted_partial"), ("extra unplanted (similar)", None),
        ("precision≈", "precision_est"), ("load", None),
    ]
    rows = [[c for c, _ in cols]]
    for name, e in results["tools"].items():
        row = [name]
        for title, key in cols[1:]:
            if title.startswith("extra unplanted"):
                row.append(f"{e.get('extra_unplanted', '-')} ({e.get('extra_unplanted_similar', '-')}"
                           f"/{e.get('extra_unplanted_checked', '-')} checked)")
            elif title == "load":
                row.append(f"{e['load_before']}→{e['load_after']}")
            else:
                row.append(str(e.get(key, "-")))
        rows.append(row)
    widths = [max(len(r[k]) for r in rows) for k in range(len(cols))]
    lines = [" | ".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    head = f"{results['documents']:,} documents ({results['bytes'] / 1e6:.0f} MB), {results['cpus']} CPUs; text-dedup {results['textdedup_settings']}"
    return head + "\n" + "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
