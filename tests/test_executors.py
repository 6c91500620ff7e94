"""The local executor (``dedup.executors.local``): forked processes of its own, through public names only.

Every test that forks is bounded by a deadline (SIGALRM), so that a pool that hangs fails instead.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pytest

from dedup import LocalExecutor
from dedup.executors.local import SHM, WorkerError, share, unshare
from dedup.executors.segments import SEGMENT_PREFIX, in_memory

pytestmark = pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="no fork here")


@contextmanager
def deadline(seconds: int) -> Iterator[None]:
    """Fail with ``TimeoutError`` when the block runs longer than ``seconds``."""

    def expired(signum: int, frame: object) -> None:
        signal.alarm(5)  # again, should the clean-up the error starts hang too
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def segments() -> set[str]:
    """The shared-memory segments there are now (files of /dev/shm)."""
    return set(os.listdir(SHM)) if SHM.is_dir() else set()


def assert_no_segment_left(before: set[str]) -> None:
    """No segment made since ``before`` is left (others' runs may hold a segment for a moment: waited out)."""
    for _ in range(40):
        left = segments() - before
        if not left:
            return
        time.sleep(0.05)
    raise AssertionError(f"shared-memory segments left: {sorted(left)}")


def assert_no_child_alive(pids: set[int] = frozenset()) -> None:
    assert multiprocessing.active_children() == []
    for pid in pids:
        assert not Path(f"/proc/{pid}").exists()  # ended and reaped


def running(pid: int) -> bool:
    """Whether process ``pid`` exists and has not ended (an ended one may stay a zombie where no init reaps it)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


@pytest.fixture(autouse=True)
def no_leaks():
    """After each test: no worker process alive, no shared-memory segment left."""
    before = segments()
    yield
    assert_no_child_alive()
    assert_no_segment_left(before)


# --- jobs (module level: an exception or a result comes back by pickle, which names its class) ---


class JobError(Exception):
    pass


def slow_square(delays: list[float], k: int) -> tuple[int, int]:
    time.sleep(delays[k])
    return k, k * k


@dataclass(eq=False)
class Arrays:
    """A result that packs into arrays (two groups of them, as ``dedup.build.IndexedChunk`` does)."""

    matrix: np.ndarray
    ids: np.ndarray
    texts: np.ndarray
    label: str
    unpacked: bool = False  # made by ``unpack``: the arrays came in shared memory

    def pack(self) -> tuple[tuple[tuple[np.ndarray, ...], ...], str]:
        return ((self.matrix, self.ids), (self.texts,)), self.label

    @classmethod
    def unpack(cls, groups, rest: str) -> Arrays:
        (matrix, ids), (texts,) = groups
        return cls(matrix, ids, texts, rest, unpacked=True)


def arrays(size: int, k: int) -> Arrays:
    rng = np.random.default_rng(k)
    return Arrays(
        matrix=rng.random((k % 5, 3), dtype=np.float32),  # 2-D, and empty for k % 5 == 0
        ids=rng.integers(0, 2**63, size, dtype=np.uint64),
        texts=np.frombuffer(f"text {k} ".encode() * (k + 1), dtype=np.uint8),
        label=f"job {k}",
    )


def assert_same_arrays(got: Arrays, expected: Arrays) -> None:
    assert got.label == expected.label
    for a, b in ((got.matrix, expected.matrix), (got.ids, expected.ids), (got.texts, expected.texts)):
        assert a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)


# --- map ---


def test_map_gives_the_results_in_the_order_of_the_jobs_whatever_they_take():
    rng = np.random.default_rng(7)
    delays = [float(x) for x in rng.choice([0.0, 0.002, 0.03], size=40)]
    expected = [(k, k * k) for k in range(40)]
    assert list(LocalExecutor(1).map(slow_square, range(40), shared=delays)) == expected
    with deadline(30):
        assert list(LocalExecutor(2).map(slow_square, range(40), shared=delays)) == expected
        assert list(LocalExecutor(3).map(slow_square, range(40), shared=delays)) == expected


def test_a_worker_left_without_jobs_while_another_runs_long_ones_does_not_stop_the_map():
    """Two workers; jobs 0 and 2 (the first worker's) and 15 long: the other worker runs ahead up to the limit of
    results kept waiting, and each must still be handed jobs afterwards (this order once ended in "no job is
    running, yet results are missing")."""
    delays = [0.2 if k in (0, 2, 15) else 0.01 for k in range(19)]
    with deadline(30):
        for _ in range(3):
            assert list(LocalExecutor(2).map(slow_square, range(19), shared=delays)) == [(k, k * k) for k in range(19)]


class Unpicklable:
    """What a job may need that cannot be pickled: a lock, a lambda, and a ``__reduce__`` that refuses."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.scale = lambda x: 3 * x

    def __reduce__(self):
        raise AssertionError("shared was pickled")


def test_shared_reaches_the_processes_without_being_pickled():
    shared = Unpicklable()
    with pytest.raises(AssertionError):
        pickle.dumps(shared)

    def job(s: Unpicklable, k: int) -> tuple[int, int]:  # a local function: not picklable either
        with s.lock:
            return os.getpid(), s.scale(k)

    with deadline(30):
        out = list(LocalExecutor(2).map(job, range(10), shared=shared))
    assert [x for _, x in out] == [3 * k for k in range(10)]
    assert os.getpid() not in {pid for pid, _ in out}


class _Finalized:
    """In a reference cycle (garbage only a collection frees), it says in which processes it was finalized."""

    def __init__(self, path: Path) -> None:
        self.path, self.cycle = path, self

    def __del__(self) -> None:
        with open(self.path, "a", encoding="ascii") as f:
            f.write(f"{os.getpid()}\n")


def test_no_finalizer_of_this_process_runs_in_the_workers(tmp_path: Path):
    """Garbage of this process (e.g. a Ray reference, whose finalizer takes a lock another thread may have held when
    the workers forked) is never collected in them."""
    import gc

    def job(_: object, k: int) -> int:
        gc.collect()
        return os.getpid()

    gc.disable()
    try:
        _Finalized(tmp_path / "finalized.txt")  # (garbage now)
        with deadline(30):
            workers = set(LocalExecutor(2).map(job, range(4)))
    finally:
        gc.enable()
    gc.collect()
    assert (tmp_path / "finalized.txt").read_text().split() == [str(os.getpid())] and os.getpid() not in workers


def fail_at_three(_: object, k: int) -> int:
    if k == 3:
        raise JobError(f"job {k} failed")
    return k


def test_an_exception_in_a_job_is_raised_in_the_caller_with_its_type():
    for workers in (1, 2):
        seen = []
        with deadline(30), pytest.raises(JobError, match="job 3 failed"):
            for x in LocalExecutor(workers).map(fail_at_three, range(10)):
                seen.append(x)
        assert seen == [0, 1, 2]  # the results before it, in order


def test_an_exception_that_does_not_pickle_comes_back_as_a_runtime_error_naming_it():
    class LocalError(Exception):  # a local class: pickle cannot name it
        pass

    def job(_: object, k: int) -> int:
        if k == 1:
            raise LocalError("cannot travel")
        return k

    with pytest.raises((pickle.PicklingError, AttributeError)):
        pickle.dumps(LocalError("x"))
    with deadline(30), pytest.raises(RuntimeError, match="LocalError: cannot travel"):
        list(LocalExecutor(2).map(job, range(4)))


def test_a_result_that_does_not_pickle_is_an_error_in_the_caller():
    def job(_: object, k: int) -> object:
        return lambda: k

    with deadline(30), pytest.raises((pickle.PicklingError, AttributeError, TypeError)):
        list(LocalExecutor(2).map(job, range(4)))


def test_a_worker_killed_in_a_job_raises_worker_error_instead_of_hanging():
    def job(_: object, k: int) -> int:
        if k == 5:
            os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(0.01)
        return k

    with deadline(20), pytest.raises(WorkerError, match="exit code -9"):
        list(LocalExecutor(2).map(job, range(20)))


def test_a_worker_killed_while_it_has_no_job_raises_worker_error(tmp_path: Path):
    """Job 0 runs long in one worker while the other runs ahead up to the limit of results kept waiting, and is left
    without a job; then it is killed (as the kernel kills a process for memory): handing it its next job is a
    ``WorkerError`` too."""

    def job(folder: Path, k: int) -> int:
        if k == 0:
            last = folder / "15"  # the last job handed out before the limit
            for _ in range(500):
                if last.exists():
                    break
                time.sleep(0.01)
            time.sleep(0.2)  # its worker now has no job
            other = int(last.read_text())
            os.kill(other, signal.SIGKILL)
            while running(other):  # (until it has closed its end of its orders)
                time.sleep(0.01)
        else:
            (folder / f"{k}.tmp").write_text(str(os.getpid()))
            (folder / f"{k}.tmp").rename(folder / str(k))
        return k

    with deadline(20), pytest.raises(WorkerError, match="exit code -9"):
        list(LocalExecutor(2).map(job, range(40), shared=tmp_path))


def test_one_worker_runs_in_this_process():
    def job(_: object, k: int) -> int:
        return os.getpid()

    assert set(LocalExecutor(1).map(job, range(5))) == {os.getpid()}
    assert list(LocalExecutor(2).map(job, [0])) == [os.getpid()]  # one job: no process is forked for it
    with deadline(30):
        pids = set(LocalExecutor(2).map(job, range(8)))
    assert os.getpid() not in pids and 1 <= len(pids) <= 2
    assert LocalExecutor().workers == (os.cpu_count() or 1)


def test_stopping_early_leaves_no_process_and_no_segment():
    """Breaking out of the loop, then closing the generator: the processes end promptly, even those blocked writing a
    result too large for their pipe, and the segments of results never yielded are removed."""

    def big(_: object, k: int) -> Arrays:  # in the pipe: 2 MB, more than it holds
        return Arrays(np.zeros((1 << 18, 1)), np.zeros(0, np.uint64), np.zeros(0, np.uint8), label=str(os.getpid()))

    def packed(_: object, k: int) -> Arrays:  # in shared memory
        return replace(arrays(1000, k), label=str(os.getpid()))

    for shm, fn in ((None, big), (SHM, packed)):
        with deadline(20):
            start = time.monotonic()
            results = LocalExecutor(2, shm=shm).map(fn, range(50))
            for first in results:
                break
            results.close()
            assert time.monotonic() - start < 4  # (it took 10 s when a worker blocked writing was waited for 5 s each)
        assert first.unpacked == (shm is not None)
        assert_no_child_alive({int(first.label)})
        with deadline(20):
            for first in LocalExecutor(2, shm=shm).map(fn, range(50)):  # the generator dropped after the loop
                break
        assert_no_child_alive({int(first.label)})


def test_a_failed_job_leaves_no_segment_of_the_results_done_meanwhile():
    def job(_: object, k: int) -> Arrays:
        if k == 2:
            time.sleep(0.2)  # the other worker's results pile up meanwhile
            raise JobError("late failure")
        return arrays(1000, k)

    with deadline(20), pytest.raises(JobError):
        list(LocalExecutor(2).map(job, range(12)))


ORPHAN_SCRIPT = """
import os, time
from dedup import LocalExecutor

def job(_, k):
    time.sleep(0.02)
    return os.getpid()

seen = set()
for pid in LocalExecutor(2).map(job, range(100000)):
    if pid not in seen:
        seen.add(pid)
        print(pid, flush=True)
    if len(seen) == 2:
        time.sleep(60)
"""


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="no /proc")
def test_the_workers_of_a_killed_process_end():
    """The process that runs a map killed (SIGKILL: no clean-up of its own): its workers see the end of their orders
    and end, instead of waiting for orders forever."""
    import subprocess
    import sys

    import dedup

    env = {**os.environ, "PYTHONPATH": str(Path(dedup.__file__).parent.parent)}  # this dedup
    proc = subprocess.Popen([sys.executable, "-c", ORPHAN_SCRIPT], stdout=subprocess.PIPE, text=True, env=env)
    workers: list[int] = []
    try:
        with deadline(30):
            workers = [int(proc.stdout.readline()) for _ in range(2)]
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()
    try:
        for _ in range(100):
            if not any(running(pid) for pid in workers):
                break
            time.sleep(0.05)
        assert not [pid for pid in workers if running(pid)]
    finally:
        for pid in workers:
            if running(pid):
                os.kill(pid, signal.SIGKILL)


# --- results in shared memory ---


def test_results_that_pack_travel_in_shared_memory_and_come_back_whole():
    if not SHM.is_dir():
        pytest.skip("no /dev/shm")
    expected = [arrays(200 * k, k) for k in range(8)]
    with deadline(30):
        got = list(LocalExecutor(2).map(lambda _, k: arrays(200 * k, k), range(8)))
    assert all(g.unpacked for g in got)  # made by ``unpack``: they came as arrays in segments
    for g, e in zip(got, expected):
        assert_same_arrays(g, e)


@pytest.mark.parametrize("shm", [None, "missing", "not-shared-memory"])
def test_without_room_in_shared_memory_results_travel_pickled(tmp_path: Path, shm: str | None):
    """No shared memory (``shm=None``), a folder that does not exist, or a folder whose room says nothing of where
    segments are made (an ordinary folder): the results come back pickled, equal."""
    where = None if shm is None else tmp_path / "missing" if shm == "missing" else tmp_path
    if shm == "not-shared-memory" and in_memory(tmp_path):
        pytest.skip("the temporary folder is in memory here")
    expected = [arrays(200 * k, k) for k in range(6)]
    with deadline(30):
        got = list(LocalExecutor(2, shm=where).map(lambda _, k: arrays(200 * k, k), range(6)))
    assert not any(g.unpacked for g in got)
    for g, e in zip(got, expected):
        assert_same_arrays(g, e)
    assert list(tmp_path.iterdir()) == []  # no segment made in the ordinary folder either


def test_share_and_unshare_read_a_segment_once():
    if not SHM.is_dir():
        pytest.skip("no /dev/shm")
    values = [np.arange(12, dtype=np.int16).reshape(3, 4), np.zeros(0, dtype=np.uint64), np.array([1.5, -2.0])]
    segment = share(values)
    assert segment is not None
    name, layout = segment
    assert name.lstrip("/") in segments()
    back = unshare(name, layout)
    assert name.lstrip("/") not in segments()  # removed once read: the arrays stay, mapped
    for a, b in zip(back, values):
        assert a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)
    with pytest.raises(FileNotFoundError):
        unshare(name, layout)
    assert share(values, Path("/nonexistent/shm")) is None


def test_segments_are_made_only_in_a_folder_kept_in_memory(tmp_path: Path):
    if not SHM.is_dir() or not in_memory(SHM):
        pytest.skip("no /dev/shm in memory here")
    assert in_memory(SHM / "below") and not in_memory(Path("/nonexistent/shm"))
    if not in_memory(tmp_path):
        assert share([np.arange(3)], tmp_path) is None and list(tmp_path.iterdir()) == []
    segment = share([np.zeros(0, np.uint8)], prefix=f"{SEGMENT_PREFIX}test-")  # empty: still a segment to map
    assert segment is not None and segment[0].startswith(f"{SEGMENT_PREFIX}test-")
    assert unshare(*segment)[0].shape == (0,)


@dataclass(eq=False)
class DiesWhilePacking(Arrays):
    """A result whose worker is killed (as for memory) once the first of its segments is made."""

    def pack(self):
        def groups():
            yield (self.matrix, self.ids)
            os.kill(os.getpid(), signal.SIGKILL)
            yield (self.texts,)

        return groups(), self.label


def test_the_segments_of_a_worker_killed_while_it_packs_are_removed():
    if not SHM.is_dir():
        pytest.skip("no /dev/shm")

    def job(_: object, k: int) -> Arrays:
        if k == 3:
            a = arrays(1000, k)
            return DiesWhilePacking(a.matrix, a.ids, a.texts, a.label)
        return arrays(1000, k)

    before = segments()
    with deadline(20), pytest.raises(WorkerError, match="exit code -9"):
        list(LocalExecutor(2).map(job, range(8)))
    assert segments() - before == set()  # (at once: the pool removed them as it closed)


KILLED_WITH_RESULTS_SCRIPT = """
import os, time
import numpy as np
from dedup import LocalExecutor

class Result:
    def __init__(self, ids):
        self.ids = ids
    def pack(self):
        return ((self.ids,),), None
    @classmethod
    def unpack(cls, groups, rest):
        return cls(groups[0][0])

def job(_, k):
    return Result(np.full(1000, os.getpid(), np.int64))

for k, result in enumerate(LocalExecutor(2).map(job, range(100))):
    print(int(result.ids[0]), flush=True)
    time.sleep(60)  # the workers' next results wait, in segments
"""


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="no /proc")
def test_the_segments_of_a_killed_process_are_removed_by_its_workers():
    """The process that runs a map killed while its workers' results wait for it in segments: the workers, as they
    end, remove the segments of that pool."""
    import subprocess
    import sys

    import dedup

    if not SHM.is_dir():
        pytest.skip("no /dev/shm")
    env = {**os.environ, "PYTHONPATH": str(Path(dedup.__file__).parent.parent)}
    proc = subprocess.Popen([sys.executable, "-c", KILLED_WITH_RESULTS_SCRIPT], stdout=subprocess.PIPE, text=True, env=env)
    ours = f"{SEGMENT_PREFIX}{proc.pid}-"
    try:
        with deadline(30):
            worker = int(proc.stdout.readline())
            while not [n for n in segments() if n.startswith(ours)]:  # results waiting
                time.sleep(0.01)
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()
    for _ in range(100):
        if not running(worker) and not [n for n in segments() if n.startswith(ours)]:
            break
        time.sleep(0.05)
    assert [n for n in segments() if n.startswith(ours)] == []


CHILDREN_SCRIPT = """
import os
from pathlib import Path
import numpy as np
from dedup import LocalExecutor

class Result:
    def __init__(self, ids):
        self.ids = ids
    def pack(self):
        return ((self.ids,),), None
    @classmethod
    def unpack(cls, groups, rest):
        return cls(groups[0][0])

got = list(LocalExecutor(2).map(lambda _, k: Result(np.arange(k + 100)), range(20)))
assert [len(r.ids) for r in got] == [k + 100 for k in range(20)]
children = []
for entry in Path("/proc").iterdir():
    try:
        if entry.name.isdigit() and int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == os.getpid():
            children.append((entry / "cmdline").read_bytes().replace(bytes(1), b" ").decode())
    except OSError:
        pass
print(children)
"""


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="no /proc")
def test_a_map_leaves_no_process_behind_it_not_even_a_resource_tracker():
    """Results in shared memory once started multiprocessing's resource tracker, a process that outlived the
    command; a fresh process that ran a map has no child left."""
    import subprocess
    import sys

    import dedup

    env = {**os.environ, "PYTHONPATH": str(Path(dedup.__file__).parent.parent)}
    out = subprocess.run([sys.executable, "-c", CHILDREN_SCRIPT], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


# --- beside ---


def test_beside_runs_while_the_body_runs_and_gives_its_result(tmp_path: Path):
    started = tmp_path / "started"

    def work(path: Path, x: int) -> tuple[int, int]:
        path.touch()
        return os.getpid(), x * 2

    with deadline(20):
        with LocalExecutor(2).beside(work, started, 21) as result:
            while not started.exists():  # it runs before its result is asked for
                time.sleep(0.01)
            pid, value = result()
    assert value == 42 and pid != os.getpid()


def test_beside_with_one_worker_runs_in_this_process_when_asked(tmp_path: Path):
    started = tmp_path / "started"

    def work(path: Path, x: int) -> tuple[int, int]:
        path.touch()
        return os.getpid(), x * 2

    with LocalExecutor(1).beside(work, started, 21) as result:
        time.sleep(0.05)
        assert not started.exists()
        assert result() == (os.getpid(), 42)


def test_beside_raises_its_exception_when_asked_and_ends_when_not_asked():
    def fail() -> None:
        raise JobError("beside failed")

    with deadline(20):
        with pytest.raises(JobError, match="beside failed"), LocalExecutor(2).beside(fail) as result:
            result()
        with pytest.raises(KeyError), LocalExecutor(2).beside(time.sleep, 0.2):
            raise KeyError("the body failed")  # the process ends with the block, its result unread


# --- the stages, run by the executor ---


def test_worker_processes_give_the_same_report():
    """Aligning candidate pairs one job of 3 pairs each (many jobs even for the small corpus) in two processes gives
    the spans aligning them here gives; a scan run by two processes, the report one process gives."""
    from conftest import CORPUS
    from dedup import ScanConfig, ingest, scan
    from dedup.candidates import candidate_pairs
    from dedup.match import Matcher
    from dedup.sign import sign_documents

    config = ScanConfig()
    documents, _ = ingest.ingest(CORPUS)
    docs = sign_documents(documents, config=config)
    pairs = candidate_pairs(docs, config, group_by_key=LocalExecutor(2).group_by_key)
    assert len(pairs) > 6
    here, forked = Matcher(docs, config), Matcher(docs, config)
    here.align_all(pairs)
    seen = []
    with deadline(60):
        forked.align_all(pairs, executor=LocalExecutor(2), batch_size=3, progress=lambda *call: seen.append(call))
    assert seen[-1] == ("align", len(pairs), len(pairs)) and len(seen) == -(-len(pairs) // 3)
    assert [forked.spans(i, j) for i, j in pairs] == [here.spans(i, j) for i, j in pairs]
    with deadline(60):
        single, two = (scan(CORPUS, config=config, executor=LocalExecutor(w)) for w in (1, 2))
    assert single.pairs and (single.pairs, single.clusters, single.documents) == (two.pairs, two.clusters, two.documents)


# --- group_by_key ---


def test_group_by_key_gives_shards_sorted_by_key_then_value_with_every_record():
    rng = np.random.default_rng(3)
    keys = rng.integers(0, 50, 2000).astype(np.uint64)
    values = rng.integers(0, 1000, 2000).astype(np.uint32)
    shards = list(LocalExecutor(2).group_by_key(keys, values))
    seen_keys: set[int] = set()
    for k, v in shards:
        assert k.dtype == keys.dtype and v.dtype == values.dtype and len(k) == len(v)
        pairs = list(zip(k.tolist(), v.tolist()))
        assert pairs == sorted(pairs)
        assert not seen_keys & set(k.tolist())  # all of a key's records in one shard
        seen_keys |= set(k.tolist())
    records = sorted(p for k, v in shards for p in zip(k.tolist(), v.tolist()))
    assert records == sorted(zip(keys.tolist(), values.tolist()))
    assert list(LocalExecutor(1).group_by_key(keys[:0], values[:0]))[0][0].size == 0
