"""The Ray engine (``dedup.executors.ray``): the same findings as the local engine, end to end.

Skipped when Ray is not installed (``pip install -e '.[ray]'``; CI installs it). One Ray for the module
(4 logical CPUs on however many cores, 1.5 GiB of object store), shut down at its end so that the rest of the
suite runs without it; the two-node cluster runs in a process of its own. Ray is slow to start (seconds for
Ray, seconds for each stage's actors): the tests are few and end to end.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ray = pytest.importorskip("ray", reason="the Ray engine is not installed: pip install -e '.[ray]'")
pytest.importorskip("ray.data", reason="the Ray engine is not installed: pip install -e '.[ray]'")

from typer.testing import CliRunner  # noqa: E402

import dedup  # noqa: E402
from dedup import LocalExecutor, RayExecutor, build_index, report_to_dict, scan  # noqa: E402
from dedup.cli import app  # noqa: E402

from conftest import CORPUS, ROOT, SHARED_DATA  # noqa: E402

TESTS = Path(__file__).resolve().parent
#: Speeches of the generated corpus: the most that keeps this module near a minute on 2 cores.
GENERATED = 1200


@pytest.fixture(scope="module")
def ray_here():
    """A Ray on this machine for the module; its workers can import this test module (for ``kill_once``)."""
    ray.init(
        num_cpus=4, object_store_memory=1536 * 2**20, include_dashboard=False, logging_level="WARNING",
        runtime_env={"env_vars": {"PYTHONPATH": str(TESTS)}},
    )
    yield
    ray.shutdown()


@pytest.fixture
def executor(ray_here):
    with RayExecutor(workers=2) as ex:  # (each worker is a process that imports dedup: two on two cores)
        assert not ex.started  # (the module's Ray: used, never shut down by the executor)
        yield ex
    assert ray.is_initialized()


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    """A corpus of ``GENERATED`` speeches with planted copies (``benchmarks/make_scale_corpus.py``)."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not available")
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import make_scale_corpus

    out = tmp_path_factory.mktemp("generated") / "speeches"
    make_scale_corpus.generate(GENERATED, out, seed=3, data=SHARED_DATA)
    return out


@pytest.fixture(scope="module")
def generated_local(generated) -> dict:
    return report_to_dict(scan(generated, executor=LocalExecutor(2)))


def findings(report: dict) -> dict:
    """What must not depend on the engine: every pair (relation, figures, passages and their offsets), the clusters,
    the documents."""
    assert report["pairs"], "nothing found: the comparison would prove nothing"
    return report


def test_group_by_key_puts_all_of_a_key_in_one_sorted_shard(executor):
    rng = np.random.default_rng(7)
    keys = rng.integers(0, 300, 20_000).astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)  # many repeats
    values = rng.integers(0, 5_000, 20_000).astype(np.int64)
    shards = list(executor.group_by_key(keys, values))
    assert len(shards) > 1  # really sharded
    seen: set[int] = set()
    for k, v in shards:
        assert k.dtype == keys.dtype and v.dtype == values.dtype
        order = np.lexsort((v, k))
        assert np.array_equal(order, np.arange(len(k)))  # sorted by key, then value
        mine = set(np.unique(k).tolist())
        assert not mine & seen  # a key's records are in one shard
        seen |= mine
    got = sorted(zip(np.concatenate([k for k, _ in shards]).tolist(), np.concatenate([v for _, v in shards]).tolist()))
    assert got == sorted(zip(keys.tolist(), values.tolist()))


def test_map_keeps_the_order_and_raises_what_a_job_raises(executor):
    assert list(executor.map(scaled, list(range(9)), shared=3)) == [3 * k for k in range(9)]
    with pytest.raises(ValueError, match="job 4"):
        list(executor.map(scaled, [1, 2, 4, 5], shared=-1))
    with executor.beside(scaled, 2, 21) as result:
        assert result() == 42


def test_scan_of_the_corpus_finds_the_same_with_ray(executor):
    local = report_to_dict(scan(CORPUS, executor=LocalExecutor(2)))
    assert findings(report_to_dict(scan(CORPUS, executor=executor))) == findings(local)


def test_scan_of_a_generated_corpus_finds_the_same_with_ray(executor, generated, generated_local):
    """Signing and aligning in several jobs on the workers; the band shuffle over at least 4 blocks."""
    assert findings(report_to_dict(scan(generated, executor=executor))) == findings(generated_local)


