"""The local executor: stages run in a pool of forked processes on this machine (see ``dedup.executors``).

What every job needs (``shared``: the documents of a scan, a config) reaches the processes as an
argument of the forked process: inherited with its memory, never pickled. Only the jobs and the
results travel, through a pipe per process. A result that can be packed into arrays
(``pack()``/``unpack()``) travels as those arrays in a shared-memory segment of its own, mapped by
the receiving process, where ``/dev/shm`` has room for it: ~15 KB of arrays a document cost more
through a pipe than computing them does.

Nothing outlives the work: the processes are joined when a map ends (or is dropped), and the segments
are the pool's own files (no ``multiprocessing`` resource tracker, a process that would outlive the
command): named after the pool, so that the pool removes what a killed worker left and the workers
remove what a killed parent left.

With one worker, or where there is no fork, everything runs in this process.
"""

from __future__ import annotations

import gc
import mmap
import multiprocessing as mp
import os
import pickle
import secrets
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

import numpy as np

from dedup.executors.segments import SEGMENT_PREFIX, SHM, Layout, in_memory, remove, share, sweep, unshare
from dedup.sort_kernels import sorted_groups

#: Jobs handed to a process before its first result is back.
_AHEAD = 2


class WorkerError(RuntimeError):
    """A worker process ended without returning its job's result (killed, or out of memory)."""


