"""The Ray executor: the same stage functions on Ray Data, on this machine or on a cluster (see ``dedup.executors``).

Nothing here computes a finding: the stages are the ones the local executor runs, and only how their batches
travel differs.

- ``map``: the jobs become a dataset of at most ``BLOCKS_PER_WORKER`` blocks a worker; ``Dataset.map_batches``
  runs a block at a time as a Ray task, at most ``workers`` at once. What every job needs (``shared``, and the
  stage function) is put in the object store once (``ray.put``) and fetched once by each worker process
  (``fetched``): Ray reuses its worker processes for tasks, so a process imports dedup and loads its compiled
  kernels once for all stages, where a pool of actors for each stage started new processes every stage. A
  scan's signed documents (``SignedDocuments``), which several stages share, are put once for all of them
  (a serializer of Ray's, ``_sent_once``) and unpickled once a process (``documents_of``). A result that packs
  into arrays (``pack()``/``unpack()``) is pickled as those arrays (a few large buffers, not many small
  objects). An exception a job raises comes back as it was raised, as with the local executor. Results are
  yielded in the order of the jobs, as they come. A task whose worker dies is run again (Ray Data's default
  for its tasks: ``max_retries=-1``).
- ``group_by_key``: the LSH band shuffle. Records are hashed into ``P`` shards by key (never one group per key:
  the overhead of a group is large), ``groupby("shard", num_partitions=P).map_groups`` sorts each shard by key,
  then value, and each shard comes back whole, as one row. The shuffle is Ray Data's sort-based one (pull-based):
  its default hash shuffle starts aggregator actors for every shuffle, which took 7-24 s a shuffle of 200,000
  records on a loaded 2-core machine where the sort-based one took 0.4 s.
- ``beside``: the function runs as a Ray task.

Ray is imported when a ``RayExecutor`` is made, not before: ``import dedup`` does not need it. Without an
``address`` a Ray is started on this machine (and shut down by ``close``); with one, the executor connects to
that cluster (``"auto"``: the one this machine belongs to) and leaves it running. A Ray already started in this
process (``ray.init`` by the caller) is used as it is. Worker processes run with ``NUMBA_NUM_THREADS=1``: each
task is one core's worth of work.
"""

from __future__ import annotations

import logging
import os
import pickle
import socket
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import numpy as np

from dedup.errors import EngineError
from dedup.sign import SignedDocuments