def test_a_worker_killed_mid_stage_changes_nothing(executor, generated, generated_local, tmp_path):
    marker = tmp_path / "killed"
    report = scan(generated, executor=KillOnce(executor, marker))
    assert marker.exists()  # a worker was killed (its job run again by another)
    assert findings(report_to_dict(report)) == findings(generated_local)


def test_index_build_with_ray_writes_the_same_index(executor, tmp_path):
    with_ray = build_index(CORPUS, tmp_path / "ray.dedup", executor=executor, batch_size=40)
    local = build_index(CORPUS, tmp_path / "local.dedup", executor=LocalExecutor(2), batch_size=40)
    assert with_ray.added == local.added and with_ray.skipped == local.skipped
    assert tables(tmp_path / "ray.dedup") == tables(tmp_path / "local.dedup")


def test_the_cli_scans_with_ray(ray_here):
    runner = CliRunner()
    args = ["scan", str(CORPUS), "--format", "json", "--no-progress"]
    local = runner.invoke(app, args)
    with_ray = runner.invoke(app, [*args, "--engine", "ray", "--workers", "2"])
    assert with_ray.exit_code == 0, with_ray.output
    assert json.loads(with_ray.stdout) == json.loads(local.stdout)
    assert ray.is_initialized()  # (a Ray the command did not start is left running)


def test_an_address_where_no_ray_answers_is_an_error_at_once():
    code = f"from dedup.cli import app; app(['scan', {str(CORPUS)!r}, '--engine', 'ray', '--address', '127.0.0.1:1'])"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 2 and "cannot reach Ray at 127.0.0.1:1" in done.stderr


def test_a_two_node_cluster_finds_the_same(generated, generated_local, tmp_path):
    """A head and a worker node (``ray.cluster_utils.Cluster``) in a process of their own: the executor connects
    to the cluster by its address, and leaves it running."""
    out = tmp_path / "report.json"
    subprocess.run([sys.executable, "-c", ON_A_CLUSTER, str(generated), str(out)], check=True, timeout=600, cwd=ROOT)
    assert findings(json.loads(out.read_text(encoding="utf-8"))) == findings(generated_local)


ON_A_CLUSTER = """
import json, sys
import ray
from ray.cluster_utils import Cluster
import dedup

cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 2, "object_store_memory": 400 * 2**20})
cluster.add_node(num_cpus=2, object_store_memory=400 * 2**20)
cluster.wait_for_nodes()
try:
    with dedup.open_executor("ray", address=cluster.address, workers=2) as executor:
        assert len([n for n in ray.nodes() if n["Alive"]]) == 2
        report = dedup.scan(sys.argv[1], executor=executor)
    assert not ray.is_initialized()  # disconnected; the cluster runs on
    with open(sys.argv[2], "w", encoding="utf-8") as out:
        json.dump(dedup.report_to_dict(report), out)
finally:
    cluster.shutdown()
"""


# --- helpers (module level: the workers import them) ---


def scaled(factor: int, k: int) -> int:
    if factor < 0 and k == 4:
        raise ValueError(f"job {k}")
    return factor * k


class KillOnce:
    """An executor that runs another's stages, but the first job that runs in a worker process kills that process
    (``SIGKILL``, as the kernel's OOM killer does) before doing anything; ``marker`` records that it happened."""

    def __init__(self, inner: RayExecutor, marker: Path) -> None:
        self.inner, self.marker, self.workers = inner, marker, inner.workers

    def map(self, fn, jobs, *, shared=None):
        return self.inner.map(kill_once, jobs, shared=(fn, shared, str(self.marker), os.getpid()))

    def beside(self, fn, *args):
        return self.inner.beside(fn, *args)

    def group_by_key(self, keys, values):
        return self.inner.group_by_key(keys, values)


def kill_once(shared, job):
    fn, inner, marker, driver = shared
    if os.getpid() != driver:
        try:
            os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            pass
        else:
            os.kill(os.getpid(), signal.SIGKILL)
    return fn(inner, job)


def tables(path: Path) -> dict:
    """Every table of an SQLite index, its rows in order (the times of the build and of each document left out)."""
    with sqlite3.connect(path) as db:
        names = [n for (n,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        out = {n: db.execute(f"SELECT * FROM {n} ORDER BY 1").fetchall() for n in names}
    out["meta"] = [(k, v) for k, v in out["meta"] if k != "created"]
    out["documents"] = [row[:-1] for row in out["documents"]]  # (the last column: when it was added)
    assert out["documents"] and out["buckets"]
    return out