class LocalExecutor:
    """Runs stages on this machine: ``workers`` forked processes (0: one per CPU core), or this process alone.

    ``shm``: the folder kept in memory where shared-memory segments are made, for results that pack into arrays
    (None, or a folder not in memory: such results go through the pipe too).
    """

    def __init__(self, workers: int = 0, *, shm: Path | None = SHM) -> None:
        self.workers = workers or os.cpu_count() or 1
        self.shm = shm

    @property
    def forks(self) -> bool:
        """Whether jobs run in other processes."""
        return self.workers >= 2 and "fork" in mp.get_all_start_methods()

    def map(self, fn: Callable[[Any, Any], Any], jobs: Sequence, *, shared: object = None) -> Iterator:
        """``fn(shared, job)`` for each job, in order; in up to ``workers`` forked processes when there are
        several jobs."""
        if not self.forks or len(jobs) < 2:
            yield from (fn(shared, job) for job in jobs)
            return
        pool = _Pool(fn, shared, jobs, min(self.workers, len(jobs)), self.shm)
        try:
            yield from pool.results_in_order()
        finally:
            pool.close()

    @contextmanager
    def beside(self, fn: Callable[..., Any], *args: object) -> Iterator[Callable[[], Any]]:
        """Run ``fn(*args)`` in a forked process while the body runs; yields a function that waits for its result.
        With one worker, or where there is no fork, ``fn`` runs in this process when its result is asked for."""
        if not self.forks:
            yield lambda: fn(*args)
            return
        pool = _Pool(_call, (fn, args), [None], 1, self.shm)  # the job runs from now on
        try:
            results = pool.results_in_order()
            yield lambda: next(results)
        finally:
            pool.close()

    def group_by_key(self, keys: np.ndarray, values: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """The records sorted by key, then value, a part of the key space a shard (``sorted_groups``), the parts
        sorted in ``workers`` threads."""
        return sorted_groups(keys, values, threads=self.workers)


def _call(call: tuple[Callable, tuple], _: object) -> object:
    fn, args = call
    return fn(*args)


class _Pool:
    """Forked processes running ``fn(shared, jobs[k])``: the jobs are inherited with ``shared``, so only their
    numbers go to the processes (never enough to fill a pipe), and the results come back, through a pipe each."""

    def __init__(self, fn: Callable, shared: object, jobs: Sequence, processes: int, shm: Path | None) -> None:
        ctx = mp.get_context("fork")
        self.jobs = jobs
        self.shm = shm if shm is not None and in_memory(shm) else None
        self.prefix = f"{SEGMENT_PREFIX}{os.getpid()}-{secrets.token_hex(4)}-"  # the segments of this pool
        self.orders: list[Connection] = []
        self.results: list[Connection] = []
        self.procs = []
        self._sent = 0
        self._busy: list[list[int]] = []  # jobs handed to each process, in order
        self._done: dict[int, tuple[bool, object]] = {}  # results received, not yet yielded
        self._stop = mmap.mmap(-1, 1)  # (shared with the processes) set: take no more jobs
        # the objects the processes inherit are frozen there (``gc.freeze``): never collected in them, so no finalizer of
        # this process's objects runs there (one of another library's, e.g. a Ray reference, may wait on a lock that
        # a thread of this process held when it forked), and gc writes to no inherited page (less copy-on-write)
        gc.freeze()
        try:
            for _ in range(processes):
                order_reader, order_writer = ctx.Pipe(duplex=False)
                result_reader, result_writer = ctx.Pipe(duplex=False)
                # the process closes its copies of this process's ends, so that it sees the end of its orders
                # (and cannot block on a full pipe no one reads) when this process dies
                ends = (*self.orders, *self.results, order_writer, result_reader)
                args = (fn, shared, jobs, order_reader, result_writer, (self.shm, self.prefix), self._stop, ends)
                proc = ctx.Process(target=_work, args=args, daemon=True)
                proc.start()
                order_reader.close()
                result_writer.close()
                self.orders.append(order_writer)
                self.results.append(result_reader)
                self.procs.append(proc)
                self._busy.append([])
            self._top_up(0)
        except BaseException:
            self.close()
            raise
        finally:
            gc.unfreeze()

    def _top_up(self, k: int) -> None:
        """Hand out the next jobs until each process has ``_AHEAD`` (its next job waits while it works), or the
        results kept waiting for job ``k`` would be too many."""
        for _ in range(_AHEAD):
            for w in range(len(self.procs)):
                if len(self._busy[w]) < _AHEAD and self._sent < len(self.jobs) and self._sent - k < 4 * _AHEAD * len(self.procs):
                    try:
                        self.orders[w].send(self._sent)
                    except OSError:  # it ended while it had no job (e.g. killed for memory)
                        raise WorkerError(self._ended(w)) from None
                    self._busy[w].append(self._sent)
                    self._sent += 1

    def results_in_order(self) -> Iterator:
        """The results of the jobs, in order."""
        done = self._done
        for k in range(len(self.jobs)):
            while k not in done:
                self._top_up(k)  # (every process: one that is left without a job would never get another)
                w, index, ok, payload = self._receive()
                done[index] = (ok, payload)
            ok, payload = done.pop(k)
            if not ok:
                raise payload  # type: ignore[misc]
            yield _received(payload, self.shm)

    def _receive(self) -> tuple[int, int, bool, object]:
        """The next result any process sends: ``(process, job, ok, payload)``."""
        waiting = {self.results[w]: w for w in range(len(self.procs)) if self._busy[w]}
        if not waiting:  # cannot be: the next result to yield was sent and has not come back
            raise RuntimeError("no job is running, yet results are missing")
        sentinels = {self.procs[w].sentinel: w for w in waiting.values()}
        while True:
            ready = wait([*waiting, *sentinels])
            for c in ready:
                if c in waiting:
                    w = waiting[c]
                    try:
                        index, ok, payload = c.recv()
                    except EOFError:
                        raise WorkerError(self._ended(w)) from None
                    self._busy[w].remove(index)
                    return w, index, ok, payload
            for c in ready:  # only ended processes: whatever they sent before is read on the next pass
                w = sentinels[c]
                if not self.results[w].poll():
                    raise WorkerError(self._ended(w))

    def _ended(self, w: int) -> str:
        self.procs[w].join(timeout=1)
        return f"a worker process ended (exit code {self.procs[w].exitcode}) before its job was done"

    def close(self) -> None:
        """Stop the processes: they take no more jobs, and the results that were not yielded are read (so that no
        process stays blocked writing one) and dropped, their shared-memory segments removed, until each process
        has ended (after the job it is running, if any)."""
        self._stop[0] = 1
        for c in self.orders:
            try:
                c.send(None)
            except OSError:  # (the process has ended)
                pass
            c.close()
        for proc, c in zip(self.procs, self.results):
            while True:
                try:
                    _, ok, payload = c.recv()
                except EOFError:  # the process has ended
                    break
                except Exception:  # (a message cut short by an interruption: the rest cannot be read)
                    proc.terminate()
                    break
                if ok:
                    _discard(payload, self.shm)
            c.close()
        for ok, payload in self._done.values():
            if ok:
                _discard(payload, self.shm)
        self._done.clear()
        for proc in self.procs:
            proc.join()
        sweep(self.shm, self.prefix)  # what a killed worker left: segments no message names


def _work(
    fn: Callable, shared: object, jobs: Sequence, orders: Connection, results: Connection,
    segments: tuple[Path | None, str], stop: mmap.mmap, parent_ends: Sequence[Connection],
) -> None:
    """A worker process: ``fn(shared, jobs[k])`` for each job number ``k`` received, until told to stop (``None``,
    ``stop`` set, or the end of its orders). ``segments``: where its results' segments are made, and their prefix
    (the pool's); when the parent has ended, the segments of its results that no one will read are removed."""
    for c in parent_ends:
        c.close()
    shm, prefix = segments
    parent = os.getppid()
    while True:
        try:
            index = orders.recv()
        except EOFError:  # the parent has ended (it says ``None`` before it closes its end)
            _orphaned(parent, shm, prefix)
            return
        if index is None or stop[0]:
            return
        try:
            out: tuple = (index, True, _sendable(fn(shared, jobs[index]), shm, prefix))
        except BaseException as exc:  # noqa: BLE001 - the caller re-raises it
            out = (index, False, _picklable(exc))
        try:
            results.send(out)
        except BrokenPipeError:  # the parent has ended
            if out[1]:
                _discard(out[2], shm)
            _orphaned(parent, shm, prefix)
            return
        except Exception as exc:  # the result does not pickle
            if out[1]:
                _discard(out[2], shm)
            results.send((index, False, _picklable(exc)))


def _orphaned(parent: int, shm: Path | None, prefix: str) -> None:
    """Remove the pool's segments once its process has ended (the results it was sent will never be read): the
    end of a pipe comes as the process ends, a moment before its children are handed to another parent."""
    for _ in range(200):
        if os.getppid() != parent:
            sweep(shm, prefix)
            return
        time.sleep(0.01)


def _picklable(exc: BaseException) -> BaseException:
    """``exc`` if it comes back whole through a pickle, else a ``RuntimeError`` that tells what and where it was."""
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}\n{''.join(traceback.format_exception(exc))}")


