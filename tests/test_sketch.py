"""Sketches: what a scan keeps of each document of a large folder; the candidates they give are those of the signed
documents."""

import random

import numpy as np
import pytest

import dedup
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup import sign_kernels
from dedup.boilerplate import long_shingle_sets
from dedup.candidates import candidate_pairs, window_records
from dedup.config import ScanConfig
from dedup.executors import LocalExecutor
from dedup.models import Document
from dedup.normalize import normalize
from dedup.sign import sign, sign_documents, sign_files, signatures
from dedup.sketch import Sketches, sketch_documents, sketch_files, sketched_candidates

from texts import EN_SPEECH, ZH_SPEECH, write

CONFIG = ScanConfig(passages=False)


def _documents() -> list[Document]:
    """Speeches with near-duplicates, identical texts (one only after normalization), a short and an empty one."""
    texts = [
        ZH_SPEECH, ZH_SPEECH.replace("发展", "开展"), EN_SPEECH, EN_SPEECH.upper(), ZH_SPEECH[:900] + EN_SPEECH[:500],
        ZH_SPEECH[1000:], "短。", "", ZH_SPEECH, EN_SPEECH.replace("America", "the country"), "   \n",
    ]
    return [Document(path=f"{k:02d}.txt", text=t) for k, t in enumerate(texts)]


@pytest.mark.parametrize("passages", [False, True])
def test_sketches_give_the_candidates_of_the_signed_documents(passages):
    config = ScanConfig(passages=passages)
    rng = random.Random(7)
    other = "".join(rng.choice(ZH_SPEECH[100:600]) for _ in range(3000))  # (unrelated text, in the same characters)
    documents = [*_documents(), Document(path="11.txt", text=other[:1500] + ZH_SPEECH[100:600] + other[1500:])]
    parts = sketch_documents(documents, config=config, batch_size=3)
    assert [len(p) for p in parts] == [3, 3, 3, 3]
    assert all(p.windows == (None, None) for p in parts) != passages  # (windows only for passages)
    signed = sign_documents(documents, config=config)
    expected = candidate_pairs(signed, config)
    assert (0, 8) in expected and (2, 3) in expected  # (identical, and identical once normalized)
    assert ((0, 11) in expected) == passages  # (a passage shared by documents unlike as wholes: from the windows)
    assert sketched_candidates(parts, config, group_by_key=LocalExecutor(1).group_by_key) == expected
    assert all(p.windows == (None, None) for p in parts)  # (taken out: grouped once)


def test_sketches_hold_the_signatures_and_long_shingle_sets_of_signing():
    documents = _documents()
    (part,) = sketch_documents(documents, config=CONFIG)
    signed = [sign(normalize(d.text, CONFIG.normalize), CONFIG.sign) for d in documents]
    with_shingles = [k for k, s in enumerate(signed) if len(s.hashes)]
    assert part.shingles.tolist() == [len(s.hashes) for s in signed]
    assert part.tokens.tolist() == [len(s.norm) for s in signed]
    assert np.array_equal(part.hashvalues[with_shingles], signatures([signed[k].hashes for k in with_shingles], CONFIG.sign))
    sets = long_shingle_sets([s.norm for s in signed])
    assert np.array_equal(part.long_shingles.values, sets.values) and np.array_equal(part.long_shingles.counts, sets.counts)
    again = Sketches.unpack(*part.pack())
    for name in ("hashvalues", "shingles", "digests", "tokens"):
        assert np.array_equal(getattr(again, name), getattr(part, name))
    assert again.windows == (None, None)


def test_the_sketches_of_a_scan_with_passages_hold_the_window_keys_of_its_documents():
    config = ScanConfig()
    documents = _documents()
    (part,) = sketch_documents(documents, config=config)
    signed = [sign(normalize(d.text, config.normalize), config.sign) for d in documents]
    for kind, made in zip(part.windows, window_records(signed, config)):
        assert made is not None and np.array_equal(kind[0], made[0]) and np.array_equal(kind[1], made[1])
    again = Sketches.unpack(*part.pack())
    for kind, made in zip(again.windows, part.windows):
        assert np.array_equal(kind[0], made[0]) and np.array_equal(kind[1], made[1])


