"""Sketches: what a documents-only scan keeps of each document; the candidates they give are those of the signed
documents."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup import sign_kernels
from dedup.boilerplate import long_shingle_sets
from dedup.candidates import candidate_pairs
from dedup.config import ScanConfig
from dedup.executors import LocalExecutor
from dedup.models import Document
from dedup.normalize import normalize
from dedup.sign import sign, sign_documents, signatures
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


def test_sketches_give_the_candidates_of_the_signed_documents():
    documents = _documents()
    parts = sketch_documents(documents, config=CONFIG, batch_size=3)
    assert [len(p) for p in parts] == [3, 3, 3, 2]
    signed = sign_documents(documents, config=CONFIG)
    expected = candidate_pairs(signed, CONFIG)
    assert (0, 8) in expected and (2, 3) in expected  # (identical, and identical once normalized)
    assert sketched_candidates(parts, CONFIG, group_by_key=LocalExecutor.group_by_key) == expected


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


def test_files_read_in_a_job_give_their_documents_and_sketches(tmp_path):
    found = [("a.txt", str(write(tmp_path / "a.txt", ZH_SPEECH))), ("b.txt", str(write(tmp_path / "b.txt", b"\x00\x01" * 50)))]
    files = sketch_files(CONFIG, found)
    (doc,) = files.documents
    (bad,) = files.skipped
    assert doc.path == "a.txt" and doc.text == ZH_SPEECH and bad.path == "b.txt"
    again = type(files).unpack(*files.pack())
    assert again.documents == files.documents and again.skipped == files.skipped
    assert np.array_equal(again.sketches.hashvalues, files.sketches.hashvalues)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60), st.text(max_size=60))
def test_the_digest_tells_token_strings_apart(a, b):
    code = lambda s: np.frombuffer(s.encode("utf-32-le", "surrogatepass"), dtype="<u4")  # noqa: E731
    same = np.array_equal(sign_kernels.digest(code(a)), sign_kernels.digest(code(b)))
    assert same == (a == b)
