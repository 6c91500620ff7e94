"""The long fuzz run: thousands of hostile files through ``dedup.read_document`` and through whole scans.

    nice python benchmarks/fuzz.py [--inputs 10000] [--scans 2500] [--seed N] [--workers 2] [--atheris-runs N]
                                   [--json] [--save FILE]

The inputs are drawn by the strategies of the fuzz tests (``tests/fuzz/hostile.py``: corrupt, truncated and
mutated .docx/.pdf, zip and docx bombs, deeply nested HTML, bogus charsets, undecodable bytes, mixed encodings,
NULs, one long line, empty and one-character files, names in GBK bytes, with control characters, very long),
larger than in the test suite, and judged by ``tests/fuzz/bounds.py``:

1. ``--inputs`` files, each read by ``dedup.read_document`` in a worker process (its address space limited,
   stopped after ``--timeout`` seconds): a crash is an exception other than ``IngestError``, a text that cannot be
   written as UTF-8, a hang or the end of the process; anything shown on the console (the library never prints) is
   counted apart; a file over budget took more time or memory than its size allows (``bounds.TIME_BUDGET``,
   ``bounds.MEMORY_BUDGET``);
2. ``--scans`` folders of such files beside speeches that copy each other, each scanned whole (``dedup.scan``, one
   worker process): a crash is any exception but the documented ``InputError``, a file found but not listed, a
   passage that does not slice the texts, a report that cannot be written in every format;
3. the hand-made cases of the test suite (bombs of every size, page trees that loop, nesting 100,000 deep);
4. with ``--atheris-runs N`` (``pip install atheris``), N coverage-guided inputs through ``read_document``
   (``tests/fuzz/atheris_read.py``), which stops at the first failure that is not a known problem.

Reported, as text or ``--json``: inputs tried, crashes (must be 0; those of known problems, ``hostile.KNOWN``,
counted apart), console output, files over budget, the largest time and memory for one file, and the slowest
inputs. Every input that failed is kept as a reproducer (its bytes, name and how it was made) in ``--reproducers``
(default ``benchmarks/_work/fuzz``). Exit code 1 when a failure is not of a known problem.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
TESTS = HERE.parent / "tests"
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))  # (before this folder: ``fuzz`` is the tests' package, not this script)

from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402

from fuzz import hostile as h  # noqa: E402
from fuzz.bounds import (  # noqa: E402
    FAILURES, MEMORY_LIMIT, Outcome, Worker, over_budget, read_outcome, reproducer, scan_outcome, write_file,
)


@dataclass
class Tally:
    """What came of one part of the run."""

    inputs: int = 0
    files: int = 0
    kinds: Counter = field(default_factory=Counter)
    crashes: list[dict] = field(default_factory=list)
    printed: list[dict] = field(default_factory=list)
    over_budget: list[dict] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    seconds_per_file: list[float] = field(default_factory=list)
    peaks: list[int] = field(default_factory=list)
    slowest: list[tuple[float, str]] = field(default_factory=list)
    largest: list[tuple[int, str]] = field(default_factory=list)
    notes: Counter = field(default_factory=Counter)

    def add(self, outcome: Outcome, described: str, files: int, size: int, known: Callable[[str], str | None],
            keep: Callable[[], Path]) -> None:
        self.inputs += 1
        self.files += files
        self.kinds[outcome.kind] += 1
        self.seconds.append(outcome.seconds)
        self.seconds_per_file.append(outcome.seconds / max(1, files))
        self.slowest = sorted([*self.slowest, (outcome.seconds, described)], reverse=True)[:5]
        if outcome.peak is not None:
            self.peaks.append(outcome.peak)
            self.largest = sorted([*self.largest, (outcome.peak, described)], reverse=True)[:5]
        self.notes.update(outcome.notes)
        budget = None if outcome.failed else over_budget(outcome, size)
        if outcome.failed or budget:
            detail = budget or outcome.detail
            entry = {"input": described, "kind": outcome.kind, "detail": detail[:600],
                     "seconds": round(outcome.seconds, 3), "known": known(detail), "reproducer": str(keep())}
            if outcome.kind == "printed":
                self.printed.append(entry)
            else:
                (self.crashes if outcome.failed else self.over_budget).append(entry)

    def summary(self) -> dict:
        mb = 1 << 20
        return {
            "inputs": self.inputs,
            "files": self.files,
            "outcomes": dict(self.kinds),
            "crashes": len(self.crashes),
            "crashes_not_known": sum(1 for c in self.crashes if not c["known"]),
            "printed": len(self.printed),
            "printed_not_known": sum(1 for c in self.printed if not c["known"]),
            "over_budget": len(self.over_budget),
            "over_budget_not_known": sum(1 for c in self.over_budget if not c["known"]),
            "max_seconds": round(max(self.seconds, default=0), 3),
            "p99_seconds": round(quantile(self.seconds, 0.99), 3),
            "median_seconds": round(statistics.median(self.seconds), 4) if self.seconds else 0,
            "max_seconds_per_file": round(max(self.seconds_per_file, default=0), 3),
            "max_memory_mb": round(max(self.peaks, default=0) / mb, 1),
            "p99_memory_mb": round(quantile(self.peaks, 0.99) / mb, 1),
            "slowest": [{"seconds": round(s, 3), "input": d} for s, d in self.slowest],
            "largest_memory": [{"mb": round(p / mb, 1), "input": d} for p, d in self.largest],
            "notes": dict(self.notes),
            "failures": self.crashes + self.printed + self.over_budget,
        }


def quantile(values: Sequence[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def draw(strategy, count: int, first_seed: int) -> list:
    """``count`` values of a hypothesis strategy (generation only, no shrinking), seeded."""
    values: list = []
    run = first_seed
    while len(values) < count:
        @seed(run)
        @settings(max_examples=count - len(values), phases=[Phase.generate], database=None, deadline=None,
                  suppress_health_check=list(HealthCheck))
        @given(strategy)
        def collect(value) -> None:
            values.append(value)

        before = len(values)
        collect()
        if len(values) == before:
            break
        run += 1
    return values[:count]


def run_parallel(jobs: list, workers: list[Worker], each: Callable[[Worker, object], None], progress: str, quiet: bool) -> None:
    """``each(worker, job)`` for every job, one thread a worker."""
    lock = threading.Lock()
    pending = list(reversed(jobs))
    done = [0]
    start = time.monotonic()

    def loop(worker: Worker) -> None:
        while True:
            with lock:
                if not pending:
                    return
                job = pending.pop()
            each(worker, job)
            with lock:
                done[0] += 1
                if not quiet and (done[0] % 250 == 0 or done[0] == len(jobs)):
                    rate = done[0] / max(1e-9, time.monotonic() - start)
                    print(f"  {progress}: {done[0]}/{len(jobs)} ({rate:.0f}/s)", file=sys.stderr, flush=True)

    threads = [threading.Thread(target=loop, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def read_part(files: list[h.Hostile], args: argparse.Namespace, keep_dir: Path, work: Path) -> Tally:
    tally, lock = Tally(), threading.Lock()
    workers = [Worker(read_outcome, timeout=args.timeout, memory=args.memory_gb << 30) for _ in range(args.workers)]

    warm = work / "warm-read"  # each worker imports the parsers before it is timed
    paths = [os.path.join(warm, write_file(warm, name, data)) for name, data in (
        (b"a.docx", h.docx_seed()), (b"a.pdf", h.pdf_seed()), (b"a.html", h.html_page("正文", "gbk", "gbk")),
        (b"a.txt", "正文".encode("gb18030")))]
    for w in workers:
        for path in paths:
            w.run(path)

    def each(worker: Worker, job: tuple[int, h.Hostile]) -> None:
        k, f = job
        folder = work / f"read-{k}"
        path = os.path.join(folder, write_file(folder, f.name, f.data))
        outcome = worker.run(path)
        shutil.rmtree(folder, ignore_errors=True)
        with lock:
            tally.add(outcome, f.describe(), 1, len(f.data), lambda detail: h.known_problem(f, detail),
                      lambda: reproducer(keep_dir / "read", f.name, f.data, f.label))

    try:
        run_parallel(list(enumerate(files)), workers, each, "read", args.json)
    finally:
        for w in workers:
            w.close()
    return tally


def scan_part(folders: list[list[tuple[bytes, h.Hostile]]], args: argparse.Namespace, keep_dir: Path, work: Path) -> Tally:
    tally, lock = Tally(), threading.Lock()
    workers = [Worker(scan_outcome, timeout=args.timeout * 2, memory=args.memory_gb << 30) for _ in range(args.workers)]

    warm = work / "warm-scan"  # each worker loads the compiled kernels before it is timed
    names = [write_file(warm, name, h.ZH_SPEECH.encode()) for name in (b"a.txt", b"b.txt")]
    for w in workers:
        w.run(str(warm), names)

    def each(worker: Worker, job: tuple[int, list[tuple[bytes, h.Hostile]]]) -> None:
        k, files = job
        folder = work / f"scan-{k}"
        expected = []
        for sub, f in files:
            rel = write_file(folder, f.name, f.data, sub)
            if listed_as_read(sub, f.name):
                expected.append(rel)
        outcome = worker.run(str(folder), expected)
        shutil.rmtree(folder, ignore_errors=True)
        described = " | ".join(f"{sub!r}/{f.describe(32)}" if sub else f.describe(32) for sub, f in files)

        def known(detail: str) -> str | None:
            return next((k for k in (h.known_problem(f, detail) for _, f in files) if k), None)

        def keep() -> Path:
            kept = keep_dir / "scan" / f"{k:05d}"
            for n, (sub, f) in enumerate(files):
                reproducer(kept, os.path.join(sub, f.name), f.data, f.label)
            return kept

        with lock:
            tally.add(outcome, described, len(files), sum(len(f.data) for _, f in files), known, keep)

    try:
        run_parallel(list(enumerate(folders)), workers, each, "scan", args.json)
    finally:
        for w in workers:
            w.close()
    return tally


def listed_as_read(folder: bytes, name: bytes) -> bool:
    parts = [p for p in os.path.join(folder, name).split(b"/") if p]
    suffix = os.path.splitext(name)[1].decode("utf-8", "replace").lower()
    return suffix in h.READ_SUFFIXES and not any(p.startswith(b".") for p in parts)


def cases_part(args: argparse.Namespace, keep_dir: Path, work: Path) -> list[dict]:
    out = []
    worker = Worker(read_outcome, timeout=args.timeout, memory=args.memory_gb << 30)
    try:
        for c in h.CASES:
            f = c.hostile()
            folder = work / f"case-{c.name}"
            outcome = worker.run(os.path.join(folder, write_file(folder, f.name, f.data)))
            shutil.rmtree(folder, ignore_errors=True)
            budget = None if outcome.failed else over_budget(outcome, len(f.data))
            row = {"case": c.name, "bytes": len(f.data), "kind": outcome.kind, "seconds": round(outcome.seconds, 3),
                   "memory_mb": None if outcome.peak is None else round(outcome.peak / (1 << 20), 1),
                   "ok": not outcome.failed and budget is None, "detail": (budget or outcome.detail)[:300], "known": c.known}
            if not row["ok"]:
                row["reproducer"] = str(reproducer(keep_dir / "cases", f.name, f.data, f.label))
            out.append(row)
            if not args.json:
                print(f"  case {c.name}: {row['kind']} {row['seconds']} s", file=sys.stderr, flush=True)
    finally:
        worker.close()
    return out


def atheris_part(runs: int, timeout: float, keep_dir: Path, work: Path) -> dict:
    """``tests/fuzz/atheris_read.py`` for ``runs`` inputs (coverage-guided, from the seeds), in a process of its own."""
    if importlib.util.find_spec("atheris") is None:
        return {"runs": 0, "note": "atheris is not installed (pip install atheris)"}
    keep = keep_dir / "atheris"
    keep.mkdir(parents=True, exist_ok=True)
    out = subprocess.run(
        [sys.executable, str(TESTS / "fuzz" / "atheris_read.py"), f"-atheris_runs={runs}", "-rss_limit_mb=4096",
         f"-timeout={int(timeout)}", f"-artifact_prefix={keep}/"],
        capture_output=True, text=True, cwd=keep, env={**os.environ, "DEDUP_ATHERIS_DIR": str(work / "atheris")},
    )
    done = re.findall(r"Done (\d+) (?:runs )?in (\d+) second", out.stderr)
    coverage = re.findall(r"cov: (\d+) ft: (\d+)", out.stderr)
    found = sorted(str(p) for p in keep.iterdir() if p.name.startswith(("crash-", "timeout-", "oom-", "leak-")))
    failure = re.search(r"=== Uncaught Python exception: ===\n(.*)", out.stderr)
    return {
        "runs": int(done[-1][0]) if done else None, "seconds": int(done[-1][1]) if done else None,
        "coverage": {"edges": int(coverage[-1][0]), "features": int(coverage[-1][1])} if coverage else None,
        "failures": len(found), "reproducers": found, "exit_code": out.returncode,
        "failure": failure.group(1)[:600] if failure else None,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--inputs", type=int, default=10_000, help="files through read_document (default 10000)")
    parser.add_argument("--scans", type=int, default=2_500, help="folders scanned whole (default 2500, ~4 files each)")
    parser.add_argument("--seed", type=int, default=14, help="first hypothesis seed (default 14)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds an input may run before it is a hang")
    parser.add_argument("--memory-gb", type=int, default=MEMORY_LIMIT >> 30, help="address space a worker may add (GB)")
    parser.add_argument("--no-cases", action="store_true", help="leave out the hand-made cases")
    parser.add_argument("--atheris-runs", type=int, default=0,
                        help="also this many coverage-guided inputs through read_document (atheris; default 0)")
    parser.add_argument("--reproducers", type=Path, default=HERE / "_work" / "fuzz", help="where failing inputs are kept")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--save", type=Path, help="also write the JSON figures to this file")
    args = parser.parse_args(argv)

    started = time.monotonic()
    keep_dir = args.reproducers / datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    # bigger than in the suite: long lines of 1 MB, docx bombs of 2 MB, nesting 3,000 deep (PDF bombs, seconds each,
    # are the hand-made cases'); folders of up to 6 such files
    files = draw(h.hostile_files(big=1 << 20, bomb_mb=2, depth=3000), args.inputs, args.seed)
    folders = draw(h.folders(h.hostile_files(big=1 << 16, bomb_mb=1, depth=300), most=6), args.scans, args.seed + 1000)
    generated = time.monotonic() - started
    with tempfile.TemporaryDirectory(prefix="dedup-fuzz-") as tmp:
        work = Path(tmp)
        read = read_part(files, args, keep_dir, work)
        scans = scan_part(folders, args, keep_dir, work)
        cases = [] if args.no_cases else cases_part(args, keep_dir, work)
        guided = atheris_part(args.atheris_runs, args.timeout, keep_dir, work) if args.atheris_runs else None
    figures = {
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()},
        "seed": args.seed,
        "budgets": {"seconds": "10 s + 2 s a MB of the file", "memory": "256 MB + 32 bytes a byte of the file"},
        "inputs_tried": read.inputs + scans.files + len(cases) + ((guided or {}).get("runs") or 0),
        "crashes": len(read.crashes) + len(scans.crashes) + sum(1 for c in cases if c["kind"] in ("crash", "hang", "died"))
        + ((guided or {}).get("failures") or 0),
        "known_problems": h.KNOWN,
        "crashes_not_known": sum(1 for c in read.crashes + scans.crashes if not c["known"])
        + sum(1 for c in cases if c["kind"] in ("crash", "hang", "died") and not c["known"])
        + ((guided or {}).get("failures") or 0),  # (the guided run stops at its first failure that is not known)
        "printed": len(read.printed) + len(scans.printed) + sum(1 for c in cases if c["kind"] == "printed"),
        "printed_not_known": sum(1 for c in read.printed + scans.printed if not c["known"])
        + sum(1 for c in cases if c["kind"] == "printed" and not c["known"]),
        "over_budget_not_known": sum(1 for c in read.over_budget + scans.over_budget if not c["known"])
        + sum(1 for c in cases if c["kind"] not in FAILURES and not c["ok"] and not c["known"]),
        "read": read.summary(),
        "scan": scans.summary(),
        "cases": cases,
        "atheris": guided,
        "seconds": {"generate": round(generated, 1), "total": round(time.monotonic() - started, 1)},
        "reproducers": str(keep_dir) if keep_dir.exists() else None,
    }
    text = json.dumps(figures, ensure_ascii=False, indent=2)
    if args.save:
        args.save.write_text(text + "\n", encoding="utf-8")
    print(text if args.json else render(figures))
    return 1 if figures["crashes_not_known"] or figures["printed_not_known"] or figures["over_budget_not_known"] else 0


def render(f: dict) -> str:
    r, s = f["read"], f["scan"]
    lines = [
        f"dedup fuzz run, {f['when']}, seed {f['seed']}, {f['machine']['cpus']} CPUs, Python {f['machine']['python']}",
        f"inputs tried: {f['inputs_tried']} ({r['inputs']} files read, {s['files']} files in {s['inputs']} scanned "
        f"folders, {len(f['cases'])} hand-made cases)",
        f"crashes: {f['crashes']} ({f['crashes_not_known']} not of a known problem)",
        f"shown on the console (the library never prints): {f['printed']} ({f['printed_not_known']} not known)",
        f"over budget, not of a known problem: {f['over_budget_not_known']}",
        "",
        f"read_document: outcomes {r['outcomes']}",
        f"  time per file: max {r['max_seconds']} s, p99 {r['p99_seconds']} s, median {r['median_seconds']} s",
        f"  memory per file: max {r['max_memory_mb']} MB, p99 {r['p99_memory_mb']} MB",
        f"  crashes {r['crashes']}, printed {r['printed']}, over budget {r['over_budget']} "
        f"({r['over_budget_not_known']} not known)",
        f"scan: outcomes {s['outcomes']}",
        f"  time per scan: max {s['max_seconds']} s (per file of it: max {s['max_seconds_per_file']} s), "
        f"median {s['median_seconds']} s",
        f"  memory per scan: max {s['max_memory_mb']} MB, p99 {s['p99_memory_mb']} MB",
        f"  crashes {s['crashes']}, printed {s['printed']}, over budget {s['over_budget']} "
        f"({s['over_budget_not_known']} not known)",
        "",
        "slowest files read: " + "; ".join(f"{x['seconds']} s {x['input']}" for x in r["slowest"][:3]),
        "most memory read: " + "; ".join(f"{x['mb']} MB {x['input']}" for x in r["largest_memory"][:3]),
    ]
    if f["cases"]:
        lines += ["", "hand-made cases:"]
        lines += [f"  {'ok  ' if c['ok'] else 'FAIL'} {c['case']}: {c['kind']}, {c['seconds']} s, {c['memory_mb']} MB"
                  + ("" if c["ok"] else f" — {c['detail'][:120]}" + (f" (known: {c['known']})" if c["known"] else ""))
                  for c in f["cases"]]
    a = f.get("atheris")
    if a:
        lines += ["", f"atheris (coverage-guided read_document): {a.get('runs')} runs in {a.get('seconds')} s, coverage "
                      f"{a.get('coverage')}, failures {a.get('failures', 0)}" + (f": {a['failure']}" if a.get("failure") else "")
                  if a.get("runs") is not None or a.get("failures") else f"atheris: {a.get('note') or a}"]
    failures = r["failures"] + s["failures"]
    if failures:
        lines += ["", f"failures ({len(failures)}; reproducers in {f['reproducers']}):"]
        lines += [f"  [{x['kind']}{', known: ' + x['known'] if x['known'] else ''}] {x['input'][:160]}: {x['detail'][:200]}"
                  for x in failures[:40]]
    lines.append(f"\n{f['seconds']['total']} s (generating the inputs: {f['seconds']['generate']} s)")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
