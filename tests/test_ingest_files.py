"""Tests for dedup.ingest's file finding: suffixes, hidden names, globs, symbolic links, unreadable folders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dedup.errors import InputError
from dedup.ingest import SUPPORTED_SUFFIXES, find_files
from dedup.models import Skipped

from texts import write


def names(root: Path, **options: object) -> list[str]:
    """Relative paths that find_files selects, after checking that nothing was skipped."""
    found, skipped = find_files(root, **options)  # type: ignore[arg-type]
    assert skipped == []
    return [rel for rel, _ in found]


def test_finds_supported_files_sorted(tmp_path: Path) -> None:
    for rel in ("b.txt", "a.MD", "sub/c.docx", "sub/deep/d.pdf", "e.html", "f.HTM", "g.py", "h.doc", "noext"):
        write(tmp_path / rel, "x")
    found, skipped = find_files(tmp_path)
    assert [rel for rel, _ in found] == ["a.MD", "b.txt", "e.html", "f.HTM", "sub/c.docx", "sub/deep/d.pdf"]
    assert skipped == []
    for rel, path in found:  # the path as a string, usable to open the file
        assert isinstance(path, str)
        assert path == os.path.join(tmp_path, *rel.split("/"))
    assert ".txt" in SUPPORTED_SUFFIXES


def test_hidden_files_and_folders(tmp_path: Path) -> None:
    write(tmp_path / "visible.txt", "x")
    write(tmp_path / ".hidden.txt", "x")
    write(tmp_path / ".git" / "inside.txt", "x")
    write(tmp_path / "sub" / ".secret" / "deep.txt", "x")
    assert names(tmp_path) == ["visible.txt"]
    assert names(tmp_path, include_hidden=True) == [
        ".git/inside.txt",
        ".hidden.txt",
        "sub/.secret/deep.txt",
        "visible.txt",
    ]


def test_include_and_exclude(tmp_path: Path) -> None:
    for rel in ("top.txt", "top.md", "sub/a.txt", "sub/b.md", "sub/deep/c.txt", "other/d.pdf"):
        write(tmp_path / rel, "x")
    assert names(tmp_path, include=["*.md"]) == ["sub/b.md", "top.md"]
    assert names(tmp_path, include=["**/*.md"]) == ["sub/b.md", "top.md"]
    assert names(tmp_path, include=["sub/*.txt"]) == ["sub/a.txt", "sub/deep/c.txt"]
    assert names(tmp_path, exclude=["*.txt"]) == ["other/d.pdf", "sub/b.md", "top.md"]
    assert names(tmp_path, include=["sub/*"], exclude=["sub/deep/*"]) == ["sub/a.txt", "sub/b.md"]
    assert names(tmp_path, exclude=["sub/"]) == ["other/d.pdf", "top.md", "top.txt"]


def test_symlink_loop_does_not_hang(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "x")
    write(tmp_path / "sub" / "b.txt", "x")
    os.symlink(tmp_path, tmp_path / "sub" / "up")  # sub/up -> its parent
    os.symlink(tmp_path / "sub", tmp_path / "alias")  # a second name for sub
    assert names(tmp_path) == ["a.txt", "sub/b.txt"]


def test_broken_symlink_is_skipped_with_reason(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "hello")
    os.symlink(tmp_path / "missing.txt", tmp_path / "dangling.txt")
    found, skipped = find_files(tmp_path)
    assert [rel for rel, _ in found] == ["a.txt"]
    assert skipped == [Skipped("dangling.txt", "broken symbolic link")]


def test_only_regular_files(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "x")
    (tmp_path / "folder.txt").mkdir()  # a folder with a text file's name is walked, not read
    write(tmp_path / "folder.txt" / "b.md", "x")
    assert names(tmp_path) == ["a.txt", "folder.txt/b.md"]


def test_root_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        find_files(tmp_path / "missing")
    file = write(tmp_path / "speech.txt", "x")
    with pytest.raises(InputError, match="not a folder"):
        find_files(file)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root can read anything")
def test_unreadable_folders(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "x")
    folder = tmp_path / "closed"
    folder.mkdir()
    write(folder / "inside.txt", "x")
    folder.chmod(0)
    try:
        with pytest.raises(InputError, match="cannot list"):
            find_files(folder)
        found, skipped = find_files(tmp_path)
        assert [rel for rel, _ in found] == ["a.txt"]
        assert skipped == [Skipped("closed/", "cannot list folder: Permission denied")]
    finally:
        folder.chmod(0o755)
