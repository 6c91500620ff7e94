"""Folders of hostile files through a whole ``dedup.scan``: no exception, every file listed once (read, or skipped
with its reason), passages that slice the texts, a report that can be written in every format; and a folder of
what is not a regular file (FIFOs, links in a loop, a device, unreadable files and folders)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import event, given

from fuzz import hostile as h
from fuzz.bounds import MEMORY_LIMIT, TIME_LIMIT, deadline, isolated, over_budget, scan_outcome, write_file

from texts import EN_SPEECH, ZH_SPEECH

pytestmark = pytest.mark.fuzz

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def listed_as_read(folder: bytes, name: bytes) -> bool:
    """Whether a scan must list this file: a supported suffix and no hidden part in its path."""
    parts = [p for p in os.path.join(folder, name).split(b"/") if p]
    suffix = os.path.splitext(name)[1].decode("utf-8", "replace").lower()
    return suffix in h.READ_SUFFIXES and not any(p.startswith(b".") for p in parts)


@h.fuzz_settings(8)
@given(h.folders(h.hostile_files(big=4096, bomb_mb=0, depth=100), most=5))
def test_a_folder_of_hostile_files_scans(files: list[tuple[bytes, h.Hostile]]):
    with tempfile.TemporaryDirectory() as folder:
        expected = []
        for sub, f in files:
            rel = write_file(Path(folder), f.name, f.data, sub)
            if listed_as_read(sub, f.name):
                expected.append(rel)
        with deadline(TIME_LIMIT):
            outcome = scan_outcome(folder, expected)
    described = "; ".join(f"{sub!r}/{f.describe()}" for sub, f in files)
    problem = f"{outcome.kind}: {outcome.detail}" if outcome.failed else over_budget(outcome, sum(len(f.data) for _, f in files))
    known = next((k for k in (h.known_problem(f, problem) for _, f in files) if k), None) if problem else None
    if known:  # (each has its hand-made case)
        event(f"known: {known}")
        return
    assert problem is None, f"{described}: {problem}"


def test_a_folder_of_what_is_not_a_regular_file_scans_and_lists_what_it_skips(tmp_path: Path):
    """Links in a loop, a link to itself and to nothing, a FIFO and a device named .txt, a folder named .txt,
    names in GBK bytes, with control characters and 255 bytes long, an unreadable file and folder (not as root:
    root reads them): the regular files are listed, the rest skipped with reasons or left out, in time."""
    root = tmp_path / "folder"
    expected = [
        write_file(root, "讲话".encode("gbk") + b".txt", ZH_SPEECH.encode("gb18030")),
        write_file(root, b"line\nbreak\x1b[31m\x07.txt", ZH_SPEECH.encode()),
        write_file(root, h.long_name(".txt"), (ZH_SPEECH[:400] + EN_SPEECH[:300]).encode()),
        write_file(root, b"copy.html", h.html_page(ZH_SPEECH.replace("\n", "<br>"), "gbk", "gbk"), "子目录".encode("gbk")),
        write_file(root, b"back\\slash.md", ZH_SPEECH[:500].encode(), b"a/b"),
        write_file(root, b"empty.txt", b""),
        write_file(root, b"one.txt", b"a"),
    ]
    os.symlink("..", root / "a" / "b" / "up")  # a loop through the folder above
    os.symlink(".", root / "loop")
    os.symlink("self.txt", root / "self.txt")
    os.symlink("missing.txt", root / "broken.txt")
    (root / "folder.txt").mkdir()
    if hasattr(os, "mkfifo"):
        os.mkfifo(root / "fifo.txt")
    if Path("/dev/zero").exists():
        os.symlink("/dev/zero", root / "zero.txt")
    if not IS_ROOT:
        expected.append(write_file(root, b"unreadable.txt", b"text"))
        (root / "unreadable.txt").chmod(0)
        (root / "closed").mkdir()
        write_file(root / "closed", b"inside.txt", b"text")
        (root / "closed").chmod(0)
    try:
        outcome = isolated(scan_outcome, str(root), expected, timeout=TIME_LIMIT, memory=MEMORY_LIMIT)
    finally:
        for p in (root / "unreadable.txt", root / "closed"):
            if p.exists():
                p.chmod(0o700)
    assert outcome.kind == "report", f"{outcome.kind}: {outcome.detail}"
    assert outcome.seconds < 30
