"""Where a scan spends its time and memory: seconds and RSS of the scanning process at each stage.

    python benchmarks/stage_memory.py FOLDER [--workers N]

Prints one line per stage boundary: seconds since the start, the stage, the current and the
peak RSS of this process (``VmRSS``/``VmHWM`` from /proc/self/status, Linux). Alignment and
boilerplate are told apart by wrapping ``Matcher.align_all`` and ``boilerplate.token_masks``. Forked
alignment workers are not counted here (``speed.py`` samples their PSS).
"""

from __future__ import annotations

import argparse
import os
import time

import dedup
from dedup import boilerplate, match
from dedup.config import ScanConfig


def rss_mb() -> tuple[int, int]:
    """Current and peak RSS of this process in MB."""
    values = {}
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, value = line.split(":")
                values[key] = int(value.split()[0]) // 1024
    return values["VmRSS"], values["VmHWM"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folder")
    ap.add_argument("--workers", type=int, default=0, help="alignment processes (0: one per core)")
    args = ap.parse_args()
    t0 = time.perf_counter()

    def mark(what: str) -> None:
        now, peak = rss_mb()
        print(f"{time.perf_counter() - t0:8.1f} s  {what:<22} RSS {now:>6,} MB  peak {peak:>6,} MB", flush=True)

    seen: set[str] = set()

    def progress(stage: str, done: int, total: int) -> None:
        if stage not in seen:
            seen.add(stage)
            mark(stage)

    def around(owner, name: str, label: str) -> None:
        inner = getattr(owner, name)

        def wrapper(*a, **k):
            out = inner(*a, **k)
            mark(f"{label} done")
            return out

        setattr(owner, name, wrapper)

    around(match.Matcher, "align_all", "align")
    around(boilerplate, "token_masks", "boilerplate")
    report = dedup.scan(args.folder, config=ScanConfig(workers=args.workers), progress=progress)
    mark("end")
    print(f"{len(report.pairs):,} pairs; 1-min load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