#: What every worker process of ours runs with (one thread each: Ray runs as many workers as there are cores).
WORKER_ENV = {"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
#: CPUs a task of ours asks Ray for: a whole one, so that Ray runs no more of them on a node than it has cores and
#: keeps as few worker processes (with half a CPU each, Ray started twice as many processes, each importing dedup
#: and loading its kernels: 100k documents only took 71 s instead of 59 s on 2 cores).
TASK_CPUS = 1.0
#: Blocks of jobs ``map`` makes a worker at most (a block is a Ray task, each costs ~0.1 s on 2 cores: 100k documents
#: only took 54 s with 3, 60 s with 8).
BLOCKS_PER_WORKER = 3
#: Shards of ``group_by_key`` a worker (3.2 M records on 2 workers: 1.5-1.8 s in 4 shards, 1.1-1.3 s in 16 or 32).
SHARDS_PER_WORKER = 8
#: Records per shard of ``group_by_key`` at most, about (a shard comes back as one row: under 2 GB of Arrow binary).
SHARD_RECORDS = 4_000_000
#: Blocks the records of ``group_by_key`` are cut into at least, so that the shuffle moves data between tasks.
MIN_BLOCKS = 4
#: The message when Ray is not installed.
INSTALL_HINT = "the Ray engine needs Ray Data: pip install 'dedup[ray]'"


def import_ray() -> Any:
    """The ``ray`` module, with ``ray.data``; an ``EngineError`` saying how to install it when it is missing."""
    try:
        import ray
        import ray.data  # noqa: F401 - (the extra: ray[data])
    except ImportError as err:
        raise EngineError(f"{INSTALL_HINT} ({err})") from None
    return ray


class RayExecutor:
    """Runs stages on Ray Data: ``workers`` tasks at once (0: one per CPU of the cluster).

    ``address``: a Ray cluster to connect to (``ray://…``, ``host:port`` or ``"auto"``); None: start Ray on this
    machine with ``num_cpus`` logical CPUs (default: the cores) and ``object_store_memory`` bytes (default: Ray's).
    ``task_cpus``: what each task asks for (``TASK_CPUS``). ``shards``: shards of ``group_by_key``
    (0: ``SHARDS_PER_WORKER`` a worker, more for many records). Use it as a context manager, or call ``close``.
    """

    def __init__(
        self,
        *,
        address: str | None = None,
        workers: int = 0,
        num_cpus: int | None = None,
        object_store_memory: int | None = None,
        task_cpus: float = TASK_CPUS,
        shards: int = 0,
    ) -> None:
        ray = import_ray()
        self.started = False
        if not ray.is_initialized():
            options: dict[str, Any] = {"runtime_env": {"env_vars": dict(WORKER_ENV)}, "logging_level": "WARNING"}
            try:
                if address:
                    reachable(address)
                    ray.init(address=address, **options)
                else:
                    ray.init(
                        num_cpus=num_cpus or os.cpu_count() or 1, object_store_memory=object_store_memory,
                        include_dashboard=False, **options,
                    )
            except (ConnectionError, TimeoutError, RuntimeError, ValueError) as err:
                raise EngineError(f"cannot start or reach Ray{f' at {address}' if address else ''}: {err}") from None
            self.started = True
            ray.data.DataContext.get_current().enable_progress_bars = False  # (the CLI shows its own)
            logging.getLogger("ray.data").setLevel(logging.WARNING)  # not a line on stderr per dataset run
            logging.getLogger("ray.data._internal.progress").setLevel(logging.ERROR)  # ("progress bars disabled")
        self.workers = workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        self.task_cpus = task_cpus
        self.shards = shards
        self._documents: tuple[object, Any] | None = None  # the signed documents last sent, and their ref
        ray.util.register_serializer(SignedDocuments, serializer=self._sent_once, deserializer=documents_of)

    def close(self) -> None:
        """Shut Ray down if this executor started it (a cluster connected to, or a Ray started by the caller, is left
        running)."""
        ray = import_ray()
        self._documents = None
        if ray.is_initialized():
            ray.util.deregister_serializer(SignedDocuments)
        if self.started:
            ray.shutdown()
            self.started = False

    def _sent_once(self, documents: SignedDocuments) -> Any:
        """How a scan's signed documents travel within a stage's shared data (a serializer of Ray's): a ref to them,
        put once however many stages send them (aligning, boilerplate, judging share the same documents). The last
        documents sent stay in the object store until others are sent or the executor is closed."""
        if self._documents is None or self._documents[0] is not documents:
            ray = import_ray()
            self._documents = (documents, ray.put(pickle.dumps(documents, protocol=5)))
        return self._documents[1]

    def __enter__(self) -> RayExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def map(self, fn: Callable[[Any, Any], Any], jobs: Sequence, *, shared: object = None) -> Iterator:
        """``fn(shared, job)`` for each job in up to ``workers`` tasks at once (a single job: here); the results in
        the order of the jobs, as they come."""
        if len(jobs) < 2:  # (as the local executor: one job is not worth sending)
            yield from (fn(shared, job) for job in jobs)
            return
        ray = import_ray()
        common = ray.put((fn, shared))  # once; each worker process fetches it once (``fetched``)
        rows = [{"k": k, "job": pickle.dumps(job, protocol=5)} for k, job in enumerate(jobs)]
        blocks = min(len(rows), BLOCKS_PER_WORKER * self.workers)  # (a task a block: each task costs)
        results = ray.data.from_items(rows, override_num_blocks=blocks).map_batches(
            run_jobs,
            fn_kwargs={"common": [common]},  # (in a list: the task fetches it, not Ray Data)
            batch_size=None,
            batch_format="numpy",
            concurrency=min(self.workers, len(jobs)),
            num_cpus=self.task_cpus,
            runtime_env={"env_vars": dict(WORKER_ENV)},
        )
        waiting: dict[int, bytes] = {}
        k = 0
        for batch in results.iter_batches(batch_size=None, batch_format="numpy"):
            waiting.update(zip(batch["k"].tolist(), batch["result"]))
            while k in waiting:
                yield received(waiting.pop(k))
                k += 1
        if k != len(jobs):  # (cannot be: Ray Data retries a job until it is done, or fails)
            raise RuntimeError(f"{len(jobs) - k} jobs came back without a result")

    @contextmanager
    def beside(self, fn: Callable[..., Any], *args: object) -> Iterator[Callable[[], Any]]:
        """Run ``fn(*args)`` as a Ray task while the body runs; yields a function that waits for its result."""
        ray = import_ray()
        task = ray.remote(num_cpus=self.task_cpus, runtime_env={"env_vars": dict(WORKER_ENV)})(call)
        ref = task.remote(fn, args)
        # (a body that fails leaves the task to end on its own: in Ray 2.60, cancelling a task as its reply comes
        # back aborts this process, "Check failed: it != submissible_tasks_.end()" in task_manager.cc)
        yield lambda: received(ray.get(ref))

    def group_by_key(self, keys: np.ndarray, values: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """The records hashed into shards by key, each shard sorted by key, then value (every key's records in one
        shard), through Ray Data's hash shuffle; shards in no particular order."""
        if len(keys) == 0:
            return
        ray = import_ray()
        import pyarrow as pa

        keys, values = np.asarray(keys), np.asarray(values)
        shards = self.shards or max(SHARDS_PER_WORKER * self.workers, -(-len(keys) // SHARD_RECORDS))
        table = pa.table({"shard": shard_of(keys, shards), "key": keys, "value": values})
        blocks = max(MIN_BLOCKS, self.workers)
        step = -(-len(keys) // blocks)
        parts = [table.slice(a, step) for a in range(0, len(keys), step)]
        source = ray.data.from_arrow(parts)
        source.context.shuffle_strategy = "sort_shuffle_pull_based"  # (this dataset's: see the module's docstring)
        grouped = source.groupby("shard", num_partitions=shards).map_groups(
            sorted_shard, batch_format="numpy", num_cpus=self.task_cpus
        )
        kinds = (keys.dtype.str, values.dtype.str)
        for batch in grouped.iter_batches(batch_size=None, batch_format="numpy"):
            for k, v in zip(batch["keys"], batch["values"]):
                yield np.frombuffer(k, dtype=kinds[0]), np.frombuffer(v, dtype=kinds[1])


def reachable(address: str, timeout: float = 5.0) -> None:
    """``EngineError`` when nothing answers at a ``host:port`` (or ``ray://host:port``) address: ``ray.init`` would
    wait minutes for it. Other addresses (``auto``) are left to Ray."""
    host, sep, port = address.removeprefix("ray://").rpartition(":")
    if not sep or not port.isdigit():
        return
    try:
        socket.create_connection((host or "127.0.0.1", int(port)), timeout=timeout).close()
    except OSError as err:
        raise EngineError(f"cannot reach Ray at {address}: {err.strerror or err}") from None


def shard_of(keys: np.ndarray, shards: int) -> np.ndarray:
    """The shard of each key: its top bits after a multiplicative hash (keys that are not hashes spread too)."""
    mixed = keys.astype(np.uint64, copy=False) * np.uint64(0x9E3779B97F4A7C15)
    return ((mixed >> np.uint64(32)) % np.uint64(shards)).astype(np.int32)


def sorted_shard(batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """One shard's records sorted by key, then value, as one row (``map_groups`` of ``group_by_key``)."""
    order = np.lexsort((batch["value"], batch["key"]))
    keys, values = np.ascontiguousarray(batch["key"][order]), np.ascontiguousarray(batch["value"][order])
    out = np.empty(1, dtype=object), np.empty(1, dtype=object)
    out[0][0], out[1][0] = keys.tobytes(), values.tobytes()
    return {"shard": batch["shard"][:1], "keys": out[0], "values": out[1]}


def run_jobs(batch: dict[str, np.ndarray], common: list) -> dict[str, np.ndarray]:
    """Run a block of ``map``'s jobs (a Ray Data task): the stage function and what it shares, fetched once by each
    worker process (``fetched``), on each job."""
    fn, shared = fetched(common[0])
    out = np.empty(len(batch["k"]), dtype=object)
    for n, job in enumerate(batch["job"]):
        out[n] = sendable(lambda: fn(shared, pickle.loads(job)))
    return {"k": batch["k"], "result": out}


@lru_cache(maxsize=1)
def fetched(ref: Any) -> Any:
    """What ``ref`` holds (``ray.get``), kept for the next jobs of the same ``map`` this worker process runs, as an
    actor keeps its state: Ray reuses a worker process for many tasks, so the stage function's modules are imported
    and what it shares is fetched once a process, not once a job (nor once a stage, as a pool of new actors would:
    each is a process that imports dedup, seconds a stage)."""
    import ray

    return ray.get(ref)


@lru_cache(maxsize=1)
def documents_of(ref: Any) -> SignedDocuments:
    """The signed documents ``_sent_once`` sent (unpickled once a worker process, for all the stages that share them)."""
    import ray

    return pickle.loads(ray.get(ref))


def call(fn: Callable[..., Any], args: tuple) -> bytes:
    """``fn(*args)`` as ``beside`` sends it back."""
    return sendable(lambda: fn(*args))


def sendable(run: Callable[[], Any]) -> bytes:
    """What ``run()`` gives, as bytes to send back: a result that packs into arrays as those arrays; an exception it
    raises as itself (or, if it does not pickle, a ``RuntimeError`` telling what it was)."""
    try:
        result = run()
    except Exception as exc:  # noqa: BLE001 - raised again where the result is received
        try:
            return pickle.dumps(("error", exc), protocol=5)
        except Exception:
            return pickle.dumps(("error", RuntimeError(f"{type(exc).__name__}: {exc}")), protocol=5)
    if hasattr(result, "pack") and hasattr(type(result), "unpack"):
        groups, rest = result.pack()
        return pickle.dumps(("packed", type(result), groups, rest), protocol=5)
    return pickle.dumps(("plain", result), protocol=5)


def received(payload: bytes) -> Any:
    """The result ``sendable`` made bytes of (its exception raised)."""
    kind, *parts = pickle.loads(payload)
    if kind == "error":
        raise parts[0]
    if kind == "packed":
        cls, groups, rest = parts
        return cls.unpack(groups, rest)
    return parts[0]


__all__ = ["RayExecutor", "import_ray"]
