"""Tests for dedup.ingest's reading: read_document, ingest, read_files, ingest_paths and shown_path.

Decoding, file finding and formats have their own files (test_ingest_decode.py,
test_ingest_files.py, test_ingest_formats.py).
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from dedup.errors import IngestError, InputError
from dedup.ingest import find_files, ingest, ingest_paths, read_document, read_files, shown_path
from dedup.models import Skipped

from texts import EN_SPEECH, ZH_SPEECH, write


# --------------------------------------------------------------------------- read_document


def test_read_document_paths_and_formats(tmp_path: Path) -> None:
    write(tmp_path / "sub" / "Notes.MD", "# Title\n")
    doc = read_document(tmp_path / "sub" / "Notes.MD")
    assert (doc.path, doc.format, doc.encoding) == ("Notes.MD", "md", "utf-8")
    assert read_document(tmp_path / "sub" / "Notes.MD", relpath="sub/Notes.MD").path == "sub/Notes.MD"
    assert read_document(str(tmp_path / "sub" / "Notes.MD")).path == "Notes.MD"  # a string path works too


def test_unsupported_suffix(tmp_path: Path) -> None:
    for name, shown in (("speech.DOC", ".doc"), ("speech", "(no suffix)")):
        path = write(tmp_path / name, "Fellow citizens")
        with pytest.raises(IngestError) as info:
            read_document(path)
        reason = f"unsupported file type {shown}; dedup reads .txt, .md, .docx, .pdf, .html, .htm"
        assert (info.value.path, info.value.reason) == (str(path), reason)


def test_os_error_becomes_ingest_error(tmp_path: Path) -> None:
    """Runs also as root: an OSError while opening is reported with the OS reason, naming the file."""
    folder = tmp_path / "x.txt"  # a folder cannot be read as a file, whoever asks
    folder.mkdir()
    dangling = tmp_path / "gone.txt"
    os.symlink(tmp_path / "missing.txt", dangling)
    for path, code in ((folder, errno.EISDIR), (dangling, errno.ENOENT)):
        with pytest.raises(IngestError) as info:
            read_document(path)
        assert info.value.path == str(path)
        assert info.value.reason == os.strerror(code)
        assert str(info.value) == f"{path}: {os.strerror(code)}"


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root can read anything")
def test_permission_denied(tmp_path: Path) -> None:
    locked = write(tmp_path / "locked.txt", "secret words")
    locked.chmod(0)
    try:
        with pytest.raises(IngestError, match="Permission denied"):
            read_document(locked)
        docs, skipped = ingest(tmp_path)
        assert docs == [] and skipped == [Skipped("locked.txt", "Permission denied")]
    finally:
        locked.chmod(0o644)


# --------------------------------------------------------------------------- ingest


def test_ingest_keeps_going_and_reports_progress(tmp_path: Path) -> None:
    write(tmp_path / "b" / "gb.txt", ZH_SPEECH.encode("gb18030"))
    write(tmp_path / "a.txt", "Hello\r\nworld")
    write(tmp_path / "c.docx", b"broken")
    write(tmp_path / "d.txt", b"")
    write(tmp_path / "e.txt", b"\x00\x01\x02\x03binary\x00")
    calls: list[tuple[int, int]] = []
    docs, skipped = ingest(tmp_path, progress=lambda done, total: calls.append((done, total)))
    assert [d.path for d in docs] == ["a.txt", "b/gb.txt"]
    assert docs[0].text == "Hello\r\nworld"
    assert docs[1].text == ZH_SPEECH and docs[1].encoding == "gb18030"
    assert [s.path for s in skipped] == ["c.docx", "d.txt", "e.txt"]
    assert skipped[0].reason.startswith("corrupt .docx")
    assert skipped[1].reason == "empty file"
    assert skipped[2].reason == "binary file, not text"
    assert calls == [(1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]


def test_ingest_passes_filters(tmp_path: Path) -> None:
    write(tmp_path / "keep.txt", "keep")
    write(tmp_path / "drop.txt", "drop")
    write(tmp_path / ".hidden.txt", "hidden")
    docs, skipped = ingest(tmp_path, exclude=["drop*"])
    assert [d.path for d in docs] == ["keep.txt"] and skipped == []
    docs, _ = ingest(tmp_path, include=["*.txt"], include_hidden=True)
    assert [d.path for d in docs] == [".hidden.txt", "drop.txt", "keep.txt"]


def test_ingest_reports_broken_symlink_in_path_order(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "hello")
    write(tmp_path / "z.txt", b"")
    os.symlink(tmp_path / "missing.txt", tmp_path / "dangling.txt")
    docs, skipped = ingest(tmp_path)
    assert [d.path for d in docs] == ["a.txt"]
    assert skipped == [Skipped("dangling.txt", "broken symbolic link"), Skipped("z.txt", "empty file")]


def test_ingest_root_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        ingest(tmp_path / "missing")
    with pytest.raises(InputError, match="not a folder"):
        ingest(write(tmp_path / "speech.txt", "x"))


# --------------------------------------------------------------------------- read_files, ingest_paths


def test_read_files_reads_what_find_files_found(tmp_path: Path) -> None:
    write(tmp_path / "en.txt", EN_SPEECH)
    write(tmp_path / "sub" / "zh.md", ZH_SPEECH)
    write(tmp_path / "sub" / "empty.txt", b"")
    (tmp_path / "folder.txt").mkdir()
    found, skipped = find_files(tmp_path)
    assert skipped == []
    docs, skipped = read_files([*found, ("folder.txt", str(tmp_path / "folder.txt"))])
    assert [(d.path, d.text) for d in docs] == [("en.txt", EN_SPEECH), ("sub/zh.md", ZH_SPEECH)]
    assert skipped == [Skipped("sub/empty.txt", "empty file"), Skipped("folder.txt", os.strerror(errno.EISDIR))]
    assert read_files([("renamed.txt", tmp_path / "en.txt")])[0][0].path == "renamed.txt"  # a Path works too


def test_shown_path(tmp_path: Path) -> None:
    inside = tmp_path / "sub" / "a.txt"
    assert shown_path(inside, tmp_path) == "sub/a.txt"
    assert shown_path(inside, tmp_path / "other") == inside.as_posix()
    assert shown_path(Path("sub/a.txt"), None) == "sub/a.txt"


def test_ingest_paths_mixes_files_and_folders(tmp_path: Path) -> None:
    write(tmp_path / "docs" / "b.txt", EN_SPEECH)
    write(tmp_path / "docs" / "a" / "empty.txt", b"")
    write(tmp_path / "docs" / "skip.md", "not selected")
    one = write(tmp_path / "one.txt", ZH_SPEECH)
    outside = write(tmp_path / "elsewhere" / "two.txt", "Thank you.")
    calls: list[tuple[int, int]] = []
    docs, skipped = ingest_paths(
        [tmp_path / "docs", one, outside],
        base=tmp_path / "docs",
        exclude=["*.md"],
        progress=lambda done, total: calls.append((done, total)),
    )
    assert [d.path for d in docs] == ["b.txt", one.as_posix(), outside.as_posix()]
    assert skipped == [Skipped("a/empty.txt", "empty file")]
    assert calls == [(2, 2), (3, 3), (4, 4)]
    docs, _ = ingest_paths([one], base=tmp_path)
    assert [d.path for d in docs] == ["one.txt"]
    with pytest.raises(InputError, match="no such file or folder"):
        ingest_paths([tmp_path / "missing.txt"])
