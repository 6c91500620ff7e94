"""Building an index (``dedup.build``): the same index whatever runs the jobs, the chunks the jobs send back, the
warm-up, and a failed build; read back through the stores' public methods only."""

from __future__ import annotations

import hashlib
import mmap
import multiprocessing
import os
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import CORPUS
from dedup import Document, LocalExecutor, MemoryStore, ScanConfig, build_index, index, ingest, open_store
from dedup.build import WARM_UP_TEXTS, IndexedChunk, index_files, indexed_chunk, warm_up
from dedup.executors.local import SHM
from dedup.sign import sign_documents

from texts import EN_SPEECH, ZH_SPEECH

forks = pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="no fork here")


@pytest.fixture(scope="module")
def corpus_keys() -> dict[str, set[int]]:
    """Every readable document of the corpus, by path, with the bucket keys ``dedup.index`` gives it."""
    config = ScanConfig()
    found, _ = ingest.find_files(CORPUS, include=config.include, exclude=config.exclude)
    documents, _ = ingest.read_files(found)
    signed = sign_documents(documents, config=config)
    return {d.doc.path: set(e.keys.tolist()) for d, e in zip(signed, index.document_entries(signed, config))}


def contents(store, corpus_keys: dict[str, set[int]]) -> dict:
    """What an index holds, by path: documents, bucket entries (those of the corpus documents' keys), boilerplate."""
    paths = store.paths()
    ids = store.ids(paths)
    documents = {d.path: (d.text, d.format, d.encoding, d.digest) for d in store.load(ids.values())}
    by_id = {i: p for p, i in ids.items()}
    keys = np.array(sorted(set().union(*corpus_keys.values())), dtype=np.uint64)
    found, owners = store.lookup(keys)
    entries: dict[str, set[int]] = {}
    for k, i in zip(found.tolist(), owners.tolist()):
        entries.setdefault(by_id[int(i)], set()).add(k)
    return {"paths": paths, "documents": documents, "entries": entries, "boilerplate": store.boilerplate().tolist()}


def built(location, corpus_keys, **options) -> tuple:
    update = build_index(CORPUS, location, **options)
    store = location if isinstance(location, MemoryStore) else open_store(location)
    try:
        return update, contents(store, corpus_keys)
    finally:
        store.close()


@forks
def test_building_in_worker_processes_gives_the_same_index(tmp_path: Path, corpus_keys):
    """One process, and two workers with 4 files a job (several jobs even for the small corpus): the same index, and
    the one ``dedup.index`` describes."""
    one, in_one = built(tmp_path / "one.dedup", corpus_keys, executor=LocalExecutor(1), batch_size=4)
    two, in_two = built(tmp_path / "two.dedup", corpus_keys, executor=LocalExecutor(2), batch_size=4)
    assert len(one.added) > 8  # more than 2 jobs
    assert (one.added, one.skipped, one.documents) == (two.added, two.skipped, two.documents)
    assert in_one == in_two
    assert sorted(one.added) == in_one["paths"] == sorted(corpus_keys)
    assert in_one["entries"] == {p: k for p, k in corpus_keys.items() if k}
    assert one.skipped and all(s.reason for s in one.skipped)  # the corpus's broken files
    assert sorted(os.listdir(tmp_path)) == ["one.dedup", "two.dedup"]


@forks
def test_building_into_memory_gives_the_index_a_file_holds(tmp_path: Path, corpus_keys):
    memory = MemoryStore()
    update, in_memory = built(memory, corpus_keys, executor=LocalExecutor(2), batch_size=8)
    _, in_file = built(tmp_path / "archive.dedup", corpus_keys, executor=LocalExecutor(2), batch_size=8)
    assert update.documents == memory.count() == len(in_file["paths"])
    assert in_memory == in_file
    assert memory.read_meta()["root"] == str(CORPUS.resolve())


# --- the chunks the jobs send back ---


def _segments() -> set[str]:
    return set(os.listdir(SHM)) if SHM.is_dir() else set()


def _assert_no_segment_left(before: set[str]) -> None:
    for _ in range(40):  # (another run's segment may be there for a moment)
        if not _segments() - before:
            return
        time.sleep(0.05)
    assert not _segments() - before


def _mapped(a: np.ndarray) -> bool:
    """Whether an array's memory is a mapping (of a shared-memory segment), not its own."""
    while isinstance(a, (np.ndarray, memoryview)):
        a = a.base if isinstance(a, np.ndarray) else a.obj
    return isinstance(a, mmap.mmap)


def fields(chunk: IndexedChunk) -> dict:
    """Every field of a chunk, as plain values (arrays with their dtype and shape)."""

    def arr(a: np.ndarray) -> tuple:
        return a.dtype.str, a.shape, a.tobytes()

    records = [
        (r.path, r.text, r.format, r.encoding, r.digest, r.length, bytes(r.packed_text), arr(r.keys)) for r in chunk.records
    ]
    return {
        "records": records,
        "keys": arr(chunk.keys),
        "key_parts": arr(chunk.key_parts),
        "long_shingles": (arr(chunk.long_shingles.values), arr(chunk.long_shingles.counts)),
        "resemblance": tuple(arr(x) for x in (chunk.resemblance.hashvalues, chunk.resemblance.document_keys, chunk.resemblance.shingles)),
        "skipped": chunk.skipped,
    }