def test_files_read_in_a_job_give_their_documents_without_texts_and_sketches(tmp_path):
    found = [("a.txt", str(write(tmp_path / "a.txt", ZH_SPEECH))), ("b.txt", str(write(tmp_path / "b.txt", b"\x00\x01" * 50)))]
    files = sketch_files(CONFIG, found)
    (doc,) = files.documents
    (bad,) = files.skipped
    assert doc.path == "a.txt" and doc.text == "" and bad.path == "b.txt"  # (the text is read again if needed)
    assert files.opened == [found[0][1]] and files.chars.tolist() == [len(ZH_SPEECH)]
    again = type(files).unpack(*files.pack())
    assert again.documents == files.documents and again.skipped == files.skipped and again.opened == files.opened
    assert np.array_equal(again.sketches.hashvalues, files.sketches.hashvalues)
    assert again.chars.tolist() == files.chars.tolist()


@pytest.mark.parametrize("passages", [False, True])
def test_a_scan_of_a_large_folder_reads_again_only_the_documents_of_pairs(tmp_path, passages):
    write(tmp_path / "a.txt", ZH_SPEECH)
    write(tmp_path / "b.txt", ZH_SPEECH.replace("发展", "开展"))
    other = "".join(random.Random(7).choice(ZH_SPEECH[100:600]) for _ in range(3000))  # (unrelated text)
    write(tmp_path / "c.txt", other[:1500] + ZH_SPEECH[100:600] + other[1500:])  # (a partial copy of a)
    write(tmp_path / "en.txt", EN_SPEECH)
    config = ScanConfig(passages=passages, workers=1)
    report = dedup.scan(tmp_path, config=config, keep_files=0)  # (as a folder of more files than that)
    kept = dedup.scan(tmp_path, config=config)  # (each file read once)
    assert report == kept
    entries = {d.path: d for d in report.documents}
    relations = {p.names(): p.relation for p in report.pairs}
    assert relations.pop(("a.txt", "b.txt")) == "near_duplicate" and entries["en.txt"].chars == len(EN_SPEECH)
    assert relations == ({("a.txt", "c.txt"): "partial", ("b.txt", "c.txt"): "partial"} if passages else {})
    assert entries["a.txt"].text == ZH_SPEECH and entries["en.txt"].text is None  # (shown: the pairs' texts)


class _EditsBeforeReadingAgain:
    """An executor (in this process) that rewrites a file just before the documents of candidate pairs are read again."""

    workers = 1
    group_by_key = staticmethod(LocalExecutor(1).group_by_key)

    def __init__(self, path, text: str) -> None:
        self.path, self.text = path, text
        self.beside = LocalExecutor(1).beside

    def map(self, fn, jobs, *, shared=None):
        if fn is sign_files:
            write(self.path, self.text)
        return LocalExecutor(1).map(fn, jobs, shared=shared)


@pytest.mark.parametrize("passages", [False, True])
def test_a_file_changed_between_its_two_readings_is_skipped_not_compared(tmp_path, passages):
    write(tmp_path / "a.txt", ZH_SPEECH)
    write(tmp_path / "b.txt", ZH_SPEECH.replace("发展", "开展"))
    write(tmp_path / "c.txt", ZH_SPEECH.replace("服务", "效劳"))
    executor = _EditsBeforeReadingAgain(tmp_path / "b.txt", EN_SPEECH)
    report = dedup.scan(tmp_path, config=ScanConfig(passages=passages), executor=executor, keep_files=0)
    (pair,) = report.pairs
    assert pair.names() == ("a.txt", "c.txt")
    (skipped,) = [d for d in report.documents if d.status == "skipped"]
    assert skipped.path == "b.txt" and "changed" in skipped.reason
    assert sorted(d.path for d in report.documents if d.status == "ok") == ["a.txt", "c.txt"]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60), st.text(max_size=60))
def test_the_digest_tells_token_strings_apart(a, b):
    code = lambda s: np.frombuffer(s.encode("utf-32-le", "surrogatepass"), dtype="<u4")  # noqa: E731
    same = np.array_equal(sign_kernels.digest(code(a)), sign_kernels.digest(code(b)))
    assert same == (a == b)
