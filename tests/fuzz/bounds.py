"""Reading an input with its cost measured and bounded, and the properties every outcome must have.

- ``measured(fn, *args)``: the result (or the exception), the seconds and the peak memory above the start
  (Linux: the peak resident size, reset through ``/proc/self/clear_refs``; elsewhere None).
- ``isolated(fn, *args, timeout=, memory=)``: the same in a forked process with an address-space limit and a
  deadline, so that a bomb or a hang is an outcome instead of the end of the run (``Worker``: one such process
  for many inputs, started again when an input kills it or runs over its time).
- ``read_outcome(path)`` and ``scan_outcome(folder, expected)``: ``dedup.read_document`` of a file and
  ``dedup.scan`` of a folder, judged: only the documented exceptions (``IngestError`` for a file, ``InputError``
  for a folder that cannot be read), every file found listed once (read, or skipped with a reason), every
  passage slicing the texts, the report written in every format, texts that can be written as UTF-8.
- ``over_budget(outcome, size)``: the time and memory a file of ``size`` bytes may take.
"""

from __future__ import annotations

import io
import json
import logging
import multiprocessing as mp
import os
import re
import resource
import signal
import sys
import tempfile
import time
import traceback
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path

import dedup
from dedup.ingest import real_name

#: What reading one file may take: a fixed part and a part for each byte of the file.
TIME_BUDGET = (10.0, 2.0 / (1 << 20))  # seconds, and seconds a byte (2 s a MB)
MEMORY_BUDGET = (256 << 20, 32)  # bytes, and bytes a byte of the file
#: When an input run in a process of its own is stopped (a hang), and how much more memory that process may map.
TIME_LIMIT = 60.0
MEMORY_LIMIT = 2 << 30


#: The outcomes that break a property.
FAILURES = ("crash", "hang", "died", "printed")


@dataclass
class Outcome:
    """What came of one input. ``kind``: ``document`` (read), ``skipped`` (refused with a reason), ``report`` (a
    scan), ``refused`` (a scan's documented ``InputError``: no file could be read), ``crash`` (an exception that is
    not documented, or a property broken), ``hang`` (over its time, ended), ``died`` (the process ended: killed by a
    signal, or out of memory), ``printed`` (it showed something on the console: the library never prints)."""

    kind: str
    detail: str = ""
    seconds: float = 0.0
    peak: int | None = None  # bytes above the memory in use at the start
    notes: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return self.kind in FAILURES


