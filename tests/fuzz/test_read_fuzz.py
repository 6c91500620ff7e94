"""Hostile files through ``dedup.read_document``: a ``Document`` with text, or an ``IngestError`` with a reason,
within the file's time and memory budget; never another exception, a hang or the end of the process."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import event, given

from fuzz import hostile as h
from fuzz.bounds import MEMORY_LIMIT, TIME_LIMIT, Outcome, Worker, deadline, over_budget, read_outcome, write_file

pytestmark = pytest.mark.fuzz

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def judged(f: h.Hostile, outcome: Outcome) -> str | None:
    """Why ``outcome`` of reading ``f`` breaks a property, or None."""
    if outcome.failed:
        return f"{outcome.kind}: {outcome.detail}"
    return over_budget(outcome, len(f.data))


def read_here(f: h.Hostile) -> None:
    """Write ``f`` to a folder of its own and read it in this process; fail with the input described, unless it
    fails by a known problem (each has its hand-made case below: drawn inputs look for the others)."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, write_file(Path(folder), f.name, f.data))
        with deadline(TIME_LIMIT):
            outcome = read_outcome(path)
    problem = judged(f, outcome)
    known = h.known_problem(f, problem) if problem else None
    if known:
        event(f"known: {known}")
        return
    assert problem is None, f"{f.describe()}: {problem}"


# --- drawn by hypothesis, in this process (small inputs) ---


@h.fuzz_settings(30)
@given(h.text_files(big=1 << 16))
def test_text_files(f: h.Hostile):
    read_here(f)


@h.fuzz_settings(25)
@given(h.html_files(depth=300))
def test_html_files(f: h.Hostile):
    read_here(f)


@h.fuzz_settings(20)
@given(h.docx_files(bomb_mb=1, members=200))
def test_docx_files(f: h.Hostile):
    read_here(f)


@h.fuzz_settings(20)
@given(h.pdf_files(bomb_mb=0, depth=500))  # (a bomb of 1 MB takes 4 s: hand-made cases below)
def test_pdf_files(f: h.Hostile):
    read_here(f)


@h.fuzz_settings(15)
@given(h.misnamed_files())
def test_misnamed_files(f: h.Hostile):
    read_here(f)


# --- hand-made cases, each in a process of its own ---


def param(c: h.Case):
    """A hand-made case as a test parameter: an expected failure where it fails by a known problem (not run where it
    takes long to fail, unless ``DEDUP_FUZZ_SLOW``)."""
    marks = []
    if c.known is not None:
        reason = f"known: {c.known}: {h.KNOWN[c.known]}"
        marks.append(pytest.mark.xfail(reason=reason, run=h.SLOW or not c.slow, strict=False))
    return pytest.param(c, id=c.name, marks=marks)


@pytest.fixture(scope="module")
def worker() -> Iterator[Worker]:
    w = Worker(read_outcome, timeout=TIME_LIMIT, memory=MEMORY_LIMIT)
    yield w
    w.close()


@pytest.mark.parametrize("c", [param(c) for c in h.CASES])
def test_hand_made_file(tmp_path: Path, worker: Worker, c: h.Case):
    f = c.hostile()
    outcome = worker.run(os.path.join(tmp_path, write_file(tmp_path, f.name, f.data)))
    problem = judged(f, outcome)
    assert problem is None, f"{f.describe()}: {problem}"


# --- what a folder can hold besides regular files ---


def special(tmp_path: Path, kind: str) -> str:
    """A path of ``kind``: a FIFO, a link to a device, a link to itself, a link to nothing, a folder, a file no
    one may read, all named as text files."""
    path = tmp_path / f"{kind}.txt"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "device":
        os.symlink("/dev/zero", path)
    elif kind == "self-link":
        os.symlink(path.name, path)
    elif kind == "broken-link":
        os.symlink("missing.txt", path)
    elif kind == "folder":
        path.mkdir()
    elif kind == "unreadable":
        path.write_text("正文", encoding="utf-8")
        path.chmod(0)
    return str(path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
@pytest.mark.parametrize("kind", ["fifo", "device", "self-link", "broken-link", "folder", "unreadable"])
def test_what_is_not_a_regular_file_is_skipped_at_once(tmp_path: Path, worker: Worker, kind: str):
    """Opening a FIFO waits for a writer and /dev/zero never ends: each is an ``IngestError`` at once."""
    if kind == "unreadable" and IS_ROOT:
        pytest.skip("root reads a file whatever its mode")
    if kind == "device" and not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero")
    outcome = worker.run(special(tmp_path, kind))
    assert outcome.kind == "skipped" and outcome.seconds < 5, outcome