@dataclass(frozen=True)
class _Packed:
    """A result as its arrays in shared-memory segments (name and layout of each group) and the rest."""

    kind: type
    segments: tuple[tuple[str, Layout], ...]
    rest: object


def _sendable(result: object, shm: Path | None, prefix: str) -> object:
    """The result as it goes back: packed into shared memory where it packs and there is room, else itself."""
    if shm is None or not hasattr(result, "pack") or not hasattr(type(result), "unpack"):
        return result
    groups, rest = result.pack()  # type: ignore[attr-defined]
    segments: list[tuple[str, Layout]] = []
    try:
        for arrays in groups:
            segment = share(arrays, shm, prefix=prefix)
            if segment is None:  # no room: all in the pickle
                _discard(_Packed(type(result), tuple(segments), rest), shm)
                return result
            segments.append(segment)
    except BaseException:
        _discard(_Packed(type(result), tuple(segments), rest), shm)
        raise
    return _Packed(type(result), tuple(segments), rest)


def _received(payload: object, shm: Path | None) -> object:
    if isinstance(payload, _Packed) and shm is not None:
        groups = [tuple(unshare(name, layout, shm)) for name, layout in payload.segments]
        return payload.kind.unpack(groups, payload.rest)
    return payload


def _discard(payload: object, shm: Path | None) -> None:
    """Remove the shared-memory segments of a result that will not be unpacked."""
    if isinstance(payload, _Packed) and shm is not None:
        for name, _ in payload.segments:
            remove(name, shm, missing_ok=True)  # (a sweep may have removed it)


__all__ = ["SHM", "LocalExecutor", "WorkerError", "share", "unshare"]