def _status_kb(key: str) -> int | None:
    try:
        match = re.search(rf"^{key}:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.MULTILINE)
    except OSError:
        return None
    return int(match.group(1)) if match else None


def measured(fn: Callable, *args: object) -> tuple[object, float, int | None]:
    """``fn(*args)`` or the exception it raised, the seconds it took and its peak memory above the start."""
    try:
        Path("/proc/self/clear_refs").write_text("5")  # the peak resident size starts again from now
        start_kb = _status_kb("VmRSS")
    except OSError:
        start_kb = None
    start = time.perf_counter()
    try:
        result: object = fn(*args)
    except Exception as exc:  # noqa: BLE001 - judged by the caller
        result = exc
    seconds = time.perf_counter() - start
    peak_kb = _status_kb("VmHWM") if start_kb is not None else None
    return result, seconds, (max(0, peak_kb - start_kb) << 10) if peak_kb is not None else None


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def console_watched() -> Iterator[list[str]]:
    """What the block would show on a console, as lines: what it writes to file descriptors 1 and 2, the warnings
    it issues, and the log records of WARNING or above that reach the root logger (Python prints those on stderr
    where logging is not set up, as in the command line)."""
    handler, root = _Records(), logging.getLogger()
    root.addHandler(handler)
    shown: list[str] = []
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    try:
        with tempfile.TemporaryFile() as out, warnings.catch_warnings(record=True) as warned:
            warnings.simplefilter("default")
            os.dup2(out.fileno(), 1)
            os.dup2(out.fileno(), 2)
            try:
                yield shown
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os.dup2(saved[0], 1)
                os.dup2(saved[1], 2)
                out.seek(0)
                printed = out.read()
        if printed:
            shown.append(f"printed: {printed[:300]!r}")
        shown += [f"warned: {w.category.__name__}: {str(w.message)[:200]}" for w in warned]
        shown += [f"logged by {r.name} ({r.levelname}): {r.getMessage()[:200]}" for r in handler.records]
    finally:
        os.close(saved[0])
        os.close(saved[1])
        root.removeHandler(handler)


def _failure(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)[-3:]
    where = " < ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(frames))
    return f"{type(exc).__name__}: {str(exc)[:300]} [{where}]"


def utf8_problem(text: str, what: str) -> str | None:
    """Why ``text`` cannot be written as UTF-8 (a lone surrogate), or None."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"{what} cannot be written as UTF-8: {exc.reason} at {exc.start} ({text[max(0, exc.start - 10):exc.end + 10]!r})"
    return None


def printed(outcome: Outcome, shown: list[str]) -> Outcome:
    """``outcome``, or a ``printed`` one where the library showed something on the console (it never prints)."""
    if shown and not outcome.failed:
        return Outcome("printed", f"{outcome.kind}, but showed on the console: " + " | ".join(shown)[:1500],
                       outcome.seconds, outcome.peak, outcome.notes)
    return outcome


def read_outcome(path: str) -> Outcome:
    """``dedup.read_document(path)`` judged: a ``Document`` whose text is not blank and can be written, or an
    ``IngestError``, and nothing shown on the console; anything else is a crash."""
    with console_watched() as shown:
        outcome = _read_outcome(path)
    return printed(outcome, shown)


def _read_outcome(path: str) -> Outcome:
    result, seconds, peak = measured(dedup.read_document, path)
    if isinstance(result, dedup.IngestError):
        return Outcome("skipped", result.reason, seconds, peak)
    if isinstance(result, BaseException):
        return Outcome("crash", _failure(result), seconds, peak)
    problem = None
    if not isinstance(result, dedup.Document) or not isinstance(result.text, str) or not result.text.strip():
        problem = f"not a document with text: {result!r:.200}"
    else:
        problem = utf8_problem(result.text, "the text")
    outcome = Outcome("crash" if problem else "document", problem or f"{result.format} {result.encoding}", seconds, peak)
    if not problem and "\0" in result.text:
        outcome.notes.append("text holds NUL characters")
    return outcome


def scan_outcome(folder: str | Path, expected: Sequence[str]) -> Outcome:
    """``dedup.scan(folder)`` judged (one worker: the scan's own processes are tried elsewhere): no exception;
    each of ``expected`` (the relative paths of the regular files it must read or skip, as ``os.fsdecode`` gives
    them) listed once, anything else it lists skipped with a reason; the passages of every pair inside both texts,
    on words; the report written in every format as UTF-8."""
    config = dedup.ScanConfig(workers=1)
    with console_watched() as shown:
        report, seconds, peak = measured(lambda: dedup.scan(folder, config=config))
    return printed(_scan_judged(report, seconds, peak, folder, expected), shown)


def _scan_judged(report: object, seconds: float, peak: int | None, folder: str | Path, expected: Sequence[str]) -> Outcome:
    if isinstance(report, dedup.InputError):  # documented: e.g. no file of the folder could be read
        return Outcome("refused", str(report)[:300], seconds, peak)
    if isinstance(report, BaseException):
        return Outcome("crash", f"scan: {_failure(report)}", seconds, peak)
    try:
        problems = scan_problems(report, Path(folder), expected)
    except Exception as exc:  # noqa: BLE001 - a report the checks cannot even read
        problems = [f"checking the report: {_failure(exc)}"]
    return Outcome("crash" if problems else "report", "; ".join(problems)[:2000] or f"{len(report.pairs)} pairs",
                   seconds, peak)


def scan_problems(report: dedup.Report, folder: Path, expected: Sequence[str]) -> list[str]:
    """What is wrong with the report of a scan of ``folder`` (see ``scan_outcome``)."""
    problems = []
    listed = [real_name(d.path) for d in report.documents]  # (a name that cannot be shown is shown escaped)
    for path in sorted(set(listed)):
        if listed.count(path) > 1:
            problems.append(f"{path!r} listed {listed.count(path)} times")
    missing = sorted(set(expected) - set(listed))
    if missing:
        problems.append(f"files not listed: {missing!r:.300}")
    for d in report.documents:
        if d.status == "skipped" and not d.reason:
            problems.append(f"{d.path!r} skipped without a reason")
        elif real_name(d.path) not in expected and d.status != "skipped":
            problems.append(f"{d.path!r} read, but it is not a regular file of the folder")
        if utf8_problem(d.path, "a path") or utf8_problem(d.reason or "", "a reason"):
            problems.append(f"{d.path!r}: its path or reason cannot be written as UTF-8")
    entries = {d.path: d for d in report.documents}
    kept = report.texts() if hasattr(report, "texts") else {}
    texts: dict[str, str] = {}
    for pair in report.pairs:
        spans = [(pair.a, p.a_start, p.a_end) for p in pair.passages] + [(pair.b, p.b_start, p.b_end) for p in pair.passages]
        for name, start, end in spans:
            entry = entries.get(name)
            if entry is None or entry.status != "ok":
                problems.append(f"a pair names {name!r}, which is not a document read")
                continue
            if name not in texts:
                texts[name] = kept.get(name) or dedup.read_document(folder / real_name(name), relpath=name).text
            text = texts[name]
            if len(text) != entry.chars:
                problems.append(f"{name!r}: {entry.chars} characters reported, {len(text)} read")
            if not (0 <= start < end <= len(text)) or text[start].isspace() or text[end - 1].isspace():
                problems.append(f"passage {start}:{end} of {name!r} ({len(text)} characters) is not a slice on words")
        if not (0 <= pair.similarity <= 1 and 0 <= pair.a_coverage <= 1 and 0 <= pair.b_coverage <= 1):
            problems.append(f"pair {pair.a!r} {pair.b!r}: similarity or coverage out of 0..1")
    for fmt in dedup.FORMATS:
        out = io.StringIO()
        try:
            dedup.write_report(report, fmt, out)
        except Exception as exc:  # noqa: BLE001
            problems.append(f"writing the {fmt} report: {_failure(exc)}")
            continue
        problem = utf8_problem(out.getvalue(), f"the {fmt} report")
        if problem:
            problems.append(problem)
        elif fmt == "json":
            json.loads(out.getvalue())
    return problems


def over_budget(outcome: Outcome, size: int) -> str | None:
    """Why ``outcome`` took more time or memory than a file of ``size`` bytes may, or None."""
    seconds = TIME_BUDGET[0] + TIME_BUDGET[1] * size
    memory = MEMORY_BUDGET[0] + MEMORY_BUDGET[1] * size
    if outcome.seconds > seconds:
        return f"took {outcome.seconds:.1f} s (budget {seconds:.1f} s)"
    if outcome.peak is not None and outcome.peak > memory:
        return f"took {outcome.peak >> 20} MB (budget {memory >> 20} MB)"
    return None


# --------------------------------------------------------------------------- isolation


def _limit_memory(memory: int) -> None:
    """Limit this process's address space to what it has mapped now and ``memory`` more."""
    size_kb = _status_kb("VmSize")
    if size_kb is not None:
        limit = (size_kb << 10) + memory
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


#: Memory a worker may keep resident beyond what it had after its first input (which loads parsers and compiled
#: kernels) before it is replaced: memory freed but kept by the allocator would hide the next inputs' peaks (they
#: are measured above the resident size).
RETIRE_ABOVE = 64 << 20


def _trim() -> None:
    """Give memory freed back to the system (glibc), where that can be done."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _serve(fn: Callable, orders: Connection, memory: int) -> None:
    _limit_memory(memory)
    start = None  # resident size after the first input (which loads the parsers and kernels)
    parent = os.getppid()
    while True:
        try:
            while not orders.poll(0.5):
                if os.getppid() != parent:  # (another worker may hold this pipe's other end: no end of file)
                    return
            args = orders.recv()
        except EOFError:
            return
        try:
            out = fn(*args)
        except MemoryError:
            out = Outcome("died", "MemoryError: over the memory limit")
        except BaseException as exc:  # noqa: BLE001
            out = Outcome("crash", _failure(exc))
        _trim()
        now = _status_kb("VmRSS")
        start = now if start is None else start
        orders.send((out, start is not None and now is not None and (now - start) << 10 > RETIRE_ABOVE))


class Worker:
    """A forked process that runs ``fn(*args) -> Outcome`` for one input after another, its address space limited
    to what it had and ``memory`` more; an input that runs over ``timeout`` seconds, or kills the process, is an
    outcome (``hang``, ``died``) and the next input gets a new process."""

    def __init__(self, fn: Callable[..., Outcome], *, timeout: float, memory: int) -> None:
        self.fn, self.timeout, self.memory = fn, timeout, memory
        self.proc: mp.process.BaseProcess | None = None
        self.started = 0

    def start_process(self) -> None:
        ctx = mp.get_context("fork")
        self.conn, theirs = ctx.Pipe()
        self.proc = ctx.Process(target=_serve, args=(self.fn, theirs, self.memory), daemon=True)
        self.proc.start()
        theirs.close()
        self.started += 1

    def run(self, *args: object) -> Outcome:
        if self.proc is None or not self.proc.is_alive():
            self.start_process()
        start = time.perf_counter()
        try:
            self.conn.send(args)
            if self.conn.poll(self.timeout):
                outcome, retire = self.conn.recv()
                if retire:  # (it keeps much memory: the next inputs get a new process)
                    self.close()
                return outcome
        except (EOFError, OSError):
            pass
        seconds = time.perf_counter() - start
        if self.proc.is_alive():
            self.close()
            return Outcome("hang", f"still running after {self.timeout:.0f} s", seconds)
        self.proc.join()
        code = self.proc.exitcode
        self.close()
        name = signal.Signals(-code).name if code is not None and code < 0 else f"exit code {code}"
        return Outcome("died", f"the process ended: {name}", seconds)

    def close(self) -> None:
        if self.proc is not None:
            if self.proc.is_alive():
                self.proc.kill()
            self.proc.join()
            self.conn.close()
            self.proc = None


def isolated(fn: Callable[..., Outcome], *args: object, timeout: float = 30, memory: int = 1 << 30) -> Outcome:
    """``fn(*args)`` in a process of its own (see ``Worker``)."""
    worker = Worker(fn, timeout=timeout, memory=memory)
    try:
        return worker.run(*args)
    finally:
        worker.close()


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """``TimeoutError`` in the block once it has run ``seconds`` (a reader that hangs is a failure, not a stall)."""

    def expired(signum: int, frame: object) -> None:
        raise TimeoutError(f"still running after {seconds:.0f} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def write_file(folder: Path, name: bytes, data: bytes, sub: bytes = b"") -> str:
    """Write a file named ``name`` (bytes) into ``folder``/``sub``; its relative path as a scan names it."""
    where = os.path.join(os.fsencode(folder), sub) if sub else os.fsencode(folder)
    os.makedirs(where, exist_ok=True)
    with open(os.path.join(where, name), "wb") as f:
        f.write(data)
    return os.fsdecode(os.path.join(sub, name) if sub else name)


def reproducer(folder: Path, name: bytes, data: bytes, label: str) -> Path:
    """Keep an input that failed: its bytes in ``folder`` under a short name, with its name and label beside it."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{len(list(folder.glob('*.json'))):04d}"
    (folder / f"{stem}.bin").write_bytes(data)
    (folder / f"{stem}.json").write_text(json.dumps({"name": os.fsdecode(name), "name_bytes": name.hex(),
                                                     "label": label, "size": len(data)}, ensure_ascii=True))
    return folder / f"{stem}.bin"


__all__ = [
    "FAILURES", "MEMORY_BUDGET", "MEMORY_LIMIT", "TIME_BUDGET", "TIME_LIMIT", "Outcome", "Worker", "console_watched",
    "deadline", "isolated",
    "measured", "over_budget", "read_outcome", "reproducer", "scan_outcome", "scan_problems", "utf8_problem",
    "write_file",
]
