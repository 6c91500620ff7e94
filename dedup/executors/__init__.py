"""Executors: what runs the stages, and how many processes do it.

A stage (``dedup.sign``, ``dedup.candidates``, ``dedup.match``, ``dedup.index`` …) is a plain function
of a batch of records and its config; it never forks, never reads a global and never knows how
many processes run it. The pipeline hands the batches to an executor. An executor offers:

``map(fn, jobs, *, shared=None) -> Iterator``
    ``fn(shared, job)`` for each job, the results in the order of the jobs. ``shared`` is what
    every call needs (a batch of documents, a config): the executor gets it to wherever the jobs run
    (the local executor: inherited by its forked processes, never pickled; a Ray executor: put in
    the object store once). Jobs and results travel between processes; a result whose class has
    ``pack() -> (groups of arrays, rest)`` and ``unpack(groups, rest)`` may travel as arrays in
    shared memory.

``beside(fn, *args)``
    A context manager: ``fn(*args)`` runs elsewhere while the caller goes on; it yields a function
    that waits for the result.

``group_by_key(keys, values) -> Iterator[(keys, values)]``
    The shuffle: records grouped by key, as shards sorted by key (then value) with all of a key's
    records in one shard (the LSH band shuffle of ``dedup.candidates.banded_candidates``). The local
    executor sorts them in one shard; a Ray executor hashes keys into shards
    (``groupby(shard).map_groups``).

``workers``
    How many processes (or actors) run jobs at once.

``LocalExecutor`` (``dedup.executors.local``) runs them on this machine: a pool of forked processes,
or this process alone with one worker or where there is no fork. ``RayExecutor`` (``dedup.executors.ray``)
runs them on Ray Data, on this machine or a cluster (Ray is imported when one is made). ``open_executor``
gives either by the name of its engine.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol

import numpy as np

from dedup.errors import ConfigError
from dedup.executors.local import LocalExecutor
from dedup.executors.ray import RayExecutor

#: The engines ``open_executor`` knows: this machine's processes, or Ray.
ENGINES = ("local", "ray")


class Executor(Protocol):
    """The interface of an executor (see the module's docstring)."""

    workers: int

    def map(self, fn: Callable[[Any, Any], Any], jobs: Sequence, *, shared: object = None) -> Iterator: ...

    def beside(self, fn: Callable[..., Any], *args: object) -> AbstractContextManager[Callable[[], Any]]: ...

    def group_by_key(self, keys: np.ndarray, values: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]: ...


@contextmanager
def open_executor(engine: str = "local", *, address: str | None = None, workers: int = 0) -> Iterator[Executor]:
    """An executor of ``engine`` for the block: ``local`` (``workers`` processes), or ``ray`` (``workers`` actors on
    the Ray cluster at ``address``, or on a Ray started here and shut down at the end). ``ConfigError`` for another
    engine, or an address without Ray; ``EngineError`` when Ray is not installed or cannot be reached."""
    if engine == "local":
        if address:
            raise ConfigError("--address is the address of a Ray cluster: give it with --engine ray")
        yield LocalExecutor(workers)
    elif engine == "ray":
        with RayExecutor(address=address, workers=workers) as executor:
            yield executor
    else:
        raise ConfigError(f"unknown engine {engine!r}: one of {', '.join(ENGINES)}")


__all__ = ["ENGINES", "Executor", "LocalExecutor", "RayExecutor", "open_executor"]