@pytest.fixture
def jobs(tmp_path: Path) -> list[list[tuple[str, str]]]:
    """Two jobs of files to index: speeches of both kinds, an empty file (skipped), and the same speech twice."""
    for name, text in (("zh.txt", ZH_SPEECH), ("en.txt", EN_SPEECH), ("empty.txt", ""), ("zh2.txt", ZH_SPEECH), ("mixed.md", EN_SPEECH[:300] + ZH_SPEECH[:300])):
        (tmp_path / name).write_text(text, encoding="utf-8")
    found, _ = ingest.find_files(tmp_path)
    return [found[:3], found[3:]]


def test_an_indexed_chunk_packs_and_unpacks_whole(jobs):
    chunk = index_files(ScanConfig(), jobs[0] + jobs[1])
    assert chunk.skipped and len(chunk.records) == 4 and len(chunk.keys) > 0
    groups, rest = chunk.pack()
    assert all(isinstance(a, np.ndarray) for g in groups for a in g)
    assert fields(IndexedChunk.unpack(groups, rest)) == fields(chunk)


@forks
@pytest.mark.parametrize("shm", [SHM, None], ids=["shared-memory", "pickled"])
def test_an_indexed_chunk_comes_back_whole_from_a_worker_process(jobs, shm):
    if shm is not None and not shm.is_dir():
        pytest.skip("no /dev/shm")
    config = ScanConfig()
    expected = [fields(index_files(config, job)) for job in jobs]
    before = _segments()
    got = list(LocalExecutor(2, shm=shm).map(index_files, jobs, shared=config))
    assert [fields(c) for c in got] == expected
    assert all(_mapped(c.keys) == (shm is not None) for c in got)  # in shared memory, or in the pickle
    _assert_no_segment_left(before)  # removed once read


# --- the warm-up ---


def test_the_warm_up_texts_take_a_build_through_both_kinds_of_text():
    """The texts a build indexes while it lists the folder (to load the compiled kernels before forking) are one CJK
    and one Latin-word speech, each with bucket keys of windows and long shingles."""
    config = ScanConfig()
    docs = [Document(path=str(k), text=t) for k, t in enumerate(WARM_UP_TEXTS)]
    signed = sign_documents(docs, config=config)
    assert [s.norm.mostly_cjk for s in signed] == [True, False]
    for e in index.document_entries(signed, config):
        assert len(e.document_keys) > 0 and e.window_keys.size > 0
    chunk = indexed_chunk(docs, config)
    assert (chunk.key_parts.sum(axis=1) > 32).all()  # more than the document's own bands: windows too
    assert (chunk.long_shingles.counts.sum(axis=1) > 0).all()
    warm_up(config)


# --- a failed build ---


class Stop(Exception):
    pass


@forks
@pytest.mark.parametrize("stage", ["index", "write"])
def test_a_failed_build_leaves_the_index_there_was_and_nothing_else(tmp_path: Path, stage: str):
    """An error midway (here raised by the progress callback, while files are indexed or while buckets are written):
    the index file there was is left as it was, no file of the new one is left beside it, no process is left."""
    target = tmp_path / "archive.dedup"
    small = tmp_path / "small"
    small.mkdir()
    (small / "a.txt").write_text(ZH_SPEECH, encoding="utf-8")
    build_index(small, target, executor=LocalExecutor(1))
    before = hashlib.sha256(target.read_bytes()).hexdigest()
    calls = []

    def progress(name: str, done: int, total: int) -> None:
        calls.append(name)
        if name == stage and calls.count(name) == 2:
            raise Stop(f"stopped while at {name}")

    segments = _segments()
    with pytest.raises(Stop):
        build_index(CORPUS, target, executor=LocalExecutor(2), batch_size=4, progress=progress)
    assert hashlib.sha256(target.read_bytes()).hexdigest() == before
    assert sorted(os.listdir(tmp_path)) == ["archive.dedup", "small"]
    with open_store(target) as store:
        assert store.paths() == ["a.txt"]
    assert multiprocessing.active_children() == []
    _assert_no_segment_left(segments)  # of the chunks sent back that were never read


def test_progress_counts_the_files_found_up_to_their_number(tmp_path: Path):
    """What is skipped while listing (a broken link) is not counted again as a file read: "index" goes up to the
    number of files, "write" to its number of steps."""
    for name, text in (("a.txt", ZH_SPEECH), ("b.txt", EN_SPEECH), ("c.txt", ""), ("d.txt", ZH_SPEECH[:500])):
        (tmp_path / name).write_text(text, encoding="utf-8")
    (tmp_path / "broken.txt").symlink_to(tmp_path / "nowhere")
    calls: list[tuple[str, int, int]] = []
    update = build_index(tmp_path, tmp_path / "out" / "archive.dedup", executor=LocalExecutor(1), batch_size=1,
                         progress=lambda *call: calls.append(call))
    assert {s.path for s in update.skipped} == {"broken.txt", "c.txt"}
    indexing = [(done, total) for stage, done, total in calls if stage == "index"]
    assert indexing == [(k, 4) for k in range(1, 5)]
    writing = [(done, total) for stage, done, total in calls if stage == "write"]
    assert writing[-1][0] == writing[-1][1] and all(done <= total for done, total in writing)
