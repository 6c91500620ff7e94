"""A killed ``dedup index add`` leaves the index usable with the old or the new contents; readers run side by side."""

from __future__ import annotations

import json
import multiprocessing as mp
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dedup import add_to_index, build_index, check, index_info
from dedup.store import is_redis
from dedup.store.sqlite import SqliteStore

from conftest import CORPUS

ZH = sorted((CORPUS / "zh").glob("*.txt"))
NEW = 40


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "dedup.cli", *args]


@pytest.fixture
def folders(tmp_path: Path, zh_archive: Path) -> tuple[Path, Path]:
    archive = zh_archive
    new = tmp_path / "new"
    new.mkdir()
    rng = random.Random(3)
    lines = [line for f in ZH for line in f.read_text(encoding="utf-8").splitlines() if len(line) > 30]
    for k in range(NEW):  # new speeches pieced together from paragraphs of the corpus
        (new / f"n{k:03d}.txt").write_text("\n".join(rng.sample(lines, 12)), encoding="utf-8")
    return archive, new


def _kill_when(proc, ready, timeout: float = 60) -> bool:
    """SIGKILL the process as soon as ``ready()``; False if it ended first."""
    end = time.monotonic() + timeout
    while proc.is_alive() and time.monotonic() < end:
        if ready():
            proc.kill()
            proc.join()
            return True
        time.sleep(0.001)
    proc.join()
    return False


def _assert_usable(location: str, allowed: set[int]) -> None:
    assert index_info(location).documents in allowed
    (doc,) = check([ZH[0]], location).checked
    assert [p.b for p in doc.sources][:1] == [ZH[0].name]


def _adding(location: str, new: Path) -> None:
    """(In a process of its own) what ``dedup index add NEW --index LOCATION`` runs. On SQLite with its page cache
    cut to a few pages (8 of 16 KiB): the transaction spills into the WAL as it goes, long before it commits, so
    that "the WAL has grown" means "inside the transaction"."""
    if is_redis(location):
        add_to_index([new], location)
        return
    with SqliteStore(location, cache_kib=128) as store:
        add_to_index([new], store)


def _add(location: str, new: Path):
    """An add running in a process of its own (forked where the system forks: no second start-up of dedup)."""
    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    proc = ctx.Process(target=_adding, args=(location, new))
    proc.start()
    return proc


def _killed_adds_then_one_to_the_end(location: str, new: Path, *, mid_write, old_contents) -> None:
    """Kill an add (SIGKILL) as soon as ``mid_write()`` (then ``old_contents()`` must hold) and one after 0.8 s;
    the index must be usable after each, and a last ``dedup index add`` must complete."""
    for delay in (None, 0.8):
        proc = _add(location, new)
        start = time.monotonic()
        if delay is None:
            assert _kill_when(proc, mid_write), "the add finished before it could be killed mid-write"
            old_contents()
        else:
            _kill_when(proc, lambda: time.monotonic() - start > delay)
        _assert_usable(location, {5, 5 + NEW})
    done = subprocess.run(_cli("index", "add", str(new), "--index", location, "--no-progress"), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    _assert_usable(location, {5 + NEW})


def test_sqlite_add_killed_mid_write_keeps_old_or_new_contents(folders, tmp_path):
    archive, new = folders
    location = str(tmp_path / "a.dedup")
    build_index(archive, location)
    wal = Path(location + "-wal")

    def old_contents() -> None:  # killed inside the transaction
        assert index_info(location).documents == 5

    # mid-write: as soon as the write transaction has spilled into the journal
    _killed_adds_then_one_to_the_end(
        location, new, mid_write=lambda: wal.exists() and wal.stat().st_size > 64 * 1024, old_contents=old_contents
    )


def test_redis_add_killed_mid_write_keeps_old_or_new_contents(folders, redis_url):
    import redis

    archive, new = folders
    build_index(archive, redis_url)
    prefix = redis_url.split("prefix=")[1]
    client = redis.Redis.from_url(redis_url.split("?")[0])
    live = f"{prefix}:live"

    def records() -> int:
        return sum(1 for _ in client.scan_iter(match=f"{prefix}:doc:*", count=1000))

    def written_not_visible() -> bool:  # the add's ids taken (pending) and its first record written
        first = min(map(int, client.hkeys(f"{prefix}:pending")), default=None)
        return first is not None and bool(client.exists(f"{prefix}:doc:{first}"))

    def old_contents() -> None:
        assert client.scard(live) == 5

    # mid-write: new records written, not yet made visible
    _killed_adds_then_one_to_the_end(redis_url, new, mid_write=written_not_visible, old_contents=old_contents)
    assert records() == 5 + NEW  # what the killed adds left behind was cleaned up


def test_two_readers_and_a_writer_at_once(folders, tmp_path):
    archive, new = folders
    location = str(tmp_path / "a.dedup")
    build_index(archive, location)
    copy = CORPUS / "planted" / "zh01_work_meeting_header_changed.txt"
    args = _cli("check", str(copy), "--index", location, "--format", "json", "--no-progress")
    writer = subprocess.Popen(_cli("index", "add", str(new), "--index", location, "--no-progress"),
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    readers = [subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [r.communicate(timeout=120) for r in readers]
    assert all(r.returncode == 0 for r in readers), [e for _, e in outputs]
    sources = [[s["path"] for c in json.loads(o)["checked"] for s in c["sources"]] for o, _ in outputs]
    assert sources[0][:1] == sources[1][:1] == [ZH[0].name]
    assert writer.wait(timeout=120) == 0, writer.stderr.read()
    assert index_info(location).documents == 5 + NEW
